"""The server side of the websocket opening handshake (RFC 6455 §4.2), with h11.

`read_request` reads one HTTP request from a fresh stream and checks it is a websocket upgrade;
the caller decides (identity, credentials, subprotocol) and then either `accept`s, getting a
`WsConnection` on the same stream, or `reject`s with an HTTP status and a text body.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from typing import Final, NoReturn

import h11
import trio

from .connection import WsConnection

__all__ = ["HandshakeFailed", "HandshakeRequest", "read_request"]

_GUID: Final = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 §1.3
_RECEIVE_SIZE: Final = 16384
MAX_REQUEST: Final = 16384
"""Bytes of request line and headers accepted (h11 refuses more with 431)."""


class HandshakeFailed(Exception):
    """The client's request is not a websocket upgrade; it was answered with `status`."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(eq=False)
class HandshakeRequest:
    """A websocket upgrade request, waiting for `accept` or `reject`.

    Attributes:
        path: the request target, as sent (percent-encoded).
        headers: every header, names lowercased, in order.
        proposed_subprotocols: from Sec-WebSocket-Protocol, in the client's order.
        stream: the connection (a TLS stream for wss://).
    """

    path: str
    headers: list[tuple[bytes, bytes]]
    proposed_subprotocols: tuple[str, ...]
    stream: trio.abc.Stream
    _http: h11.Connection = field(repr=False)
    _key: bytes = field(repr=False)

    def header(self, name: bytes) -> str | None:
        """The first header `name` (lowercase), decoded as latin-1, or None."""
        for key, value in self.headers:
            if key == name:
                return value.decode("latin-1")
        return None

    async def accept(
        self, subprotocol: str, *, max_message_size: int, close_timeout: float = 5.0
    ) -> WsConnection:
        """Answer 101 Switching Protocols with `subprotocol`; the websocket is open."""
        digest = hashlib.sha1(self._key + _GUID).digest()  # RFC 6455 mandates SHA-1
        response = h11.InformationalResponse(
            status_code=101,
            headers=[
                (b"upgrade", b"websocket"),
                (b"connection", b"Upgrade"),
                (b"sec-websocket-accept", base64.b64encode(digest)),
                (b"sec-websocket-protocol", subprotocol.encode()),
            ],
        )
        await self.stream.send_all(self._http.send(response) or b"")
        leftover, _ = self._http.trailing_data
        return WsConnection(
            self.stream,
            max_message_size=max_message_size,
            leftover=bytes(leftover),
            close_timeout=close_timeout,
        )

    async def reject(self, status: int, body: bytes) -> None:
        """Answer `status` with a plain-text `body`; the caller closes the stream."""
        await _respond(self._http, self.stream, status, body)


async def read_request(stream: trio.abc.Stream) -> HandshakeRequest:
    """Read the HTTP request opening `stream`; bound the time with a cancel scope.

    Raises:
        HandshakeFailed: not a valid websocket upgrade (already answered with its status).
        trio.BrokenResourceError, trio.ClosedResourceError: the connection went away.
    """
    http = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_REQUEST)
    while True:
        try:
            event = http.next_event()
        except h11.RemoteProtocolError as exc:
            status = exc.error_status_hint
            await _refuse(http, stream, status, f"malformed HTTP request: {exc}")
        if event is h11.NEED_DATA:
            data = await stream.receive_some(_RECEIVE_SIZE)
            http.receive_data(bytes(data))
            continue
        if isinstance(event, h11.Request):
            return await _upgrade_request(http, stream, event)
        await _refuse(http, stream, 400, "expected an HTTP request")


async def _upgrade_request(
    http: h11.Connection, stream: trio.abc.Stream, request: h11.Request
) -> HandshakeRequest:
    headers = [(bytes(name).lower(), bytes(value)) for name, value in request.headers]

    def values(name: bytes) -> list[str]:
        return [
            item.strip()
            for key, value in headers
            if key == name
            for item in value.decode("latin-1").split(",")
            if item.strip()
        ]

    if request.method != b"GET":
        await _refuse(http, stream, 405, "a websocket upgrade is a GET request")
    if "websocket" not in (v.lower() for v in values(b"upgrade")) or "upgrade" not in (
        v.lower() for v in values(b"connection")
    ):
        await _refuse(http, stream, 426, "this endpoint only speaks websocket")
    if values(b"sec-websocket-version") != ["13"]:
        await _refuse(http, stream, 426, "Sec-WebSocket-Version 13 is required")
    key = values(b"sec-websocket-key")
    if len(key) != 1:
        await _refuse(http, stream, 400, "one Sec-WebSocket-Key is required")
    return HandshakeRequest(
        path=request.target.decode("latin-1"),
        headers=headers,
        proposed_subprotocols=tuple(values(b"sec-websocket-protocol")),
        stream=stream,
        _http=http,
        _key=key[0].encode("latin-1"),
    )


async def _refuse(
    http: h11.Connection, stream: trio.abc.Stream, status: int, message: str
) -> NoReturn:
    """Answer `status` if HTTP still allows it, then raise HandshakeFailed."""
    if http.our_state in (h11.IDLE, h11.SEND_RESPONSE):
        await _respond(http, stream, status, message.encode())
    raise HandshakeFailed(status, message)


async def _respond(http: h11.Connection, stream: trio.abc.Stream, status: int, body: bytes) -> None:
    headers = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    if status == 426:
        headers.append((b"sec-websocket-version", b"13"))
    data = http.send(h11.Response(status_code=status, headers=headers)) or b""
    data += http.send(h11.Data(data=body)) or b""
    data += http.send(h11.EndOfMessage()) or b""
    await stream.send_all(data)
