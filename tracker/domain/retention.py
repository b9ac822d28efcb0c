"""Retention duties derived from the data map: one per data category and system, with its id.

Every retention rule of an activity says how long it keeps some data categories in some
systems (a rule without `systems` covers all of the activity's systems). A duty gathers every
activity that keeps one category in one system; the longest period wins, because the data may
not be deleted before every purpose has ended (the shorter ones are kept as notes).

Each duty is an obligation of the tracker-made instrument RETENTION, so that it is linked to
epics and tests and gets a status like any obligation. Its id fits the catalog's grammar, so
that engineers can put it in a pytest marker or a Jira label as it is:
`RETENTION-<system>.<category>`, with the hyphens of the system id and the underscores of the
category dropped in camel case: `RETENTION-accountsService.user.device.ipAddress`. Two duties
whose ids would read the same (ignoring case, as Jira labels do) get a short hash suffix, and a
duty keeps the id it was first given for as long as it exists.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from tracker.domain.catalog_rules import RETENTION_INSTRUMENT
from tracker.domain.catalog_schema import (
    Applicability,
    Evidence,
    ObligationSpec,
    Parameter,
    ParameterUnit,
    Severity,
)
from tracker.domain.data_map_schema import ActivitySpec, parse_period

RETENTION_TITLE = "Retention and deletion schedule"
RETENTION_SHORT_NAME = "Retention schedule"
RETENTION_JURISDICTION = "internal"
#: What the duties rest on: the storage limitation principle (GDPR Art. 5(1)(e)).
RETENTION_REFERENCE_URL = "https://eur-lex.europa.eu/eli/reg/2016/679/oj#art_5"
RETENTION_SEVERITY: Severity = "high"
RETENTION_FRESHNESS_DAYS = 30
RETENTION_TAG = "retention"
PERIOD_PARAMETER = "retention_period"
#: The longest obligation id the tables, the JUnit reader and Jira labels take.
MAX_ID_LENGTH = 80

_PREFIX = RETENTION_INSTRUMENT + "-"
_SEPARATOR = re.compile(r"[-_]+([0-9a-z])")
_NOT_ID = re.compile(r"[^0-9A-Za-z]")
_TITLE_LIMIT = 300


@dataclass(frozen=True)
class ActivitySource:
    """A stored processing activity and where the data map states it."""

    spec: ActivitySpec
    file: str = ""
    line: int = 0


@dataclass(frozen=True)
class RetentionPurpose:
    """One activity's retention rule for a category in a system."""

    activity_id: str
    activity_name: str
    period: str
    period_days: int
    trigger: str
    note: str | None = None

    def words(self) -> str:
        """Return '30 days after account_closed (sign-up)'."""
        return f"{self.period} after {self.trigger} ({self.activity_id})"

    def to_json(self) -> dict[str, object]:
        """Return the purpose as stored with its duty."""
        return {
            "activity": self.activity_id,
            "activity_name": self.activity_name,
            "period": self.period,
            "period_days": self.period_days,
            "trigger": self.trigger,
            "note": self.note,
        }


@dataclass(frozen=True)
class RetentionDutySpec:
    """A retention duty: a data category kept in a system, deleted after the longest period."""

    obligation_id: str
    data_category: str
    system_id: str
    system_name: str
    #: The purpose whose period applies (the longest; the first activity id on a tie).
    governing: RetentionPurpose
    #: Every activity's purpose, the governing one first, then by activity id.
    purposes: tuple[RetentionPurpose, ...]
    #: Who reviews the duty: the system's owner, if the data map names one.
    system_owner: str | None = None
    file: str = ""
    line: int = 0

    @property
    def period(self) -> str:
        """Return the period as written in the governing rule."""
        return self.governing.period

    @property
    def period_days(self) -> int:
        """Return the period's length in days."""
        return self.governing.period_days

    @property
    def trigger(self) -> str:
        """Return what starts the period."""
        return self.governing.trigger

    @property
    def activities(self) -> tuple[str, ...]:
        """Return the ids of every activity that keeps the data there, sorted."""
        return tuple(sorted({purpose.activity_id for purpose in self.purposes}))

    @property
    def shorter(self) -> tuple[RetentionPurpose, ...]:
        """Return the other activities' purposes (shorter or equal periods), as notes."""
        return self.purposes[1:]


def derive_duties(
    activities: Iterable[ActivitySource],
    system_names: Mapping[str, str] | None = None,
    existing_ids: Mapping[tuple[str, str], str] | None = None,
    system_owners: Mapping[str, str | None] | None = None,
) -> list[RetentionDutySpec]:
    """Return one duty per (data category, system) that the activities' rules keep, by id.

    Retired activities keep nothing. existing_ids maps (category, system) to the id a duty
    was given before, which it keeps; a duty's owner is its system's owner.
    """
    names = system_names or {}
    owners = system_owners or {}
    found: dict[tuple[str, str], list[tuple[RetentionPurpose, ActivitySource]]] = {}
    for source in sorted(activities, key=lambda item: item.spec.id):
        activity = source.spec
        if activity.status == "retired":
            continue
        for rule in activity.retention:
            length = parse_period(rule.period)
            purpose = RetentionPurpose(
                activity_id=activity.id,
                activity_name=activity.name,
                period=length.text,
                period_days=length.days,
                trigger=rule.trigger,
                note=rule.note,
            )
            for system in dict.fromkeys(rule.systems or activity.systems):
                for category in dict.fromkeys(rule.data_categories):
                    found.setdefault((category, system), []).append((purpose, source))
    ids = assign_ids(found, existing_ids or {})
    duties = []
    for key, entries in found.items():
        category, system = key
        ordered = sorted(entries, key=lambda entry: (-entry[0].period_days, entry[0].activity_id))
        governing, source = ordered[0]
        duties.append(
            RetentionDutySpec(
                obligation_id=ids[key],
                data_category=category,
                system_id=system,
                system_name=names.get(system) or system,
                system_owner=owners.get(system),
                governing=governing,
                purposes=_distinct(purpose for purpose, _ in ordered),
                file=source.file,
                line=source.line,
            )
        )
    return sorted(duties, key=lambda duty: (duty.data_category, duty.system_id))


