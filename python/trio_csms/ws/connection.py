"""One server-side websocket on a plain Trio stream, after the handshake: no task of its own.

Why not trio-websocket past the handshake: it runs a reader task per connection that parses
frames with wsproto and hands every message over a memory channel to the task that asked for
it. Here the task calling `get_message` reads the socket, the frame reader
(`trio_csms.ws.frames`, Rust by default) turns bytes into messages, and control frames are
answered on the spot. A read returning several messages serves them without another syscall.

Sending is shared (answers from the reader, CSMS CALLs from a sender task, pings from the
keepalive), so writes are serialized by a lock that costs nothing when uncontended. Closing
from our side (`aclose`) ends `get_message` at once, as trio-websocket does, and then reads the
socket itself until the peer's close frame arrives (or `close_timeout`).
"""

from __future__ import annotations

import os
from collections import deque
from typing import Final

import trio

from .frames import (
    CLOSE,
    PING,
    PONG,
    TEXT,
    VIOLATION,
    FrameReader,
    close_payload,
    encode_frame,
)
from .sysio import read_nonblocking, write_nonblocking

__all__ = ["ConnectionClosed", "WsConnection"]

RECEIVE_SIZE: Final = 65536
NO_STATUS: Final = 1005
"""RFC 6455 §7.4.1: the peer's close frame carried no code."""
ABNORMAL: Final = 1006
"""RFC 6455 §7.4.1: the connection ended without a close frame."""


class ConnectionClosed(Exception):
    """The websocket is closed: `code` and `reason` of the close (1006: no close frame)."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"websocket closed ({code} {reason!r})".rstrip())
        self.code = code
        self.reason = reason


class WsConnection:
    """A websocket whose handshake is done.

    Args:
        stream: the connection's byte stream (TCP or TLS).
        max_message_size: longer messages close the connection with 1009.
        leftover: bytes that arrived after the handshake request, already read.
        close_timeout: seconds `aclose` waits for the peer's close frame.
    """

    def __init__(
        self,
        stream: trio.abc.Stream,
        *,
        max_message_size: int,
        leftover: bytes = b"",
        close_timeout: float = 5.0,
    ) -> None:
        self._stream = stream
        # Plain TCP is read and written on its file descriptor directly (see `_RawSocket`);
        # TLS goes through its stream.
        self._raw = _RawSocket(stream.socket) if isinstance(stream, trio.SocketStream) else None
        self._reader = FrameReader(max_message_size)
        self._messages: deque[bytes] = deque()
        self._leftover = leftover
        self._close_timeout = close_timeout
        self._send_lock = trio.Lock()
        self._receive_lock = trio.Lock()
        self._receive_scope: trio.CancelScope | None = None
        self._pongs: dict[bytes, trio.Event] = {}
        self._close_sent = False
        self._closed_event = trio.Event()
        self.closed: ConnectionClosed | None = None
        """Set once the connection is closed: why."""

    # --- receiving -------------------------------------------------------------------------

    async def get_message(self) -> bytes:
        """The next text or binary message's payload (text is valid UTF-8).

        Raises:
            ConnectionClosed: the connection closed (cleanly or not) before another message.
        """
        while not self._messages:
            if self.closed is not None:
                raise self.closed
            await self._read()
        return self._messages.popleft()

    async def _read(self) -> None:
        """Read once and handle the events the bytes complete."""
        data, self._leftover = self._leftover, b""
        if not data:
            await _acquire(self._receive_lock)
            try:
                data = await self._receive_interruptibly()
            finally:
                self._receive_lock.release()
            if self.closed is not None:
                return  # `aclose` stopped the read: it reads the rest itself
            if not data:
                await self._lost(ABNORMAL, "connection lost without a close frame")
                return
        for event in self._reader.feed(data):
            await self._event(event)

    async def _receive_interruptibly(self) -> bytes:
        """The next bytes, b"" at the end; `aclose` may stop the wait (then also b"")."""
        if self._raw is not None:
            return await self._raw.receive()  # `aclose` wakes it with `interrupt`
        with trio.CancelScope() as self._receive_scope:
            return await self._receive()
        return b""  # cancelled by `aclose`

    async def _receive(self) -> bytes:
        if self._raw is not None:
            return await self._raw.receive()
        try:
            return bytes(await self._stream.receive_some(RECEIVE_SIZE))
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            return b""

    async def _event(self, event: tuple[int, bytes] | tuple[int, int | None, str]) -> None:
        kind = event[0]
        if len(event) == 2:
            payload = event[1]
            assert isinstance(payload, bytes)
            if kind == PING:
                await self._write(encode_frame(PONG, payload))
            elif kind == PONG:
                waiter = self._pongs.pop(payload, None)
                if waiter is not None:
                    waiter.set()
            else:
                self._messages.append(payload)
            return
        code, reason = event[1], event[2]
        assert isinstance(reason, str)
        assert code is None or isinstance(code, int)
        if kind == CLOSE:
            await self._peer_closed(code, reason)
        elif kind == VIOLATION:
            assert code is not None
            await self._send_close(code, reason)
            await self._lost(code, reason)

    async def _peer_closed(self, code: int | None, reason: str) -> None:
        """The peer's close frame: echo it (unless ours went first), then end the stream."""
        if not self._close_sent:
            await self._send_close(code, "" if code is None else reason)
        await self._lost(NO_STATUS if code is None else code, reason)

    async def _lost(self, code: int, reason: str) -> None:
        if self.closed is None:
            self.closed = ConnectionClosed(code, reason)
        self._closed_event.set()
        for waiter in self._pongs.values():
            waiter.set()
        await trio.aclose_forcefully(self._stream)

    # --- sending ---------------------------------------------------------------------------

    async def send_message(self, data: bytes) -> None:
        """Send `data` (UTF-8 text) as one text message.

        Raises:
            ConnectionClosed: the connection is closed or closing.
        """
        if self._close_sent or self.closed is not None:
            raise self.closed or ConnectionClosed(ABNORMAL, "closing")
        await self._write(encode_frame(TEXT, data))

    async def ping(self) -> None:
        """Send a ping and wait for its pong.

        Raises:
            ConnectionClosed: the connection closed before the pong.
        """
        if self.closed is not None:
            raise self.closed
        payload = os.urandom(4)
        waiter = self._pongs[payload] = trio.Event()
        await self._write(encode_frame(PING, payload))
        await waiter.wait()
        if self.closed is not None:
            raise self.closed

    async def aclose(self, code: int = 1000, reason: str = "") -> None:
        """Start the closing handshake and wait (`close_timeout`) for the peer's answer, which
        the task reading messages receives; then end the stream. Idempotent."""
        if self.closed is not None or self._close_sent:
            return
        await self._send_close(code, reason)
        self.closed = ConnectionClosed(code, reason)
        self._messages.clear()
        # The task in `get_message`, if it waits for bytes, gets ConnectionClosed.
        if self._raw is not None:
            self._raw.interrupt()
        elif self._receive_scope is not None:
            self._receive_scope.cancel()
        with trio.move_on_after(self._close_timeout):
            async with self._receive_lock:  # once that task has left the socket
                while not self._closed_event.is_set():
                    await self._read_until_closed()
        self._closed_event.set()
        for waiter in self._pongs.values():
            waiter.set()
        await trio.aclose_forcefully(self._stream)

    async def _read_until_closed(self) -> None:
        """After our close frame: wait for the peer's (discarding messages) or the end."""
        data, self._leftover = self._leftover, b""
        data = data or await self._receive()
        if not data:
            self._closed_event.set()
            return
        for event in self._reader.feed(data):
            if event[0] in (CLOSE, VIOLATION):
                self._closed_event.set()

    async def _send_close(self, code: int | None, reason: str) -> None:
        if self._close_sent:
            return
        self._close_sent = True
        await self._write(encode_frame(CLOSE, close_payload(code, reason)))

    async def _write(self, frame: bytes) -> None:
        """Write `frame` whole; a broken stream is left to the reader to notice."""
        await _acquire(self._send_lock)
        try:
            if self._raw is not None:
                await self._raw.send_all(frame)
            else:
                await self._stream.send_all(frame)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass
        finally:
            self._send_lock.release()


