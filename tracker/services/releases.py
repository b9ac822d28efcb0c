"""Releases: list them (Jira fix versions and the tracker's own), find one, create one."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, col, select

from tracker.domain.access import Actor
from tracker.domain.releases import FixVersion, Release, merge_releases
from tracker.domain.releases import TrackerRelease as OwnRelease
from tracker.errors import NotFoundError, ValidationError
from tracker.models import JiraVersion, TrackerRelease
from tracker.services.audit import record_event

MAX_NAME = 200


def list_releases(*, session: Session) -> list[Release]:
    """Return every release, newest first (undated, still planned ones before them)."""
    versions = [
        FixVersion(row.name, row.project_key, row.release_date, row.released, row.archived)
        for row in session.exec(select(JiraVersion)).all()
    ]
    created = [
        OwnRelease(row.name, row.release_date) for row in session.exec(select(TrackerRelease)).all()
    ]
    return merge_releases(versions, created)


def find_release(*, session: Session, name: str) -> Release:
    """Return the release of this name, or raise NotFoundError saying which ones exist."""
    name = clean_name(name)
    versions = [
        FixVersion(row.name, row.project_key, row.release_date, row.released, row.archived)
        for row in session.exec(select(JiraVersion).where(col(JiraVersion.name) == name)).all()
    ]
    own = session.get(TrackerRelease, name)
    found = merge_releases(versions, [OwnRelease(own.name, own.release_date)] if own else [])
    if not found:
        known = ", ".join(release.name for release in list_releases(session=session)[:10])
        hint = f" Known releases: {known}." if known else " There are no releases yet."
        raise NotFoundError(
            f"There is no release '{name}': a release is a Jira fix version (synced from Jira) "
            f"or one created in the tracker.{hint}"
        )
    return found[0]


def create_release(
    *, session: Session, name: str, release_date: date | None, actor: Actor
) -> Release:
    """Create a release in the tracker; a Jira fix version of the same name joins it later."""
    name = clean_name(name)
    if (
        session.get(TrackerRelease, name) is not None
        or session.exec(select(JiraVersion.id).where(col(JiraVersion.name) == name)).first()
    ):
        raise ValidationError(f"The release '{name}' exists already.", field="name")
    session.add(TrackerRelease(name=name, release_date=release_date, created_by=actor.label))
    session.flush()
    record_event(
        session=session,
        actor=actor,
        action="release.created",
        entity_type="release",
        entity_id=name,
        after={"release_date": release_date.isoformat() if release_date else None},
    )
    return find_release(session=session, name=name)


def clean_name(name: str) -> str:
    """Return a release name as stored, or raise ValidationError."""
    value = " ".join((name or "").split())
    if not value or len(value) > MAX_NAME or "\x00" in value:
        raise ValidationError(
            f"Name the release with 1 to {MAX_NAME} characters, e.g. 2026.12.",
            field="name",
        )
    return value
