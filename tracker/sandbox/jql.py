"""A JQL subset for the sandbox: parse, validate against the state, filter and order issues.

Supported: fields project, issuetype/type, key/issuekey/id, labels, updated, created,
status, statusCategory, fixVersion, assignee, parent, summary/description/text (`~`);
operators = != > >= < <= ~ !~ IN, NOT IN, IS [NOT] EMPTY; AND, OR, NOT, parentheses;
functions now(), startOfDay(), endOfDay(), currentUser(), releasedVersions(),
unreleasedVersions(); ORDER BY with ASC/DESC.
Error messages copy Jira's wording so clients see what they would see on a real site.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from functools import cmp_to_key
from typing import Any
from zoneinfo import ZoneInfo

from tracker.sandbox.state import ISSUE_TYPES, STATUSES, Issue, SandboxState, is_issue_key

KEYWORDS = frozenset(
    {"AND", "OR", "NOT", "IN", "IS", "EMPTY", "NULL", "ORDER", "BY", "ASC", "DESC"}
)
VALID_OPERATORS = (
    "The valid operators are '=', '!=', '<', '>', '<=', '>=', '~', '!~', "
    "'IN', 'NOT IN', 'IS' and 'IS NOT'."
)
DATE_FORMATS_HINT = (
    "Valid formats include: 'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', "
    "'yyyy-MM-dd', or a period format e.g. '-5d', '4w 2d'."
)

FIELD_ALIASES = {
    "project": "project",
    "issuetype": "issuetype",
    "type": "issuetype",
    "key": "key",
    "issuekey": "key",
    "id": "key",
    "issue": "key",
    "labels": "labels",
    "updated": "updated",
    "updateddate": "updated",
    "created": "created",
    "createddate": "created",
    "status": "status",
    "statuscategory": "statusCategory",
    "fixversion": "fixVersion",
    "assignee": "assignee",
    "parent": "parent",
    "summary": "summary",
    "description": "description",
    "text": "text",
}
_EQUALITY = frozenset({"=", "!=", "in", "not in", "is", "is not"})
_ORDERING = frozenset({">", ">=", "<", "<="})
OPERATORS_BY_FIELD = {
    "project": _EQUALITY,
    "issuetype": _EQUALITY,
    "status": _EQUALITY,
    "statusCategory": _EQUALITY,
    "fixVersion": _EQUALITY,
    "assignee": _EQUALITY,
    "parent": _EQUALITY,
    "labels": _EQUALITY,
    "key": _EQUALITY | _ORDERING,
    "updated": frozenset({"=", "!=", "is", "is not"}) | _ORDERING,
    "created": frozenset({"=", "!=", "is", "is not"}) | _ORDERING,
    "summary": frozenset({"~", "!~", "is", "is not"}),
    "description": frozenset({"~", "!~", "is", "is not"}),
    "text": frozenset({"~"}),
}
# Multi-valued or nullable fields: Jira's != and NOT IN never match an empty value.
_NULLABLE = frozenset({"labels", "fixVersion", "assignee", "parent", "description"})
SORT_FIELDS = {
    "key": "key",
    "issuekey": "key",
    "id": "key",
    "updated": "updated",
    "updateddate": "updated",
    "created": "created",
    "createddate": "created",
    "summary": "summary",
    "project": "project",
    "status": "status",
    "issuetype": "issuetype",
    "type": "issuetype",
    "rank": "rank",
    "priority": "priority",
}
_FUNCTIONS = frozenset(
    {"now", "startofday", "endofday", "currentuser", "releasedversions", "unreleasedversions"}
)
_PERIOD = re.compile(r"^([-+]?)\s*((?:\d+\s*[wdhm]\s*)+)$", re.IGNORECASE)
_PERIOD_PART = re.compile(r"(\d+)\s*([wdhm])", re.IGNORECASE)
_DATE_PATTERNS = ("%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M", "%Y-%m-%d", "%Y/%m/%d")


class JqlError(ValueError):
    """A query Jira would answer with 400; the message is Jira's wording."""


