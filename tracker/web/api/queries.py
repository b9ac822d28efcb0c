"""The query parameters of the API's operations, as models that read and check them.

Each field's bounds are declared once, on the field: the readers of `tracker.web.request_args`
apply them with the tracker's own messages (a refused value is a 400 naming the field), and the
OpenAPI document shows the same bounds.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, Self

import annotated_types
from flask import current_app
from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.fields import FieldInfo

from tracker.domain.bounds import DATABASE_INTEGER_MAX
from tracker.domain.matrix import SORT_KEYS, MatrixFilter
from tracker.domain.status import Status
from tracker.models import TestRun, column_length
from tracker.services.evidence import EvidenceScope
from tracker.web.matrix.page import MAX_TEXT_FILTER, MatrixQuery, parse_matrix_query
from tracker.web.request_args import MAX_SUITE, SCOPE_LENGTHS, integer_arg, text_arg

DEFAULT_LIMIT = 100
DEFAULT_RUN_LIMIT = 50
MAX_LIMIT = 1000

SortKey = Literal[SORT_KEYS]  # type: ignore[valid-type]  # built from the matrix's own keys


class QueryModel(BaseModel):
    """Query parameters: whole numbers and texts read with the tracker's readers and bounds."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> Self:
        """Read the parameters; ValidationError (a 400) names the first unusable one."""
        present = {name: args[name] for name in cls.model_fields if name in args}
        return cls.model_validate(present)

    @model_validator(mode="before")
    @classmethod
    def _read_with_bounds(cls, values: Any) -> Any:
        if not isinstance(values, dict):
            return values
        read = dict(values)
        for name, field in cls.model_fields.items():
            if isinstance(read.get(name), str):
                read[name] = _read(name, read[name], field)
                if read[name] is None:
                    del read[name]  # empty: the default
        return read


class Page(QueryModel):
    """Paging: how many items from which position."""

    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Items per page.")
    offset: int = Field(0, ge=0, le=DATABASE_INTEGER_MAX, description="Items to skip.")


class EvidenceScopeQuery(QueryModel):
    """Which test runs count as evidence: by default the newest run of each suite on the
    default branch."""

    release: str | None = Field(
        None, max_length=SCOPE_LENGTHS["release"], description="Runs reported for this release."
    )
    branch: str | None = Field(
        None, max_length=SCOPE_LENGTHS["branch"], description="Runs of this branch."
    )
    environment: str | None = Field(
        None, max_length=SCOPE_LENGTHS["environment"], description="Runs in this environment."
    )

    def evidence_scope(self) -> EvidenceScope:
        """Return the scope these parameters ask for, on this server's default branch."""
        return EvidenceScope(
            release=self.release,
            branch=self.branch,
            environment=self.environment,
            default_branch=current_app.config.get("DEFAULT_BRANCH", "main"),
        )


class MatrixParams(EvidenceScopeQuery):
    """The matrix's filters, sort and evidence scope, as the matrix page takes them."""

    instrument: str | None = Field(
        None, description="Only this instrument's obligations (any case), e.g. GDPR."
    )
    status: Status | None = Field(None, description="Only obligations with this status (any case).")
    tag: str | None = Field(None, description="Only obligations with this applicability tag.")
    q: str | None = Field(
        None, max_length=MAX_TEXT_FILTER, description="Text in the id, citation or title."
    )
    sort: SortKey = Field("id", description="The column to sort by.")
    order: Literal["asc", "desc"] = Field("asc", description="Sort order.")

    @model_validator(mode="before")
    @classmethod
    def _read_as_the_matrix_page(cls, values: Any) -> Any:
        # The page's own parser, so that the API and the page agree on every value.
        if not isinstance(values, dict):
            return values
        query = parse_matrix_query(values)
        read = query.filter
        return values | {
            "instrument": read.instrument,
            "status": read.status,
            "tag": read.tag,
            "q": read.text,
            "sort": read.sort,
            "order": "desc" if read.descending else "asc",
            "release": query.release,
            "branch": query.branch,
            "environment": query.environment,
        }

    def matrix_query(self) -> MatrixQuery:
        """Return the parsed query the matrix services take."""
        return MatrixQuery(
            MatrixFilter(
                instrument=self.instrument,
                status=self.status.value if self.status else None,
                tag=self.tag,
                text=self.q,
                sort=self.sort,
                descending=self.order == "desc",
            ),
            release=self.release,
            branch=self.branch,
            environment=self.environment,
        )


class ObligationsQuery(MatrixParams, Page):
    """The matrix's filters, and a page of the obligations that pass them."""


class RunListQuery(EvidenceScopeQuery, Page):
    """Filters of the test-run list, and a page of it."""

    limit: int = Field(DEFAULT_RUN_LIMIT, ge=1, le=MAX_LIMIT, description="Runs per page.")
    suite: str | None = Field(None, max_length=MAX_SUITE, description="Runs of this suite.")


class RunResultsQuery(Page):
    """A page of a run's results, failures first."""

    limit: int = Field(DEFAULT_RUN_LIMIT * 2, ge=1, le=MAX_LIMIT, description="Results per page.")


def _read(name: str, raw: str, field: FieldInfo) -> Any:
    """Read one value with the reader of its type, under the field's declared bounds."""
    if field.annotation is int:
        minimum = _bound(field, annotated_types.Ge, "ge", 0)
        maximum = _bound(field, annotated_types.Le, "le", DATABASE_INTEGER_MAX)
        # Up to what the database holds is "0 or more" in the message.
        top = None if maximum == DATABASE_INTEGER_MAX else maximum
        return integer_arg({name: raw}, name, int(field.default), minimum, top)
    limit = _bound(field, annotated_types.MaxLen, "max_length", None)
    if limit is not None:
        return text_arg({name: raw}, name, limit)
    return raw.strip() or None


def _bound(field: FieldInfo, kind: type[Any], attribute: str, default: Any) -> Any:
    for item in field.metadata:
        if isinstance(item, kind):
            return getattr(item, attribute)
    return default


class UploadQuery(QueryModel):
    """Where an uploaded run comes from; form fields of the same names win over these."""

    suite: str | None = Field(
        None, max_length=MAX_SUITE, description="The suite (default: the report's own name)."
    )
    commit: str | None = Field(
        None, max_length=column_length(TestRun, "commit"), description="The commit tested."
    )
    branch: str | None = Field(
        None,
        max_length=SCOPE_LENGTHS["branch"],
        description="The branch (default: the tracker's default branch).",
    )
    release: str | None = Field(
        None, max_length=SCOPE_LENGTHS["release"], description="The release the run counts for."
    )
    environment: str | None = Field(
        None, max_length=SCOPE_LENGTHS["environment"], description="Where the tests ran."
    )
