"""The WebSocket frame reader in pure Python: the reference twin of `rust/src/ws.rs`.

Used when `TRIO_CSMS_NATIVE=0`; import `trio_csms.ws.frames`, not this module. Behaviour is
identical to the Rust reader (`tests/unit/test_ws_frames.py` runs the same cases against
both): change both or neither. See `trio_csms.ws.frames` for the contract.
"""

from __future__ import annotations

from typing import Final

__all__ = ["FrameReader", "WsEvent", "unmask", "valid_close_code"]

CONTINUATION: Final = 0x0
TEXT: Final = 0x1
BINARY: Final = 0x2
CLOSE: Final = 0x8
PING: Final = 0x9
PONG: Final = 0xA
_OPCODES: Final = frozenset({CONTINUATION, TEXT, BINARY, CLOSE, PING, PONG})

PROTOCOL_ERROR: Final = 1002
INVALID_DATA: Final = 1007
MESSAGE_TOO_BIG: Final = 1009
MAX_CONTROL_PAYLOAD: Final = 125

WsEvent = tuple[int, bytes] | tuple[int, int | None, str]
"""`(opcode, payload)` for messages, pings, pongs; `(8, code, reason)` for a close;
`(0, code, reason)` for a violation."""


def valid_close_code(code: int) -> bool:
    """Whether `code` may appear in a close frame (RFC 6455 §7.4; 1012-1014 from IANA)."""
    return 1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999


def unmask(data: bytes, key: bytes) -> bytes:
    """XOR `data` with the 4-byte masking `key` (RFC 6455 §5.3), as one big integer."""
    n = len(data)
    if not n:
        return b""
    keys = (key * (n // 4 + 1))[:n]
    value = int.from_bytes(data, "little") ^ int.from_bytes(keys, "little")
    return value.to_bytes(n, "little")


class _Violation(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class FrameReader:
    """Reads the frames of one connection; `feed` returns what the bytes complete.

    `masked`: frames must be masked (a server reading client frames) or must not be (a client).
    """

    def __init__(self, max_message_size: int, masked: bool = True) -> None:
        self._max = max_message_size
        self._masked = masked
        self._buffer = b""
        self._message: list[bytes] = []
        self._message_size = 0
        self._message_opcode = CONTINUATION
        self._finished = False

    @property
    def finished(self) -> bool:
        """Whether a close or a violation ended the reading."""
        return self._finished

    def feed(self, data: bytes) -> list[WsEvent]:
        events: list[WsEvent] = []
        if self._finished:
            return events
        buffer = self._buffer + data if self._buffer else data
        pos = 0
        try:
            while not self._finished:
                header = self._header(buffer, pos)
                if header is None:
                    break
                fin, opcode, key, start, length = header
                end = start + length
                if end > len(buffer):
                    break
                payload = unmask(buffer[start:end], key) if self._masked else buffer[start:end]
                pos = end
                self._frame(events, fin, opcode, payload)
        except _Violation as violation:
            self._violate(events, violation.code, violation.reason)
        self._buffer = buffer[pos:] if not self._finished else b""
        return events

    def _violate(self, events: list[WsEvent], code: int, reason: str) -> None:
        self._finished = True
        self._message = []
        events.append((0, code, reason))

    def _header(self, buffer: bytes, pos: int) -> tuple[bool, int, bytes, int, int] | None:
        available = len(buffer) - pos
        if available < 2:
            return None
        b0, b1 = buffer[pos], buffer[pos + 1]
        fin = bool(b0 & 0x80)
        opcode = b0 & 0x0F
        if b0 & 0x70:
            raise _Violation(PROTOCOL_ERROR, "reserved bits set without an extension")
        if opcode not in _OPCODES:
            raise _Violation(PROTOCOL_ERROR, f"unknown opcode {opcode:#x}")
        if bool(b1 & 0x80) != self._masked:
            reason = "client frame is not masked" if self._masked else "server frame is masked"
            raise _Violation(PROTOCOL_ERROR, reason)
        length = b1 & 0x7F
        at = 2
        if length == 126:
            if available < 4:
                return None
            length, at = int.from_bytes(buffer[pos + 2 : pos + 4], "big"), 4
        elif length == 127:
            if available < 10:
                return None
            length, at = int.from_bytes(buffer[pos + 2 : pos + 10], "big"), 10
        if length >> 63:
            raise _Violation(PROTOCOL_ERROR, "payload length has its most significant bit set")
        self._check(fin, opcode, length)
        key_size = 4 if self._masked else 0
        if available < at + key_size:
            return None
        key = buffer[pos + at : pos + at + key_size]
        return fin, opcode, key, pos + at + key_size, length

    def _check(self, fin: bool, opcode: int, length: int) -> None:
        if opcode >= CLOSE:
            if not fin:
                raise _Violation(PROTOCOL_ERROR, "fragmented control frame")
            if length > MAX_CONTROL_PAYLOAD:
                raise _Violation(PROTOCOL_ERROR, "control frame payload over 125 bytes")
            return
        if opcode == CONTINUATION and self._message_opcode == CONTINUATION:
            raise _Violation(PROTOCOL_ERROR, "continuation frame without a message")
        if opcode != CONTINUATION and self._message_opcode != CONTINUATION:
            raise _Violation(PROTOCOL_ERROR, "new message before the previous one ended")
        if self._message_size + length > self._max:
            raise _Violation(MESSAGE_TOO_BIG, f"message larger than {self._max} bytes")

    def _frame(self, events: list[WsEvent], fin: bool, opcode: int, payload: bytes) -> None:
        if opcode in (PING, PONG):
            events.append((opcode, payload))
            return
        if opcode == CLOSE:
            self._close(events, payload)
            return
        if opcode != CONTINUATION:
            self._message_opcode = opcode
        self._message.append(payload)
        self._message_size += len(payload)
        if not fin:
            return
        whole = payload if len(self._message) == 1 else b"".join(self._message)
        opcode = self._message_opcode
        self._message, self._message_size, self._message_opcode = [], 0, CONTINUATION
        if opcode == TEXT:
            try:
                whole.decode("utf-8")
            except UnicodeDecodeError:
                raise _Violation(INVALID_DATA, "text message is not valid UTF-8") from None
        events.append((opcode, whole))

    def _close(self, events: list[WsEvent], payload: bytes) -> None:
        if not payload:
            self._finished = True
            events.append((CLOSE, None, ""))
            return
        if len(payload) == 1:
            raise _Violation(PROTOCOL_ERROR, "close frame with a 1-byte body")
        code = int.from_bytes(payload[:2], "big")
        if not valid_close_code(code):
            raise _Violation(PROTOCOL_ERROR, f"invalid close code {code}")
        try:
            reason = payload[2:].decode("utf-8")
        except UnicodeDecodeError:
            raise _Violation(INVALID_DATA, "close reason is not valid UTF-8") from None
        self._finished = True
        events.append((CLOSE, code, reason))