@dataclass(frozen=True)
class Token:
    """One lexical token of a query."""

    kind: str  # word | string | op | ( | ) | , | end
    text: str
    position: int  # 1-based character, as Jira reports it

    def is_keyword(self, *words: str) -> bool:
        """Return whether this is an unquoted keyword among `words`."""
        return self.kind == "word" and self.text.upper() in words


@dataclass(frozen=True)
class Value:
    """A literal, a function call or EMPTY on the right of an operator."""

    text: str
    kind: str = "literal"  # literal | function | empty
    arguments: tuple[str, ...] = ()


@dataclass(frozen=True)
class Clause:
    """`field operator value(s)`."""

    field: str
    field_text: str
    operator: str
    values: tuple[Value, ...]


@dataclass(frozen=True)
class BoolNode:
    """AND / OR over children, or NOT over one child."""

    operator: str  # and | or | not
    children: tuple[Node, ...]


Node = Clause | BoolNode


@dataclass(frozen=True)
class SortField:
    """One ORDER BY term."""

    field: str
    descending: bool = False


@dataclass(frozen=True)
class Query:
    """A parsed query."""

    where: Node | None
    order_by: tuple[SortField, ...]

    @property
    def bounded(self) -> bool:
        """Return whether the query restricts the search at all (Cloud requires it)."""
        return self.where is not None


@dataclass
class CompiledQuery:
    """A query bound to a state: a predicate, a sort and any warnings."""

    predicate: Callable[[Issue], bool]
    order_by: tuple[SortField, ...]
    warnings: list[str] = field(default_factory=list)

    time_dependent: bool = False

    def __post_init__(self) -> None:
        directions = [term.descending for term in self.order_by] + [False]

        def compare(left: Sequence[Any], right: Sequence[Any]) -> int:
            for descending, a, b in zip(directions, left, right, strict=False):
                if a != b:
                    result = -1 if a < b else 1
                    return -result if descending else result
            return 0

        self._key_factory = cmp_to_key(compare)

    def sort_values(self, issue: Issue) -> list[Any]:
        """Return the JSON-serialisable values the issue sorts by (id last, as a tiebreak)."""
        return [_sort_value(issue, term.field) for term in self.order_by] + [issue.id]

    def sort_key(self, values: Sequence[Any]) -> Any:
        """Return a key object comparing sort values in this query's directions."""
        return self._key_factory(values)


def parse_jql(text: str) -> Query:
    """Parse a query or raise JqlError."""
    return _Parser(_tokenize(text)).parse()


def compile_query(query: Query, state: SandboxState, *, strict: bool = True) -> CompiledQuery:
    """Resolve field values against the state; unknown values raise unless `strict` is False."""
    compiler = _Compiler(state, strict)
    predicate = compiler.node(query.where) if query.where else (lambda issue: True)
    order = query.order_by or (SortField("created", True),)
    return CompiledQuery(predicate, order, compiler.warnings, compiler.time_dependent)


# ----- lexer and parser ---------------------------------------------------------------


def _tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    index = 0
    length = len(text)
    while index < length:
        char = text[index]
        if char.isspace():
            index += 1
            continue
        position = index + 1
        if char in "(),":
            tokens.append(Token(char, char, position))
            index += 1
        elif text.startswith(("!=", ">=", "<=", "!~"), index):
            tokens.append(Token("op", text[index : index + 2], position))
            index += 2
        elif char in "=<>~":
            tokens.append(Token("op", char, position))
            index += 1
        elif char == "!":
            raise JqlError(
                f"Error in the JQL Query: The character '!' is a reserved JQL character. "
                f"You must enclose it in a string or use the escape '\\u0021' instead. "
                f"(line 1, character {position})"
            )
        elif char in "\"'":
            index, value = _read_string(text, index, position)
            tokens.append(Token("string", value, position))
        else:
            start = index
            while index < length and not text[index].isspace() and text[index] not in "(),=!<>~\"'":
                index += 1
            tokens.append(Token("word", text[start:index], position))
    tokens.append(Token("end", "", length + 1))
    return tokens


