"""One simulated OCPP 2.0.1 charging station over a real websocket, for tests and benchmarks.

`open_station` connects to a CSMS the way a station does (Part 4 §3: identity as the last path
segment, HTTP Basic auth, the `ocpp2.0.1` subprotocol) and yields a `SimStation`. The station
sends CALLs one at a time (`call`, and helpers such as `boot` and `report_connector` for the
test catalogue's reusable states), answers the CSMS's CALLs with registered or default
handlers, and records what happened: every frame, every CALL of the CSMS, and the round-trip
time of each of its own CALLs (`sim.histogram`).

This module is the *other side* of the wire. It uses the sans-IO layer (`trio_csms.rpc`, in
the charging-station role) and the message types, and must not know anything about the CSMS
being tested: it never imports `trio_csms.server`, `trio_csms.station`, the handlers or the
store, so it can be pointed at any OCPP 2.0.1 CSMS.

Theory of operation: one reader task feeds every received text message to the `RpcSession`.
Answers to our CALL wake the waiting `call`; each CSMS CALL is recorded and answered in a task
of its own, so a handler may itself send CALLs (GetBaseReport answers, then sends NotifyReport)
without blocking the reader, which is the only task that can deliver the CALLRESULT it waits
for. Writes go through trio-websocket, which serialises them.
"""

from __future__ import annotations

import base64
import contextvars
import functools
import inspect
import itertools
import logging
import ssl
import time
import urllib.parse
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, Final, Literal, TypeVar, overload

import msgspec
import trio
import trio_websocket

from ..messages import (
    ACTION_BY_REQUEST,
    AttributeEnumType,
    AuthorizeRequest,
    AuthorizeResponse,
    BootNotificationRequest,
    BootNotificationResponse,
    BootReasonEnumType,
    ChargingStationType,
    ComponentType,
    ConnectorStatusEnumType,
    EventDataType,
    EventNotificationEnumType,
    EventTriggerEnumType,
    EVSEType,
    GenericDeviceModelStatusEnumType,
    GetBaseReportRequest,
    GetBaseReportResponse,
    GetVariablesRequest,
    HeartbeatRequest,
    HeartbeatResponse,
    IdTokenEnumType,
    IdTokenType,
    MeasurandEnumType,
    Message,
    MessageTriggerEnumType,
    MeterValuesRequest,
    MeterValuesResponse,
    MeterValueType,
    MutabilityEnumType,
    NotifyEventRequest,
    NotifyEventResponse,
    NotifyReportRequest,
    NotifyReportResponse,
    ReadingContextEnumType,
    ReportDataType,
    SampledValueType,
    SetVariablesRequest,
    StatusNotificationRequest,
    StatusNotificationResponse,
    TransactionEventEnumType,
    TransactionEventRequest,
    TransactionEventResponse,
    TransactionType,
    TriggerMessageRequest,
    TriggerMessageResponse,
    TriggerMessageStatusEnumType,
    TriggerReasonEnumType,
    UnitOfMeasureType,
    VariableAttributeType,
    VariableType,
)
from ..rpc import (
    AnswerIgnored,
    CallErrorReceived,
    CallReceived,
    CallResponseInvalid,
    CallResultReceived,
    ErrorCode,
    OcppError,
    Role,
    RpcEvent,
    RpcSession,
    RpcStatistics,
    frames,
)
from .answers import CONSTANT_ANSWERS, constant_answer, get_variables, set_variables
from .histogram import LatencyHistogram

__all__ = [
    "CallErrorRaised",
    "CallTimeout",
    "ConnectFailed",
    "ConnectionClosed",
    "FrameRecord",
    "Handler",
    "HandshakeRefused",
    "InvalidResponse",
    "NoSubprotocol",
    "SimStation",
    "SimStationError",
    "SimStationStatistics",
    "basic_auth",
    "open_station",
    "station_url",
]

logger = logging.getLogger(__name__)

OCPP201: Final = "ocpp2.0.1"
"""The Sec-WebSocket-Protocol value of OCPP 2.0.1 (Part 4 §3.1.2)."""

DEFAULT_BUFFER: Final = 1000
"""Default size of the frame log and of the CSMS-call buffer: enough for any one test, small
enough that a simulator left running for hours under load does not grow without bound."""

_R = TypeVar("_R", bound=Message)
_Req = TypeVar("_Req", bound=Message)

Handler = Callable[[_Req], "Message | Awaitable[Message]"]
"""Answers one CSMS CALL: `def` or `async def`, takes the request, returns the response.

It may raise `OcppError` to answer with that CALLERROR; any other exception is answered with
InternalError, logged, and kept in `SimStation.handler_errors`.
"""

# The follow-ups registered by the handler running in the current task (see `after_reply`).
# Trio gives each task its own copy of the context, so handlers running at once don't mix.
_AFTER_REPLY: contextvars.ContextVar[list[Callable[[], Awaitable[object]]]] = (
    contextvars.ContextVar("trio_csms.sim.after_reply")
)


# --- errors ----------------------------------------------------------------------------------


class SimStationError(Exception):
    """Base of the errors the simulator raises about the connection or the CSMS's answers."""


class ConnectFailed(SimStationError):
    """No websocket could be opened: network error, TLS failure, or connect timeout."""


class HandshakeRefused(ConnectFailed):
    """The CSMS answered the websocket upgrade with an HTTP error (e.g. 401, 404).

    Attributes:
        status_code: the HTTP status of the refusal.
        headers: its headers, as (lower-case name, value) byte pairs.
        body: its body, or None when there was none.
    """

    def __init__(
        self, status_code: int, headers: Sequence[tuple[bytes, bytes]], body: bytes | None
    ) -> None:
        super().__init__(f"the CSMS refused the websocket handshake with HTTP {status_code}")
        self.status_code = status_code
        self.headers = tuple(headers)
        self.body = body


