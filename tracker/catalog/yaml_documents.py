"""YAML files read with line marks and bounds: the catalog's, the data map's, gate policies'.

Every mapping remembers its line and the line of each key (so a problem names its line), dates
stay text, a key written twice is reported, and a document nested too deeply or whose aliases
expand too far is refused before anything walks it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.resolver import Resolver

from tracker.errors import Problem


class LineDict(dict[str, Any]):
    """A mapping that remembers the line it started on and the line of each key."""

    line: int = 0
    key_lines: dict[str, int]


#: Deeper nesting than this is refused: a catalog needs a few levels, and the data is walked
#: recursively after it is read.
MAX_NESTING = 50
#: Values that aliases may add to a document once expanded, so that "billion laughs" aliases
#: (each repeating the previous one several times) are refused before anything walks them.
MAX_ALIAS_EXPANSION = 100_000


class YAMLLimitError(yaml.MarkedYAMLError):
    """A document beyond the reader's nesting or alias-expansion limits."""


def _libyaml_bounds_nesting() -> bool:
    """Return whether libyaml refuses deep nesting itself (0.2.6 and newer: 1,000 levels).

    libyaml 0.2.5, still bundled with some PyYAML releases and systems, has no such limit, and
    its recursive composer would then exhaust the C stack on a deeply nested document.
    """
    from yaml import _yaml

    version: tuple[int, int, int] = _yaml.get_version()
    return version >= (0, 2, 6)


if TYPE_CHECKING or not yaml.__with_libyaml__:
    _SafeBase = yaml.SafeLoader  # pure Python, when PyYAML was built without libyaml
else:

    class _SafeBase(Composer, yaml.cyaml.CParser, SafeConstructor, Resolver):
        """libyaml's scanner and parser (C), with libyaml's composer or PyYAML's.

        The Python composer's methods come first: _LineLoader.get_single_node picks one.
        """

        def __init__(self, stream: str) -> None:
            yaml.cyaml.CParser.__init__(self, stream)
            Composer.__init__(self)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)


class _LineLoader(_SafeBase):
    """A safe loader that records lines, keeps dates as text and reports duplicate keys.

    It also refuses documents nested too deeply or whose aliases expand too far: libyaml's
    composer (several times faster than PyYAML's) when libyaml refuses deep nesting itself, so
    that its recursion cannot exhaust the stack; PyYAML's composer, counting the depth as it
    goes, otherwise. Either way the bounds are checked on the composed nodes before anything
    constructs the data.
    """

    #: Whether libyaml composes (see _libyaml_bounds_nesting).
    c_composer = yaml.__with_libyaml__ and _libyaml_bounds_nesting()
    duplicate_keys: list[tuple[str, int]]
    _depth = 0

    def get_single_node(self) -> yaml.Node | None:
        """Compose the document, then check its nesting and alias bounds."""
        if self.c_composer:
            node: yaml.Node | None = yaml.cyaml.CParser.get_single_node(self)  # type: ignore[attr-defined,arg-type]
        else:
            node = Composer.get_single_node(self)
        if node is not None:
            _check_bounds(node)
        return node

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        """Count the depth as PyYAML's composer goes (libyaml's composer does not call this)."""
        event: Any = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, yaml.AliasEvent):
            return super().compose_node(parent, index)
        self._depth += 1
        try:
            if self._depth > MAX_NESTING:
                raise YAMLLimitError(None, None, _NESTING_PROBLEM, event.start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


_NESTING_PROBLEM = (
    f"the YAML is nested more than {MAX_NESTING} levels deep; a catalog file needs only a few "
    "levels"
)


def _check_bounds(root: yaml.Node) -> None:
    """Refuse a composed document nested too deeply or whose aliases expand too far.

    An alias is the same node object reached a second time: its expanded size counts again
    each time, and a node reached again while its own children are being walked is an alias
    inside its own anchor (an endless structure). The walk keeps its own stack.
    """
    sizes: dict[int, int] = {}  # expanded size of each finished node, by identity
    open_nodes = {id(root)}
    # Each frame: the node, an iterator over its children, its expanded size so far.
    stack: list[list[Any]] = [[root, iter(_children(root)), 1]]
    expansion = 0
    while stack:
        frame = stack[-1]
        child = next(frame[1], None)
        if child is None:
            stack.pop()
            node_id = id(frame[0])
            open_nodes.discard(node_id)
            sizes[node_id] = frame[2]
            if stack:
                stack[-1][2] += frame[2]
            continue
        child_id = id(child)
        if child_id in open_nodes:
            raise YAMLLimitError(
                None,
                None,
                "a YAML alias is used inside its own anchor, which would make an endless structure",
                frame[0].start_mark,
            )
        if child_id in sizes:  # an alias to a node composed earlier
            expansion += sizes[child_id]
            if expansion > MAX_ALIAS_EXPANSION:
                raise YAMLLimitError(
                    None,
                    None,
                    f"the YAML's aliases expand to more than {MAX_ALIAS_EXPANSION:,} values; "
                    "repeat less through anchors and aliases",
                    frame[0].start_mark,
                )
            frame[2] += sizes[child_id]
            continue
        if len(stack) >= MAX_NESTING:
            raise YAMLLimitError(None, None, _NESTING_PROBLEM, child.start_mark)
        if isinstance(child, yaml.ScalarNode):
            sizes[child_id] = 1
            frame[2] += 1
            continue
        open_nodes.add(child_id)
        stack.append([child, iter(_children(child)), 1])


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> LineDict:
    result = LineDict()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str | int | float | bool) and key is not None:
            raise yaml.constructor.ConstructorError(
                None, None, "a mapping key must be plain text", key_node.start_mark
            )
        key_text = str(key)
        if key_text in result:
            loader.duplicate_keys.append((key_text, key_node.start_mark.line + 1))
        result[key_text] = loader.construct_object(value_node, deep=True)
        result.key_lines[key_text] = key_node.start_mark.line + 1
    return result


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
# Dates stay text so that a bad date is a validation problem with a line, not a crash.
_LineLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


#: The loader itself, for a reader that needs more than read_yaml_document gives.
LineLoader = _LineLoader


def display_path(path: Path) -> str:
    """Return a path relative to the working folder when it lies below it (for messages)."""
    try:
        relative = os.path.relpath(path)
    except ValueError:
        return str(path)
    return str(path) if relative.startswith("..") else relative


def read_yaml_document(file: Path) -> tuple[Any, list[Problem]]:
    """Read one YAML file with line marks and the nesting and alias bounds.

    Return its data (None when it cannot be read or parsed) and its problems: the file that
    cannot be read, the syntax error with its line, each key written twice.
    """
    name = display_path(file)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [Problem(f"cannot read the file: {exc}", file=name)]
    loader = _LineLoader(text)
    loader.duplicate_keys = []
    try:
        data = loader.get_single_data()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        detail = getattr(exc, "problem", None) or str(exc)
        if isinstance(exc, yaml.reader.ReaderError):  # a character YAML refuses, by position
            line = text.count("\n", 0, exc.position) + 1
            detail = str(exc).splitlines()[0]  # without its "position" in the text
        if isinstance(exc, YAMLLimitError):
            message = detail
        elif "maximum nesting depth" in str(detail):  # libyaml's own limit, far beyond ours
            message = _NESTING_PROBLEM
        else:
            message = f"YAML syntax error: {detail}"
        return None, [Problem(message, file=name, line=line)]
    finally:
        loader.dispose()
    problems = [
        Problem(f"key '{key}' appears twice; the first is ignored", file=name, line=line, field=key)
        for key, line in loader.duplicate_keys
    ]
    return data, problems
