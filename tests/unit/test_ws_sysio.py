"""Non-blocking socket reads and writes (`ws.sysio`): Rust and `os`, same cases, same answers."""

from __future__ import annotations

import contextlib
import faulthandler
import os
import socket
from collections.abc import Iterator
from typing import NamedTuple

import pytest

from trio_csms import _native
from trio_csms.ws import sysio


class Io(NamedTuple):
    read: sysio.Read
    write: sysio.Write


IMPLEMENTATIONS = [
    pytest.param(Io(_native.read_nonblocking, _native.write_nonblocking), id="rust"),
    pytest.param(Io(sysio._read_python, sysio._write_python), id="python"),
]


@pytest.fixture(params=IMPLEMENTATIONS)
def io(request: pytest.FixtureRequest) -> Io:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    left, right = socket.socketpair()
    left.setblocking(False)
    right.setblocking(False)
    with left, right:
        yield left, right


def test_the_environment_picks_the_implementation() -> None:
    if os.environ.get("TRIO_CSMS_NATIVE") == "0":
        assert (sysio.IMPLEMENTATION, sysio.read_nonblocking) == ("python", sysio._read_python)
    else:
        assert (sysio.IMPLEMENTATION, sysio.read_nonblocking) == ("rust", _native.read_nonblocking)


def test_reads_what_was_written_and_none_when_nothing_waits(
    io: Io, pair: tuple[socket.socket, socket.socket]
) -> None:
    left, right = pair
    assert io.read(right.fileno(), 100) is None
    assert io.write(left.fileno(), b"hello world", 6) == 5
    assert io.read(right.fileno(), 3) == b"wor"  # at most `size`
    assert io.read(right.fileno(), 100) == b"ld"
    assert io.read(right.fileno(), 100) is None
    assert io.write(left.fileno(), b"x", 1) == 0  # nothing left to write


def test_end_of_stream_reads_empty(io: Io, pair: tuple[socket.socket, socket.socket]) -> None:
    left, right = pair
    left.shutdown(socket.SHUT_WR)
    assert io.read(right.fileno(), 100) == b""


def test_a_full_socket_takes_part_then_none(
    io: Io, pair: tuple[socket.socket, socket.socket]
) -> None:
    left, _ = pair
    data = bytes(1 << 22)
    sent = 0
    while (written := io.write(left.fileno(), data, sent)) is not None:
        sent += written
    assert 0 < sent < len(data)


def test_failures_raise_oserror(io: Io, pair: tuple[socket.socket, socket.socket]) -> None:
    left, right = pair
    with pytest.raises(OSError):
        io.read(-1, 10)
    right.close()
    with pytest.raises(BrokenPipeError):
        io.write(left.fileno(), b"x", 0)
    with pytest.raises(ValueError, match="offset 3 is past the end of 2 bytes"):
        io.write(left.fileno(), b"ab", 3)


def test_the_rust_calls_never_wait_even_on_a_blocking_socket() -> None:
    # A call that waits here holds the GIL, so nothing in Python could end the test: the
    # faulthandler's own thread kills the process instead of leaving CI hanging.
    faulthandler.dump_traceback_later(30, exit=True)
    left, right = socket.socketpair()  # blocking: os.read would wait here forever
    with left, right, contextlib.ExitStack() as stack:
        stack.callback(faulthandler.cancel_dump_traceback_later)
        assert _native.read_nonblocking(right.fileno(), 10) is None
        data = bytes(1 << 22)
        sent = 0
        while (written := _native.write_nonblocking(left.fileno(), data, sent)) is not None:
            sent += written
        assert 0 < sent < len(data)