class NoSubprotocol(ConnectFailed):
    """The CSMS accepted the websocket without agreeing on one of the offered subprotocols.

    Part 4 §3.1.2: a CSMS that supports none of them completes the handshake without a
    Sec-WebSocket-Protocol header and closes the connection at once.

    Attributes:
        offered: what the station offered.
        selected: what the CSMS answered (None when it sent no subprotocol).
    """

    def __init__(self, offered: Sequence[str], selected: str | None) -> None:
        super().__init__(
            f"the CSMS agreed on no subprotocol (offered {list(offered)}, got {selected!r})"
        )
        self.offered = tuple(offered)
        self.selected = selected


class ConnectionClosed(SimStationError):
    """The websocket is closed, or closed while we were waiting for an answer.

    Attributes:
        code: the close code (1000 normal, 1006 abnormal: no close frame), or None if unknown.
        reason: the close reason sent with it, or None.
    """

    def __init__(self, code: int | None, reason: str | None) -> None:
        super().__init__(f"websocket closed (code {code}, reason {reason!r})")
        self.code = code
        self.reason = reason


class CallErrorRaised(SimStationError):
    """The CSMS answered our CALL with a CALLERROR (Part 4 §4.2.3).

    Attributes:
        action: the action of our CALL.
        code: the errorCode, as sent (normally an `ErrorCode` value).
        description: the errorDescription.
        details: the errorDetails object.
    """

    def __init__(
        self, action: str, code: str, description: str, details: dict[str, object]
    ) -> None:
        super().__init__(f"{action}: CALLERROR {code}: {description}")
        self.action = action
        self.code = code
        self.description = description
        self.details = details


class CallTimeout(SimStationError, trio.TooSlowError):
    """The CSMS did not answer our CALL within `call_timeout`; the CALL was abandoned.

    Attributes:
        action: the action of our CALL.
        timeout: the limit that passed, in seconds.
    """

    def __init__(self, action: str, timeout: float) -> None:
        super().__init__(f"{action}: no answer within {timeout} s")
        self.action = action
        self.timeout = timeout


class InvalidResponse(SimStationError):
    """The CSMS answered our CALL with a malformed CALLRESULT or CALLERROR.

    The simulator has already sent the CALLERROR the session prescribes, if any.

    Attributes:
        action: the action of our CALL.
        error: what was wrong with the answer.
    """

    def __init__(self, action: str, error: OcppError) -> None:
        super().__init__(f"{action}: invalid answer: {error}")
        self.action = action
        self.error = error


# --- records ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FrameRecord:
    """One websocket message the station sent or received.

    Attributes:
        direction: "sent" (station to CSMS) or "received" (CSMS to station).
        text: the message; a binary message is shown decoded with replacement characters.
        at: `trio.current_time()` when it was sent or received (same clock as the latencies).
        wall_time: `time.time()` at the same moment, to match the CSMS's logs.
    """

    direction: Literal["sent", "received"]
    text: str
    at: float
    wall_time: float


@dataclass(frozen=True, slots=True)
class SimStationStatistics:
    """Counters of one simulated station (`SimStation.statistics()`)."""

    station_id: str
    connected: bool
    frames_sent: int
    frames_received: int
    csms_calls_received: int
    handler_errors: int
    rpc: RpcStatistics


class _PendingCall:
    """Our outstanding CALL: the reader sets `outcome` and `done` when it is answered."""

    __slots__ = ("done", "message_id", "outcome")

    def __init__(self, message_id: str) -> None:
        self.message_id = message_id
        self.done = trio.Event()
        # The answer, or None when the connection closed first.
        self.outcome: CallResultReceived | CallErrorReceived | CallResponseInvalid | None = None


class _RawWaiter:
    """A `call_raw` waiting for the next CALLRESULT/CALLERROR, whatever its id."""

    __slots__ = ("done", "text")

    def __init__(self) -> None:
        self.done = trio.Event()
        self.text: str | None = None


def _now() -> datetime:
    return datetime.now(UTC)


def _is_answer(data: bytes) -> bool:
    """Whether a frame is a CALLRESULT or CALLERROR, well-formed or not."""
    kind, _, _, message_type, _, _ = frames.parse_frame(data)
    return kind in (3, 4) or (kind == 0 and message_type in (3, 4))


# --- the station -----------------------------------------------------------------------------


