"""Opening the CSMS's listening sockets (stations, TLS stations, operator API).

Station sockets are accepted by `DrainingListener`: each time the listening socket is readable
it takes every connection the kernel has queued (up to a batch), where `trio.SocketListener`
takes one per pass of Trio's scheduler. In a boot storm that pass grows with the number of
busy connections, the kernel's accept queue (at most `net.core.somaxconn`, often 4096) then
overflows, and every dropped SYN costs its station a TCP retransmission timeout (1 s, then 3 s,
then 7 s) before it can even try again.
"""

from __future__ import annotations

import errno
import socket
from collections import deque
from typing import Final

import trio

from .errors import ListenFailed

ACCEPT_BATCH: Final = 1024
"""Most connections taken from the kernel's queue per wake-up (the rest wait for the next)."""

# accept(2) failures that concern only the connection being accepted (it was reset, or
# refused by a firewall, before we took it; Linux also reports the new connection's pending
# network errors this way, as its accept(2) page lists): skip it and go on.
_SKIPPED: Final = frozenset(
    getattr(errno, name)
    for name in (
        "EPERM",
        "ECONNABORTED",
        "EPROTO",
        "ENETDOWN",
        "ENOPROTOOPT",
        "EHOSTDOWN",
        "ENONET",
        "EHOSTUNREACH",
        "EOPNOTSUPP",
        "ENETUNREACH",
        "ENOSR",
        "ESOCKTNOSUPPORT",
        "EPROTONOSUPPORT",
        "ETIMEDOUT",
        "ECONNRESET",
    )
    if hasattr(errno, name)
)


async def open_listeners(purpose: str, host: str, port: int) -> list[trio.SocketListener]:
    """The TCP listeners for `host:port`, or `ListenFailed` naming `purpose` (e.g. "stations")
    and the operating system's reason, so the operator knows which setting to change."""
    try:
        return await trio.open_tcp_listeners(port, host=host)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ListenFailed(f"cannot listen for {purpose} on {host}:{port}: {reason}") from None


class DrainingListener(trio.abc.Listener[trio.SocketStream]):
    """Accepts connections in batches from a listening socket it takes over.

    Args:
        listener: a listening `trio.SocketListener`; its socket now belongs to this listener
            (closing this one closes it).
        batch: most connections accepted per wake-up.

    Errors: as `trio.SocketListener.accept`: a failure of one incoming connection is skipped;
    others (EMFILE, ENFILE, ENOBUFS, ENOMEM: the process or system is out of resources) are
    raised, after the connections already accepted have been handed out, so that
    `trio.serve_listeners` can pause and retry.
    """

    def __init__(self, listener: trio.SocketListener, *, batch: int = ACCEPT_BATCH) -> None:
        if batch < 1:
            raise ValueError("batch must be at least 1")
        self.socket = socket.socket(fileno=listener.socket.detach())
        self.socket.setblocking(False)
        self._batch = batch
        self._accepted: deque[socket.socket] = deque()

    async def accept(self) -> trio.SocketStream:
        """The next connection; waits until there is one."""
        await trio.lowlevel.checkpoint_if_cancelled()
        while not self._accepted:
            if self.socket.fileno() == -1:
                raise trio.ClosedResourceError("the listener was closed")
            await trio.lowlevel.wait_readable(self.socket)
            self._take_queued()
        return trio.SocketStream(trio.socket.from_stdlib_socket(self._accepted.popleft()))

    def _take_queued(self) -> None:
        """Accept what the kernel has queued, up to a batch."""
        for _ in range(self._batch):
            try:
                connection, _ = self.socket.accept()
            except BlockingIOError:
                return
            except OSError as exc:
                if exc.errno in _SKIPPED:
                    continue
                if self._accepted:
                    return  # hand these out first; the error comes back on the next call
                raise
            self._accepted.append(connection)

    async def aclose(self) -> None:
        """Close the listening socket and the connections accepted but not handed out."""
        if self.socket.fileno() != -1:
            trio.lowlevel.notify_closing(self.socket)
        self.socket.close()
        while self._accepted:
            self._accepted.popleft().close()
        await trio.lowlevel.checkpoint()
