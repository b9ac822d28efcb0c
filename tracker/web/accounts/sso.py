"""OpenID Connect sign-on through the company's identity provider (Authlib's Flask client)."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app

from tracker.domain.access import Role
from tracker.services.accounts import SignOnClaims, role_from_groups

PROVIDER = "sso"
EXTENSION = "tracker.oauth"


def init_app(app: Flask) -> None:
    """Register the identity provider when TRACKER_OIDC_ISSUER is set (one registry per app)."""
    issuer = app.config.get("OIDC_ISSUER")
    if not issuer:
        return
    # Imported only when single sign-on is set up: Authlib takes a fifth of a second to load.
    from authlib.integrations.flask_client import OAuth

    oauth = OAuth(app)
    app.extensions[EXTENSION] = oauth
    oauth.register(
        name=PROVIDER,
        server_metadata_url=issuer.rstrip("/") + "/.well-known/openid-configuration",
        client_id=app.config.get("OIDC_CLIENT_ID"),
        client_secret=app.config.get("OIDC_CLIENT_SECRET"),
        client_kwargs={"scope": "openid email profile", "code_challenge_method": "S256"},
    )


def sso_enabled() -> bool:
    """Return whether single sign-on is configured."""
    return bool(current_app.config.get("OIDC_ISSUER"))


def client() -> Any:
    """Return the registered provider client."""
    return current_app.extensions[EXTENSION].create_client(PROVIDER)


def claims_from(userinfo: dict[str, Any]) -> SignOnClaims:
    """Return who the provider says signed in, with the role its groups map to (if set up)."""
    role: Role | None = None
    claim = current_app.config.get("OIDC_ROLE_CLAIM")
    mapping: dict[str, Role] = current_app.config.get("OIDC_ROLE_MAP") or {}
    if claim:
        groups = userinfo.get(claim) or []
        if isinstance(groups, str):
            groups = [groups]
        # With a mapping the provider decides: someone who left every mapped group is a viewer.
        role = role_from_groups([str(group) for group in groups if group], mapping) or Role.VIEWER
    return SignOnClaims(
        email=str(userinfo.get("email") or ""),
        subject=f"{current_app.config.get('OIDC_ISSUER')}#{userinfo.get('sub')}"[:255],
        name=str(userinfo.get("name") or "") or None,
        role=role,
    )
