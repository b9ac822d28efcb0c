"""Roles grant exactly the permissions of the roles table; token scopes grant only theirs."""

from __future__ import annotations

import pytest

from tracker.domain.access import (
    Actor,
    ActorKind,
    Permission,
    Role,
    Scope,
    needed_roles_text,
    role_allows,
    roles_allowed,
    scopes_allow,
)

# The roles table of README, written out: a change to ROLE_PERMISSIONS must change this too.
EXPECTED = {
    Role.VIEWER: {Permission.READ},
    Role.ENGINEER: {
        Permission.READ,
        Permission.EDIT_LINKS,
        Permission.RUN_JIRA,
        Permission.REQUEST_EXCEPTIONS,
        Permission.RECORD_REVIEWS,
    },
    Role.LEGAL: {
        Permission.READ,
        Permission.DECIDE_APPLICABILITY,
        Permission.REVIEW_LINKS,
        Permission.SIGN_OFF,
        Permission.REQUEST_EXCEPTIONS,
        Permission.APPROVE_EXCEPTIONS,
        Permission.RECORD_REVIEWS,
    },
    Role.COMPLIANCE: {
        Permission.READ,
        Permission.DECIDE_RELEASES,
        Permission.REQUEST_EXCEPTIONS,
        Permission.APPROVE_EXCEPTIONS,
        Permission.READ_AUDIT,
        Permission.MANAGE_REVIEWS,
        Permission.RECORD_REVIEWS,
    },
    Role.ADMIN: set(Permission),
}


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("permission", [p for p in Permission if p is not Permission.PUBLIC])
def test_role_grants_exactly_the_table(role: Role, permission: Permission) -> None:
    assert role_allows(role, permission) is (permission in EXPECTED[role])


def test_everyone_may_do_what_is_public() -> None:
    assert all(role_allows(role, Permission.PUBLIC) for role in Role)
    assert scopes_allow(frozenset(), Permission.PUBLIC)


def test_engineer_cannot_decide_applicability_but_legal_can() -> None:
    assert not role_allows(Role.ENGINEER, Permission.DECIDE_APPLICABILITY)
    assert role_allows(Role.LEGAL, Permission.DECIDE_APPLICABILITY)


def test_upload_token_cannot_read_and_read_token_cannot_upload() -> None:
    upload = frozenset({Scope.RESULTS_WRITE})
    read = frozenset({Scope.READ})
    assert scopes_allow(upload, Permission.UPLOAD_RESULTS)
    assert not scopes_allow(upload, Permission.READ)
    assert scopes_allow(read, Permission.READ)
    assert not scopes_allow(read, Permission.UPLOAD_RESULTS)
    assert not scopes_allow(upload | read, Permission.EDIT_LINKS)


def test_needed_roles_are_named_in_words() -> None:
    assert roles_allowed(Permission.DECIDE_APPLICABILITY) == [Role.LEGAL, Role.ADMIN]
    assert needed_roles_text(Permission.DECIDE_APPLICABILITY) == "legal or admin"
    assert needed_roles_text(Permission.MANAGE_USERS) == "admin"


def test_actor_reference_names_the_account_or_token() -> None:
    assert Actor(ActorKind.USER, "a@example.com", Role.LEGAL, account_id=3).reference == "user:3"
    assert Actor(ActorKind.TOKEN, "token ci", token_id=7).reference == "token:7"
    assert Actor(ActorKind.CLI, "tracker users create").reference == "cli"
    assert len(Actor(ActorKind.SYSTEM, "x" * 500).label) == 200
