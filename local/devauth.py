"""Development sign-in: a tiny OAuth 2.0 authorization server (code flow + PKCE S256).

The web app signs in through the same code path as with Cognito; only the URLs differ. Tokens
are HS256 JWTs with Cognito's claim names (`sub`, `email`, `custom:tenant`, and
`cognito:groups` for the groups picked on the sign-in form: reader, editor, admin). Written by hand
(~60 lines) rather than pulling in an OAuth server library: it only ever runs on loopback.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import threading
import time
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Sequence
from urllib.parse import urlencode, urlsplit

GROUPS_CLAIM = "cognito:groups"
ROLE_GROUPS = ("reader", "editor", "admin")  # ragline.access.roles; the form offers these
DEFAULT_GROUPS = ("admin",)  # checked on the form: locally you usually own the workspace

TOKEN_TTL_S = 12 * 3600
CODE_TTL_S = 120


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class AuthError(Exception):
    pass


@dataclass
class _PendingCode:
    claims: dict
    client_id: str
    redirect_uri: str
    code_challenge: str
    expires_at: float


class DevAuth:
    def __init__(self, secret: bytes | None = None, client_id: str = "ragline-local") -> None:
        self.secret = secret or secrets.token_bytes(32)
        self.client_id = client_id
        self._codes: dict[str, _PendingCode] = {}
        self._lock = threading.Lock()

    @classmethod
    def persistent(cls, path: Path) -> "DevAuth":
        """Signing with the secret kept at `path` (created once, readable by the owner only),
        so tokens issued before a `ragline dev` restart stay valid after it."""
        try:
            secret = bytes.fromhex(path.read_text().strip())
        except (OSError, ValueError):
            secret = b""
        if len(secret) < 32:
            secret = secrets.token_bytes(32)
            path.parent.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "w") as handle:
                handle.write(secret.hex())
        return cls(secret=secret)

    # --- tokens ---------------------------------------------------------------------------
    def issue_token(self, user: str, tenant: str, groups: Sequence[str] = ()) -> str:
        now = int(time.time())
        claims = {"sub": user, "email": f"{user}@local", "custom:tenant": tenant,
                  "iss": "ragline-local", "aud": self.client_id, "iat": now, "exp": now + TOKEN_TTL_S,
                  "token_use": "id"}
        if groups:  # as in a Cognito id token: absent when the user is in no group
            claims[GROUPS_CLAIM] = list(dict.fromkeys(groups))
        header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        body = _b64url(json.dumps(claims).encode())
        signature = hmac.new(self.secret, f"{header}.{body}".encode(), hashlib.sha256).digest()
        return f"{header}.{body}.{_b64url(signature)}"

    def verify(self, token: str) -> dict:
        # Any undecodable part is a bad token (401), never an error of the gateway itself.
        try:
            header, body, signature = token.split(".")
            expected = hmac.new(self.secret, f"{header}.{body}".encode(), hashlib.sha256).digest()
            if not hmac.compare_digest(expected, _b64url_decode(signature)):
                raise AuthError("bad signature")
            claims = json.loads(_b64url_decode(body))
            expires = float(claims.get("exp", 0))
        except AuthError:
            raise
        except (ValueError, TypeError, AttributeError) as error:  # binascii.Error is a ValueError
            raise AuthError("malformed token") from error
        if expires < time.time():
            raise AuthError("token expired")
        return claims

    # --- authorization code flow ------------------------------------------------------------
    def check_request(self, params: dict[str, str]) -> None:
        """The authorization request itself (checked before showing the form, as Cognito does)."""
        if params.get("response_type") != "code" or params.get("code_challenge_method") != "S256":
            raise AuthError("only response_type=code with code_challenge_method=S256 is supported")
        if params.get("client_id") != self.client_id:
            raise AuthError(f"unknown client_id {params.get('client_id')!r}; this server knows {self.client_id!r}")
        if not params.get("code_challenge"):
            raise AuthError("code_challenge is required (PKCE S256)")
        redirect = urlsplit(params.get("redirect_uri", ""))
        if redirect.scheme not in {"http", "https"} or not redirect.netloc:
            raise AuthError(f"redirect_uri must be an absolute http(s) URL, got {params.get('redirect_uri', '')!r}")

    def authorize(self, params: dict[str, str], user: str, tenant: str, groups: Sequence[str] = ()) -> str:
        """Validate the request and the form; return the redirect URL carrying the code."""
        self.check_request(params)
        if not user.strip() or not tenant.strip() or "/" in tenant:
            raise AuthError("user name and tenant are required; a tenant cannot contain '/'")
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._codes[code] = _PendingCode(
                {"user": user.strip(), "tenant": tenant.strip(), "groups": [g for g in groups if g in ROLE_GROUPS]},
                params["client_id"],
                params["redirect_uri"], params["code_challenge"], time.time() + CODE_TTL_S,
            )
        separator = "&" if "?" in params["redirect_uri"] else "?"
        # Encoded, so a state with '&' or '=' comes back to the app exactly as it was sent.
        return f"{params['redirect_uri']}{separator}{urlencode({'code': code, 'state': params.get('state', '')})}"

    def exchange(self, form: dict[str, str]) -> dict:
        with self._lock:
            pending = self._codes.pop(form.get("code", ""), None)
        if pending is None or pending.expires_at < time.time():
            raise AuthError("invalid or expired code")
        if form.get("grant_type") != "authorization_code" or form.get("redirect_uri") != pending.redirect_uri:
            raise AuthError("grant_type or redirect_uri does not match the authorization request")
        if form.get("client_id") != pending.client_id:
            raise AuthError(f"client_id {form.get('client_id')!r} is not the client the code was issued to")
        challenge = _b64url(hashlib.sha256(form.get("code_verifier", "").encode()).digest())
        if not hmac.compare_digest(challenge, pending.code_challenge):
            raise AuthError("code_verifier does not match the code_challenge")
        token = self.issue_token(pending.claims["user"], pending.claims["tenant"], pending.claims["groups"])
        return {"id_token": token, "access_token": token, "token_type": "Bearer", "expires_in": TOKEN_TTL_S}


def sign_in_page(query: str, error: str | None = None) -> str:
    message = f'<p role="alert" class="error">{escape(error)}</p>' if error else ""
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Ragline — development sign-in</title>
<style>body{{font-family:system-ui,sans-serif;max-width:24rem;margin:4rem auto;padding:0 1rem}}
label{{display:block;margin-top:1rem}}input{{width:100%;padding:.5rem;font-size:1rem;box-sizing:border-box}}
input[type=checkbox]{{width:auto;margin-right:.4rem}}fieldset{{margin-top:1rem}}
button{{margin-top:1.5rem;padding:.6rem 1.2rem;font-size:1rem}}.error{{color:#b00020}}</style></head>
<body><h1>Development sign-in</h1><p>Local mode: no password. Pick a user name and the tenant whose documents you work with.</p>
{message}<form method="post" action="/dev-auth/authorize?{escape(query)}">
<label for="user">User name</label><input id="user" name="user" autocomplete="username" required value="dev">
<label for="tenant">Tenant</label><input id="tenant" name="tenant" required value="demo">
<fieldset><legend>Groups (cognito:groups; none = reader)</legend>{_group_boxes()}</fieldset>
<button type="submit">Sign in</button></form></body></html>"""


def _group_boxes() -> str:
    return "".join(
        f'<label><input type="checkbox" name="groups" value="{group}" id="group-{group}"'
        f'{" checked" if group in DEFAULT_GROUPS else ""}> {group}</label>'
        for group in ROLE_GROUPS
    )
