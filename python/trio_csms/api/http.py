"""A small HTTP/1.1 server on Trio (h11): the API port's `GET /metrics` and `GET /healthz`.

The operator API proper (issue #4) builds on this port; until then it serves the Prometheus
text format at /metrics and a liveness answer at /healthz. Each connection is bounded: the
request must arrive within `REQUEST_TIMEOUT` and be at most `MAX_REQUEST` bytes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import h11
import trio

log = logging.getLogger(__name__)

REQUEST_TIMEOUT = 10.0
MAX_REQUEST = 64 * 1024
Route = Callable[[], tuple[int, bytes, bytes]]
"""Answers a GET: (status, content type, body)."""


class HttpServer:
    """Serves GET routes over HTTP/1.1, one request per connection.

    Args:
        routes: path -> function giving (status, content type, body).
    """

    def __init__(self, routes: dict[str, Route]) -> None:
        self.routes = routes
        self.port: int | None = None

    async def serve(self, host: str, port: int, *, task_status: trio.TaskStatus[None]) -> None:
        listeners = await trio.open_tcp_listeners(port, host=host)
        self.port = listeners[0].socket.getsockname()[1]
        task_status.started()
        await trio.serve_listeners(self._handle, listeners)

    async def _handle(self, stream: trio.SocketStream) -> None:
        async with stream:
            with trio.move_on_after(REQUEST_TIMEOUT):
                try:
                    await self._answer(stream)
                except (h11.RemoteProtocolError, trio.BrokenResourceError) as exc:
                    log.debug("bad HTTP request: %s", exc)

    async def _answer(self, stream: trio.SocketStream) -> None:
        connection = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_REQUEST)
        while True:
            event = connection.next_event()
            if event is h11.NEED_DATA:
                data = await stream.receive_some(MAX_REQUEST)
                connection.receive_data(data)
                if not data:
                    return
                continue
            if isinstance(event, h11.Request):
                break
            return
        status, content_type, body = self._route(event)
        headers = [
            (b"content-type", content_type),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]
        await stream.send_all(
            connection.send(h11.Response(status_code=status, headers=headers))
            + connection.send(h11.Data(data=body))
            + connection.send(h11.EndOfMessage())
        )

    def _route(self, request: h11.Request) -> tuple[int, bytes, bytes]:
        path = request.target.split(b"?", 1)[0].decode("latin-1")
        route = self.routes.get(path)
        if request.method not in (b"GET", b"HEAD"):
            return (
                405,
                b"application/json",
                b'{"error":{"code":"MethodNotAllowed","message":"GET only"}}',
            )
        if route is None:
            return (
                404,
                b"application/json",
                b'{"error":{"code":"NotFound","message":"no such path"}}',
            )
        return route()
