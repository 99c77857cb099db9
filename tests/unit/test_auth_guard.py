"""auth.py: the credentials check, the ASGI guard's answers, and the start-up warning."""

from __future__ import annotations

import asyncio
import base64
import logging

import pytest

from windtunnel_dash import auth


def header(user: str, password: str) -> bytes:
    return b"Basic " + base64.b64encode(f"{user}:{password}".encode())


def test_accepts_exactly_the_configured_pair():
    creds = auth.Credentials("alice", "pa:ss")
    assert creds.accepts(header("alice", "pa:ss"))
    assert creds.accepts(b"basic " + base64.b64encode(b"alice:pa:ss"))  # the scheme is case-insensitive
    for bad in (None, b"", header("alice", "pa:s"), header("alice", "pa:ss "), header("bob", "pa:ss"),
                b"Bearer " + base64.b64encode(b"alice:pa:ss"), b"Basic not base64!", b"Basic"):
        assert not creds.accepts(bad)


def test_credentials_come_from_the_environment_and_never_show():
    assert auth.credentials_from_env({}) is None
    assert auth.credentials_from_env({auth.ENV: ""}) is None
    creds = auth.credentials_from_env({auth.ENV: "alice:pa:ss"})
    assert creds is not None and creds.accepts(header("alice", "pa:ss"))
    assert "pa:ss" not in repr(creds) and "alice" not in repr(creds)
    for bad in ("alice", ":pw", "alice:"):
        with pytest.raises(SystemExit) as stop:
            auth.credentials_from_env({auth.ENV: bad})
        assert str(stop.value) == f"{auth.ENV} must be user:password (both non-empty)"  # never echoes the value


def run_guarded(scope: dict, messages: list[dict] | None = None) -> tuple[list[dict], list[str]]:
    """Drive the guard around a stub app; returns (what was sent, which scopes reached the app)."""
    reached: list[str] = []
    sent: list[dict] = []
    inbox = list(messages or [{"type": "websocket.connect"}])

    async def app(scope, receive, send):
        reached.append(scope["type"])
        assert not [k for k, _ in scope.get("headers", ()) if k.lower() == b"authorization"]  # taken off once checked

    async def receive():
        return inbox.pop(0)

    async def send(message):
        sent.append(message)

    guarded = auth.require(auth.Credentials("alice", "pw"))(app)
    asyncio.run(guarded(scope, receive, send))
    return sent, reached


def test_http_without_credentials_gets_a_challenge():
    sent, reached = run_guarded({"type": "http", "path": "/api/runs", "headers": []})
    assert not reached
    assert sent[0]["status"] == 401
    assert (b"www-authenticate", b'Basic realm="windtunnel", charset="UTF-8"') in sent[0]["headers"]


def test_a_socket_without_credentials_is_closed_before_it_is_accepted():
    sent, reached = run_guarded({"type": "websocket", "path": "/_event/", "headers": [(b"authorization", b"Basic eA==")]})
    assert not reached
    assert sent == [{"type": "websocket.close", "code": auth.POLICY_VIOLATION}]


@pytest.mark.parametrize("scope", [
    {"type": "http", "path": "/", "headers": [(b"authorization", header("alice", "pw")), (b"accept", b"*/*")]},
    {"type": "websocket", "path": "/_event/", "headers": [(b"Authorization", header("alice", "pw"))]},
    {"type": "http", "path": "/ping", "headers": []},
    {"type": "lifespan"},
], ids=["http-ok", "socket-ok", "ping", "lifespan"])
def test_what_passes_through(scope):
    sent, reached = run_guarded(scope)
    assert reached == [scope["type"]] and not sent


@pytest.mark.parametrize(("host", "warned"), [
    ("127.0.0.1", False), ("localhost", False), ("::1", False), ("[::1]", False), ("127.0.0.2", False),
    ("0.0.0.0", True), ("192.168.1.20", True), ("::", True), ("dash.example.com", True),
])
def test_one_warning_when_reachable_beyond_loopback_without_auth(caplog, host, warned):
    identity = object()
    with caplog.at_level(logging.WARNING, logger=auth.__name__):
        assert auth.access_control(host, {})(identity) is identity
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == (1 if warned else 0)
    if warned:
        assert host in lines[0] and auth.ENV in lines[0] and "\n" not in lines[0]


def test_no_warning_when_auth_is_on(caplog):
    with caplog.at_level(logging.WARNING, logger=auth.__name__):
        auth.access_control("0.0.0.0", {auth.ENV: "alice:pw"})(lambda *a: None)
    assert not caplog.records
