"""OCPP-J RPC state of one connection (Part 4 §4); knows nothing about sockets, Trio or storage.

Theory of operation: the I/O layer feeds every received websocket text message to `receive`,
which returns exactly one event (see `rpc.events`). CALLs go out through `send_call`, answers
through `send_result` / `send_error`; each returns the frame to write. The session keeps:

- our single outstanding CALL (Part 4 §4.1.1: one at a time per direction), with its action, so
  the CALLRESULT is validated against the right response schema. A second `send_call` before
  the first is answered (or abandoned after its timeout) is a `LocalProtocolError`; the I/O
  layer queues CSMS-initiated commands per station.
- the peer's CALLs we have not answered yet. OCPP-J allows one, but stations in the field
  pipeline a few; up to `max_pending_incoming` are accepted, a duplicate id is refused.

The same class serves both roles: a CSMS session accepts the CALLs a Charging Station may send
and sends the others; a station session (the simulator) the reverse. A CALL of an action the
peer may not send gets NotSupported (the action exists, just not in that direction).
"""

from __future__ import annotations

import enum
import secrets
from dataclasses import dataclass
from typing import cast

from ..messages import ACTION_BY_REQUEST, ACTIONS, ActionSpec, Message
from . import frames, payloads
from .errors import ErrorCode, OcppError
from .events import (
    AnswerIgnored,
    CallErrorReceived,
    CallReceived,
    CallResponseInvalid,
    CallResultReceived,
    FrameRejected,
    RpcEvent,
)

_NO_DETAILS = b"{}"


class Role(enum.Enum):
    """Which end of the connection this session is."""

    CSMS = "CSMS"
    CHARGING_STATION = "Charging Station"

    def may_receive(self, spec: ActionSpec) -> bool:
        """Whether the peer of this role may send `spec`'s request."""
        if self is Role.CSMS:
            return spec.direction.sent_by_station()
        return spec.direction.sent_by_csms()

    def may_send(self, spec: ActionSpec) -> bool:
        """Whether this role may send `spec`'s request."""
        if self is Role.CSMS:
            return spec.direction.sent_by_csms()
        return spec.direction.sent_by_station()


class LocalProtocolError(Exception):
    """This side misused the session (a bug in the caller, never the peer's fault)."""


@dataclass(frozen=True, slots=True)
class OutgoingCall:
    """A CALL we sent and whose answer we are waiting for."""

    message_id: str
    action: str
    index: int


@dataclass(frozen=True, slots=True)
class RpcStatistics:
    """Counters of one session, for metrics and tests."""

    calls_received: int
    calls_sent: int
    results_received: int
    errors_received: int
    frames_rejected: int
    answers_ignored: int
    pending_incoming: int
    call_outstanding: bool


