"""OpenID Connect sign-in: the authorization code flow with PKCE (S256), with authlib.

The browser is sent to the provider with a fresh `state`, `nonce` and PKCE challenge, which the web
page keeps in a short-lived signed cookie. The provider sends it back with a code, which the server
exchanges itself (server to server, with the client secret and the PKCE verifier). The ID token's
signature is checked against the provider's published keys (JWKS), and its issuer, audience,
expiry and nonce against what was sent. Claims then name the user (`oidc_username_claim`, else
`email`, else `sub`) and their groups (`oidc_groups_claim`), mapped by `oidc_group_map`.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import OAuth2Client
from authlib.jose import JsonWebKey, jwt
from authlib.jose.errors import JoseError
from authlib.oidc.core import CodeIDToken

from api.identity.provision import ExternalIdentity
from core.settings import Settings

USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
METADATA_TTL = 3600.0


class OidcError(Exception):
    """The sign-in cannot complete; the message says why, without any secret."""


@dataclass(frozen=True)
class Pending:
    """What the callback must see again: kept in the signed cookie between the two legs."""

    state: str
    nonce: str
    verifier: str
    next_url: str

    def as_dict(self) -> dict[str, object]:
        return {
            "s": self.state,
            "n": self.nonce,
            "v": self.verifier,
            "x": self.next_url,
            "iat": int(time.time()),
        }

    @classmethod
    def from_dict(cls, data: dict[str, object], max_age: float) -> Pending | None:
        values = data.get("s"), data.get("n"), data.get("v"), data.get("x"), data.get("iat")
        if not all(isinstance(v, str) for v in values[:4]) or not isinstance(values[4], int):
            return None
        if time.time() - values[4] > max_age:
            return None
        return cls(str(values[0]), str(values[1]), str(values[2]), str(values[3]))


def enabled(settings: Settings) -> bool:
    return bool(settings.oidc_issuer and settings.oidc_client_id)


class Provider:
    """The configured provider: its discovery document and keys, fetched on first use and cached."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.issuer = (settings.oidc_issuer or "").rstrip("/")
        self._lock = threading.Lock()
        self._metadata: dict[str, Any] | None = None
        self._metadata_at = 0.0
        self._jwks: dict[str, Any] | None = None

    def _verify(self) -> str | bool:
        return str(self.settings.oidc_ca_file) if self.settings.oidc_ca_file else True

    def _get(self, url: str) -> dict[str, Any]:
        try:
            r = httpx.get(url, timeout=self.settings.oidc_timeout, verify=self._verify())
            r.raise_for_status()
            data = r.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise OidcError(f"the identity provider did not answer {url}: {type(exc).__name__}") from None
        if not isinstance(data, dict):
            raise OidcError(f"{url} did not return a JSON object")
        return data

    def metadata(self) -> dict[str, Any]:
        with self._lock:
            if self._metadata is None or time.monotonic() - self._metadata_at > METADATA_TTL:
                data = self._get(f"{self.issuer}/.well-known/openid-configuration")
                if str(data.get("issuer", "")).rstrip("/") != self.issuer:
                    raise OidcError("the provider's discovery document names another issuer")
                self._metadata, self._metadata_at, self._jwks = data, time.monotonic(), None
            return self._metadata

    def jwks(self, refresh: bool = False) -> dict[str, Any]:
        meta = self.metadata()
        with self._lock:
            if self._jwks is None or refresh:
                self._jwks = self._get(str(meta["jwks_uri"]))
            return self._jwks

    def _client(self, redirect_uri: str) -> OAuth2Client:
        secret = self.settings.oidc_client_secret
        return OAuth2Client(
            client_id=self.settings.oidc_client_id,
            client_secret=secret.get_secret_value() if secret else None,
            scope=self.settings.oidc_scopes,
            redirect_uri=redirect_uri,
            code_challenge_method="S256",
            token_endpoint_auth_method=self.settings.oidc_token_auth,
            timeout=self.settings.oidc_timeout,
            verify=self._verify(),
        )

    def start(self, redirect_uri: str, next_url: str) -> tuple[str, Pending]:
        """The provider's authorization URL and what the callback must check."""
        pending = Pending(
            state=generate_token(32), nonce=generate_token(32), verifier=generate_token(64), next_url=next_url
        )
        with self._client(redirect_uri) as client:
            url, _state = client.create_authorization_url(
                str(self.metadata()["authorization_endpoint"]),
                state=pending.state,
                nonce=pending.nonce,
                code_verifier=pending.verifier,
            )
        return str(url), pending

    def finish(self, redirect_uri: str, pending: Pending, *, code: str, state: str) -> ExternalIdentity:
        """Exchange the code (server to server) and validate the ID token; the user's identity."""
        if not code or state != pending.state:
            raise OidcError("the sign-in's state does not match; start again")
        meta = self.metadata()
        try:
            with self._client(redirect_uri) as client:
                token = client.fetch_token(
                    str(meta["token_endpoint"]),
                    code=code,
                    code_verifier=pending.verifier,
                    grant_type="authorization_code",
                )
        except Exception as exc:  # noqa: BLE001 - authlib raises its own errors and httpx's
            raise OidcError(f"the provider refused the code exchange ({type(exc).__name__})") from None
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise OidcError("the provider returned no ID token")
        claims = self._validate(id_token, pending.nonce, token.get("access_token"))
        if self.settings.oidc_groups_claim not in claims and meta.get("userinfo_endpoint"):
            claims = {**self._userinfo(str(meta["userinfo_endpoint"]), token, claims["sub"]), **claims}
        return self._identity(claims)

    def _validate(self, id_token: str, nonce: str, access_token: object) -> dict[str, Any]:
        options = {
            "iss": {"essential": True, "value": self.issuer},
            "aud": {"essential": True, "value": self.settings.oidc_client_id},
            "exp": {"essential": True},
            "sub": {"essential": True},
            "nonce": {"essential": True, "value": nonce},
        }
        params = {"nonce": nonce, "client_id": self.settings.oidc_client_id}
        if isinstance(access_token, str):
            params["access_token"] = access_token
        for refresh in (False, True):  # the provider may have rotated its keys since they were fetched
            try:
                claims = jwt.decode(
                    id_token,
                    JsonWebKey.import_key_set(self.jwks(refresh=refresh)),
                    claims_cls=CodeIDToken,
                    claims_options=options,
                    claims_params=params,
                )
                claims.validate(leeway=60)
                return dict(claims)
            except JoseError as exc:
                if refresh or "key" not in str(exc).lower():
                    raise OidcError(f"the ID token is not valid: {exc.error}") from None
            except ValueError as exc:  # no key with the token's kid
                if refresh:
                    raise OidcError(f"the ID token is not valid: {exc}") from None
        raise OidcError("the ID token is not valid")

    def _userinfo(self, url: str, token: dict[str, Any], sub: object) -> dict[str, Any]:
        try:
            r = httpx.get(
                url,
                headers={"Authorization": f"Bearer {token.get('access_token', '')}"},
                timeout=self.settings.oidc_timeout,
                verify=self._verify(),
            )
            r.raise_for_status()
            info = r.json()
        except (httpx.HTTPError, ValueError):
            return {}
        return info if isinstance(info, dict) and info.get("sub") == sub else {}

    def _identity(self, claims: dict[str, Any]) -> ExternalIdentity:
        candidates = [claims.get(self.settings.oidc_username_claim), claims.get("email"), claims.get("sub")]
        username = next((str(c) for c in candidates if isinstance(c, str) and USERNAME.match(c)), None)
        if username is None:
            raise OidcError("the ID token names no usable username (letters, digits, . _ @ -; up to 64)")
        raw = claims.get(self.settings.oidc_groups_claim) or []
        groups = [raw] if isinstance(raw, str) else [str(g) for g in raw if isinstance(g, str | int)]
        email = claims.get("email")
        return ExternalIdentity(
            source="oidc",
            username=username,
            external_id=f"{self.issuer}#{claims['sub']}",
            display_name=str(claims.get("name") or ""),
            email=email if isinstance(email, str) else None,
            memberships=groups,
        )


_PROVIDERS: dict[tuple[str, str], Provider] = {}


def provider(settings: Settings) -> Provider:
    """One Provider (and so one cached discovery document) per issuer and client."""
    key = (settings.oidc_issuer or "", settings.oidc_client_id or "")
    found = _PROVIDERS.get(key)
    if found is None or found.settings is not settings:
        found = _PROVIDERS[key] = Provider(settings)
    return found


def same_site(url: str, base: str) -> bool:
    return urlsplit(url).netloc == urlsplit(base).netloc
