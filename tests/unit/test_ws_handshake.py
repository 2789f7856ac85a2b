"""`read_request` on an in-memory stream: the answer a client gets for each refusal, the 101
that accepts, and the bytes that followed the request reaching the websocket."""

from __future__ import annotations

import pytest
import trio
import trio.testing

from trio_csms.ws.handshake import HandshakeFailed, HandshakeRequest, read_request
from trio_csms.ws.http_head import MAX_HEAD

UPGRADE = (
    b"GET /ocpp/CS001 HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
    b"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    b"Sec-WebSocket-Protocol: ocpp1.6, ocpp2.0.1\r\nAuthorization: Basic Q1MwMDE6cHc=\r\n\r\n"
)


async def served(
    *chunks: bytes, close: bool = False
) -> tuple[HandshakeRequest | HandshakeFailed, trio.testing.MemoryStapledStream]:
    """Send `chunks` one by one (then EOF if `close`); the request read, or its refusal."""
    client, server = trio.testing.memory_stream_pair()
    outcome: HandshakeRequest | HandshakeFailed

    async def send() -> None:
        for chunk in chunks:
            await client.send_all(chunk)
            await trio.lowlevel.checkpoint()
        if close:
            await client.send_stream.aclose()

    with trio.fail_after(5):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(send)
            try:
                outcome = await read_request(server)
            except HandshakeFailed as failed:
                outcome = failed
    return outcome, client


async def answer(client: trio.testing.MemoryStapledStream) -> bytes:
    with trio.fail_after(5):
        return bytes(await client.receive_some(65536))


async def refusal(*chunks: bytes, close: bool = False) -> tuple[int, bytes]:
    outcome, client = await served(*chunks, close=close)
    assert isinstance(outcome, HandshakeFailed)
    response = await answer(client)
    head, _, body = response.partition(b"\r\n\r\n")
    status_line, *headers = head.split(b"\r\n")
    assert status_line == b"HTTP/1.1 %d " % outcome.status
    assert b"content-length: %d" % len(body) in headers
    assert b"connection: close" in headers
    assert body.decode() == str(outcome)
    return outcome.status, body


async def test_an_upgrade_is_read_and_accepted_with_the_rfc_answer() -> None:
    outcome, client = await served(UPGRADE[:30], UPGRADE[30:100], UPGRADE[100:])
    assert isinstance(outcome, HandshakeRequest)
    assert outcome.path == "/ocpp/CS001"
    assert outcome.proposed_subprotocols == ("ocpp1.6", "ocpp2.0.1")
    assert outcome.header(b"authorization") == "Basic Q1MwMDE6cHc="
    assert outcome.header(b"cookie") is None
    await outcome.accept("ocpp2.0.1", max_message_size=1024)
    assert await answer(client) == (
        b"HTTP/1.1 101 \r\nupgrade: websocket\r\nconnection: Upgrade\r\n"
        b"sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
        b"sec-websocket-protocol: ocpp2.0.1\r\n\r\n"
    )


async def test_bytes_after_the_request_are_the_first_websocket_frames() -> None:
    ping = bytes([0x89, 0x82, 1, 2, 3, 4, ord("h") ^ 1, ord("i") ^ 2])
    outcome, client = await served(UPGRADE + ping)
    assert isinstance(outcome, HandshakeRequest)
    ws = await outcome.accept("ocpp2.0.1", max_message_size=1024)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(ws.get_message)  # reading the leftover ping answers it
        received = b""
        with trio.fail_after(5):
            while not received.endswith(b"\x8a\x02hi"):
                received += await client.receive_some(65536)
        nursery.cancel_scope.cancel()


async def test_a_refusal_answers_with_the_status_and_reason_as_text() -> None:
    status, body = await refusal(UPGRADE.replace(b"GET", b"POST"))
    assert (status, body) == (405, b"a websocket upgrade is a GET request")


async def test_426_names_the_websocket_version() -> None:
    outcome, client = await served(UPGRADE.replace(b"Version: 13", b"Version: 8"))
    assert isinstance(outcome, HandshakeFailed) and outcome.status == 426
    assert b"\r\nsec-websocket-version: 13\r\n" in await answer(client)


@pytest.mark.parametrize(
    ("request_", "status", "reason"),
    [
        (b"NOT HTTP\r\n\r\n", 400, "malformed HTTP request: malformed request line: NOT HTTP"),
        (UPGRADE.replace(b"HTTP/1.1", b"HTTP/1.0"), 505, "only HTTP/1.1 is supported"),
        (UPGRADE.replace(b"Host: ", b"Host : "), 400, "malformed header field"),
        (UPGRADE.replace(b"Host: 127.0.0.1\r\n", b""), 400, "exactly one Host"),
        (UPGRADE.replace(b"Upgrade: websocket", b"Upgrade: h2c"), 426, "only speaks websocket"),
        (UPGRADE.replace(b"Connection: Upgrade", b"Connection: close"), 426, "websocket"),
        (UPGRADE.replace(b"Sec-WebSocket-Key: ", b"X-Key: "), 400, "one Sec-WebSocket-Key"),
        (UPGRADE.replace(b"\r\n\r\n", b"\r\nContent-Length: 3\r\n\r\nabc"), 400, "no body"),
    ],
)
async def test_malformed_requests_are_refused_with_their_status(
    request_: bytes, status: int, reason: str
) -> None:
    got, body = await refusal(request_)
    assert got == status
    assert reason in body.decode()


async def test_a_head_larger_than_the_limit_is_refused_with_431_without_waiting_for_its_end() -> (
    None
):
    endless = b"GET /x HTTP/1.1\r\nX-Pad: " + b"v" * 4096
    chunks = [endless] + [b"v" * 4096] * (MAX_HEAD // 4096 + 1)
    status, body = await refusal(*chunks)
    assert status == 431 and b"larger than" in body


async def test_a_complete_head_over_the_limit_is_refused_with_431() -> None:
    status, _ = await refusal(UPGRADE[:-2] + b"X-Pad: " + b"v" * MAX_HEAD + b"\r\n\r\n")
    assert status == 431


async def test_eof_in_the_middle_of_a_request_is_refused_with_400() -> None:
    status, body = await refusal(UPGRADE[:50], close=True)
    assert (status, body) == (400, b"the connection ended in the middle of the request")


async def test_eof_before_any_byte_is_a_client_that_went_away() -> None:
    client, server = trio.testing.memory_stream_pair()
    await client.send_stream.aclose()
    with trio.fail_after(5), pytest.raises(trio.BrokenResourceError):
        await read_request(server)


async def test_a_subprotocol_that_would_break_the_answer_is_an_error() -> None:
    outcome, _ = await served(UPGRADE)
    assert isinstance(outcome, HandshakeRequest)
    with pytest.raises(ValueError, match="not a header value"):
        await outcome.accept("ocpp2.0.1\r\nX: y", max_message_size=1024)
