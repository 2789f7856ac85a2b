"""Non-blocking reads and writes on a socket descriptor, for `ws.connection`.

`read_nonblocking(fd, size)` returns the bytes read (b"" at the end of the stream) or None
when nothing is waiting; `write_nonblocking(fd, data, offset)` writes what it can of
`data[offset:]` and returns how many bytes, or None when the socket takes none now. Any other
failure raises OSError.

Two implementations, as for the frame codecs (`trio_csms.native`): the Rust extension's (the
default), which keep the GIL through the system call, and `os.read`/`os.write`, which release
it. A call that cannot wait gains nothing by releasing the GIL, and in the server it costs:
the store's writer thread takes the GIL at each release, which is a thread switch on the
shared core per read and per write (about 14% of the session-mix throughput, measured with
bench/). The Rust calls never wait whatever the descriptor's mode (MSG_DONTWAIT) and never
raise SIGPIPE; the `os` twins rely on the descriptor being non-blocking, as every Trio
socket's is.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Final, Literal

from ..native import USE_PYTHON, not_built

__all__ = ["IMPLEMENTATION", "read_nonblocking", "write_nonblocking"]


def _read_python(fd: int, size: int) -> bytes | None:
    try:
        return os.read(fd, size)
    except BlockingIOError:
        return None


def _write_python(fd: int, data: bytes, offset: int) -> int | None:
    if offset > len(data):
        raise ValueError(f"offset {offset} is past the end of {len(data)} bytes")
    try:
        return os.write(fd, memoryview(data)[offset:])
    except BlockingIOError:
        return None


Read = Callable[[int, int], "bytes | None"]
Write = Callable[[int, bytes, int], "int | None"]


def _native() -> tuple[Read, Write]:
    try:
        from .._native import read_nonblocking, write_nonblocking
    except ImportError as exc:
        raise not_built(exc) from exc
    return read_nonblocking, write_nonblocking


IMPLEMENTATION: Final[Literal["rust", "python"]] = "python" if USE_PYTHON else "rust"
read_nonblocking, write_nonblocking = (_read_python, _write_python) if USE_PYTHON else _native()