class SimStation:
    """One connected simulated charging station; create it with `open_station`.

    Attributes:
        station_id: the identity the station connected with.
        subprotocol: the subprotocol the CSMS agreed on.
        call_timeout: seconds `call` waits for an answer before raising `CallTimeout`.
        boot_response: the CSMS's answer to the last `boot`, or None before any.
        connectors: the last status reported per (evse id, connector id); used to answer a
            TriggerMessage for StatusNotification and to fill the default base report.
        handler_errors: exceptions raised by CSMS-call handlers and their follow-ups (other
            than `OcppError`), oldest first; a test can assert it stays empty.
    """

    def __init__(
        self,
        ws: trio_websocket.WebSocketConnection,
        station_id: str,
        *,
        call_timeout: float,
        frame_log_size: int = DEFAULT_BUFFER,
        csms_call_buffer: int = DEFAULT_BUFFER,
        validate_outgoing: bool = True,
    ) -> None:
        self.station_id = station_id
        self.subprotocol = ws.subprotocol
        self.call_timeout = call_timeout
        self.boot_response: BootNotificationResponse | None = None
        self.handler_errors: list[BaseException] = []
        self._ws = ws
        self._session = RpcSession(Role.CHARGING_STATION, validate_outgoing=validate_outgoing)
        self._nursery: trio.Nursery | None = None
        # One CALL (or call_raw) at a time (Part 4 §4.1.1); FIFO so callers queue in order.
        self._call_lock = trio.StrictFIFOLock()
        # Set while a `call` waits; the reader completes it. Invariant: None or the CALL the
        # session has outstanding.
        self._pending: _PendingCall | None = None
        # Set while a `call_raw` waits; takes every CALLRESULT/CALLERROR away from the session.
        self._raw_waiter: _RawWaiter | None = None
        self._handlers: dict[type[Message], Handler[Any] | None] = self._default_handlers()
        # CSMS CALLs not yet taken by `next_csms_call`; the oldest are dropped when full.
        self._csms_calls: deque[CallReceived] = deque(maxlen=csms_call_buffer)
        # Replaced by a fresh Event after every change (new CALL, close): waiters re-check.
        self._csms_calls_changed = trio.Event()
        self._frames: deque[FrameRecord] = deque(maxlen=frame_log_size)
        self._frames_sent = 0
        self._frames_received = 0
        self._csms_calls_received = 0
        self._latency: dict[str, LatencyHistogram] = {}
        # (code, reason) once the websocket is closed; None while open.
        self._closed: tuple[int | None, str | None] | None = None
        self._closed_event = trio.Event()
        self._event_ids = itertools.count(1)
        self._tx_seq_nos: dict[str, int] = {}
        self._boot_station = ChargingStationType(model="SimStation", vendor_name="trio-csms")
        self.connectors: dict[tuple[int, int], ConnectorStatusEnumType] = {}

    def __repr__(self) -> str:
        state = "open" if self._closed is None else f"closed {self._closed[0]}"
        return f"<SimStation {self.station_id!r} {state}>"

    # --- sending CALLs --------------------------------------------------------------------

    @overload
    async def call(self, request: Message) -> Message: ...

    @overload
    async def call(self, request: Message, response_type: type[_R]) -> _R: ...

    async def call(self, request: Message, response_type: type[Message] | None = None) -> Message:
        """Send a CALL and wait for its answer; CALLs from several tasks are sent one by one.

        Args:
            request: any request a station may send (`BootNotificationRequest`, ...).
            response_type: if given, the response is checked to be of this type and the
                return value is typed accordingly.

        Returns:
            The CSMS's response, decoded and validated against its schema.

        Raises:
            CallErrorRaised: the CSMS answered with a CALLERROR.
            CallTimeout: no answer within `call_timeout` (a `trio.TooSlowError`).
            InvalidResponse: the answer broke the response schema or the RPC framing.
            ConnectionClosed: the websocket is closed, or closed before the answer came.
            LocalProtocolError: `request` is not something a station sends.
            OcppError: `request` breaks its schema (InternalError); nothing was sent.
            TypeError: the response is not of `response_type`.

        Cancellation: if cancelled while waiting, the CALL is abandoned; a late answer is
        dropped, and the next CALL may be sent at once.
        """
        async with self._call_lock:
            self._raise_if_closed()
            call, frame = self._session.send_call(request)
            pending = _PendingCall(call.message_id)
            self._pending = pending
            started = trio.current_time()
            try:
                await self._send_frame(frame)
                with trio.fail_after(self.call_timeout):
                    await pending.done.wait()
            except trio.TooSlowError:
                raise CallTimeout(call.action, self.call_timeout) from None
            finally:
                self._pending = None
                if not pending.done.is_set():
                    self._session.abandon_call(call.message_id)
            outcome = pending.outcome
            if outcome is None:
                raise self._closed_error()
            if not isinstance(outcome, CallResponseInvalid):
                self.latency_for(call.action).record(trio.current_time() - started)
            if isinstance(outcome, CallErrorReceived):
                raise CallErrorRaised(
                    call.action, outcome.code, outcome.description, outcome.details
                )
            if isinstance(outcome, CallResponseInvalid):
                raise InvalidResponse(call.action, outcome.error)
            response = outcome.response
        if response_type is not None and not isinstance(response, response_type):
            raise TypeError(
                f"{call.action} returned {type(response).__name__}, not {response_type.__name__}"
            )
        return response

    # ASYNC109: a `timeout` argument, because "no answer in time" is a result here (None).
    async def call_raw(
        self,
        frame: str | bytes,
        *,
        timeout: float | None = None,  # noqa: ASYNC109
        binary: bool = False,
    ) -> str | None:
        """Send any text frame, then return the next CALLRESULT or CALLERROR the CSMS sends.

        For malformed-input tests: the frame is sent as given, the session is bypassed, and
        the first answer-shaped frame (message type 3 or 4, well-formed or not, whatever its
        MessageId) is returned as text. CALLs the CSMS sends meanwhile are handled as usual.
        Takes the same lock as `call`, so no typed CALL is outstanding meanwhile.

        Args:
            frame: the message; `bytes` must be UTF-8 unless `binary` is set.
            timeout: seconds to wait; defaults to `call_timeout`.
            binary: send a binary websocket message instead of a text message.

        Returns:
            The answer's text, or None if none came within the timeout.

        Raises:
            ConnectionClosed: the websocket is closed, or closed before an answer came.
            UnicodeDecodeError: `frame` is bytes, not UTF-8, and `binary` is not set.
        """
        message: str | bytes = frame
        if isinstance(frame, bytes) and not binary:
            message = frame.decode("utf-8")
        elif isinstance(frame, str) and binary:
            message = frame.encode("utf-8")
        async with self._call_lock:
            self._raise_if_closed()
            waiter = _RawWaiter()
            self._raw_waiter = waiter
            try:
                await self._send(message)
                with trio.move_on_after(self.call_timeout if timeout is None else timeout):
                    await waiter.done.wait()
            finally:
                self._raw_waiter = None
            if waiter.text is None and self._closed is not None:
                raise self._closed_error()
            return waiter.text

    async def send_raw(self, frame: str | bytes) -> None:
        """Send one websocket message as given, without waiting for anything.

        `str` goes out as a text message, `bytes` as a binary message.

        Raises:
            ConnectionClosed: the websocket is closed.
        """
        self._raise_if_closed()
        await self._send(frame)

    # --- the CSMS's CALLs -----------------------------------------------------------------

    def handle(self, request_type: type[_Req], handler: Handler[_Req] | None) -> None:
        """Answer the CSMS's CALLs of `request_type` with `handler` from now on.

        Args:
            request_type: a request the CSMS sends, e.g. `ResetRequest`.
            handler: `def` or `async def` taking the request and returning its response
                (see `Handler`); None makes the station answer CALLERROR NotSupported.

        Raises:
            ValueError: `request_type` is not a request a CSMS sends.
        """
        spec = ACTION_BY_REQUEST.get(request_type)
        if spec is None or not Role.CHARGING_STATION.may_receive(spec):
            raise ValueError(f"{request_type.__name__} is not a request a CSMS sends")
        self._handlers[request_type] = handler

    def after_reply(self, action: Callable[[], Awaitable[object]]) -> None:
        """Run `action` once the current CSMS CALL has been answered.

        For use inside a handler: Part 2 generic FR.05 has the response to a "Get..." request
        come before the data it asks for (GetBaseReport answers, then sends NotifyReport).
        Follow-ups run in order, in the handler's task; their exceptions are logged and kept
        in `handler_errors`.

        Raises:
            RuntimeError: called outside a handler.
        """
        try:
            actions = _AFTER_REPLY.get()
        except LookupError:
            raise RuntimeError("after_reply() must be called from a CSMS-call handler") from None
        actions.append(action)

    # ASYNC109: a `timeout` argument, so that every wait in a test has a bound by default.
    async def next_csms_call(
        self,
        action: str | None = None,
        *,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> CallReceived:
        """Take the oldest recorded CSMS CALL (of `action`, if given), waiting for one.

        Every valid CALL of the CSMS is recorded when it arrives, before it is answered;
        calls of other actions stay in the buffer for later.

        Args:
            action: the Action name to wait for, e.g. "Reset"; None takes any.
            timeout: seconds to wait; defaults to `call_timeout`.

        Raises:
            trio.TooSlowError: none came within the timeout.
            ConnectionClosed: the websocket closed and no matching CALL is recorded.
        """
        with trio.fail_after(self.call_timeout if timeout is None else timeout):
            while True:
                for index, received in enumerate(self._csms_calls):
                    if action is None or received.action == action:
                        del self._csms_calls[index]
                        return received
                if self._closed is not None:
                    raise self._closed_error()
                await self._csms_calls_changed.wait()

    @property
    def csms_calls(self) -> tuple[CallReceived, ...]:
        """The recorded CSMS CALLs not yet taken by `next_csms_call`, oldest first."""
        return tuple(self._csms_calls)

    # --- records and state ----------------------------------------------------------------

    @property
    def frames(self) -> tuple[FrameRecord, ...]:
        """The last frames sent and received (at most `frame_log_size`), oldest first."""
        return tuple(self._frames)

    def format_frames(self) -> str:
        """The frame log as text, one line per frame, for a failing test's output."""
        return "\n".join(
            f"{record.at:12.6f} {'>>' if record.direction == 'sent' else '<<'} {record.text}"
            for record in self._frames
        )

    @property
    def latency(self) -> Mapping[str, LatencyHistogram]:
        """Round-trip times of our answered CALLs (CALLRESULT or CALLERROR), by action."""
        return MappingProxyType(self._latency)

    def latency_for(self, action: str) -> LatencyHistogram:
        """The round-trip histogram of `action`, created empty if needed."""
        histogram = self._latency.get(action)
        if histogram is None:
            histogram = self._latency[action] = LatencyHistogram()
        return histogram

    @property
    def closed(self) -> ConnectionClosed | None:
        """Why the websocket closed, or None while it is open."""
        return None if self._closed is None else self._closed_error()

    async def wait_closed(self) -> ConnectionClosed:
        """Wait until the websocket is closed (by either side); returns why."""
        await self._closed_event.wait()
        return self._closed_error()

    async def aclose(self, code: int = 1000, reason: str | None = None) -> None:
        """Close the websocket now (leaving `open_station` also closes it).

        Outstanding and later calls raise `ConnectionClosed`.
        """
        # Recorded first: trio-websocket reports every local close as 1000 to the reader.
        self._mark_closed(code, reason)
        await self._ws.aclose(code, reason)

    def statistics(self) -> SimStationStatistics:
        """A snapshot of this station's counters."""
        return SimStationStatistics(
            station_id=self.station_id,
            connected=self._closed is None,
            frames_sent=self._frames_sent,
            frames_received=self._frames_received,
            csms_calls_received=self._csms_calls_received,
            handler_errors=len(self.handler_errors),
            rpc=self._session.statistics(),
        )

    # --- helpers for the test catalogue's reusable states -----------------------------------

    async def boot(
        self,
        reason: BootReasonEnumType | str = BootReasonEnumType.PowerUp,
        *,
        model: str = "SimStation",
        vendor_name: str = "trio-csms",
        serial_number: str | None = None,
        firmware_version: str | None = None,
    ) -> BootNotificationResponse:
        """Send BootNotification (B01); the answer is also kept in `boot_response`.

        Raises:
            ValueError: `reason` is not a BootReasonEnumType value.
            The errors of `call`.
        """
        station = ChargingStationType(model=model, vendor_name=vendor_name)
        if serial_number is not None:
            station.serial_number = serial_number
        if firmware_version is not None:
            station.firmware_version = firmware_version
        self._boot_station = station
        request = BootNotificationRequest(
            charging_station=station, reason=BootReasonEnumType(reason)
        )
        response = await self.call(request, BootNotificationResponse)
        self.boot_response = response
        return response

    async def heartbeat(self) -> HeartbeatResponse:
        """Send Heartbeat (G02).

        Raises:
            The errors of `call`.
        """
        return await self.call(HeartbeatRequest(), HeartbeatResponse)

    async def status_notification(
        self, evse_id: int, connector_id: int, status: ConnectorStatusEnumType | str
    ) -> StatusNotificationResponse:
        """Send StatusNotification alone, and remember the status.

        Raises:
            ValueError: `status` is not a ConnectorStatusEnumType value.
            The errors of `call`.
        """
        connector_status = ConnectorStatusEnumType(status)
        self.connectors[(evse_id, connector_id)] = connector_status
        request = StatusNotificationRequest(
            timestamp=_now(),
            connector_status=connector_status,
            evse_id=evse_id,
            connector_id=connector_id,
        )
        return await self.call(request, StatusNotificationResponse)

    async def report_connector(
        self, evse_id: int, connector_id: int, status: ConnectorStatusEnumType | str
    ) -> tuple[StatusNotificationResponse, NotifyEventResponse]:
        """Report a connector's status both ways a 2.0.1 station does (G01/G03 and N07).

        Sends StatusNotification, then NotifyEvent for component Connector (with its evse id
        and connector id), variable AvailabilityState, trigger Delta, with a new eventId.

        Raises:
            ValueError: `status` is not a ConnectorStatusEnumType value.
            The errors of `call`.
        """
        connector_status = ConnectorStatusEnumType(status)
        notified = await self.status_notification(evse_id, connector_id, connector_status)
        now = _now()
        event = EventDataType(
            event_id=next(self._event_ids),
            timestamp=now,
            trigger=EventTriggerEnumType.Delta,
            actual_value=connector_status.value,
            component=ComponentType(
                name="Connector", evse=EVSEType(id=evse_id, connector_id=connector_id)
            ),
            variable=VariableType(name="AvailabilityState"),
            event_notification_type=EventNotificationEnumType.HardWiredNotification,
        )
        evented = await self.call(
            NotifyEventRequest(generated_at=now, seq_no=0, event_data=[event]),
            NotifyEventResponse,
        )
        return notified, evented

    async def authorize(
        self, id_token: str, token_type: IdTokenEnumType | str = IdTokenEnumType.ISO14443
    ) -> AuthorizeResponse:
        """Send Authorize (C01) for one idToken.

        Raises:
            ValueError: `token_type` is not an IdTokenEnumType value.
            The errors of `call`.
        """
        token = IdTokenType(id_token=id_token, type=IdTokenEnumType(token_type))
        return await self.call(AuthorizeRequest(id_token=token), AuthorizeResponse)

    async def transaction_event(
        self,
        event_type: TransactionEventEnumType | str,
        trigger_reason: TriggerReasonEnumType | str,
        transaction_id: str,
        *,
        seq_no: int | None = None,
        timestamp: datetime | None = None,
        evse_id: int | None = None,
        connector_id: int | None = None,
        **fields: Any,
    ) -> TransactionEventResponse:
        """Send TransactionEvent (block E).

        Args:
            event_type: Started, Updated or Ended.
            trigger_reason: why it is sent (CablePluggedIn, Authorized, ...).
            transaction_id: the station's id of the transaction.
            seq_no: defaults to one more than the last one sent for this transaction,
                starting at 0; an explicit value also resets that count.
            timestamp: defaults to now.
            evse_id: if given, sets `evse` (with `connector_id`, if given).
            fields: any other field of TransactionEventRequest (`id_token`, `meter_value`,
                `offline`, ...) or of its TransactionType (`charging_state`,
                `stopped_reason`, `remote_start_id`, `time_spent_charging`).

        Raises:
            TypeError: a name in `fields` is a field of neither, or both `evse_id` and
                `evse` were given.
            ValueError: `event_type` or `trigger_reason` is not a value of its enum.
            The errors of `call`.
        """
        if seq_no is None:
            seq_no = self._tx_seq_nos.get(transaction_id, 0)
        self._tx_seq_nos[transaction_id] = seq_no + 1
        info_fields = {
            name: fields.pop(name)
            for name in [name for name in fields if name in _TRANSACTION_INFO_FIELDS]
        }
        if evse_id is not None:
            if "evse" in fields:
                raise TypeError("give either evse_id (and connector_id) or evse, not both")
            evse = EVSEType(id=evse_id)
            if connector_id is not None:
                evse.connector_id = connector_id
            fields["evse"] = evse
        request = TransactionEventRequest(
            event_type=TransactionEventEnumType(event_type),
            timestamp=_now() if timestamp is None else timestamp,
            trigger_reason=TriggerReasonEnumType(trigger_reason),
            seq_no=seq_no,
            transaction_info=TransactionType(transaction_id=transaction_id, **info_fields),
            **fields,
        )
        return await self.call(request, TransactionEventResponse)

    async def meter_values(
        self,
        evse_id: int,
        meter_value: Sequence[MeterValueType] | None = None,
        *,
        energy_wh: float | None = None,
        power_w: float | None = None,
        context: ReadingContextEnumType | str | None = None,
        timestamp: datetime | None = None,
    ) -> MeterValuesResponse:
        """Send MeterValues (J01): the given meter values, or one built from the readings.

        Args:
            evse_id: 0 for the main meter, else the EVSE.
            meter_value: complete MeterValueType objects; if given, the readings are unused.
            energy_wh: Energy.Active.Import.Register in Wh.
            power_w: Power.Active.Import in W.
            context: the readings' ReadingContext (Sample.Periodic, ...), if any.
            timestamp: of the built meter value; defaults to now.

        Raises:
            ValueError: neither `meter_value` nor a reading was given.
            The errors of `call`.
        """
        if meter_value is None:
            meter_value = [_build_meter_value(energy_wh, power_w, context, timestamp or _now())]
        request = MeterValuesRequest(evse_id=evse_id, meter_value=list(meter_value))
        return await self.call(request, MeterValuesResponse)

    # --- I/O --------------------------------------------------------------------------------

    def _start(self, nursery: trio.Nursery) -> None:
        self._nursery = nursery
        nursery.start_soon(self._read_frames)

    async def _send_frame(self, frame: bytes) -> None:
        """Write a frame built by the session (UTF-8 JSON) as a text message.

        Raises:
            ConnectionClosed: the websocket is closed.
        """
        await self._send(frame.decode("utf-8"))

    async def _send(self, message: str | bytes) -> None:
        """Write one websocket message: `str` as text, `bytes` as binary.

        Raises:
            ConnectionClosed: the websocket is closed.
        """
        text = message if isinstance(message, str) else message.decode("utf-8", "replace")
        self._record("sent", text)
        try:
            await self._ws.send_message(message)
        except trio_websocket.ConnectionClosed as exc:
            self._mark_closed_from(exc.reason)
            raise self._closed_error() from None

    async def _read_frames(self) -> None:
        try:
            while True:
                message = await self._ws.get_message()
                if isinstance(message, bytes):
                    # OCPP-J uses text messages only (Part 4 §4); keep it for the record.
                    self._record("received", message.decode("utf-8", "replace"))
                    logger.warning("%s: ignored a binary message from the CSMS", self.station_id)
                    continue
                self._record("received", message)
                data = message.encode("utf-8")
                raw_waiter = self._raw_waiter
                if raw_waiter is not None and _is_answer(data):
                    if raw_waiter.text is None:
                        raw_waiter.text = message
                        raw_waiter.done.set()
                    continue
                await self._dispatch(self._session.receive(data))
        except trio_websocket.ConnectionClosed as exc:
            self._mark_closed_from(exc.reason)
        except ConnectionClosed:
            pass  # a reply could not be sent; `_send` has marked the station closed

    async def _dispatch(self, event: RpcEvent) -> None:
        if isinstance(event, CallReceived):
            self._csms_calls_received += 1
            self._csms_calls.append(event)
            self._wake_csms_call_waiters()
            assert self._nursery is not None
            self._nursery.start_soon(self._answer, event)
        elif isinstance(event, CallResultReceived | CallErrorReceived | CallResponseInvalid):
            if isinstance(event, CallResponseInvalid):
                logger.warning(
                    "%s: invalid answer to %s: %s", self.station_id, event.action, event.error
                )
                if event.reply is not None:
                    await self._send_frame(event.reply)
            pending = self._pending
            if pending is not None and pending.message_id == event.message_id:
                pending.outcome = event
                pending.done.set()
        elif isinstance(event, AnswerIgnored):
            logger.info("%s: late or unknown answer %r ignored", self.station_id, event.message_id)
        else:
            logger.warning(
                "%s: rejected a frame from the CSMS (MessageId %r): %s",
                self.station_id,
                event.message_id,
                event.error,
            )
            if event.reply is not None:
                await self._send_frame(event.reply)

    async def _answer(self, event: CallReceived) -> None:
        """Answer one CSMS CALL, then run the handler's follow-ups (in this task)."""
        follow_ups: list[Callable[[], Awaitable[object]]] = []
        _AFTER_REPLY.set(follow_ups)
        frame = await self._run_handler(event)
        try:
            await self._send_frame(frame)
        except ConnectionClosed:
            return
        for follow_up in follow_ups:
            try:
                await follow_up()
            except Exception as exc:
                self._handler_failed(event.action, exc, "follow-up")

    async def _run_handler(self, event: CallReceived) -> bytes:
        handler = self._handlers.get(type(event.request))
        if handler is None:
            refusal = OcppError(
                ErrorCode.NotSupported, f"the simulator does not support {event.action}"
            )
            return self._session.send_error(event.message_id, refusal)
        try:
            response = handler(event.request)
            if inspect.isawaitable(response):
                response = await response
            return self._session.send_result(event.message_id, response)
        except OcppError as error:
            return self._session.send_error(event.message_id, error)
        except Exception as exc:
            self._handler_failed(event.action, exc, "handler")
            internal = OcppError(ErrorCode.InternalError, f"{type(exc).__name__}: {exc}")
            return self._session.send_error(event.message_id, internal)

    def _handler_failed(self, action: str, exc: Exception, what: str) -> None:
        self.handler_errors.append(exc)
        logger.warning("%s: %s %s failed", self.station_id, action, what, exc_info=exc)

    def _record(self, direction: Literal["sent", "received"], text: str) -> None:
        if direction == "sent":
            self._frames_sent += 1
        else:
            self._frames_received += 1
        self._frames.append(FrameRecord(direction, text, trio.current_time(), time.time()))

    def _wake_csms_call_waiters(self) -> None:
        self._csms_calls_changed.set()
        self._csms_calls_changed = trio.Event()

    def _mark_closed_from(self, reason: trio_websocket.CloseReason | None) -> None:
        if reason is None:
            self._mark_closed(None, None)
        else:
            self._mark_closed(reason.code, reason.reason)

    def _mark_closed(self, code: int | None, reason: str | None) -> None:
        """Record the close once and wake everything waiting on the CSMS."""
        if self._closed is not None:
            return
        self._closed = (code, reason)
        logger.debug("%s: websocket closed (%s, %r)", self.station_id, code, reason)
        self._closed_event.set()
        if self._pending is not None:
            self._pending.done.set()  # outcome stays None: closed
        if self._raw_waiter is not None:
            self._raw_waiter.done.set()
        self._wake_csms_call_waiters()

    def _raise_if_closed(self) -> None:
        if self._closed is not None:
            raise self._closed_error()

    def _closed_error(self) -> ConnectionClosed:
        code, reason = self._closed if self._closed is not None else (None, None)
        return ConnectionClosed(code, reason)

    # --- default handlers -------------------------------------------------------------------

    def _default_handlers(self) -> dict[type[Message], Handler[Any] | None]:
        """Answers for the CSMS CALLs the test catalogue sends; anything else: NotSupported."""
        return {
            **{request_type: constant_answer(answer) for request_type, answer in CONSTANT_ANSWERS},
            GetVariablesRequest: get_variables,
            SetVariablesRequest: set_variables,
            GetBaseReportRequest: self._get_base_report,
            TriggerMessageRequest: self._trigger_message,
        }

    def _get_base_report(self, request: GetBaseReportRequest) -> GetBaseReportResponse:
        # FR.05: Accepted first; the report follows as one NotifyReport (seqNo 0, no tbc).
        async def send_report() -> None:
            report = NotifyReportRequest(
                request_id=request.request_id,
                generated_at=_now(),
                seq_no=0,
                report_data=self._report_data(),
            )
            await self.call(report, NotifyReportResponse)

        self.after_reply(send_report)
        return GetBaseReportResponse(status=GenericDeviceModelStatusEnumType.Accepted)

    def _report_data(self) -> list[ReportDataType]:
        def actual(
            component: ComponentType, variable: str, value: str, mutability: MutabilityEnumType
        ) -> ReportDataType:
            attribute = VariableAttributeType(
                type=AttributeEnumType.Actual, value=value, mutability=mutability
            )
            return ReportDataType(
                component=component,
                variable=VariableType(name=variable),
                variable_attribute=[attribute],
            )

        station = ComponentType(name="ChargingStation")
        data = [
            actual(station, "AvailabilityState", "Available", MutabilityEnumType.ReadOnly),
            actual(station, "Model", self._boot_station.model, MutabilityEnumType.ReadOnly),
            actual(
                ComponentType(name="SecurityCtrlr"),
                "Identity",
                self.station_id[:2500],
                MutabilityEnumType.ReadWrite,
            ),
        ]
        for (evse_id, connector_id), status in sorted(self.connectors.items()):
            connector = ComponentType(
                name="Connector", evse=EVSEType(id=evse_id, connector_id=connector_id)
            )
            data.append(
                actual(connector, "AvailabilityState", status.value, MutabilityEnumType.ReadOnly)
            )
        return data

    def _trigger_message(self, request: TriggerMessageRequest) -> TriggerMessageResponse:
        # F06: answer first, then send the requested message (answer-before-act, so the
        # triggered CALL can't overtake the TriggerMessageResponse).
        wanted = request.requested_message
        if wanted is MessageTriggerEnumType.Heartbeat:
            self.after_reply(self.heartbeat)
        elif wanted is MessageTriggerEnumType.BootNotification:
            self.after_reply(self._triggered_boot)
        elif wanted is MessageTriggerEnumType.StatusNotification:
            targets = self._trigger_targets(request.evse)
            if not targets:
                return TriggerMessageResponse(status=TriggerMessageStatusEnumType.Rejected)
            self.after_reply(functools.partial(self._triggered_status, targets))
        else:
            return TriggerMessageResponse(status=TriggerMessageStatusEnumType.NotImplemented)
        return TriggerMessageResponse(status=TriggerMessageStatusEnumType.Accepted)

    async def _triggered_boot(self) -> BootNotificationResponse:
        request = BootNotificationRequest(
            charging_station=self._boot_station, reason=BootReasonEnumType.Triggered
        )
        self.boot_response = await self.call(request, BootNotificationResponse)
        return self.boot_response

    async def _triggered_status(
        self, targets: list[tuple[tuple[int, int], ConnectorStatusEnumType]]
    ) -> None:
        for (evse_id, connector_id), status in targets:
            await self.status_notification(evse_id, connector_id, status)

    def _trigger_targets(
        self, evse: EVSEType | msgspec.UnsetType
    ) -> list[tuple[tuple[int, int], ConnectorStatusEnumType]]:
        if isinstance(evse, msgspec.UnsetType):
            return sorted(self.connectors.items())
        if isinstance(evse.connector_id, int):
            key = (evse.id, evse.connector_id)
            return [(key, self.connectors.get(key, ConnectorStatusEnumType.Available))]
        known = sorted(item for item in self.connectors.items() if item[0][0] == evse.id)
        return known or [((evse.id, 1), ConnectorStatusEnumType.Available)]


_TRANSACTION_INFO_FIELDS: Final = frozenset(
    field.name for field in msgspec.structs.fields(TransactionType)
) - {"transaction_id"}


def _build_meter_value(
    energy_wh: float | None,
    power_w: float | None,
    context: ReadingContextEnumType | str | None,
    timestamp: datetime,
) -> MeterValueType:
    samples: list[SampledValueType] = []
    for value, measurand, unit in (
        (energy_wh, MeasurandEnumType.Energy_Active_Import_Register, "Wh"),
        (power_w, MeasurandEnumType.Power_Active_Import, "W"),
    ):
        if value is None:
            continue
        sample = SampledValueType(
            value=value, measurand=measurand, unit_of_measure=UnitOfMeasureType(unit=unit)
        )
        if context is not None:
            sample.context = ReadingContextEnumType(context)
        samples.append(sample)
    if not samples:
        raise ValueError("give meter_value, or at least one of energy_wh and power_w")
    return MeterValueType(sampled_value=samples, timestamp=timestamp)


# --- connecting ------------------------------------------------------------------------------


def station_url(url: str, station_id: str) -> str:
    """The URL a station with identity `station_id` connects to under CSMS endpoint `url`.

    Part 4 §3.1.1: the identity is appended as the last path segment, percent-encoded
    (`ws://host/ocpp` and "RDAM 123" give `ws://host/ocpp/RDAM%20123`).
    """
    parts = urllib.parse.urlsplit(url)
    path = parts.path.rstrip("/") + "/" + urllib.parse.quote(station_id, safe="")
    return urllib.parse.urlunsplit(parts._replace(path=path))


def basic_auth(username: str, password: str) -> bytes:
    """The value of an HTTP Basic `Authorization` header (RFC 7617, UTF-8)."""
    token = base64.b64encode(f"{username}:{password}".encode())
    return b"Basic " + token


@dataclass(frozen=True, slots=True)
class _Endpoint:
    """Where a `ws://` or `wss://` URL points: what the TCP connect and the request line need."""

    host: str
    port: int
    resource: str  # path (and query) of the request line
    host_header: str
    tls: bool


def _endpoint(url: str) -> _Endpoint:
    """Split a websocket URL.

    Raises:
        ValueError: not a `ws://` or `wss://` URL with a host.
    """
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("ws", "wss"):
        raise ValueError(f"not a ws:// or wss:// URL: {url!r}")
    if not parts.hostname:
        raise ValueError(f"the URL has no host: {url!r}")
    tls = parts.scheme == "wss"
    port = parts.port if parts.port is not None else (443 if tls else 80)
    resource = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    host = parts.hostname
    shown = f"[{host}]" if ":" in host else host  # an IPv6 literal
    host_header = shown if port == (443 if tls else 80) else f"{shown}:{port}"
    return _Endpoint(host, port, resource, host_header, tls)


async def _open_stream(
    endpoint: _Endpoint, ssl_context: ssl.SSLContext | None
) -> trio.SocketStream | trio.SSLStream[trio.SocketStream]:
    """TCP (and TLS) to the CSMS.

    Raises:
        ConnectFailed: the connection could not be made.
    """
    try:
        if not endpoint.tls:
            return await trio.open_tcp_stream(endpoint.host, endpoint.port)
        context = ssl.create_default_context() if ssl_context is None else ssl_context
        stream = await trio.open_ssl_over_tcp_stream(
            endpoint.host, endpoint.port, ssl_context=context, https_compatible=True
        )
    except OSError as exc:
        raise ConnectFailed(f"cannot connect to {endpoint.host}:{endpoint.port}: {exc}") from exc
    try:
        await stream.do_handshake()
    except (trio.BrokenResourceError, ssl.SSLError) as exc:
        await trio.aclose_forcefully(stream)
        raise ConnectFailed(f"TLS handshake with {endpoint.host} failed: {exc}") from exc
    except BaseException:  # cancelled mid-handshake (e.g. the connect deadline): no leak
        await trio.aclose_forcefully(stream)
        raise
    return stream


def _sole_error(group: BaseExceptionGroup[BaseException]) -> BaseException | None:
    """The one real error in a nursery's group (Cancelled aside), converted; else None."""
    leaves: list[BaseException] = []
    pending: list[BaseException] = [group]
    while pending:
        exc = pending.pop()
        if isinstance(exc, BaseExceptionGroup):
            pending.extend(exc.exceptions)
        elif not isinstance(exc, trio.Cancelled):
            leaves.append(exc)
    if len(leaves) != 1:
        return None
    (leaf,) = leaves
    if isinstance(leaf, trio_websocket.ConnectionRejected):
        refused = HandshakeRefused(leaf.status_code, leaf.headers, leaf.body)
        refused.__cause__ = leaf
        return refused
    if isinstance(leaf, trio_websocket.HandshakeError | trio.BrokenResourceError):
        failed = ConnectFailed(f"the websocket handshake failed: {leaf!r}")
        failed.__cause__ = leaf
        return failed
    return leaf


@asynccontextmanager
async def open_station(
    url: str,
    station_id: str,
    *,
    password: str | None = None,
    username: str | None = None,
    ssl_context: ssl.SSLContext | None = None,
    subprotocols: Sequence[str] = (OCPP201,),
    call_timeout: float = 30,
    connect_timeout: float = 10,
    disconnect_timeout: float = 5,
    extra_headers: Sequence[tuple[str, str]] = (),
    frame_log_size: int = DEFAULT_BUFFER,
    csms_call_buffer: int = DEFAULT_BUFFER,
    validate_outgoing: bool = True,
) -> AsyncIterator[SimStation]:
    """Connect one simulated station to a CSMS; the websocket is closed on exit.

    Args:
        url: the CSMS's OCPP-J endpoint (`ws://...` or `wss://...`), without the identity.
        station_id: the station's identity, appended percent-encoded (see `station_url`).
        password: if given, sends HTTP Basic auth (security profiles 1 and 2).
        username: the Basic-auth user name; defaults to `station_id`.
        ssl_context: for `wss://` URLs; None uses the system's default trust store.
        subprotocols: offered in Sec-WebSocket-Protocol, in order of preference.
        call_timeout: seconds `call` waits for an answer.
        connect_timeout: seconds for TCP, TLS and the websocket handshake together.
        disconnect_timeout: seconds for the closing handshake on exit.
        extra_headers: more handshake headers, as (name, value) strings.
        frame_log_size: how many frames `SimStation.frames` keeps.
        csms_call_buffer: how many unclaimed CSMS CALLs `next_csms_call` keeps.
        validate_outgoing: check our messages against their schemas before sending; turn
            off to send invalid typed messages (or use `call_raw`).

    Raises:
        HandshakeRefused: the CSMS answered the upgrade with an HTTP error status.
        NoSubprotocol: the CSMS agreed on none of `subprotocols`.
        ConnectFailed: no connection (refused, unreachable, TLS error, connect timeout).
        ValueError: `url` is not a ws:// or wss:// URL, or `ssl_context` was given for ws://.

    Resource handling: the simulator opens the TCP/TLS stream itself and closes it on every
    path. (trio-websocket's `open_websocket_url` leaves the socket open when the server
    refuses the upgrade, which `filterwarnings = error` turns into a test failure.)

    Error handling: an exception raised in the body propagates unchanged, not wrapped in an
    exception group. On exit the station's tasks are cancelled, then the websocket is
    closed (bounded by `disconnect_timeout`), then the stream.
    """
    target = station_url(url, station_id)
    endpoint = _endpoint(target)
    if ssl_context is not None and not endpoint.tls:
        raise ValueError("ssl_context is only used with wss:// URLs")
    headers = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in extra_headers]
    if password is not None:
        user = station_id if username is None else username
        headers.append((b"Authorization", basic_auth(user, password)))

    body_error: BaseException | None = None
    connect_deadline = trio.current_time() + connect_timeout
    with trio.move_on_at(connect_deadline) as connecting:
        stream = await _open_stream(endpoint, ssl_context)
    if connecting.cancelled_caught:
        raise ConnectFailed(f"no connection to {target} within {connect_timeout} s")
    try:
        # trio-websocket's reader runs in `io`; the station's own tasks in a nursery inside
        # it, so they can be cancelled while the reader still completes the close handshake.
        async with trio.open_nursery() as io:
            with trio.move_on_at(connect_deadline) as handshaking:
                ws = await trio_websocket.wrap_client_stream(
                    io,
                    stream,
                    endpoint.host_header,
                    endpoint.resource,
                    subprotocols=list(subprotocols),
                    extra_headers=headers,
                )
            if handshaking.cancelled_caught:
                raise ConnectFailed(f"no websocket handshake with {target} in {connect_timeout} s")
            station: SimStation | None = None
            try:
                if ws.subprotocol is None or ws.subprotocol not in subprotocols:
                    raise NoSubprotocol(subprotocols, ws.subprotocol)
                station = SimStation(
                    ws,
                    station_id,
                    call_timeout=call_timeout,
                    frame_log_size=frame_log_size,
                    csms_call_buffer=csms_call_buffer,
                    validate_outgoing=validate_outgoing,
                )
                async with trio.open_nursery() as tasks:
                    station._start(tasks)
                    try:
                        yield station
                    except BaseException as exc:
                        # Re-raised once everything is closed, so it is not wrapped in a group.
                        body_error = exc
                    finally:
                        tasks.cancel_scope.cancel()
            finally:
                if station is not None:
                    station._mark_closed(1000, "closed by the simulator")
                with trio.move_on_after(disconnect_timeout):
                    await ws.aclose()
                io.cancel_scope.cancel()
    except BaseExceptionGroup as group:
        error = _sole_error(group)
        if error is None:
            raise
        raise error from error.__cause__
    finally:
        await trio.aclose_forcefully(stream)
    if body_error is not None:
        raise body_error
