"""The data map's activities as bit sets, and an obligation's tags evaluated against them.

One bit per activity, in id order, in a set per role, jurisdiction, data category and surface,
so an obligation costs a few integer ORs and ANDs whatever the size of the data map. The
evaluation also words the reasons: how each activity triggers it, or why none does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tracker.domain.applicability_vocabulary import (
    CATEGORY_WORDS,
    DIMENSIONS,
    ProposalKind,
    category_label,
)
from tracker.domain.data_map_vocabulary import JURISDICTIONS, ROLES, within
from tracker.domain.taxonomy import is_within

#: The order a sentence names them in: "processes `x` in US as covered entity on web".
_SENTENCE_ORDER = ("data_categories", "jurisdictions", "roles", "surfaces")
#: How many triggering activities an applicable proposal spells out; the rest are counted.
MAX_ACTIVITY_REASONS = 10
#: How many activities a reason lists by name before counting the rest.
MAX_LISTED = 5


@dataclass(frozen=True)
class ActivityFacts:
    """What applicability needs of a processing activity."""

    id: str
    roles: tuple[str, ...]
    jurisdictions: tuple[str, ...]
    data_categories: tuple[str, ...]
    systems: tuple[str, ...]
    status: str = "active"

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any], *, retired: bool = False) -> ActivityFacts:
        """Return the facts of an activity spec (ActivitySpec.model_dump(mode="json"))."""
        return cls(
            id=str(spec["id"]),
            roles=tuple(spec.get("roles") or ()),
            jurisdictions=tuple(spec.get("jurisdictions") or ()),
            data_categories=tuple(spec.get("data_categories") or ()),
            systems=tuple(spec.get("systems") or ()),
            status="retired" if retired else str(spec.get("status") or "active"),
        )


@dataclass(frozen=True)
class SystemFacts:
    """A system's id and the catalog surfaces it is."""

    id: str
    surfaces: tuple[str, ...]

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> SystemFacts:
        """Return the facts of a system spec (SystemSpec.model_dump(mode="json"))."""
        return cls(id=str(spec["id"]), surfaces=tuple(spec.get("surfaces") or ()))


@dataclass(frozen=True)
class Outcome:
    """What the data map says about one set of tags: the kind, its reasons, its activities."""

    kind: ProposalKind
    reasons: tuple[str, ...]
    activities: tuple[str, ...]


@dataclass(frozen=True)
class _Match:
    """One dimension of one obligation: the activities that match it, the undecidable values."""

    bits: int
    undecidable: tuple[str, ...]


