"""A lean websocket client (RFC 6455) for the fleet simulator: no task of its own.

`SimStation` rides on trio-websocket, which gives every connection a reader task, a channel
hop per message and a few kilobytes of state: right for one station under test, too heavy for
twenty thousand. Here the handshake and the frames are written and parsed in this module, on a
plain Trio stream, by whichever task calls `WsClient.receive` or `send_text`. Memory per idle
connection is the stream and a few attributes; nothing wakes until bytes come. For a boot
storm the connection set-up matters as much: an IP address is connected to with one socket
(no happy-eyeballs nursery), and the upgrade request and its answer are plain byte strings
(no HTTP state machine), which together cost a fraction of trio's and h11's general paths.

Only what a charging station needs: text messages out (masked, unfragmented), text messages
in (fragmented or not), pings answered with pongs, the closing handshake. Binary messages from
the server are dropped; they are not OCPP-J. Frames are read and written by the server's own
codec, `trio_csms.ws.frames` (Rust by default), on its client side (`masked=False`).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import ipaddress
import os
import socket
import ssl
from collections.abc import Sequence
from typing import Final

import trio

from ..ws.frames import CLOSE, PING, PONG, TEXT, VIOLATION, FrameReader, close_payload, encode_frame
from .station import ConnectFailed, HandshakeRefused, NoSubprotocol

__all__ = ["WsClient", "WsClosed", "open_ws"]

_GUID: Final = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 §1.3
_RECEIVE_SIZE: Final = 65536
_MAX_HANDSHAKE: Final = 65536  # bytes of HTTP response we are willing to read
_NO_STATUS: Final = 1005  # RFC 6455 §7.1.5: the close frame had no status code


class WsClosed(Exception):
    """The connection is closed: `code` as received (1006 when no close frame came)."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"websocket closed (code {code}, reason {reason!r})")
        self.code = code
        self.reason = reason


Stream = trio.SocketStream | trio.SSLStream[trio.SocketStream]


