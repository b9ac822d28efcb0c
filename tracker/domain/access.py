"""Who may do what: roles, permissions, token scopes and the actor recorded for every change."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    """What a person does in the privacy programme; each role grants a fixed set of permissions."""

    VIEWER = "viewer"
    ENGINEER = "engineer"
    LEGAL = "legal"
    COMPLIANCE = "compliance"
    ADMIN = "admin"


class Permission(StrEnum):
    """One kind of action a route may require."""

    PUBLIC = "public"  # no account needed (log-in page, style sheet, signed webhooks)
    READ = "read"  # every page, exports, the read API
    EDIT_LINKS = "edit_links"  # add/remove work-item and test links, epics from gaps
    RUN_JIRA = "run_jira"  # sync now, push to Jira
    DECIDE_APPLICABILITY = "decide_applicability"
    REVIEW_LINKS = "review_links"  # confirm suspect links against the current version
    SIGN_OFF = "sign_off"
    REQUEST_EXCEPTIONS = "request_exceptions"
    APPROVE_EXCEPTIONS = "approve_exceptions"
    DECIDE_RELEASES = "decide_releases"  # release readiness decisions and snapshots
    MANAGE_REVIEWS = "manage_reviews"  # review campaigns: assign items to reviewers
    RECORD_REVIEWS = "record_reviews"  # record a review's outcome (one's own, or any with manage)
    READ_AUDIT = "read_audit"
    UPLOAD_RESULTS = "upload_results"  # test reports, through a token with results:write
    MANAGE_USERS = "manage_users"
    MANAGE_TOKENS = "manage_tokens"
    MANAGE_SETTINGS = "manage_settings"


_VIEWER = frozenset({Permission.READ})

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.VIEWER: _VIEWER,
    Role.ENGINEER: _VIEWER
    | {
        Permission.EDIT_LINKS,
        Permission.RUN_JIRA,
        Permission.REQUEST_EXCEPTIONS,
        Permission.RECORD_REVIEWS,
    },
    Role.LEGAL: _VIEWER
    | {
        Permission.DECIDE_APPLICABILITY,
        Permission.REVIEW_LINKS,
        Permission.SIGN_OFF,
        Permission.REQUEST_EXCEPTIONS,
        Permission.APPROVE_EXCEPTIONS,
        Permission.RECORD_REVIEWS,
    },
    Role.COMPLIANCE: _VIEWER
    | {
        Permission.DECIDE_RELEASES,
        Permission.REQUEST_EXCEPTIONS,
        Permission.APPROVE_EXCEPTIONS,
        Permission.READ_AUDIT,
        Permission.MANAGE_REVIEWS,
        Permission.RECORD_REVIEWS,
    },
    Role.ADMIN: frozenset(Permission),
}

ROLE_DESCRIPTIONS: dict[Role, str] = {
    Role.VIEWER: "reads every page, exports, uses the read API",
    Role.ENGINEER: "viewer, plus links to work items and tests, epics from gaps, Jira sync/push, "
    "and the reviews assigned to them",
    Role.LEGAL: "viewer, plus applicability decisions, sign-offs (releases and DPIAs), the review "
    "of suspect links, and the reviews assigned to them",
    Role.COMPLIANCE: "viewer, plus the audit trail, release decisions and review campaigns",
    Role.ADMIN: "everything, plus accounts and API tokens",
}


class Scope(StrEnum):
    """What an API token may be used for."""

    READ = "read"
    RESULTS_WRITE = "results:write"


SCOPE_PERMISSIONS: dict[Scope, frozenset[Permission]] = {
    Scope.READ: frozenset({Permission.READ}),
    Scope.RESULTS_WRITE: frozenset({Permission.UPLOAD_RESULTS}),
}


def role_allows(role: Role, permission: Permission) -> bool:
    """Return whether the role grants the permission (PUBLIC is granted to everyone)."""
    return permission is Permission.PUBLIC or permission in ROLE_PERMISSIONS[role]


def roles_allowed(permission: Permission) -> list[Role]:
    """Return the roles that grant a permission, in the order of the Role enum."""
    return [role for role in Role if role_allows(role, permission)]


def scopes_allow(scopes: frozenset[Scope], permission: Permission) -> bool:
    """Return whether a token with these scopes may act with the permission."""
    return permission is Permission.PUBLIC or any(
        permission in SCOPE_PERMISSIONS[scope] for scope in scopes
    )


def needed_roles_text(permission: Permission) -> str:
    """Return the roles that may do something, in words: 'legal or admin'."""
    names = [role.value for role in roles_allowed(permission)]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


class ActorKind(StrEnum):
    """Whose action a change is."""

    USER = "user"  # a person signed in to the web UI
    TOKEN = "token"  # noqa: S105 - a kind of actor, not a secret; an API token (CI), on behalf of its owner or a service
    CLI = "cli"  # an operator at the command line of the server
    SYSTEM = "system"  # the tracker itself: Jira sync from a webhook, scheduled work


@dataclass(frozen=True)
class Actor:
    """The one who makes a change, as recorded with links, decisions and audit events."""

    kind: ActorKind
    name: str  # what people read: an e-mail, a token name, a command
    role: Role | None = None
    account_id: int | None = None
    token_id: int | None = None

    @property
    def label(self) -> str:
        """Return the name stored with links and decisions (at most 200 characters)."""
        return self.name[:200]

    @property
    def reference(self) -> str:
        """Return a stable reference for the audit trail: user:3, token:7, cli, system."""
        if self.kind is ActorKind.USER and self.account_id is not None:
            return f"user:{self.account_id}"
        if self.kind is ActorKind.TOKEN and self.token_id is not None:
            return f"token:{self.token_id}"
        return self.kind.value


def system_actor(name: str) -> Actor:
    """Return the actor for work the tracker does by itself (webhooks, schedules)."""
    return Actor(kind=ActorKind.SYSTEM, name=name)


def cli_actor(command: str, operator: str | None = None) -> Actor:
    """Return the actor for a command run at the server's shell."""
    name = f"{command} (by {operator})" if operator else command
    return Actor(kind=ActorKind.CLI, name=name)
