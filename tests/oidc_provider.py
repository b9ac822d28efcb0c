"""A real, in-process OpenID Connect provider (Authlib server) for end-to-end SSO tests."""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from authlib.common.urls import add_params_to_uri
from authlib.integrations.flask_oauth2 import AuthorizationServer, ResourceProtector, current_token
from authlib.oauth2 import OAuth2Error, OAuth2Request
from authlib.oauth2.rfc6749 import InvalidRequestError, grants
from authlib.oauth2.rfc6750 import BearerTokenValidator
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import AuthorizationCodeMixin, UserInfo
from authlib.oidc.core.grants import OpenIDCode
from flask import Flask, Response, jsonify, redirect, request
from flask.typing import ResponseReturnValue
from joserfc.jwk import RSAKey
from werkzeug.serving import make_server

SCOPES = ["openid", "email", "profile", "groups"]
AUTH_METHODS = ["client_secret_basic", "client_secret_post"]
CODE_TTL = 600
TOKEN_TTL = 3600


@dataclass
class OidcUser:
    sub: str
    email: str
    name: str
    groups: list[str] = field(default_factory=list)
    email_verified: bool = True


def _claims(user: OidcUser) -> UserInfo:
    info = UserInfo(sub=user.sub, email=user.email, email_verified=user.email_verified)
    info["name"] = user.name
    if user.groups:
        info["groups"] = list(user.groups)
    return info


@dataclass
class _Client:
    """Authlib ClientMixin duck type: one confidential client."""

    client_id: str
    client_secret: str
    redirect_uris: set[str] = field(default_factory=set)

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        return None  # redirect_uri is always required

    def get_allowed_scope(self, scope: str | None) -> str:
        return " ".join(s for s in (scope or "").split() if s in SCOPES)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return hmac.compare_digest(client_secret.encode(), self.client_secret.encode())

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return endpoint == "token" and method in AUTH_METHODS

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


@dataclass
class _AuthCode(AuthorizationCodeMixin):  # type: ignore[misc]
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    user: OidcUser
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: int = field(default_factory=lambda: int(time.time()))

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time


@dataclass
class _Token:
    scope: str
    user: OidcUser
    expires_at: float

    def get_scope(self) -> str:
        return self.scope

    def is_expired(self) -> bool:
        return time.time() >= self.expires_at

    def is_revoked(self) -> bool:
        return False


class _Server(AuthorizationServer):  # type: ignore[misc]
    provider: OidcProvider


class _CodeGrant(grants.AuthorizationCodeGrant):  # type: ignore[misc]
    server: _Server

    def save_authorization_code(self, code: str, req: OAuth2Request) -> None:
        data = req.payload.data
        nonce = data.get("nonce")
        provider = self.server.provider
        if nonce:
            provider._nonces.add(nonce)
        provider._codes[code] = _AuthCode(
            code, req.client.client_id, req.payload.redirect_uri, req.scope, req.user, nonce,
            data.get("code_challenge"), data.get("code_challenge_method"),
        )  # fmt: skip

    def query_authorization_code(self, code: str, client: _Client) -> _AuthCode | None:
        item = self.server.provider._codes.get(code)
        if item and item.client_id == client.client_id and time.time() - item.auth_time < CODE_TTL:
            return item
        return None

    def delete_authorization_code(self, authorization_code: _AuthCode) -> None:
        self.server.provider._codes.pop(authorization_code.code, None)

    def authenticate_user(self, authorization_code: _AuthCode) -> OidcUser:
        return authorization_code.user


class _OpenIDCode(OpenIDCode):  # type: ignore[misc]
    def __init__(self, provider: OidcProvider) -> None:
        super().__init__(require_nonce=False)
        self.provider = provider

    def exists_nonce(self, nonce: str, req: OAuth2Request) -> bool:
        return nonce in self.provider._nonces

    def resolve_client_private_key(self, client: _Client) -> RSAKey:
        return self.provider._key

    def get_encode_header(self, client: _Client) -> dict[str, str]:
        return {"alg": "RS256", "typ": "JWT", "kid": str(self.provider._key.kid)}

    def get_client_claims(self, client: _Client) -> dict[str, Any]:
        return {"iss": self.provider.issuer, "aud": client.client_id}

    def generate_user_info(self, user: OidcUser, scope: str) -> UserInfo:
        return _claims(user)