class WsClient:
    """One open client websocket; `open_ws` makes it.

    One task receives (`receive`); any task may send. Sends never interleave: while one task
    writes, frames other tasks send are queued and written by it, in order, so `send_text`
    does not block behind another sender and needs no lock.
    """

    __slots__ = ("_close_sent", "_fd", "_outbox", "_pending", "_reader", "_stream", "closed")

    def __init__(self, stream: Stream, leftover: bytes, max_message_size: int) -> None:
        self._stream = stream
        # Plain TCP: read and write the (non-blocking) descriptor directly, and park in
        # `wait_readable` only when there is nothing to read. Trio's stream methods yield to
        # the scheduler on every call, even when the kernel has the bytes or the room at
        # once: at tens of thousands of messages a second, that was the simulator's largest
        # cost. TLS keeps the stream's own methods.
        self._fd = stream.socket.fileno() if isinstance(stream, trio.SocketStream) else -1
        self._reader = FrameReader(max_message_size, False)
        self._pending = leftover  # bytes that came with the handshake answer
        self._outbox: list[bytes] | None = None  # not None while a task is writing
        self._close_sent = False
        #: Why the connection closed, once it has.
        self.closed: WsClosed | None = None

    async def receive(self) -> list[bytes]:
        """Wait for bytes; returns the text messages they complete (perhaps none).

        Pings are answered; binary messages are dropped. A close frame is answered, and then
        `WsClosed` is raised, as it is for a closed or broken connection.

        Raises:
            WsClosed: the connection is closed (`closed` says why).
        """
        if self.closed is not None:
            raise self.closed
        if self._pending:
            data, self._pending = self._pending, b""
        else:
            data = await self._read()
            if not data:
                raise self._mark_closed(1006, "connection closed without a close frame")
        texts: list[bytes] = []
        for event in self._reader.feed(data):
            kind = event[0]
            if len(event) == 2:
                payload = event[1]
                assert isinstance(payload, bytes)
                if kind == TEXT:
                    texts.append(payload)
                elif kind == PING:
                    await self._write(encode_frame(PONG, payload, os.urandom(4)))
                continue
            code, reason = event[1], str(event[2])
            assert code is None or isinstance(code, int)
            if kind == VIOLATION:  # the server broke RFC 6455: close with the code it calls for
                assert code is not None
                await self.close(code, reason[:100])
                raise self._mark_closed(code, reason)
            await self.close(1000 if code is None else code)  # the server's close, echoed
            raise self._mark_closed(_NO_STATUS if code is None else code, reason)
        return texts

    async def send_text(self, payload: bytes) -> None:
        """Send one text message (UTF-8 bytes).

        Raises:
            WsClosed: the connection is closed or broke while writing.
        """
        if self.closed is not None:
            raise self.closed
        await self._write(encode_frame(TEXT, payload, os.urandom(4)))

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Send the close frame (once); the server's close frame then ends `receive`."""
        if self._close_sent or self.closed is not None:
            return
        self._close_sent = True
        with contextlib.suppress(WsClosed):
            await self._write(encode_frame(CLOSE, close_payload(code, reason), os.urandom(4)))

    async def aclose(self) -> None:
        """Drop the TCP (and TLS) connection at once."""
        self._mark_closed(1006, "closed by the simulator")
        self._fd = -1  # the descriptor's number may be reused once the stream is closed
        await trio.aclose_forcefully(self._stream)

    async def _read(self) -> bytes:
        """The next bytes from the server (b"" at its end of stream)."""
        fd = self._fd
        try:
            if fd < 0:
                return bytes(await self._stream.receive_some(_RECEIVE_SIZE))
            while True:
                try:
                    return os.read(fd, _RECEIVE_SIZE)
                except BlockingIOError:
                    await trio.lowlevel.wait_readable(fd)
        except (trio.BrokenResourceError, trio.ClosedResourceError, OSError) as exc:
            raise self._mark_closed(1006, f"connection lost: {exc.__cause__ or exc}") from None

    async def _write(self, frame: bytes) -> None:
        if self._outbox is not None:  # another task is writing: it sends this one too
            self._outbox.append(frame)
            return
        if self._fd >= 0:
            # Most frames fit in the socket buffer at once: no await, no scheduler round.
            try:
                written = os.write(self._fd, frame)
            except BlockingIOError:
                written = 0
            except OSError as exc:
                raise self._mark_closed(1006, f"connection lost: {exc}") from None
            if written == len(frame):
                return
            frame = frame[written:]
        outbox: list[bytes] = []
        self._outbox = outbox
        try:
            await self._stream.send_all(frame)
            while outbox:
                data = b"".join(outbox)
                outbox.clear()
                await self._stream.send_all(data)
        except (trio.BrokenResourceError, trio.ClosedResourceError) as exc:
            raise self._mark_closed(1006, f"connection lost: {exc.__cause__ or exc}") from None
        finally:
            self._outbox = None

    def _mark_closed(self, code: int, reason: str) -> WsClosed:
        if self.closed is None:
            self.closed = WsClosed(code, reason)
        return self.closed


async def open_ws(
    host: str,
    port: int,
    *,
    host_header: str,
    resource: str,
    subprotocol: str,
    headers: Sequence[tuple[bytes, bytes]] = (),
    ssl_context: ssl.SSLContext | None = None,
    max_message_size: int = 1 << 20,
) -> WsClient:
    """Connect (TCP, TLS if `ssl_context` is given) and do the opening handshake.

    The caller bounds the time (a cancel scope); cancelled or failed, nothing is left open.

    Raises:
        HandshakeRefused: the server answered the upgrade with an HTTP error.
        NoSubprotocol: the server did not agree on `subprotocol`.
        ConnectFailed: no connection, a TLS error, or an answer that is no websocket upgrade.
    """
    try:
        if ssl_context is not None:
            stream: Stream = await trio.open_ssl_over_tcp_stream(
                host, port, ssl_context=ssl_context, https_compatible=True
            )
        else:
            stream = await _open_tcp(host, port)
    except OSError as exc:
        raise ConnectFailed(f"cannot connect to {host}:{port}: {exc.strerror or exc}") from None
    try:
        leftover = await _handshake(stream, host_header, resource, subprotocol, headers)
    except BaseException:
        await trio.aclose_forcefully(stream)
        raise
    return WsClient(stream, leftover, max_message_size)