def readable_id(category: str, system: str) -> str:
    """Return the readable id in camel case, e.g. RETENTION-healthSyncService.user.sensor."""
    parts = [_camel(system), *(_camel(part) for part in category.split(".") if part)]
    return _PREFIX + ".".join(part for part in parts if part)


def assign_ids(
    keys: Iterable[tuple[str, str]], existing_ids: Mapping[tuple[str, str], str]
) -> dict[tuple[str, str], str]:
    """Give every (category, system) its id: the one it had, else a readable one that is free.

    Ids are compared ignoring case (Jira labels do); a readable id already taken, or too
    long, gets a suffix made from a hash of the category and the system.
    """
    wanted = sorted(set(keys))
    ids: dict[tuple[str, str], str] = {}
    taken: set[str] = set()
    for key in wanted:
        kept = existing_ids.get(key)
        if kept is not None and kept.casefold() not in taken:
            ids[key] = kept
            taken.add(kept.casefold())
    readable = {key: readable_id(*key) for key in wanted if key not in ids}
    clashing = _clashes(readable.values())
    for key, candidate in readable.items():
        if candidate.casefold() in taken or candidate.casefold() in clashing:
            candidate = _with_hash(candidate, key)
        elif len(candidate) > MAX_ID_LENGTH:
            candidate = _with_hash(candidate, key)
        ids[key] = candidate
        taken.add(candidate.casefold())
    return ids


def duty_obligation(duty: RetentionDutySpec) -> ObligationSpec:
    """Return the duty as an obligation of the RETENTION instrument."""
    period, trigger = duty.period, duty.trigger
    where = duty.system_id
    if duty.system_name != duty.system_id:
        where = f"{duty.system_name} ({duty.system_id})"
    governing = duty.governing
    summary = (
        f"Delete {duty.data_category} from {where} {period} after {trigger}. The period is set "
        f"by the retention rule of processing activity {governing.activity_id} "
        f"({governing.activity_name}) in the data map. When several activities keep the same "
        "data in the same system, the longest period applies: the data may not be deleted "
        "before every purpose has ended, and must be deleted once the last one has. The "
        "retention schedule lists every activity that keeps this data."
    )
    return ObligationSpec(
        id=duty.obligation_id,
        citation=f"{period} after {trigger}",
        title=_bounded(
            f"Delete {duty.data_category} from {duty.system_name} {period} after {trigger}"
        ),
        summary=summary,
        official_url=RETENTION_REFERENCE_URL,
        applicability=Applicability(data_categories=[duty.data_category]),
        parameters=[period_parameter(period, trigger)],
        severity=RETENTION_SEVERITY,
        evidence=[
            Evidence(
                type="automated_test",
                description=_bounded(
                    f"A test proves the deletion job removes {duty.data_category} from "
                    f"{duty.system_name} {period} after {trigger}.",
                    1000,
                ),
            ),
            Evidence(
                type="config_check",
                description=_bounded(
                    f"The deletion job of {duty.system_name} is configured to delete "
                    f"{duty.data_category} {period} after {trigger}.",
                    1000,
                ),
            ),
        ],
        freshness_days=RETENTION_FRESHNESS_DAYS,
        tags=[RETENTION_TAG],
        owner=duty.system_owner or None,
    )


def period_parameter(period: str, trigger: str | None = None) -> Parameter:
    """Return the period as the catalog's parameter: `2 years` is 2 years, `P90D` 90 days."""
    value, unit = period_in_units(period)
    note = f"after {trigger}" if trigger else None
    return Parameter(name=PERIOD_PARAMETER, value=value, unit=unit, note=note)


def period_in_units(period: str) -> tuple[int, ParameterUnit]:
    """Return a period's number and unit as written (weeks count in days)."""
    length = parse_period(period)
    return length.amount, length.unit


def _camel(word: str) -> str:
    joined = _SEPARATOR.sub(lambda match: match[1].upper(), word.strip("-_"))
    return _NOT_ID.sub("", joined)


def _clashes(candidates: Iterable[str]) -> set[str]:
    seen: set[str] = set()
    clashing: set[str] = set()
    for candidate in candidates:
        folded = candidate.casefold()
        (clashing if folded in seen else seen).add(folded)
    return clashing


def _with_hash(candidate: str, key: tuple[str, str]) -> str:
    digest = hashlib.sha256("\x1f".join(key).encode("utf-8")).hexdigest()[:8]
    suffix = ".x" + digest
    return candidate[: MAX_ID_LENGTH - len(suffix)].rstrip(".") + suffix


def _distinct(purposes: Iterable[RetentionPurpose]) -> tuple[RetentionPurpose, ...]:
    return tuple(dict.fromkeys(purposes))


def _bounded(text: str, limit: int = _TITLE_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
