"""A small HTTP/1.1 server on Trio (h11) with a router: the API port.

It serves `GET /metrics`, `GET /healthz` and the operator API (`api.operator`, issue #4).
One request per connection (the answer carries `Connection: close`). The request head and
body must arrive within `REQUEST_TIMEOUT`; the head is at most `MAX_HEAD` bytes and the body
at most `MAX_BODY` or its route's own `max_body` (else 413), and a body needs a
`Content-Length` (chunked: 411; without either header a request has no body). The handler's
own time is not bounded here: a CALL to a station waits for its own timeout.

Every error answer is JSON: `{"error": {"code": str, "message": str, ...}}`.
"""

from __future__ import annotations

import hmac
import logging
import urllib.parse
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import h11
import orjson
import trio

from ..listen import open_listeners

log = logging.getLogger(__name__)

REQUEST_TIMEOUT = 10.0
MAX_HEAD = 64 * 1024
MAX_BODY = 1024 * 1024
JSON = b"application/json"
METHODS = frozenset({"GET", "HEAD", "PUT", "POST", "DELETE"})


@dataclass
class Request:
    """One HTTP request as the router hands it to a handler.

    Attributes:
        method: upper-case method name; path: the path as sent (percent-encoded), without
        the query; the router decodes each segment into `params`;
        query: query parameters (the last value wins); headers: lower-case names;
        body: the raw body; params: the path parameters of the matched route.
    """

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    params: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        """The body as JSON.

        Raises:
            HttpError: 400 when it is missing or not JSON.
        """
        if not self.body:
            raise HttpError(400, "BadRequest", "a JSON body is required")
        try:
            return orjson.loads(self.body)
        except orjson.JSONDecodeError as exc:
            raise HttpError(400, "BadRequest", f"the body is not valid JSON: {exc}") from None


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: bytes = JSON
    allow: str | None = None  # the Allow header of a 405 (RFC 9110 §15.5.6)


def json_response(status: int, value: object) -> Response:
    return Response(status, orjson.dumps(value))


class HttpError(Exception):
    """An error answer: raise it from a handler to send `{"error": {...}}` with `status`."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: dict[str, object] | None = None,
        *,
        allow: str | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.allow = allow

    def response(self) -> Response:
        error: dict[str, object] = {"code": self.code, "message": self.message}
        if self.details is not None:
            error["details"] = self.details
        return Response(self.status, orjson.dumps({"error": error}), allow=self.allow)


Handler = Callable[[Request], Awaitable[Response]]


@dataclass
class _Route:
    method: str
    pattern: str
    segments: tuple[str, ...]
    handler: Handler
    authenticated: bool
    max_body: int


class Router:
    """Routes by method and path pattern; `{name}` segments become `request.params[name]`.

    Args:
        token: the bearer token every authenticated route requires; None requires none.
    """

    def __init__(self, token: str | None = None) -> None:
        self.token = token
        self._routes: list[_Route] = []

    def add(
        self,
        method: str,
        pattern: str,
        handler: Handler,
        *,
        authenticated: bool,
        max_body: int = MAX_BODY,
    ) -> None:
        """Route `method pattern` to `handler`; `max_body`: the largest body it takes."""
        if method not in METHODS:
            raise ValueError(f"unsupported method {method}")
        segments = tuple(pattern.strip("/").split("/"))
        self._routes.append(_Route(method, pattern, segments, handler, authenticated, max_body))

    def max_body(self, method: str, path: str) -> int:
        """The largest body a request may carry: its route's limit, else `MAX_BODY`."""
        parts = path.strip("/").split("/")
        for route in self._routes:
            if route.method == method and _match(route.segments, parts) is not None:
                return route.max_body
        return MAX_BODY

    def endpoints(self) -> list[tuple[str, str]]:
        """(method, pattern) of every route, in the order they were added."""
        return [(route.method, route.pattern) for route in self._routes]

    async def dispatch(self, request: Request) -> Response:
        """The answer to `request`: the handler's, or a JSON error (401/404/405/500)."""
        try:
            return await self._dispatch(request)
        except HttpError as error:
            return error.response()
        except Exception:
            log.exception("%s %s failed", request.method, request.path)
            return HttpError(500, "InternalError", "internal error").response()

    async def _dispatch(self, request: Request) -> Response:
        parts = request.path.strip("/").split("/")
        allowed: list[str] = []
        for route in self._routes:
            params = _match(route.segments, parts)
            if params is None:
                continue
            method = "GET" if request.method == "HEAD" else request.method
            if route.method != method:
                allowed.append(route.method)
                continue
            if route.authenticated:
                self._authenticate(request)
            request.params = params
            return await route.handler(request)
        if allowed:
            methods = sorted(set(allowed) | ({"HEAD"} if "GET" in allowed else set()))
            raise HttpError(
                405,
                "MethodNotAllowed",
                f"{request.method} is not allowed here",
                allow=", ".join(methods),
            )
        raise HttpError(404, "NotFound", "no such path")

    def _authenticate(self, request: Request) -> None:
        if self.token is None:
            return
        scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            credentials.strip().encode(), self.token.encode()
        ):
            raise HttpError(401, "Unauthorized", "a valid 'Authorization: Bearer' token is needed")


