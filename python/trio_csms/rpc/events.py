"""What `RpcSession.receive` reports about one incoming frame.

Small frozen values; please do not subclass them. Every event that requires sending something
carries the bytes to send (`reply`), so the I/O layer never builds frames itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..messages import Message
from .errors import OcppError


@dataclass(frozen=True, slots=True)
class CallReceived:
    """A valid CALL from the peer. Answer it with `send_result` or `send_error`."""

    message_id: str
    action: str
    request: Message


@dataclass(frozen=True, slots=True)
class CallResultReceived:
    """The valid CALLRESULT to our outstanding CALL `message_id`."""

    message_id: str
    action: str
    response: Message


@dataclass(frozen=True, slots=True)
class CallErrorReceived:
    """The peer's CALLERROR to our outstanding CALL `message_id`.

    `code` is passed through as received; it is normally an `ErrorCode` value.
    """

    message_id: str
    action: str
    code: str
    description: str
    details: dict[str, object]


@dataclass(frozen=True, slots=True)
class CallResponseInvalid:
    """The answer to our outstanding CALL `message_id` was malformed; the CALL has failed.

    `reply` is the CALLERROR to send back (for a malformed CALLRESULT), or None when nothing
    may be sent (a malformed CALLERROR is never answered with another CALLERROR).
    """

    message_id: str
    action: str
    error: OcppError
    reply: bytes | None


@dataclass(frozen=True, slots=True)
class AnswerIgnored:
    """A well-formed CALLRESULT or CALLERROR whose MessageId is not outstanding: late after
    our timeout, or unknown. Dropped without reply (Part 4 §4.1.4)."""

    message_id: str
    message_type: int


@dataclass(frozen=True, slots=True)
class FrameRejected:
    """A malformed frame that matches no CALL of ours.

    `reply` is the CALLERROR to send, or None when the frame is dropped (a malformed
    CALLERROR is never answered with another CALLERROR).
    """

    message_id: str
    error: OcppError
    reply: bytes | None


RpcEvent = (
    CallReceived
    | CallResultReceived
    | CallErrorReceived
    | CallResponseInvalid
    | AnswerIgnored
    | FrameRejected
)