class ActivityIndex:
    """The data map's activities as bit sets per role, jurisdiction, category and surface."""

    def __init__(self, activities: list[ActivityFacts], systems: list[SystemFacts]) -> None:
        self.activities = sorted(
            (activity for activity in activities if activity.status != "retired"),
            key=lambda activity: activity.id,
        )
        self.surfaces_of = {system.id: system.surfaces for system in systems}
        self.known_surfaces = {surface for system in systems for surface in system.surfaces}
        self.active = 0
        self.planned = 0
        self.by_role: dict[str, int] = {}
        self.by_jurisdiction: dict[str, int] = {}  # activities in it or in a place within it
        self.by_exact_jurisdiction: dict[str, int] = {}
        self.by_category: dict[str, int] = {}
        self.by_surface: dict[str, int] = {}
        for position, activity in enumerate(self.activities):
            bit = 1 << position
            if activity.status == "planned":
                self.planned |= bit
            else:
                self.active |= bit
            for role in activity.roles:
                self.by_role[role] = self.by_role.get(role, 0) | bit
            for place in activity.jurisdictions:
                exact = self.by_exact_jurisdiction
                exact[place] = exact.get(place, 0) | bit
                for larger in within(place):
                    self.by_jurisdiction[larger] = self.by_jurisdiction.get(larger, 0) | bit
            for category in activity.data_categories:
                self.by_category[category] = self.by_category.get(category, 0) | bit
            for surface in self._surfaces(activity):
                self.by_surface[surface] = self.by_surface.get(surface, 0) | bit
        self.everyone = self.active | self.planned
        self._matches: dict[tuple[str, tuple[str, ...]], _Match] = {}
        self._word_bits: dict[str, int] = {}
        self._parts: dict[tuple[int, str, tuple[str, ...]], str] = {}

    def _surfaces(self, activity: ActivityFacts) -> set[str]:
        return {
            surface for system in activity.systems for surface in self.surfaces_of.get(system, ())
        }

    # --- one dimension ---

    def match(self, dimension: str, values: tuple[str, ...]) -> _Match:
        """Return the activities matching one of the values, and the values it cannot decide."""
        key = (dimension, values)
        found = self._matches.get(key)
        if found is None:
            found = self._matches[key] = self._match(dimension, values)
        return found

    def _match(self, dimension: str, values: tuple[str, ...]) -> _Match:
        bits = 0
        undecidable = []
        for value in values:
            if dimension == "roles":
                if value not in ROLES:
                    undecidable.append(value)
                bits |= self.by_role.get(value, 0)
            elif dimension == "jurisdictions":
                if value not in JURISDICTIONS:
                    undecidable.append(value)
                bits |= self.by_jurisdiction.get(value, 0)
                for larger in within(value):
                    bits |= self.by_exact_jurisdiction.get(larger, 0)
            elif dimension == "data_categories":
                if value not in CATEGORY_WORDS:
                    undecidable.append(value)
                else:
                    bits |= self._category_word_bits(value)
            else:
                if value not in self.known_surfaces:
                    undecidable.append(value)
                bits |= self.by_surface.get(value, 0)
        return _Match(bits, tuple(undecidable))

    def _category_word_bits(self, word: str) -> int:
        found = self._word_bits.get(word)
        if found is None:
            keys = CATEGORY_WORDS[word].fides_keys
            found = 0
            for category, bits in self.by_category.items():
                if any(is_within(category, key) for key in keys):
                    found |= bits
            self._word_bits[word] = found
        return found

    # --- one obligation ---

    def evaluate(self, tags: Mapping[str, tuple[str, ...]]) -> Outcome:
        """Return the proposal for an obligation with these tags (its id added by the caller)."""
        if not tags:
            return Outcome(
                ProposalKind.UNKNOWN,
                (
                    "Its catalog entry has no applicability tags (roles, jurisdictions, data "
                    "categories, surfaces), so the data map cannot decide it: decide it by hand.",
                ),
                (),
            )
        if not self.everyone:
            return Outcome(
                ProposalKind.UNKNOWN,
                (
                    "The data map has no processing activities yet, so nothing can be decided "
                    "from it: load it with `tracker datamap load`.",
                ),
                (),
            )
        matches = {dimension: self.match(dimension, tags[dimension]) for dimension in tags}
        triggering = self.active
        possible = self.active
        planned = self.planned
        for found in matches.values():
            triggering &= found.bits
            planned &= found.bits if not found.undecidable else self.everyone
            possible &= found.bits if not found.undecidable else self.everyone
        if triggering:
            ids = self._ids(triggering)
            reasons = [self._sentence(position, tags) for position in ids[:MAX_ACTIVITY_REASONS]]
            if len(ids) > MAX_ACTIVITY_REASONS:
                more = len(ids) - MAX_ACTIVITY_REASONS
                reasons.append(f"… and {more} more activities trigger it (listed with it).")
            return Outcome(ProposalKind.APPLICABLE, tuple(reasons), self._names(ids))
        if possible or planned:
            return self._unknown(tags, matches, possible, planned)
        return Outcome(ProposalKind.NOT_APPLICABLE, self._failures(tags, matches), ())

    def _unknown(
        self,
        tags: Mapping[str, tuple[str, ...]],
        matches: Mapping[str, _Match],
        possible: int,
        planned: int,
    ) -> Outcome:
        reasons = []
        named: list[int] = []
        for dimension in DIMENSIONS:
            found = matches.get(dimension)
            if found is None or not found.undecidable:
                continue
            words = ", ".join(f"`{value}`" for value in found.undecidable)
            plural = len(found.undecidable) > 1
            reasons.append(
                _UNDECIDABLE[dimension].format(
                    words=words,
                    s="s" if plural else "",
                    y="ies" if plural else "y",
                    is_="are" if plural else "is",
                    one="any of them" if plural else "it",
                )
            )
        if possible:
            named = self._ids(possible)
            reasons.append(
                "Activities that meet every other condition: " + self._listed(named) + "."
            )
        elif planned:
            named = self._ids(planned)
            reasons.append(
                "Only planned activities would trigger it: "
                + self._listed(named)
                + ". It applies once one of them starts; decide it now or then."
            )
        return Outcome(ProposalKind.UNKNOWN, tuple(reasons), self._names(named))

    def _failures(
        self, tags: Mapping[str, tuple[str, ...]], matches: Mapping[str, _Match]
    ) -> tuple[str, ...]:
        reasons = []
        for dimension in DIMENSIONS:
            found = matches.get(dimension)
            if found is not None and not found.undecidable and not found.bits & self.active:
                reasons.append(f"No activity {_phrase(dimension, tags[dimension])}.")
        if reasons:
            return tuple(reasons)
        parts = []
        for dimension in DIMENSIONS:
            found = matches.get(dimension)
            if found is None or found.undecidable:
                continue
            ids = self._ids(found.bits & self.active)
            parts.append(f"{_phrase(dimension, tags[dimension])}: {self._listed(ids)}")
        return ("No activity meets every condition at once (" + "; ".join(parts) + ").",)

    def _sentence(self, position: int, tags: Mapping[str, tuple[str, ...]]) -> str:
        """Say how one activity triggers the obligation, dimension by dimension."""
        words = [f"activity `{self.activities[position].id}`"]
        if "data_categories" not in tags:
            words.append("runs")
        for dimension in _SENTENCE_ORDER:
            values = tags.get(dimension)
            if values is None:
                continue
            key = (position, dimension, values)
            part = self._parts.get(key)
            if part is None:
                part = self._parts[key] = self._part(self.activities[position], dimension, values)
            words.append(part)
        return " ".join(words)

    def _part(self, activity: ActivityFacts, dimension: str, values: tuple[str, ...]) -> str:
        """Say how an activity matches one dimension: what it processes, where, as what, on what."""
        if dimension == "data_categories":
            keys = [
                key
                for word in values
                if word in CATEGORY_WORDS
                for key in CATEGORY_WORDS[word].fides_keys
            ]
            processed = [
                category
                for category in activity.data_categories
                if any(is_within(category, key) for key in keys)
            ]
            return "processes " + ", ".join(f"`{category}`" for category in processed)
        if dimension == "jurisdictions":
            wanted = set(values)
            places = [
                place
                for place in activity.jurisdictions
                if within(place) & wanted or any(place in within(other) for other in wanted)
            ]
            return "in " + ", ".join(places)
        if dimension == "roles":
            roles = [role for role in activity.roles if role in values]
            return "as " + " and ".join(role.replace("_", " ") for role in roles)
        on = []
        for surface in values:
            systems = [
                system for system in activity.systems if surface in self.surfaces_of.get(system, ())
            ]
            if systems:
                names = ", ".join(f"`{system}`" for system in systems)
                noun = "system" if len(systems) == 1 else "systems"
                on.append(f"{surface} ({noun} {names})")
        return "on " + "; ".join(on)

    def _ids(self, bits: int) -> list[int]:
        """Return the positions of the set bits, lowest (first activity id) first."""
        positions: list[int] = []
        for offset, byte in enumerate(bits.to_bytes((bits.bit_length() + 7) // 8, "little")):
            if byte:
                base = offset * 8
                positions.extend(base + bit for bit in _BYTE_BITS[byte])
        return positions

    def _names(self, positions: list[int]) -> tuple[str, ...]:
        return tuple(self.activities[position].id for position in positions)

    def _listed(self, positions: list[int]) -> str:
        names = [f"`{self.activities[position].id}`" for position in positions[:MAX_LISTED]]
        more = len(positions) - MAX_LISTED
        return ", ".join(names) + (f" and {more} more" if more > 0 else "")


#: The positions of the set bits of each byte value, lowest first.
_BYTE_BITS = tuple(tuple(bit for bit in range(8) if value >> bit & 1) for value in range(256))

_UNDECIDABLE = {
    "roles": "The role{s} {words} {is_} not one the data map records, so it cannot be decided.",
    "jurisdictions": (
        "The jurisdiction{s} {words} {is_} not one the data map records, so it cannot be decided."
    ),
    "data_categories": (
        "The catalog's data categor{y} {words} {is_} not mapped to Fides data categories, so "
        "the data map cannot tell whether {one} is processed."
    ),
    "surfaces": (
        "No system in the data map is on the surface{s} {words}, so the data map cannot tell "
        "whether an activity uses {one}."
    ),
}


def _phrase(dimension: str, values: tuple[str, ...]) -> str:
    """Return what an activity must do to match one dimension, in words."""
    if dimension == "roles":
        return "acts as " + " or ".join(value.replace("_", " ") for value in values)
    if dimension == "jurisdictions":
        return "is in " + " or ".join(values)
    if dimension == "data_categories":
        return "processes " + " or ".join(category_label(value) for value in values)
    return "uses a system on the surface " + " or ".join(values)
