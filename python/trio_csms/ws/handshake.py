"""The server side of the websocket opening handshake (RFC 6455 §4.2).

`read_request` reads one HTTP request from a fresh stream and checks it is a websocket upgrade;
the caller decides (identity, credentials, subprotocol) and then either `accept`s, getting a
`WsConnection` on the same stream, or `reject`s with an HTTP status and a text body.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from typing import Final, NoReturn

import trio

from .connection import WsConnection
from .http_head import MAX_HEAD, BadRequest, RequestHead, head_end, parse_head

__all__ = ["HandshakeFailed", "HandshakeRequest", "read_request"]

_GUID: Final = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 §1.3
_RECEIVE_SIZE: Final = 16384


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
    _key: bytes = field(repr=False)
    _leftover: bytes = field(repr=False)  # bytes after the head: the first websocket frames

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
        response = (
            b"HTTP/1.1 101 \r\nupgrade: websocket\r\nconnection: Upgrade\r\n"
            b"sec-websocket-accept: " + base64.b64encode(digest) + b"\r\n"
            b"sec-websocket-protocol: " + _header_value(subprotocol) + b"\r\n\r\n"
        )
        await self.stream.send_all(response)
        return WsConnection(
            self.stream,
            max_message_size=max_message_size,
            leftover=self._leftover,
            close_timeout=close_timeout,
        )

    async def reject(self, status: int, body: bytes) -> None:
        """Answer `status` with a plain-text `body`; the caller closes the stream."""
        await _respond(self.stream, status, body)


async def read_request(stream: trio.abc.Stream) -> HandshakeRequest:
    """Read the HTTP request opening `stream`; bound the time with a cancel scope.

    Raises:
        HandshakeFailed: not a valid websocket upgrade (already answered with its status).
        trio.BrokenResourceError, trio.ClosedResourceError: the connection went away.
    """
    data = b""
    while (end := head_end(data)) is None:
        if len(data) > MAX_HEAD:
            await _refuse(stream, 431, f"the request head is larger than {MAX_HEAD} bytes")
        received = await stream.receive_some(_RECEIVE_SIZE)
        if not received:
            if data:
                await _refuse(stream, 400, "the connection ended in the middle of the request")
            raise trio.BrokenResourceError("the client closed the connection before a request")
        data += received
    try:
        head = parse_head(data[: end[0]])
    except BadRequest as bad:
        await _refuse(stream, bad.status, f"malformed HTTP request: {bad}")
    return await _upgrade_request(stream, head, data[end[1] :])


async def _upgrade_request(
    stream: trio.abc.Stream, request: RequestHead, leftover: bytes
) -> HandshakeRequest:
    headers = request.headers

    def values(name: bytes) -> list[str]:
        return [
            item.strip()
            for key, value in headers
            if key == name
            for item in value.decode("latin-1").split(",")
            if item.strip()
        ]

    if request.method != b"GET":
        await _refuse(stream, 405, "a websocket upgrade is a GET request")
    if "websocket" not in (v.lower() for v in values(b"upgrade")) or "upgrade" not in (
        v.lower() for v in values(b"connection")
    ):
        await _refuse(stream, 426, "this endpoint only speaks websocket")
    if values(b"sec-websocket-version") != ["13"]:
        await _refuse(stream, 426, "Sec-WebSocket-Version 13 is required")
    key = values(b"sec-websocket-key")
    if len(key) != 1:
        await _refuse(stream, 400, "one Sec-WebSocket-Key is required")
    return HandshakeRequest(
        path=request.target.decode("latin-1"),
        headers=headers,
        proposed_subprotocols=tuple(values(b"sec-websocket-protocol")),
        stream=stream,
        _key=key[0].encode("latin-1"),
        _leftover=leftover,
    )


async def _refuse(stream: trio.abc.Stream, status: int, message: str) -> NoReturn:
    """Answer `status`, then raise HandshakeFailed."""
    await _respond(stream, status, message.encode())
    raise HandshakeFailed(status, message)


async def _respond(stream: trio.abc.Stream, status: int, body: bytes) -> None:
    """A complete answer that closes the connection (the caller closes the stream)."""
    upgrade = b"sec-websocket-version: 13\r\n" if status == 426 else b""
    head = (
        f"HTTP/1.1 {status} \r\ncontent-type: text/plain; charset=utf-8\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n"
    ).encode()
    await stream.send_all(head + upgrade + b"\r\n" + body)


def _header_value(text: str) -> bytes:
    """`text` as a header value; refuses what would break the answer (a line break)."""
    value = text.encode("latin-1")
    if b"\r" in value or b"\n" in value:
        raise ValueError(f"not a header value: {text!r}")
    return value
