"""Opening the CSMS's listening sockets (stations, TLS stations, operator API)."""

from __future__ import annotations

import trio

from .errors import ListenFailed


async def open_listeners(purpose: str, host: str, port: int) -> list[trio.SocketListener]:
    """The TCP listeners for `host:port`, or `ListenFailed` naming `purpose` (e.g. "stations")
    and the operating system's reason, so the operator knows which setting to change."""
    try:
        return await trio.open_tcp_listeners(port, host=host)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ListenFailed(f"cannot listen for {purpose} on {host}:{port}: {reason}") from None
