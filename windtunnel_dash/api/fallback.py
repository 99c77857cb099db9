"""What /api answers when no route takes a request as it came: HEAD, 405 with Allow, or the contract's 404.

Reflex is mounted at "" behind the API's routes and takes any request they
leave, so Starlette's own 405 never happens: a route that matches the path but
not the method is passed over for the mount. This catch-all, the last /api
route, asks the routes before it which methods they would take on this path:
- HEAD where GET is served: the GET's answer without its body (RFC 9110 §9.3.2,
  Starlette's convention for its own routes);
- another method where the path exists: 405 with `Allow` naming the path's
  methods (OPTIONS included: the framework serves it only as a CORS preflight);
- no such path: 404 with the error body.
It only asks routes whether they match, so routes added later are covered as they are.
"""

from __future__ import annotations

from starlette.convertors import PathConvertor, register_url_convertor
from starlette.routing import Match, Route, Router
from starlette.types import Message, Receive, Scope, Send

from windtunnel_dash.api.errors import METHOD_NOT_ALLOWED, NOT_FOUND, error_response

_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


class _AnyPath(PathConvertor):
    regex = "(?s:.*)"


def match_newlines_in_paths() -> None:
    """Make Starlette's `{name:path}` match any path, a newline included, in every route made after this.

    Its `.*` stops at a newline, which a client may send as `%0A`: no route, not even Reflex's own
    mount at "" (made when Reflex builds its app, after ours), would match, and the answer would be
    the framework's plain-text 404 instead of the contract's.
    """
    register_url_convertor("path", _AnyPath())


def _drop_body(send: Send) -> Send:
    async def send_head(message: Message) -> None:
        if message["type"] == "http.response.body":
            if message.get("more_body"):
                return
            message = {"type": "http.response.body", "body": b"", "more_body": False}
        await send(message)

    return send_head


class ApiFallback:
    """The ASGI app of `route` (`/api/{path:path}`, any method), to be appended to `router` after the API's routes."""

    def __init__(self, router: Router) -> None:
        self.router = router
        self.route = Route("/api/{path:path}", self, include_in_schema=False)

    def allowed_methods(self, scope: Scope) -> list[str]:
        """The methods the routes before this one would take on the request's path."""
        routes = self.router.routes[: self.router.routes.index(self.route)]
        allowed = {m for m in _METHODS if any(r.matches({**scope, "method": m})[0] is Match.FULL for r in routes)}
        return sorted(allowed | {"HEAD"} if "GET" in allowed else allowed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        allowed = self.allowed_methods(scope)
        if scope["method"] == "HEAD" and "GET" in allowed:
            await self.router({**scope, "method": "GET"}, receive, _drop_body(send))
            return
        path = scope["path"]
        if allowed:
            allow = ", ".join(allowed)
            answer = error_response(METHOD_NOT_ALLOWED, f"{scope['method']} is not allowed on {path}; allowed: {allow}")
            answer.headers["Allow"] = allow
        else:
            answer = error_response(NOT_FOUND, f"no endpoint {path}")
        await answer(scope, receive, send)