class _S256Only(CodeChallenge):  # type: ignore[misc]
    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant: _CodeGrant, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if data.get("code_challenge") and data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("Only 'code_challenge_method=S256' is supported.")
        super().validate_code_challenge(grant, redirect_uri)


class _TokenValidator(BearerTokenValidator):  # type: ignore[misc]
    def __init__(self, tokens: dict[str, _Token]) -> None:
        super().__init__()
        self.tokens = tokens

    def authenticate_token(self, token_string: str) -> _Token | None:
        return self.tokens.get(token_string)


class OidcProvider:
    """Authorization-code OIDC provider on 127.0.0.1; /authorize auto-approves `log_in_as`."""

    def __init__(self) -> None:
        self.client_id = "tracker"
        self.client_secret = secrets.token_urlsafe(24)
        self.token_requests = 0
        self._client = _Client(self.client_id, self.client_secret)
        self._key = RSAKey.generate_key(2048, {"use": "sig", "alg": "RS256"}, auto_kid=True)
        self._user: OidcUser | None = None
        self._deny: str | None = None
        self._codes: dict[str, _AuthCode] = {}
        self._tokens: dict[str, _Token] = {}
        self._nonces: set[str] = set()
        self._lock = threading.Lock()
        self._server = make_server("127.0.0.1", 0, self._build_app(), threaded=True)
        self.issuer = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def register_redirect_uri(self, uri: str) -> None:
        self._client.redirect_uris.add(uri)

    def log_in_as(self, user: OidcUser) -> None:
        self._user = user

    def deny_next(self, error: str = "access_denied") -> None:
        self._deny = error

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)
        self._server.server_close()

    def _save_token(self, token: dict[str, Any], req: OAuth2Request) -> None:
        expires_at = time.time() + int(token.get("expires_in", TOKEN_TTL))
        self._tokens[token["access_token"]] = _Token(token["scope"], req.user, expires_at)

    def _build_app(self) -> Flask:
        app = Flask(__name__)
        app.config["OAUTH2_TOKEN_EXPIRES_IN"] = {"authorization_code": TOKEN_TTL}
        query = {self.client_id: self._client}.get
        server = _Server(app, query_client=query, save_token=self._save_token)
        server.provider = self
        server.register_grant(_CodeGrant, [_OpenIDCode(self), _S256Only(required=False)])
        require_oauth = ResourceProtector()
        require_oauth.register_token_validator(_TokenValidator(self._tokens))

        @app.get("/.well-known/openid-configuration")
        def metadata() -> Response:
            return jsonify(
                issuer=self.issuer,
                authorization_endpoint=f"{self.issuer}/authorize",
                token_endpoint=f"{self.issuer}/token",
                jwks_uri=f"{self.issuer}/jwks",
                userinfo_endpoint=f"{self.issuer}/userinfo",
                response_types_supported=["code"],
                grant_types_supported=["authorization_code"],
                subject_types_supported=["public"],
                id_token_signing_alg_values_supported=["RS256"],
                scopes_supported=SCOPES,
                token_endpoint_auth_methods_supported=AUTH_METHODS,
                code_challenge_methods_supported=["S256"],
                claims_supported=["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce"]
                + ["email", "email_verified", "name", "groups"],
            )

        @app.get("/jwks")
        def jwks() -> Response:
            return jsonify(keys=[self._key.as_dict(private=False)])

        @app.get("/authorize")
        def authorize() -> ResponseReturnValue:
            try:
                grant = server.get_consent_grant(end_user=self._user)
            except OAuth2Error as error:
                if error.redirect_uri:  # client and redirect_uri valid: report to the client
                    return server.handle_error_response(None, error)
                return server.handle_response(400, dict(error.get_body()), error.get_headers())
            denial, self._deny = self._deny, None
            if denial or self._user is None:
                params = [("error", denial or "login_required")]
                if state := request.args.get("state"):
                    params.append(("state", state))
                return redirect(add_params_to_uri(grant.redirect_uri, params))
            return server.create_authorization_response(grant_user=self._user, grant=grant)

        @app.post("/token")
        def token() -> Response:
            with self._lock:  # serialised, so a code can be redeemed only once
                self.token_requests += 1
                return server.create_token_response()

        @app.route("/userinfo", methods=["GET", "POST"])
        @require_oauth("openid")
        def userinfo() -> Response:
            return jsonify(dict(_claims(current_token.user)))

        return app


@contextmanager
def running_oidc_provider() -> Iterator[OidcProvider]:
    provider = OidcProvider()
    try:
        yield provider
    finally:
        provider.stop()
