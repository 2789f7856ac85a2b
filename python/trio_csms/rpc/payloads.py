"""Typed payloads: decode (and so validate) or encode the message of one OCPP action.

The frame codec (`rpc.frames`) finds the payload inside a frame; this module turns those bytes
into the action's msgspec Struct, or a Struct into bytes. One `msgspec.json.Decoder` per message
type is built at import and reused; decoding takes a memoryview slice of the frame, so the
payload is never copied. Knows nothing about sockets, Trio or storage.
"""

from __future__ import annotations

from typing import Final

import msgspec

from ..messages import ACTIONS, Message
from .errors import ErrorCode, OcppError, payload_error

_ENCODER: Final = msgspec.json.Encoder()
_REQUESTS: Final = tuple(msgspec.json.Decoder(spec.request) for spec in ACTIONS)
_RESPONSES: Final = tuple(msgspec.json.Decoder(spec.response) for spec in ACTIONS)
_INDEX: Final = {spec.action: index for index, spec in enumerate(ACTIONS)}
_DETAILS: Final = msgspec.json.Decoder(dict[str, object])


def action_index(action: str) -> int:
    """The position of `action` in `ACTIONS` (and in the Rust codec's table).

    Raises:
        KeyError: `action` is not an OCPP 2.0.1 action.
    """
    return _INDEX[action]


def decode_request(index: int, payload: bytes | memoryview) -> Message:
    """The request of action number `index`, validated against its schema.

    Raises:
        OcppError: with the CALLERROR code for what is wrong (see `errors.payload_error`).
    """
    try:
        result: Message = _REQUESTS[index].decode(payload)
    except msgspec.DecodeError as exc:
        raise payload_error(exc) from None
    return result


def decode_response(index: int, payload: bytes | memoryview) -> Message:
    """The response of action number `index`, validated against its schema.

    Raises:
        OcppError: with the CALLERROR code for what is wrong.
    """
    try:
        result: Message = _RESPONSES[index].decode(payload)
    except msgspec.DecodeError as exc:
        raise payload_error(exc) from None
    return result


def decode_details(payload: bytes | memoryview) -> dict[str, object]:
    """A CALLERROR's errorDetails object (the frame codec has checked it is a JSON object)."""
    details: dict[str, object] = _DETAILS.decode(payload)
    return details


def encode(message: Message | dict[str, object]) -> bytes:
    """The JSON of a message; optional fields left `UNSET` are omitted."""
    return _ENCODER.encode(message)


def encode_checked(message: Message, index: int, *, response: bool) -> bytes:
    """The JSON of `message`, after checking it against its own schema.

    msgspec checks constraints (maxLength, minimum, enums...) only when decoding, and a Struct
    built in Python is not decoded; the test tool validates everything a CSMS sends (Part 6
    §1.2), so outgoing messages are decoded once more before they leave.

    Raises:
        OcppError: InternalError naming the broken rule; the message must not be sent.
    """
    payload = encode(message)
    decoders = _RESPONSES if response else _REQUESTS
    try:
        decoders[index].decode(payload)
    except msgspec.DecodeError as exc:
        raise OcppError(
            ErrorCode.InternalError, f"refusing to send an invalid {type(message).__name__}: {exc}"
        ) from None
    return payload
