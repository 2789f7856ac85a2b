"""The fleet's lean websocket client (`trio_csms.sim.wsclient`) against scripted servers on
127.0.0.1: what each kind of answer to the upgrade request becomes, and the frames after it."""

from __future__ import annotations

import base64
import functools
import hashlib
from collections.abc import Callable

import pytest
import trio

from trio_csms.sim.station import ConnectFailed, HandshakeRefused, NoSubprotocol
from trio_csms.sim.wsclient import WsClosed, open_ws

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
Answer = Callable[[dict[bytes, bytes]], bytes]


def upgrade(protocol: bytes | None, after: bytes = b"") -> Answer:
    def answer(request: dict[bytes, bytes]) -> bytes:
        accept = base64.b64encode(hashlib.sha1(request[b"sec-websocket-key"] + GUID).digest())
        head = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
        head += b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n"
        if protocol is not None:
            head += b"Sec-WebSocket-Protocol: " + protocol + b"\r\n"
        return head + b"\r\n" + after

    return answer


async def connect_to(answer: Answer) -> tuple[object, list[bytes]]:
    """Open a client against a server answering with `answer`; returns what came of it."""
    seen: list[bytes] = []

    async def handle(stream: trio.SocketStream) -> None:
        data = b""
        while b"\r\n\r\n" not in data:
            data += await stream.receive_some(4096)
        head = data.split(b"\r\n\r\n")[0]
        seen.append(head)
        headers = {}
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip()
        await stream.send_all(answer(headers))
        with trio.move_on_after(2):
            while await stream.receive_some(4096):
                pass

    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            serve = functools.partial(trio.serve_tcp, handle, 0, host="127.0.0.1")
            (listener,) = await nursery.start(serve)
            port = listener.socket.getsockname()[1]
            outcome: object
            try:
                client = await open_ws(
                    "127.0.0.1",
                    port,
                    host_header=f"127.0.0.1:{port}",
                    resource="/ocpp/CS%201",
                    subprotocol="ocpp2.0.1",
                    headers=[(b"Authorization", b"Basic Q1MgMTpzZWNyZXQ=")],
                )
            except ConnectFailed as exc:
                outcome = exc
            else:
                try:
                    outcome = await client.receive()
                except WsClosed as closed:
                    outcome = closed
                finally:
                    await client.aclose()
            nursery.cancel_scope.cancel()
    return outcome, seen


async def test_an_upgrade_gives_a_client_and_frames_sent_with_it_are_read() -> None:
    text = b'[3,"1",{}]'
    outcome, seen = await connect_to(upgrade(b"ocpp2.0.1", bytes((0x81, len(text))) + text))
    assert outcome == [text]
    request = seen[0].split(b"\r\n")
    assert request[0] == b"GET /ocpp/CS%201 HTTP/1.1"
    assert b"Sec-WebSocket-Protocol: ocpp2.0.1" in request
    assert b"Authorization: Basic Q1MgMTpzZWNyZXQ=" in request


async def test_no_subprotocol_in_the_answer_is_no_subprotocol() -> None:
    outcome, _ = await connect_to(upgrade(None))
    assert isinstance(outcome, NoSubprotocol)


async def test_a_refusal_carries_its_status_and_body() -> None:
    def refuse(_: dict[bytes, bytes]) -> bytes:
        return b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 9\r\n\r\nwho? you?"

    outcome, _ = await connect_to(refuse)
    assert isinstance(outcome, HandshakeRefused)
    assert (outcome.status_code, outcome.body) == (401, b"who? you?")
    assert (b"content-length", b"9") in outcome.headers


@pytest.mark.parametrize(
    "answer",
    [
        b"SSH-2.0-OpenSSH\r\n\r\n",
        b"HTTP/1.1 101 Switching Protocols\r\nbroken header\r\n\r\n",
    ],
)
async def test_an_answer_that_is_no_http_fails_the_connection(answer: bytes) -> None:
    outcome, _ = await connect_to(lambda _: answer)
    assert isinstance(outcome, ConnectFailed)
    assert not isinstance(outcome, HandshakeRefused)


async def test_a_wrong_accept_key_fails_the_connection() -> None:
    def wrong(request: dict[bytes, bytes]) -> bytes:
        return upgrade(b"ocpp2.0.1")({b"sec-websocket-key": b"somebody else's key"})

    outcome, _ = await connect_to(wrong)
    assert isinstance(outcome, ConnectFailed)
    assert "Sec-WebSocket-Accept" in str(outcome)


async def test_a_close_frame_ends_receiving_with_its_code() -> None:
    close = bytes((0x88, 4)) + (1001).to_bytes(2, "big") + b"by"
    outcome, _ = await connect_to(upgrade(b"ocpp2.0.1", close))
    assert isinstance(outcome, WsClosed)
    assert (outcome.code, outcome.reason) == (1001, "by")