def _match(pattern: tuple[str, ...], parts: list[str]) -> dict[str, str] | None:
    if len(pattern) != len(parts):
        return None
    params: dict[str, str] = {}
    for expected, part in zip(pattern, parts, strict=True):
        if expected.startswith("{") and expected.endswith("}"):
            if not part:
                return None
            params[expected[1:-1]] = urllib.parse.unquote(part)
        elif expected != part:
            return None
    return params


class HttpServer:
    """Serves a `Router` over HTTP/1.1, one request per connection.

    Attributes:
        port: the bound port, once `serve` has started.
    """

    def __init__(self, router: Router) -> None:
        self.router = router
        self.port: int | None = None

    async def serve(self, host: str, port: int, *, task_status: trio.TaskStatus[None]) -> None:
        listeners = await open_listeners("the operator API", host, port)
        self.port = listeners[0].socket.getsockname()[1]
        task_status.started()
        await trio.serve_listeners(self._handle, listeners)

    async def _handle(self, stream: trio.SocketStream) -> None:
        async with stream:
            connection = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEAD)
            try:
                request: Request | Response | None = None
                with trio.move_on_after(REQUEST_TIMEOUT):
                    request = await self._read(stream, connection)
                if request is None:
                    return
                if isinstance(request, Request):
                    response = await self.router.dispatch(request)
                    if request.method == "HEAD":
                        response = Response(response.status, b"", response.content_type)
                else:
                    response = request
                with trio.move_on_after(REQUEST_TIMEOUT):
                    await self._send(stream, connection, response)
            except (h11.RemoteProtocolError, trio.BrokenResourceError) as exc:
                log.debug("bad HTTP request: %s", exc)

    async def _read(
        self, stream: trio.SocketStream, connection: h11.Connection
    ) -> Request | Response | None:
        """The request, an error answer to send instead, or None when nothing can be answered."""
        event = await self._next_event(stream, connection)
        if not isinstance(event, h11.Request):
            return None
        method = event.method.decode("ascii", "replace").upper()
        target = event.target.decode("latin-1")
        raw_path, _, raw_query = target.partition("?")
        headers = {
            name.decode("latin-1").lower(): value.decode("latin-1") for name, value in event.headers
        }
        if "transfer-encoding" in headers:
            return HttpError(
                411, "LengthRequired", "send the body with a Content-Length"
            ).response()
        length = int(headers.get("content-length", "0"))  # h11 has checked it is a number
        limit = self.router.max_body(method, raw_path)
        if length > limit:
            return HttpError(
                413, "PayloadTooLarge", f"the body is limited to {limit} bytes"
            ).response()
        body = bytearray()
        while True:
            event = await self._next_event(stream, connection)
            if isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage):
                break
            else:
                return None
        query = dict(urllib.parse.parse_qsl(raw_query, keep_blank_values=True))
        return Request(method, raw_path, query, headers, bytes(body))

    async def _next_event(self, stream: trio.SocketStream, connection: h11.Connection) -> object:
        while True:
            event = connection.next_event()
            if event is not h11.NEED_DATA:
                return event
            data = await stream.receive_some(MAX_HEAD)
            connection.receive_data(data)
            if not data:
                return connection.next_event()

    async def _send(
        self, stream: trio.SocketStream, connection: h11.Connection, response: Response
    ) -> None:
        headers = [
            (b"content-type", response.content_type),
            (b"content-length", str(len(response.body)).encode()),
            (b"connection", b"close"),
        ]
        if response.status == 401:
            headers.append((b"www-authenticate", b"Bearer"))
        if response.allow is not None:
            headers.append((b"allow", response.allow.encode()))
        if response.status == 204:
            headers = [(b"connection", b"close")]
        data = connection.send(h11.Response(status_code=response.status, headers=headers))
        if response.body:
            data += connection.send(h11.Data(data=response.body))
        data += connection.send(h11.EndOfMessage())
        await stream.send_all(data)
