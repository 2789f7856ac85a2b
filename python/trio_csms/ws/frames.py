"""WebSocket framing (RFC 6455 §5): read frames into messages, write frames.

`FrameReader(max_message_size, masked=True)` takes the bytes read from a socket, in pieces of
any size, and `feed(data)` returns the events they complete, in order:

- `(TEXT, payload)` / `(BINARY, payload)`: a whole message, unmasked and reassembled from its
  fragments; a text message's UTF-8 is checked;
- `(PING, payload)` / `(PONG, payload)`: control frames, also between fragments;
- `(CLOSE, code, reason)`: the peer's close frame (`code` None when it had no body);
- `(VIOLATION, code, reason)`: the peer broke the protocol; close with `code` (1002 protocol
  error, 1007 invalid UTF-8, 1009 message too big: detected from the header, before the body).

After a close or a violation `finished` is true and nothing more is read. `masked=True` is the
server side (client frames must be masked), `masked=False` the client side (server frames must
not be).

Two implementations with identical behaviour sit behind `FrameReader`: the Rust extension
`trio_csms._native` (the default) and the pure-Python `trio_csms.ws._frames_py`, used when the
environment variable `TRIO_CSMS_NATIVE` is `0` (as for `trio_csms.rpc.frames`). Writing a frame
is a header and the payload: `encode_frame` does it in Python for both.
"""

from __future__ import annotations

import struct
from typing import Final, Literal

from ..native import USE_PYTHON, not_built
from ._frames_py import (
    BINARY,
    CLOSE,
    CONTINUATION,
    INVALID_DATA,
    MESSAGE_TOO_BIG,
    PING,
    PONG,
    PROTOCOL_ERROR,
    TEXT,
    WsEvent,
    unmask,
    valid_close_code,
)

__all__ = [
    "BINARY",
    "CLOSE",
    "CONTINUATION",
    "IMPLEMENTATION",
    "INVALID_DATA",
    "MESSAGE_TOO_BIG",
    "PING",
    "PONG",
    "PROTOCOL_ERROR",
    "TEXT",
    "VIOLATION",
    "FrameReader",
    "WsEvent",
    "close_payload",
    "encode_frame",
    "unmask",
    "valid_close_code",
]

VIOLATION: Final = 0
"""The first item of the event that reports a protocol violation."""

_SHORT: Final = struct.Struct("!BBH")
_LONG: Final = struct.Struct("!BBQ")

IMPLEMENTATION: Literal["rust", "python"]
"""Which `FrameReader` this process uses."""

if USE_PYTHON:
    from ._frames_py import FrameReader as FrameReader

    IMPLEMENTATION = "python"
else:
    try:
        from .._native import FrameReader as FrameReader  # type: ignore[assignment]
    except ImportError as exc:
        raise not_built(exc) from exc

    IMPLEMENTATION = "rust"


def encode_frame(opcode: int, payload: bytes, mask: bytes | None = None) -> bytes:
    """One final (unfragmented) frame of `opcode` carrying `payload`.

    A server sends frames unmasked (`mask` None); a client masks every frame with a fresh
    4-byte `mask` (§5.3).
    """
    length = len(payload)
    flag = 0x80 if mask is not None else 0
    first = 0x80 | opcode
    if length < 126:
        header = bytes((first, flag | length))
    elif length < 0x10000:
        header = _SHORT.pack(first, flag | 126, length)
    else:
        header = _LONG.pack(first, flag | 127, length)
    if mask is None:
        return header + payload
    if len(mask) != 4:
        raise ValueError(f"a masking key is 4 bytes, not {len(mask)}")
    return header + mask + unmask(payload, mask)


def close_payload(code: int | None, reason: str = "") -> bytes:
    """The body of a close frame: nothing, or the status code and a UTF-8 reason of at most
    123 bytes (a control frame carries 125 at most; a longer reason is cut at a character)."""
    if code is None:
        return b""
    encoded = reason.encode()[:123].decode("utf-8", errors="ignore").encode()
    return code.to_bytes(2, "big") + encoded