def _read_string(text: str, index: int, position: int) -> tuple[int, str]:
    quote = text[index]
    index += 1
    parts: list[str] = []
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text):
            parts.append(text[index + 1])
            index += 2
            continue
        if char == quote:
            return index + 1, "".join(parts)
        parts.append(char)
        index += 1
    raise JqlError(
        f"Error in the JQL Query: The quoted string '{''.join(parts)}' has not been completed. "
        f"(line 1, character {position})"
    )


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.index = 0

    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def parse(self) -> Query:
        where = None
        if self.current.kind != "end" and not self.current.is_keyword("ORDER"):
            where = self.parse_or()
        order_by: tuple[SortField, ...] = ()
        if self.current.is_keyword("ORDER"):
            order_by = self.parse_order_by()
        if self.current.kind != "end":
            raise self.error("Expecting either 'OR' or 'AND' but got '{}'.")
        return Query(where, order_by)

    def parse_or(self) -> Node:
        children = [self.parse_and()]
        while self.current.is_keyword("OR"):
            self.advance()
            children.append(self.parse_and())
        return children[0] if len(children) == 1 else BoolNode("or", tuple(children))

    def parse_and(self) -> Node:
        children = [self.parse_not()]
        while self.current.is_keyword("AND"):
            self.advance()
            children.append(self.parse_not())
        return children[0] if len(children) == 1 else BoolNode("and", tuple(children))

    def parse_not(self) -> Node:
        if self.current.is_keyword("NOT"):
            self.advance()
            return BoolNode("not", (self.parse_not(),))
        if self.current.kind == "(":
            self.advance()
            inner = self.parse_or()
            if self.current.kind != ")":
                if self.current.kind == "end":
                    raise JqlError(
                        "Error in the JQL Query: Expecting ')' before the end of the query."
                    )
                raise self.error("Expecting ')' but got '{}'.")
            self.advance()
            return inner
        return self.parse_clause()

    def parse_clause(self) -> Clause:
        token = self.current
        if token.kind == "end":
            raise JqlError(
                "Error in the JQL Query: Expecting a field name at the end of the query."
            )
        if token.kind not in ("word", "string") or (
            token.kind == "word" and token.text.upper() in KEYWORDS
        ):
            raise self.error("Expecting a field name but got '{}'.")
        self.advance()
        canonical = FIELD_ALIASES.get(token.text.lower())
        if canonical is None:
            raise JqlError(
                f"Field '{token.text}' does not exist or you do not have permission to view it."
            )
        operator = self.parse_operator()
        if operator not in OPERATORS_BY_FIELD[canonical]:
            raise JqlError(
                f"The operator '{operator.upper()}' is not supported by the '{token.text}' field."
            )
        if operator in ("in", "not in"):
            values = self.parse_list()
        elif operator in ("is", "is not"):
            if not self.current.is_keyword("EMPTY", "NULL"):
                raise self.error("Expecting 'EMPTY' or 'NULL' but got '{}'.")
            self.advance()
            values = (Value("EMPTY", "empty"),)
        else:
            values = (self.parse_value(),)
        return Clause(canonical, token.text, operator, values)

    def parse_operator(self) -> str:
        token = self.current
        if token.kind == "op":
            self.advance()
            return token.text
        if token.is_keyword("IN"):
            self.advance()
            return "in"
        if token.is_keyword("NOT") and self.tokens[self.index + 1].is_keyword("IN"):
            self.index += 2
            return "not in"
        if token.is_keyword("IS"):
            self.advance()
            if self.current.is_keyword("NOT"):
                self.advance()
                return "is not"
            return "is"
        if token.kind == "end":
            raise JqlError(
                f"Error in the JQL Query: Expecting operator before the end of the query. "
                f"{VALID_OPERATORS}"
            )
        raise self.error("Expecting operator but got '{}'. " + VALID_OPERATORS)

    def parse_list(self) -> tuple[Value, ...]:
        following = self.tokens[self.index + 1]
        if self.current.kind == "word" and following.kind == "(":
            return (self.parse_value(),)  # a list function such as releasedVersions()
        if self.current.kind != "(":
            raise self.error("Expecting '(' but got '{}'.")
        self.advance()
        values = [self.parse_value()]
        while self.current.kind == ",":
            self.advance()
            values.append(self.parse_value())
        if self.current.kind != ")":
            if self.current.kind == "end":
                raise JqlError("Error in the JQL Query: Expecting ')' before the end of the query.")
            raise self.error("Expecting ')' but got '{}'.")
        self.advance()
        return tuple(values)

    def parse_value(self) -> Value:
        token = self.current
        if token.kind == "string":
            self.advance()
            return Value(token.text)
        if token.kind != "word" or token.text.upper() in KEYWORDS - {"EMPTY", "NULL"}:
            if token.kind == "end":
                raise JqlError(
                    "Error in the JQL Query: Expecting either a value, list or function "
                    "before the end of the query."
                )
            raise self.error("Expecting either a value, list or function but got '{}'.")
        self.advance()
        if token.text.upper() in ("EMPTY", "NULL"):
            return Value("EMPTY", "empty")
        if self.current.kind == "(":
            self.advance()
            arguments: list[str] = []
            while self.current.kind not in (")", "end"):
                if self.current.kind in ("word", "string"):
                    arguments.append(self.current.text)
                self.advance()
            if self.current.kind != ")":
                raise JqlError("Error in the JQL Query: Expecting ')' before the end of the query.")
            self.advance()
            if token.text.lower() not in _FUNCTIONS:
                raise JqlError(f"Unable to find JQL function '{token.text}()'.")
            return Value(token.text.lower(), "function", tuple(arguments))
        return Value(token.text)

    def parse_order_by(self) -> tuple[SortField, ...]:
        self.advance()
        if not self.current.is_keyword("BY"):
            raise self.error("Expecting 'by' but got '{}'.")
        self.advance()
        terms = [self.parse_sort_term()]
        while self.current.kind == ",":
            self.advance()
            terms.append(self.parse_sort_term())
        return tuple(terms)

    def parse_sort_term(self) -> SortField:
        token = self.current
        if token.kind not in ("word", "string") or token.is_keyword(*KEYWORDS):
            if token.kind == "end":
                raise JqlError(
                    "Error in the JQL Query: Expecting a field name at the end of the query."
                )
            raise self.error("Expecting a field name but got '{}'.")
        self.advance()
        name = token.text.lower()
        if name not in SORT_FIELDS:
            if name in FIELD_ALIASES:
                raise JqlError(f"Not able to sort using field '{token.text}'.")
            raise JqlError(
                f"Field '{token.text}' does not exist or you do not have permission to view it."
            )
        descending = False
        if self.current.is_keyword("ASC", "DESC"):
            descending = self.advance().text.upper() == "DESC"
        return SortField(SORT_FIELDS[name], descending)

    def error(self, template: str) -> JqlError:
        token = self.current
        got = token.text if token.kind != "end" else "<EOF>"
        return JqlError(
            f"Error in the JQL Query: {template.format(got)} (line 1, character {token.position})"
        )