async def _acquire(lock: trio.Lock) -> None:
    """Take `lock`; when it is free (the common case), without yielding to the scheduler.
    The socket operation that follows is the checkpoint."""
    try:
        lock.acquire_nowait()
    except trio.WouldBlock:
        await lock.acquire()


class _RawSocket:
    """A connected TCP socket read and written with plain system calls on its (non-blocking)
    descriptor (`ws.sysio`), waiting in Trio only when the kernel has nothing to give or no
    room to take.

    Why: `trio.SocketStream` costs several coroutines, a cancel scope and generator-based
    context managers per call, about 20 us per message; and the coroutines a station leaves
    waiting for its next message are what the garbage collector has to walk (see
    `trio_csms.tuning`). Trio's own rule that every operation is a checkpoint is kept where it
    matters: a read that does not wait yields every `_YIELD_EVERY` reads, so a station that
    streams frames cannot starve the others, and a write that does not wait is followed by
    the reader's next wait or yield.

    Closing stays the stream's job (`aclose_forcefully` of the `SocketStream`); `interrupt`
    wakes a task waiting to read without closing anything, for `WsConnection.aclose`. The
    descriptor is asked of the socket before every system call, never kept: once the socket
    is closed its number may already belong to another station's connection.
    """

    _YIELD_EVERY = 16

    __slots__ = ("_reads_without_wait", "_socket")

    def __init__(self, sock: trio.socket.SocketType) -> None:
        self._socket = sock
        self._reads_without_wait = 0

    async def receive(self) -> bytes:
        """The next bytes; b"" when the peer closed, the connection broke, or `interrupt`."""
        while True:
            fd = self._socket.fileno()
            if fd < 0:
                return b""  # closed
            try:
                data = read_nonblocking(fd, RECEIVE_SIZE)
            except OSError:  # reset by the peer, or the descriptor is closed
                return b""
            if data is None:  # nothing waiting
                self._reads_without_wait = 0
                try:
                    await trio.lowlevel.wait_readable(fd)
                except trio.ClosedResourceError:  # `interrupt`, or the stream was closed
                    return b""
                continue
            self._reads_without_wait += 1
            if self._reads_without_wait >= self._YIELD_EVERY:
                self._reads_without_wait = 0
                await trio.lowlevel.checkpoint()
            return data

    async def send_all(self, data: bytes) -> None:
        """Write all of `data`.

        Raises:
            trio.BrokenResourceError: the connection broke or the descriptor is closed.
        """
        sent = 0
        while sent < len(data):
            fd = self._socket.fileno()
            if fd < 0:
                raise trio.BrokenResourceError("the socket is closed")
            try:
                written = write_nonblocking(fd, data, sent)
            except OSError as exc:
                raise trio.BrokenResourceError(str(exc)) from exc
            if written is not None:
                sent += written
                continue
            try:  # the socket's buffer is full
                await trio.lowlevel.wait_writable(fd)
            except trio.ClosedResourceError as exc:
                raise trio.BrokenResourceError("the socket was closed") from exc

    def interrupt(self) -> None:
        """Wake a task waiting in `receive`; it returns b"" (nothing is closed)."""
        fd = self._socket.fileno()
        if fd >= 0:
            trio.lowlevel.notify_closing(fd)
