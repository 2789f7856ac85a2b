"""`DrainingListener`: connections queued in the kernel are accepted in batches, each a working
stream; a failing connection is skipped; resource exhaustion reaches `serve_listeners` only
after the connections already accepted; closing wakes a waiting accept."""

from __future__ import annotations

import errno
import socket

import pytest
import trio

from trio_csms.listen import DrainingListener, open_listeners

TIMEOUT = 10


async def draining(batch: int) -> tuple[DrainingListener, int]:
    (listener,) = await open_listeners("tests", "127.0.0.1", 0)
    port = listener.socket.getsockname()[1]
    return DrainingListener(listener, batch=batch), port


async def test_queued_connections_are_all_accepted_in_batches_and_work() -> None:
    with trio.fail_after(TIMEOUT):
        listener, port = await draining(batch=4)
        async with listener:
            clients = [await trio.open_tcp_stream("127.0.0.1", port) for _ in range(10)]
            for number, client in enumerate(clients):
                await client.send_all(b"%d" % number)
            for number in range(10):
                server = await listener.accept()
                assert await server.receive_some(16) == b"%d" % number
                await server.send_all(b"ok")
                await server.aclose()
            for client in clients:
                assert await client.receive_some(16) == b"ok"
                await client.aclose()


class _FailingSocket:
    """A listening socket whose accept() first raises the given errors."""

    def __init__(self, real: socket.socket, errors: list[int]) -> None:
        self.real = real
        self.errors = errors

    def fileno(self) -> int:
        return self.real.fileno()

    def accept(self) -> tuple[socket.socket, object]:
        if self.errors:
            code = self.errors.pop(0)
            raise OSError(code, "injected")
        return self.real.accept()

    def close(self) -> None:
        self.real.close()


async def test_a_connection_reset_before_accept_is_skipped() -> None:
    with trio.fail_after(TIMEOUT):
        listener, port = await draining(batch=8)
        real = listener.socket
        listener.socket = _FailingSocket(real, [errno.ECONNABORTED])  # type: ignore[assignment]
        async with listener:
            client = await trio.open_tcp_stream("127.0.0.1", port)
            async with client:
                server = await listener.accept()
                await server.aclose()


async def test_resource_exhaustion_is_raised_after_the_accepted_connections() -> None:
    with trio.fail_after(TIMEOUT):
        listener, port = await draining(batch=8)
        real = listener.socket
        async with listener:
            first = await trio.open_tcp_stream("127.0.0.1", port)
            second = await trio.open_tcp_stream("127.0.0.1", port)
            failing = _FailingSocket(real, [])
            listener.socket = failing  # type: ignore[assignment]
            original = failing.accept
            calls = 0

            def accept_once_then_fail() -> tuple[socket.socket, object]:
                nonlocal calls
                calls += 1
                if calls in (2, 3):  # after the first connection, and once more on retrying
                    raise OSError(errno.EMFILE, "Too many open files")
                return original()

            failing.accept = accept_once_then_fail  # type: ignore[method-assign]
            server = await listener.accept()  # the one accepted before the failure
            await server.aclose()
            with pytest.raises(OSError) as raised:
                await listener.accept()
            assert raised.value.errno == errno.EMFILE
            server = await listener.accept()  # resources are back: the next one is taken
            await server.aclose()
            await first.aclose()
            await second.aclose()


async def test_closing_wakes_a_waiting_accept_and_later_accepts_fail() -> None:
    with trio.fail_after(TIMEOUT):
        listener, _ = await draining(batch=8)
        raised: list[BaseException] = []

        async def wait() -> None:
            try:
                await listener.accept()
            except trio.ClosedResourceError as exc:
                raised.append(exc)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(wait)
            await trio.testing.wait_all_tasks_blocked()
            await listener.aclose()
        assert len(raised) == 1
        with pytest.raises(trio.ClosedResourceError):
            await listener.accept()


async def test_connections_accepted_but_not_handed_out_are_closed_with_the_listener() -> None:
    with trio.fail_after(TIMEOUT):
        listener, port = await draining(batch=8)
        clients = [await trio.open_tcp_stream("127.0.0.1", port) for _ in range(3)]
        server = await listener.accept()  # takes all three from the kernel
        await listener.aclose()
        await server.aclose()
        for client in clients:
            assert await client.receive_some(16) == b""  # closed by the server
            await client.aclose()


def test_batch_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        DrainingListener(trio.SocketListener.__new__(trio.SocketListener), batch=0)
