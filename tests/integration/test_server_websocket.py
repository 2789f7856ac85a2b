"""The server's own websocket layer on the wire (RFC 6455): handshake checks, control frames,
fragments, and every protocol violation closing with its code. A raw socket plays the station,
so the frames are exactly as written here."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import trio
from csms_harness import PASSWORD, RunningCsms, running_csms

from trio_csms.events import DomainEvent, StationDisconnected
from trio_csms.handlers import Hooks
from trio_csms.ws.frames import (
    CLOSE,
    INVALID_DATA,
    MESSAGE_TOO_BIG,
    PING,
    PONG,
    PROTOCOL_ERROR,
    TEXT,
    FrameReader,
    close_payload,
    encode_frame,
)

STATION = "RAW"
LIMIT = 2048
BOOT = (
    b'[2,"b1","BootNotification",{"reason":"PowerUp",'
    b'"chargingStation":{"model":"M","vendorName":"V"}}]'
)


def _port(running: RunningCsms) -> int:
    return int(running.url.rsplit(":", 1)[1].split("/")[0])


def _upgrade(path: str = f"/ocpp/{STATION}", *, version: str = "13", method: str = "GET") -> bytes:
    credentials = base64.b64encode(f"{STATION}:{PASSWORD}".encode()).decode()
    return (
        f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Version: {version}\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: ocpp2.0.1\r\n"
        f"Authorization: Basic {credentials}\r\n\r\n"
    ).encode()


class RawStation:
    """An open websocket written frame by frame; reads the server's frames."""

    def __init__(self, stream: trio.SocketStream, leftover: bytes) -> None:
        self.stream = stream
        self.reader = FrameReader(1 << 20, False)
        self.events = self.reader.feed(leftover)

    async def send(self, opcode_byte: int, payload: bytes) -> None:
        frame = encode_frame(opcode_byte & 0x0F, payload, os.urandom(4))
        await self.stream.send_all(bytes((opcode_byte,)) + frame[1:])

    async def next_event(self) -> tuple[int, bytes] | tuple[int, int | None, str]:
        while not self.events:
            data = await self.stream.receive_some(65536)
            assert data, "the server closed the TCP connection without a close frame"
            self.events = self.reader.feed(bytes(data))
        return self.events.pop(0)

    async def eof(self) -> bool:
        """Whether the server then closes the TCP connection."""
        while True:
            try:
                data = await self.stream.receive_some(65536)
            except trio.BrokenResourceError:
                return True
            if not data:
                return True


async def _open(running: RunningCsms) -> RawStation:
    stream = await trio.open_tcp_stream("127.0.0.1", _port(running))
    await stream.send_all(_upgrade())
    response = b""
    while b"\r\n\r\n" not in response:
        response += await stream.receive_some(4096)
    head, _, rest = response.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 101"), head
    assert b"sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" in head, head
    return RawStation(stream, rest)


async def _http_status(running: RunningCsms, request: bytes) -> bytes:
    stream = await trio.open_tcp_stream("127.0.0.1", _port(running))
    async with stream:
        await stream.send_all(request)
        response = await stream.receive_some(4096)
    return response.split(b"\r\n", 1)[0]


async def test_violations_close_with_their_code(tmp_path: Path) -> None:
    cases = [
        (bytes([0x81, 0x02]) + b"hi", PROTOCOL_ERROR),  # unmasked
        (bytes([0xC1, 0x80, 0, 0, 0, 0]), PROTOCOL_ERROR),  # RSV1
        (bytes([0x83, 0x80, 0, 0, 0, 0]), PROTOCOL_ERROR),  # reserved opcode
        (bytes([0x81, 0x82, 0, 0, 0, 0, 0xC3, 0x28]), INVALID_DATA),  # not UTF-8
        (bytes([0x81, 0xFF]) + (LIMIT + 1).to_bytes(8, "big"), MESSAGE_TOO_BIG),  # header only
    ]
    with trio.fail_after(20):
        async with running_csms(tmp_path, ocpp={"max_message_size": LIMIT}) as running:
            await running.register(STATION)
            for data, code in cases:
                station = await _open(running)
                async with station.stream:
                    await station.stream.send_all(data)
                    event = await station.next_event()
                    assert event[:2] == (CLOSE, code), (data, event)
                    assert await station.eof()


async def test_pings_fragments_and_the_closing_handshake(tmp_path: Path) -> None:
    disconnected = trio.Event()

    def on_event(event: DomainEvent) -> None:
        if isinstance(event, StationDisconnected):
            disconnected.set()

    with trio.fail_after(20):
        async with running_csms(tmp_path, hooks=Hooks(events=on_event)) as running:
            await running.register(STATION)
            station = await _open(running)
            async with station.stream:
                await station.send(0x89, b"are you there")
                assert await station.next_event() == (PONG, b"are you there")
                # A BootNotification in three fragments with a ping between them.
                await station.send(0x01, BOOT[:20])
                await station.send(0x00, BOOT[20:40])
                await station.send(0x89, b"mid")
                await station.send(0x80, BOOT[40:])
                assert await station.next_event() == (PONG, b"mid")
                kind, answer = await station.next_event()
                assert kind == TEXT and isinstance(answer, bytes)
                assert answer.startswith(b'[3,"b1",{') and b'"status":"Accepted"' in answer
                # Our close is echoed with its code, then the server ends the connection.
                await station.send(0x88, close_payload(1000, "bye"))
                assert await station.next_event() == (CLOSE, 1000, "bye")
                assert await station.eof()
            with trio.fail_after(2):
                await disconnected.wait()
            assert STATION not in running.csms.server.connections


async def test_server_pings_are_answered_by_pongs_from_the_reader(tmp_path: Path) -> None:
    with trio.fail_after(20):
        async with running_csms(tmp_path, ocpp={"ping_interval": 0.1}) as running:
            await running.register(STATION)
            station = await _open(running)
            async with station.stream:
                kind, payload = await station.next_event()
                assert kind == PING and isinstance(payload, bytes)
                await station.send(0x8A, payload)
                kind, _ = await station.next_event()
                assert kind == PING  # the next interval: still connected
                assert STATION in running.csms.server.connections


async def test_requests_that_are_no_websocket_upgrade_are_refused(tmp_path: Path) -> None:
    with trio.fail_after(20):
        async with running_csms(tmp_path) as running:
            await running.register(STATION)
            plain = b"GET /ocpp/RAW HTTP/1.1\r\nHost: x\r\n\r\n"
            assert await _http_status(running, plain) == b"HTTP/1.1 426 "
            assert await _http_status(running, _upgrade(version="8")) == b"HTTP/1.1 426 "
            assert await _http_status(running, _upgrade(method="POST")) == b"HTTP/1.1 405 "
            assert await _http_status(running, b"NOT HTTP\r\n\r\n") == b"HTTP/1.1 400 "
            # A valid upgrade for an unknown station: refused by the CSMS, not the layer.
            unknown = _upgrade("/ocpp/NOBODY")
            assert await _http_status(running, unknown) == b"HTTP/1.1 404 "
