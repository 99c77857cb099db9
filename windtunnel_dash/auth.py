"""Optional HTTP Basic authentication in front of the whole app (`WINDTUNNEL_AUTH=user:password`).

One ASGI wrapper around everything served on the port: pages, the REST API and its
stream, /docs, and Reflex's own socket (/_event). Browsers send Basic credentials
on WebSocket handshakes too, once the page itself was authenticated. A request
without them gets 401 and a `WWW-Authenticate` challenge; a socket is refused at
its handshake, before it is accepted. Only /ping (Reflex's liveness answer, which
tells nothing) stays open, for load balancers and start-up checks.

The expected credentials are compared in constant time and appear in no log,
error message or repr; a request's own credentials are taken off it once checked. With no credentials set and the server listening beyond
loopback, start-up says so in one warning line.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import ipaddress
import logging
import os
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

log = logging.getLogger(__name__)

ENV = "WINDTUNNEL_AUTH"
OPEN_PATHS = frozenset(("/ping",))
REALM = "windtunnel"
# RFC 6455 §7.4.1: 1008 = policy violation. Closing before accepting makes the server answer the
# handshake with a plain HTTP 403, so the socket never opens.
POLICY_VIOLATION = 1008

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]]


class Credentials:
    """The expected `user:password`, kept as bytes; its repr never shows them."""

    __slots__ = ("_expected",)

    def __init__(self, user: str, password: str) -> None:
        self._expected = f"{user}:{password}".encode()

    def __repr__(self) -> str:
        return "Credentials(<hidden>)"

    def accepts(self, authorization: bytes | None) -> bool:
        """Whether an Authorization header carries these credentials (compared in constant time)."""
        if not authorization:
            return False
        scheme, _, token = authorization.partition(b" ")
        if scheme.lower() != b"basic":
            return False
        try:
            given = base64.b64decode(token.strip(), validate=True)
        except (binascii.Error, ValueError):
            return False
        return hmac.compare_digest(given, self._expected)


def credentials_from_env(env: MutableMapping[str, str] = os.environ) -> Credentials | None:
    """`WINDTUNNEL_AUTH=user:password` (the password may hold colons); unset or empty: no access control."""
    raw = env.get(ENV, "")
    if not raw:
        return None
    user, sep, password = raw.partition(":")
    if not sep or not user or not password:
        raise SystemExit(f"{ENV} must be user:password (both non-empty)")
    return Credentials(user, password)


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return value
    return None


def _without_credentials(scope: Scope) -> Scope:
    """The request as the app sees it once checked: no Authorization header, so nothing downstream
    can log it or keep it (Reflex stores a socket's headers in its state, pickled to disk or Redis)."""
    return {**scope, "headers": [(k, v) for k, v in scope.get("headers", ()) if k.lower() != b"authorization"]}


async def _challenge(send: Callable[[Message], Awaitable[None]]) -> None:
    body = b'{"error": {"message": "authentication required", "code": 401}}'
    await send({"type": "http.response.start", "status": 401, "headers": [
        (b"www-authenticate", f'Basic realm="{REALM}", charset="UTF-8"'.encode()),
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]})
    await send({"type": "http.response.body", "body": body})


def require(credentials: Credentials) -> Callable[[ASGIApp], ASGIApp]:
    """An api_transformer wrapping the app so that every HTTP request and socket needs `credentials`."""

    def wrap(app: ASGIApp) -> ASGIApp:
        async def guarded(scope: Scope, receive: Callable[[], Awaitable[Message]],
                          send: Callable[[Message], Awaitable[None]]) -> None:
            kind = scope["type"]
            if kind not in ("http", "websocket") or scope.get("path") in OPEN_PATHS:
                return await app(scope, receive, send)
            if credentials.accepts(_header(scope, b"authorization")):
                return await app(_without_credentials(scope), receive, send)
            if kind == "http":
                return await _challenge(send)
            await receive()  # websocket.connect
            await send({"type": "websocket.close", "code": POLICY_VIOLATION})

        return guarded

    return wrap


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def access_control(host: str, env: MutableMapping[str, str] = os.environ) -> Callable[[ASGIApp], ASGIApp]:
    """The app's api_transformer for access control: Basic auth when configured, else the app as it is
    (with one warning line when `host` is reachable from other machines)."""
    credentials = credentials_from_env(env)
    if credentials is not None:
        return require(credentials)

    def unguarded(app: ASGIApp) -> ASGIApp:
        if not is_loopback(host):
            log.warning("Listening on %s with no access control: anyone who can reach this port sees every run; "
                        "set %s=user:password", host, ENV)
        return app

    return unguarded