# ----- compilation against the state --------------------------------------------------

Predicate = Callable[[Issue], bool]


class _Compiler:
    def __init__(self, state: SandboxState, strict: bool) -> None:
        self.state = state
        self.strict = strict
        self.warnings: list[str] = []
        self.zone = ZoneInfo(state.time_zone)
        self.time_dependent = False

    def node(self, node: Node) -> Predicate:
        if isinstance(node, Clause):
            return self.clause(node)
        parts = [self.node(child) for child in node.children]
        if node.operator == "and":
            return lambda issue: all(part(issue) for part in parts)
        if node.operator == "or":
            return lambda issue: any(part(issue) for part in parts)
        only = parts[0]
        return lambda issue: not only(issue)

    def clause(self, clause: Clause) -> Predicate:
        if clause.field in ("updated", "created"):
            return self.date_clause(clause)
        if clause.field in ("summary", "description", "text"):
            return self.text_clause(clause)
        if clause.field == "key" and clause.operator in _ORDERING:
            return self.key_range_clause(clause)
        getter = _GETTERS[clause.field]
        wants_empty = any(value.kind == "empty" for value in clause.values)
        resolved: set[Any] = set()
        for value in clause.values:
            if value.kind != "empty":
                resolved |= self.resolve(clause, value)
        positive = clause.operator in ("=", "in", "is")

        def matches(issue: Issue) -> bool:
            current = getter(issue)
            if not current:
                return wants_empty
            return bool(current & resolved)

        if positive:
            return matches
        if clause.field in _NULLABLE and not wants_empty:
            return lambda issue: bool(getter(issue)) and not matches(issue)
        return lambda issue: not matches(issue)

    def resolve(self, clause: Clause, value: Value) -> set[Any]:
        """Turn one value into the set of internal values it stands for."""
        text = value.text
        found: set[Any] = set()
        name = clause.field
        if value.kind == "function":
            if name == "assignee" and text == "currentuser":
                return {self.state.current_user.display_name}
            if name == "fixVersion" and text in ("releasedversions", "unreleasedversions"):
                return self.versions_by_release(value, released=text == "releasedversions")
            raise JqlError(f"Unable to find JQL function '{text}()'.")
        if name == "project":
            project = self.state.project(text)
            found = {project.key} if project else set()
        elif name == "issuetype":
            found = {
                type_name
                for type_name, (type_id, _) in ISSUE_TYPES.items()
                if text.lower() == type_name.lower() or text == type_id
            }
        elif name == "status":
            found = {
                key
                for key, status in STATUSES.items()
                if text.lower() == status.name.lower() or text == status.status_id
            }
        elif name == "statusCategory":
            found = {
                key
                for key, status in STATUSES.items()
                if text.lower() in (key, status.category_name.lower())
                or text == str(status.category_id)
            }
        elif name == "fixVersion":
            found = {
                version.id
                for project in self.state.projects()
                for version in project.versions
                if text in (version.name, str(version.id))
            }
        elif name == "assignee":
            user = self.state.find_user(text)
            found = {user.display_name} if user else set()
        elif name == "labels":
            return {text}
        elif name in ("key", "parent"):
            return self.resolve_issue(clause, text)
        if not found:
            self.problem(f"The value '{text}' does not exist for the field '{clause.field_text}'.")
        return found

    def versions_by_release(self, value: Value, *, released: bool) -> set[Any]:
        projects = self.state.projects()
        if value.arguments:
            projects = [p for p in projects if p.key in {a.upper() for a in value.arguments}]
        return {
            version.id
            for project in projects
            for version in project.versions
            if version.released == released
        }

    def resolve_issue(self, clause: Clause, text: str) -> set[Any]:
        if not text.isdigit() and not is_issue_key(text):
            raise JqlError(f"The issue key '{text}' for field '{clause.field_text}' is invalid.")
        issue = self.state.issue(text)
        if issue is None:
            what = "id" if text.isdigit() else "key"
            self.problem(
                f"An issue with {what} '{text}' does not exist for field '{clause.field_text}'."
            )
            return set()
        return {issue.id} if clause.field == "key" else {issue.key}

    def key_range_clause(self, clause: Clause) -> Predicate:
        text = clause.values[0].text
        if not is_issue_key(text):
            raise JqlError(f"The issue key '{text}' for field '{clause.field_text}' is invalid.")
        project_key, number_text = text.upper().rsplit("-", 1)
        number = int(number_text)
        compare = _COMPARATORS[clause.operator]
        return lambda issue: issue.project_key == project_key and compare(issue.number, number)

    def date_clause(self, clause: Clause) -> Predicate:
        attribute = clause.field
        if clause.operator in ("is", "is not"):
            always = clause.operator == "is not"
            return lambda issue: always
        moment = self.date_value(clause, clause.values[0])
        compare = _COMPARATORS[clause.operator]
        return lambda issue: compare(getattr(issue, attribute), moment)

    def date_value(self, clause: Clause, value: Value) -> datetime:
        now = self.state.now().astimezone(self.zone)
        if value.kind == "function" or _PERIOD.match(value.text.strip()):
            self.time_dependent = True
        if value.kind == "function":
            if value.text == "now":
                return now
            if value.text == "startofday":
                return datetime.combine(now.date(), time(), self.zone)
            if value.text == "endofday":
                return datetime.combine(now.date(), time(23, 59, 59, 999000), self.zone)
            raise JqlError(f"Unable to find JQL function '{value.text}()'.")
        text = value.text.strip()
        period = _PERIOD.match(text)
        if period:
            sign = -1 if period.group(1) == "-" else 1
            units = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes"}
            delta = timedelta()
            for amount, unit in _PERIOD_PART.findall(period.group(2)):
                delta += timedelta(**{units[unit.lower()]: int(amount)})
            return now + sign * delta
        for pattern in _DATE_PATTERNS:
            try:
                return datetime.strptime(text, pattern).replace(tzinfo=self.zone)
            except ValueError:
                continue
        raise JqlError(
            f"Date value '{value.text}' for field '{clause.field_text}' is invalid. "
            f"{DATE_FORMATS_HINT}"
        )

    def text_clause(self, clause: Clause) -> Predicate:
        if clause.operator in ("is", "is not"):
            want_empty = clause.operator == "is"
            attribute = "description" if clause.field == "description" else "summary"
            return lambda issue: (not getattr(issue, attribute)) == want_empty
        words = [word.lower() for word in re.findall(r"\w+", clause.values[0].text)]

        def text_of(issue: Issue) -> str:
            if clause.field == "summary":
                return issue.summary.lower()
            if clause.field == "description":
                return (issue.description or "").lower()
            return f"{issue.summary} {issue.description or ''}".lower()

        def contains(issue: Issue) -> bool:
            haystack = text_of(issue)
            return all(word in haystack for word in words)

        if clause.operator == "!~":
            return lambda issue: not contains(issue)
        return contains

    def problem(self, message: str) -> None:
        if self.strict:
            raise JqlError(message)
        self.warnings.append(message)


def _sort_value(issue: Issue, name: str) -> Any:
    if name == "key":
        return [issue.project_key, issue.number]
    if name in ("updated", "created"):
        return int(getattr(issue, name).timestamp() * 1000)
    if name == "summary":
        return issue.summary.lower()
    if name == "project":
        return issue.project_key
    if name == "status":
        return issue.status.name
    if name == "issuetype":
        return issue.issuetype
    if name == "rank":
        return issue.id
    return 0  # priority: every sandbox issue is Medium


_GETTERS: dict[str, Callable[[Issue], set[Any]]] = {
    "project": lambda issue: {issue.project_key},
    "issuetype": lambda issue: {issue.issuetype},
    "status": lambda issue: {issue.status_category},
    "statusCategory": lambda issue: {issue.status_category},
    "fixVersion": lambda issue: set(issue.fix_version_ids),
    "assignee": lambda issue: {issue.assignee} if issue.assignee else set(),
    "parent": lambda issue: {issue.parent_key} if issue.parent_key else set(),
    "labels": lambda issue: set(issue.labels),
    "key": lambda issue: {issue.id},
}

_COMPARATORS: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
}
