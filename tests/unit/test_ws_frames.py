"""The WebSocket frame reader (RFC 6455 §5): Rust and pure Python, same cases, same answers."""

from __future__ import annotations

import os
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trio_csms import _native
from trio_csms.ws import _frames_py, frames
from trio_csms.ws.frames import (
    BINARY,
    CLOSE,
    INVALID_DATA,
    MESSAGE_TOO_BIG,
    PING,
    PONG,
    PROTOCOL_ERROR,
    TEXT,
    VIOLATION,
    close_payload,
    encode_frame,
)

READERS = [
    pytest.param(_native.FrameReader, id="rust"),
    pytest.param(_frames_py.FrameReader, id="python"),
]
KEY = b"\x37\xfa\x21\x3d"


def client(opcode_byte: int, payload: bytes) -> bytes:
    """A masked client frame with the raw first byte `opcode_byte` (FIN, RSV, opcode)."""
    frame = encode_frame(opcode_byte & 0x0F, payload, KEY)
    return bytes((opcode_byte,)) + frame[1:]


@pytest.fixture(params=READERS)
def reader_type(request: pytest.FixtureRequest) -> Any:
    return request.param


def test_rfc_example_masked_hello(reader_type: Any) -> None:
    frame = bytes([0x81, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58])
    assert reader_type(100).feed(frame) == [(TEXT, b"Hello")]


def test_frames_split_at_every_byte_are_reassembled(reader_type: Any) -> None:
    payload = b'[2,"1","Heartbeat",{}]'
    frame = client(0x81, payload)
    for cut in range(len(frame)):
        reader = reader_type(100)
        assert reader.feed(frame[:cut]) + reader.feed(frame[cut:]) == [(TEXT, payload)], cut


def test_several_frames_and_a_ping_in_one_read(reader_type: Any) -> None:
    data = client(0x81, b"one") + client(0x89, b"p") + client(0x81, b"two") + client(0x8A, b"")
    assert reader_type(100).feed(data) == [
        (TEXT, b"one"),
        (PING, b"p"),
        (TEXT, b"two"),
        (PONG, b""),
    ]


@pytest.mark.parametrize("size", [0, 125, 126, 65535, 65536, 70000])
def test_seven_sixteen_and_sixty_four_bit_lengths(reader_type: Any, size: int) -> None:
    payload = bytes(i % 251 for i in range(size))
    assert reader_type(1 << 20).feed(client(0x82, payload)) == [(BINARY, payload)]


def test_fragments_with_a_ping_between_them_and_utf8_split(reader_type: Any) -> None:
    word = "Grüße".encode()
    data = client(0x01, word[:3]) + client(0x89, b"keepalive") + client(0x80, word[3:])
    assert reader_type(100).feed(data) == [(PING, b"keepalive"), (TEXT, word)]


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (client(0xC1, b"x"), PROTOCOL_ERROR),  # RSV1 without an extension
        (client(0x83, b"x"), PROTOCOL_ERROR),  # reserved opcode
        (bytes([0x81, 0x01]) + b"x", PROTOCOL_ERROR),  # unmasked client frame
        (client(0x09, b"x"), PROTOCOL_ERROR),  # fragmented ping
        (client(0x89, bytes(126)), PROTOCOL_ERROR),  # control payload over 125
        (client(0x80, b"x"), PROTOCOL_ERROR),  # continuation without a message
        (client(0x01, b"a") + client(0x81, b"b"), PROTOCOL_ERROR),  # new message mid-message
        (client(0x81, b"\xc3\x28"), INVALID_DATA),  # not UTF-8
        (client(0x81, b"a" * 101), MESSAGE_TOO_BIG),
        (client(0x01, b"a" * 60) + client(0x80, b"a" * 41), MESSAGE_TOO_BIG),
        (bytes([0x81, 0xFF]) + (1 << 40).to_bytes(8, "big"), MESSAGE_TOO_BIG),  # header alone
        (client(0x88, b"\x03"), PROTOCOL_ERROR),  # 1-byte close body
        (client(0x88, (1005).to_bytes(2, "big")), PROTOCOL_ERROR),  # reserved close code
        (client(0x88, b"\x03\xe8\xff"), INVALID_DATA),  # close reason not UTF-8
    ],
)
def test_violations_end_the_reading_with_their_close_code(
    reader_type: Any, data: bytes, code: int
) -> None:
    reader = reader_type(100)
    events = reader.feed(data)
    assert events[-1][:2] == (VIOLATION, code)
    assert isinstance(events[-1][2], str) and events[-1][2]
    assert reader.finished
    assert reader.feed(client(0x81, b"after")) == []


def test_exactly_the_limit_is_accepted(reader_type: Any) -> None:
    data = client(0x01, b"a" * 60) + client(0x80, b"a" * 40)
    assert reader_type(100).feed(data) == [(TEXT, b"a" * 100)]


def test_close_frames(reader_type: Any) -> None:
    reader = reader_type(100)
    assert reader.feed(client(0x88, close_payload(1001, "bye ✓"))) == [(CLOSE, 1001, "bye ✓")]
    assert reader.finished
    assert reader_type(100).feed(client(0x88, b"")) == [(CLOSE, None, "")]


def test_the_client_side_reads_unmasked_frames_and_refuses_masked_ones(reader_type: Any) -> None:
    assert reader_type(100, False).feed(encode_frame(TEXT, b"hi")) == [(TEXT, b"hi")]
    assert reader_type(100, False).feed(client(0x81, b"hi"))[-1][:2] == (VIOLATION, PROTOCOL_ERROR)


def test_encode_frame_lengths_and_mask() -> None:
    assert encode_frame(TEXT, b"Hello") == b"\x81\x05Hello"
    assert encode_frame(TEXT, b"Hello", KEY) == bytes(
        [0x81, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58]
    )
    assert encode_frame(BINARY, bytes(300))[:4] == b"\x82\x7e\x01\x2c"
    assert encode_frame(BINARY, bytes(70000))[:10] == b"\x82\x7f" + (70000).to_bytes(8, "big")
    with pytest.raises(ValueError, match="4 bytes"):
        encode_frame(TEXT, b"x", b"abc")


def test_close_payload_cuts_long_reasons_at_a_character() -> None:
    assert close_payload(None) == b""
    body = close_payload(1000, "é" * 100)
    assert len(body) <= 125 and body[2:].decode() == "é" * 61


def test_the_selected_implementation_follows_the_environment() -> None:
    expected = "python" if os.environ.get("TRIO_CSMS_NATIVE") == "0" else "rust"
    assert expected == frames.IMPLEMENTATION
    source = _frames_py if expected == "python" else _native
    assert frames.FrameReader is source.FrameReader


@settings(max_examples=1500, deadline=None)
@given(
    chunks=st.lists(
        st.one_of(
            st.binary(max_size=40),
            st.builds(
                client,
                st.sampled_from([0x81, 0x82, 0x01, 0x00, 0x80, 0x89, 0x8A, 0x88, 0xC1, 0x83]),
                st.one_of(st.binary(max_size=140), st.text(max_size=40).map(str.encode)),
            ),
        ),
        max_size=8,
    ),
    masked=st.booleans(),
)
def test_rust_and_python_agree_on_any_input(chunks: list[bytes], masked: bool) -> None:
    rust, python = _native.FrameReader(100, masked), _frames_py.FrameReader(100, masked)
    for chunk in chunks:
        assert rust.feed(chunk) == python.feed(chunk)
        assert rust.finished == python.finished