class RpcSession:
    """The RPC state machine of one OCPP-J connection.

    Args:
        role: which end this session plays.
        validate_outgoing: check every message we send against its schema before it leaves
            (see `payloads.encode_checked`). On by default; an invalid outgoing message raises
            `OcppError` (InternalError) instead of reaching the peer.
        max_pending_incoming: how many of the peer's CALLs may wait for our answer at once.
        id_prefix: start of every MessageId we generate. Defaults to 16 random hex digits, so
            ids never repeat across connections of the same station (Part 4 §4.1.4).
    """

    def __init__(
        self,
        role: Role = Role.CSMS,
        *,
        validate_outgoing: bool = True,
        max_pending_incoming: int = 8,
        id_prefix: str | None = None,
    ) -> None:
        self.role = role
        self.validate_outgoing = validate_outgoing
        self.max_pending_incoming = max_pending_incoming
        self._id_prefix = id_prefix if id_prefix is not None else secrets.token_hex(8)
        self._next_id = 0
        # Our CALL awaiting its CALLRESULT/CALLERROR; None when we may send the next one.
        self._outgoing: OutgoingCall | None = None
        # The peer's CALLs we have not answered: MessageId -> action index.
        self._incoming: dict[str, int] = {}
        self._calls_received = 0
        self._calls_sent = 0
        self._results_received = 0
        self._errors_received = 0
        self._frames_rejected = 0
        self._answers_ignored = 0

    # --- receiving ------------------------------------------------------------------------

    def receive(self, data: bytes) -> RpcEvent:
        """Handle one received websocket text message (its UTF-8 bytes).

        Returns:
            Exactly one event. Never raises for anything the peer sends.
        """
        # The tuple's third and last items change meaning with its kind (see `rpc.frames`).
        kind, message_id, x, start, end, text = frames.parse_frame(data)
        if kind == 2:
            return self._receive_call(data, message_id, cast(int, x), start, end)
        if kind == 3:
            return self._receive_result(data, message_id, start, end)
        if kind == 4:
            return self._receive_error(data, message_id, cast(str, x), cast(str, text), start, end)
        return self._receive_malformed(message_id, ErrorCode(cast(str, x)), start, cast(str, text))

    def _receive_call(
        self, data: bytes, message_id: str, index: int, start: int, end: int
    ) -> RpcEvent:
        spec = ACTIONS[index]
        if not self.role.may_receive(spec):
            sender = "CSMS" if self.role is Role.CSMS else "Charging Station"
            return self._reject(
                message_id,
                OcppError(ErrorCode.NotSupported, f"{spec.action} is not sent to a {sender}"),
            )
        if message_id in self._incoming:
            return self._reject(
                message_id,
                OcppError(
                    ErrorCode.RpcFrameworkError,
                    "a CALL with this MessageId is being handled already",
                ),
            )
        if len(self._incoming) >= self.max_pending_incoming:
            return self._reject(
                message_id,
                OcppError(
                    ErrorCode.RpcFrameworkError,
                    f"more than {self.max_pending_incoming} CALLs are waiting for an answer",
                ),
            )
        try:
            request = payloads.decode_request(index, memoryview(data)[start:end])
        except OcppError as error:
            return self._reject(message_id, error)
        self._incoming[message_id] = index
        self._calls_received += 1
        return CallReceived(message_id, spec.action, request)

    def _receive_result(self, data: bytes, message_id: str, start: int, end: int) -> RpcEvent:
        call = self._take_outgoing(message_id)
        if call is None:
            return self._ignore(message_id, 3)
        try:
            response = payloads.decode_response(call.index, memoryview(data)[start:end])
        except OcppError as error:
            self._frames_rejected += 1
            return CallResponseInvalid(
                message_id, call.action, error, self._error_frame(message_id, error)
            )
        self._results_received += 1
        return CallResultReceived(message_id, call.action, response)

    def _receive_error(
        self, data: bytes, message_id: str, code: str, description: str, start: int, end: int
    ) -> RpcEvent:
        call = self._take_outgoing(message_id)
        if call is None:
            return self._ignore(message_id, 4)
        self._errors_received += 1
        details = payloads.decode_details(memoryview(data)[start:end])
        return CallErrorReceived(message_id, call.action, code, description, details)

    def _receive_malformed(
        self, message_id: str, code: ErrorCode, message_type: int, description: str
    ) -> RpcEvent:
        error = OcppError(code, description)
        # A malformed CALLERROR is dropped: answering an error with an error invites an
        # endless exchange, and Part 4 §4.2.3 allows dropping invalid messages.
        reply = None if message_type == 4 else self._error_frame(message_id, error)
        self._frames_rejected += 1
        if message_type in (3, 4):
            call = self._take_outgoing(message_id)
            if call is not None:
                return CallResponseInvalid(message_id, call.action, error, reply)
        return FrameRejected(message_id, error, reply)

    def _take_outgoing(self, message_id: str) -> OutgoingCall | None:
        call = self._outgoing
        if call is None or call.message_id != message_id:
            return None
        self._outgoing = None
        return call

    def _ignore(self, message_id: str, message_type: int) -> AnswerIgnored:
        # Part 4 §4.1.4: a CALLRESULT/CALLERROR carries the id of the CALL it answers. One that
        # answers nothing outstanding (late after our timeout, or unknown) is dropped: a
        # CALLERROR in reply would answer no CALL of the peer's either.
        self._answers_ignored += 1
        return AnswerIgnored(message_id, message_type)

    def _reject(self, message_id: str, error: OcppError) -> FrameRejected:
        self._frames_rejected += 1
        return FrameRejected(message_id, error, self._error_frame(message_id, error))

    # --- sending --------------------------------------------------------------------------

    def send_call(self, request: Message) -> tuple[OutgoingCall, bytes]:
        """Start a CALL; returns it and the frame to write.

        Raises:
            LocalProtocolError: another CALL is outstanding, or this role may not send it.
            OcppError: the request breaks its schema (InternalError); nothing was started.
        """
        spec = ACTION_BY_REQUEST.get(type(request))
        if spec is None:
            raise LocalProtocolError(f"{type(request).__name__} is not an OCPP request")
        if not self.role.may_send(spec):
            raise LocalProtocolError(f"a {self.role.value} does not send {spec.action}")
        index = payloads.action_index(spec.action)
        payload = self._encode(request, index, response=False)
        return self.send_call_payload(index, payload)

    def send_call_payload(self, index: int, payload: bytes) -> tuple[OutgoingCall, bytes]:
        """Start a CALL of action number `index` whose payload is already valid JSON bytes.

        For callers that received the payload as JSON and validated it with
        `payloads.decode_request` (the operator API), so it is not encoded twice.

        Raises:
            LocalProtocolError: another CALL is outstanding.
        """
        if self._outgoing is not None:
            raise LocalProtocolError(
                f"CALL {self._outgoing.message_id} ({self._outgoing.action}) is still outstanding"
            )
        spec = ACTIONS[index]
        message_id = self._new_message_id()
        call = OutgoingCall(message_id, spec.action, index)
        self._outgoing = call
        self._calls_sent += 1
        return call, frames.build_call(message_id, spec.action, payload)

    def abandon_call(self, message_id: str) -> None:
        """Forget our outstanding CALL after its timeout; a late answer will be dropped."""
        if self._outgoing is not None and self._outgoing.message_id == message_id:
            self._outgoing = None

    def send_result(self, message_id: str, response: Message) -> bytes:
        """Answer the peer's CALL `message_id`; returns the CALLRESULT frame.

        Raises:
            LocalProtocolError: no such CALL is waiting, or `response` is of the wrong type.
            OcppError: the response breaks its schema (InternalError). The CALL stays pending,
                so the caller can still answer it with `send_error`.
        """
        index = self._incoming.get(message_id)
        if index is None:
            raise LocalProtocolError(f"no CALL {message_id!r} is waiting for an answer")
        expected = ACTIONS[index].response
        if type(response) is not expected:
            raise LocalProtocolError(
                f"{ACTIONS[index].action} is answered with {expected.__name__}, "
                f"not {type(response).__name__}"
            )
        payload = self._encode(response, index, response=True)
        del self._incoming[message_id]
        return frames.build_result(message_id, payload)

    def send_error(self, message_id: str, error: OcppError) -> bytes:
        """Answer the peer's CALL `message_id` with a CALLERROR; returns the frame.

        Unlike `send_result`, it does not require `message_id` to be pending: a CALLERROR may
        answer a frame the session never accepted as a CALL (e.g. with MessageId "-1").
        """
        self._incoming.pop(message_id, None)
        return self._error_frame(message_id, error)

    def _error_frame(self, message_id: str, error: OcppError) -> bytes:
        details = payloads.encode(error.details) if error.details else _NO_DETAILS
        return frames.build_error(message_id, error.code.value, error.description, details)

    def _encode(self, message: Message, index: int, *, response: bool) -> bytes:
        if self.validate_outgoing:
            return payloads.encode_checked(message, index, response=response)
        return payloads.encode(message)

    def _new_message_id(self) -> str:
        self._next_id += 1
        return f"{self._id_prefix}{self._next_id:x}"

    # --- introspection --------------------------------------------------------------------

    @property
    def outstanding_call(self) -> OutgoingCall | None:
        """Our CALL that is waiting for its answer, if any."""
        return self._outgoing

    def statistics(self) -> RpcStatistics:
        return RpcStatistics(
            calls_received=self._calls_received,
            calls_sent=self._calls_sent,
            results_received=self._results_received,
            errors_received=self._errors_received,
            frames_rejected=self._frames_rejected,
            answers_ignored=self._answers_ignored,
            pending_incoming=len(self._incoming),
            call_outstanding=self._outgoing is not None,
        )