async def _open_tcp(host: str, port: int) -> trio.SocketStream:
    """TCP to `host`: one socket for an IP address; trio's general path for a name."""
    try:
        family = socket.AF_INET6 if ipaddress.ip_address(host).version == 6 else socket.AF_INET
    except ValueError:
        return await trio.open_tcp_stream(host, port)
    sock = trio.socket.socket(family, socket.SOCK_STREAM)
    try:
        await sock.connect((host, port))
    except BaseException:
        sock.close()
        raise
    return trio.SocketStream(sock)


_UNSAFE: Final = frozenset(b"\r\n")


async def _handshake(
    stream: Stream,
    host_header: str,
    resource: str,
    subprotocol: str,
    headers: Sequence[tuple[bytes, bytes]],
) -> bytes:
    """Send the upgrade request, read the answer; returns bytes that came after it.

    Raises:
        HandshakeRefused, NoSubprotocol, ConnectFailed: as `open_ws`.
        ValueError: a header or the resource would break the request (a line break).
    """
    key = base64.b64encode(os.urandom(16))
    fields = [
        (b"Host", host_header.encode()),
        (b"Upgrade", b"websocket"),
        (b"Connection", b"Upgrade"),
        (b"Sec-WebSocket-Key", key),
        (b"Sec-WebSocket-Version", b"13"),
        (b"Sec-WebSocket-Protocol", subprotocol.encode()),
        *headers,
    ]
    target = resource.encode()
    parts = [target, *(part for field in fields for part in field)]
    if b" " in target or any(_UNSAFE.intersection(part) for part in parts):
        raise ValueError("a header or the resource contains a line break (or the resource a space)")
    request = b"GET " + target + b" HTTP/1.1\r\n"
    request += b"".join(name + b": " + value + b"\r\n" for name, value in fields) + b"\r\n"
    try:
        await stream.send_all(request)
        status, answer, rest = await _read_answer(stream)
        if status == 101:
            _check_upgrade(answer, key, subprotocol)
            return rest
        raise HandshakeRefused(status, answer, await _body(stream, answer, rest))
    except (trio.BrokenResourceError, ssl.SSLError) as exc:
        raise ConnectFailed(f"the websocket handshake failed: {exc.__cause__ or exc}") from None


async def _read_answer(stream: Stream) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """The status, headers (lower-case names) and the bytes after the answer's head."""
    data = b""
    while b"\r\n\r\n" not in data:
        if len(data) > _MAX_HANDSHAKE:
            raise ConnectFailed("the server's answer to the upgrade has an oversized head")
        more = bytes(await stream.receive_some(_RECEIVE_SIZE))
        if not more:
            raise ConnectFailed("the server closed the connection during the handshake")
        data += more
    head, _, rest = data.partition(b"\r\n\r\n")
    status_line, *lines = head.split(b"\r\n")
    version, _, remainder = status_line.partition(b" ")
    code = remainder[:3]
    if not version.startswith(b"HTTP/1.") or not code.isdigit():
        raise ConnectFailed(f"the server answered the websocket upgrade with {status_line!r}")
    answer: list[tuple[bytes, bytes]] = []
    for line in lines:
        name, colon, value = line.partition(b":")
        if not colon:
            raise ConnectFailed(f"a malformed header in the server's answer: {line!r}")
        answer.append((name.strip().lower(), value.strip()))
    return int(code), answer, rest


async def _body(stream: Stream, answer: list[tuple[bytes, bytes]], rest: bytes) -> bytes | None:
    """The body of a refusal, as far as Content-Length says and a second allows."""
    length = next((value for name, value in answer if name == b"content-length"), None)
    if length is None or not length.isdigit():
        return rest or None
    wanted = min(int(length), _MAX_HANDSHAKE)
    with trio.move_on_after(1):  # the status is what matters; the body is a courtesy
        while len(rest) < wanted:
            more = bytes(await stream.receive_some(_RECEIVE_SIZE))
            if not more:
                break
            rest += more
    return rest[:wanted] or None


def _check_upgrade(answer: list[tuple[bytes, bytes]], key: bytes, subprotocol: str) -> None:
    fields = dict(answer)
    expected = base64.b64encode(hashlib.sha1(key + _GUID).digest())
    if fields.get(b"sec-websocket-accept") != expected:
        raise ConnectFailed("the server's Sec-WebSocket-Accept does not match our key")
    selected = fields.get(b"sec-websocket-protocol")
    if selected != subprotocol.encode():
        raise NoSubprotocol([subprotocol], None if selected is None else selected.decode())
