"""Tables of the test evidence: test cases, ingested runs and their results, unknown claimed ids."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, Index, String, Text
from sqlmodel import Field

from tracker.models.base import TableModel, json_list, utcnow


class TestCase(TableModel, table=True):
    """An automated test, identified across runs by suite/classname/name."""

    __test__ = False  # not a pytest test class

    id: int | None = Field(default=None, primary_key=True)
    test_id: str = Field(sa_column=Column(String(1000), unique=True, nullable=False))
    suite: str = Field(default="", max_length=300)
    classname: str = Field(default="", sa_column=Column(Text, nullable=False))
    name: str = Field(default="", sa_column=Column(Text, nullable=False))
    first_seen_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime | None = None


class UnknownClaim(TableModel, table=True):
    """A test's newest report names an obligation id the catalog does not have."""

    __test__ = False

    test_case_id: int = Field(foreign_key="testcase.id", primary_key=True)
    claimed_id: str = Field(primary_key=True, max_length=200)
    run_id: int = Field(foreign_key="testrun.id", index=True)


class TestRun(TableModel, table=True):
    """One ingested test report."""

    __test__ = False

    id: int | None = Field(default=None, primary_key=True)
    suite: str = Field(max_length=300, index=True)
    commit: str | None = Field(default=None, max_length=64)
    branch: str | None = Field(default=None, max_length=200)
    release: str | None = Field(default=None, max_length=200)
    environment: str | None = Field(default=None, max_length=200)
    source_name: str = Field(default="", max_length=300)
    content_hash: str = Field(max_length=64, unique=True)
    uploaded_by: str = Field(default="", max_length=200)
    token_id: int | None = Field(default=None, foreign_key="apitoken.id")
    started_at: datetime = Field(default_factory=utcnow)
    created_at: datetime = Field(default_factory=utcnow)
    total: int = 0
    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    flaky: int = 0
    unknown_ids: list[str] = json_list()
    invalid_ids: list[str] = json_list()


class TestResult(TableModel, table=True):
    """The outcome of one test case in one run."""

    __test__ = False
    __table_args__ = (Index("ix_testresult_case_run", "test_case_id", "run_id"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="testrun.id", index=True)
    test_case_id: int = Field(foreign_key="testcase.id")
    outcome: str = Field(max_length=16)
    flaky: bool = False
    duration: float | None = None
    message: str | None = Field(default=None, sa_column=Column(Text))
    # The message's full size in bytes when it was cut to the text limit; None: kept whole.
    message_size: int | None = Field(default=None, sa_column=Column(BigInteger))
    # When the report ran the test more than once: each attempt, as JSON (see ingest).
    attempts: str | None = Field(default=None, sa_column=Column(Text))
