"""One station's websocket connection: reads frames, runs handlers, sends CSMS CALLs.

Each connection runs in its own nursery with two tasks: the reader (this module's hot path)
and the sender of CSMS-initiated CALLs. The reader handles one message at a time, as OCPP-J
intends (a station waits for each answer): parse and validate (`RpcSession.receive`), check the
registration state, run the handler under its deadline, send the answer. There is no channel
hop per message. CSMS CALLs queue in a bounded channel and go out one at a time (Part 4
§4.1.1); their answers are picked up by the reader and handed to the waiting caller.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import trio

from .errors import CallError, CallRefused, CallTimeout, ConnectionLost, InvalidResponse
from .frame_log import FrameLog
from .handlers import HANDLERS, StationContext
from .logs import MESSAGE_ID
from .messages import (
    ACTION_BY_REQUEST,
    BootNotificationResponse,
    Message,
    MessageTriggerEnumType,
    TriggerMessageRequest,
)
from .metrics import Metrics
from .rpc import (
    AnswerIgnored,
    CallErrorReceived,
    CallReceived,
    CallResponseInvalid,
    CallResultReceived,
    ErrorCode,
    FrameRejected,
    OcppError,
    RpcSession,
)
from .ws.connection import ConnectionClosed, WsConnection

log = logging.getLogger(__name__)

# What a station may send before its boot is Accepted (B02/B03, Part 2 FR.04 and its errata):
# BootNotification always; while Pending also the reports the CSMS asked for and whatever it
# triggered with TriggerMessage.
_PENDING_INCOMING = frozenset({"BootNotification", "NotifyReport", "NotifyMonitoringReport"})
# What the CSMS may send before the boot is Accepted (B02.FR.02/.03): reading and writing the
# device model, reports, and TriggerMessage (to get a new BootNotification, TC_B_31).
_PENDING_OUTGOING = frozenset(
    {"GetBaseReport", "GetReport", "GetVariables", "SetVariables", "TriggerMessage"}
)
_REJECTED_OUTGOING = frozenset({"TriggerMessage"})
# The CALL a TriggerMessage asks for (F06).
_TRIGGERED_ACTION = {
    MessageTriggerEnumType.BootNotification: "BootNotification",
    MessageTriggerEnumType.LogStatusNotification: "LogStatusNotification",
    MessageTriggerEnumType.FirmwareStatusNotification: "FirmwareStatusNotification",
    MessageTriggerEnumType.Heartbeat: "Heartbeat",
    MessageTriggerEnumType.MeterValues: "MeterValues",
    MessageTriggerEnumType.SignChargingStationCertificate: "SignCertificate",
    MessageTriggerEnumType.SignV2GCertificate: "SignCertificate",
    MessageTriggerEnumType.StatusNotification: "StatusNotification",
    MessageTriggerEnumType.TransactionEvent: "TransactionEvent",
    MessageTriggerEnumType.SignCombinedCertificate: "SignCertificate",
    MessageTriggerEnumType.PublishFirmwareStatusNotification: "PublishFirmwareStatusNotification",
}
TOUCH_INTERVAL = 1.0
"""Seconds between `last_seen` updates of one station (it is advisory; messages are many)."""
OUTBOUND_QUEUE = 64
"""CSMS CALLs that may wait for one station; more are refused rather than queued unboundedly."""


@dataclass(eq=False)
class _PendingCall:
    """A CSMS CALL from the moment it is queued until its answer or failure."""

    request: Message
    deadline: float
    done: trio.Event = field(default_factory=trio.Event)
    response: Message | None = None
    error: Exception | None = None
    abandoned: bool = False

    def finish(self, response: Message | None = None, error: Exception | None = None) -> None:
        if not self.done.is_set():
            self.response, self.error = response, error
            self.done.set()


class AnswerWatchdog:
    """Holds every connection to its answer deadline with one task for all of them.

    Why not `trio.move_on_after` around each handler: a cancel scope with a deadline costs
    Trio about 17 us per CALL (tens of Python calls and a deadline-heap entry), a tenth of a
    whole answer. A deadline here costs two dict operations; the price is precision: an
    overrun is noticed within `resolution` seconds (deadlines are tens of seconds).
    """

    def __init__(self, resolution: float = 0.05) -> None:
        self.resolution = resolution
        self._due: dict[StationConnection, float] = {}

    def watch(self, connection: StationConnection, due: float) -> None:
        self._due[connection] = due

    def release(self, connection: StationConnection) -> None:
        self._due.pop(connection, None)

    async def run(self) -> None:
        """Cancel the handler of every connection whose answer is overdue, until cancelled."""
        while True:
            await trio.sleep(self.resolution)
            now = trio.current_time()
            overdue = [connection for connection, due in self._due.items() if due <= now]
            for connection in overdue:
                del self._due[connection]
                connection.answer_overdue()


class StationConnection:
    """The CSMS side of one station's websocket.

    Args:
        ws: the accepted websocket.
        ctx: the handlers' context; its `sender` is set to this connection.
        metrics: where observations go.
        watchdog: enforces `answer_deadline` / `authorize_deadline` (its task must run).
        call_timeout: default seconds a CSMS CALL waits for its answer.
        answer_deadline / authorize_deadline: seconds to answer a station CALL.
        frame_log: where recent frames are recorded, or None.
    """

    def __init__(
        self,
        ws: WsConnection,
        ctx: StationContext,
        metrics: Metrics,
        watchdog: AnswerWatchdog,
        *,
        frame_log: FrameLog | None = None,
        call_timeout: float,
        answer_deadline: float,
        authorize_deadline: float,
    ) -> None:
        self.ws = ws
        self.ctx = ctx
        self.station_id = ctx.station_id
        self.metrics = metrics
        self.watchdog = watchdog
        self.call_timeout = call_timeout
        self.answer_deadline = answer_deadline
        self.authorize_deadline = authorize_deadline
        self.session = RpcSession()
        self.frame_log = frame_log
        self.closed = trio.Event()
        self._outbound_send, self._outbound_receive = trio.open_memory_channel[_PendingCall](
            OUTBOUND_QUEUE
        )
        self._current: _PendingCall | None = None
        # The station CALL being answered and the scope its handler runs in (see _read_frames).
        self._answering: CallReceived | None = None
        self._handlers_scope: trio.CancelScope | None = None
        self._after_answer: list[Callable[[], Awaitable[None]]] = []
        self._nursery: trio.Nursery | None = None
        self._next_touch = -math.inf
        ctx.sender = self

    # --- running --------------------------------------------------------------------------

    async def run(self) -> None:
        """Serve the connection until the socket closes.

        Cancellation: cancelling `run` closes nothing by itself; the server closes the socket.
        Every queued or outstanding CSMS CALL fails with ConnectionLost when it returns.
        """
        try:
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                nursery.start_soon(self._send_calls)
                await self._read_frames()
                nursery.cancel_scope.cancel()
        finally:
            self.closed.set()
            self._fail_all(ConnectionLost(f"{self.station_id}: connection closed"))

    async def _read_frames(self) -> None:
        """Serve frames until the socket closes. The loop runs in a cancel scope that only the
        watchdog cancels, when a handler overruns its deadline; the CALL then gets its
        CALLERROR and the loop goes on in a new scope."""
        while True:
            with trio.CancelScope() as self._handlers_scope:
                await self._serve_frames()
                return
            await self._answer_overran()

    async def _serve_frames(self) -> None:
        while True:
            try:
                data = await self.ws.get_message()
            except ConnectionClosed:
                return
            if self.frame_log is not None:
                self.frame_log.record("in", data)
            now = trio.current_time()
            if now >= self._next_touch:  # last_seen, at most once a second per station
                self._next_touch = now + TOUCH_INTERVAL
                await self.ctx.store.touch_station(self.station_id, self.ctx.now())
            await self._handle(data)

    def answer_overdue(self) -> None:
        """The watchdog: the handler now running took too long; stop it."""
        if self._answering is not None and self._handlers_scope is not None:
            self._handlers_scope.cancel()

    def _deadline_for(self, action: str) -> float:
        """Seconds to answer a station CALL: a driver waits for Authorize, so it has its own."""
        return self.authorize_deadline if action == "Authorize" else self.answer_deadline

    async def _answer_overran(self) -> None:
        event, self._answering = self._answering, None
        if event is None:
            return
        action = event.action
        deadline = self._deadline_for(action)
        self.metrics.timeouts.labels("answer", action).inc()
        overran = OcppError(ErrorCode.InternalError, f"no answer within {deadline:g} s")
        await self._send_error(event, overran, "timeout")

    async def _handle(self, data: bytes) -> None:
        event = self.session.receive(data)
        if isinstance(event, CallReceived):
            await self._answer(event)
        elif isinstance(event, CallResultReceived):
            self._deliver(event.action, event.response, None)
        elif isinstance(event, CallErrorReceived):
            error = CallError(event.code, event.description, event.details)
            self.metrics.callerrors.labels(event.code, "received").inc()
            self._deliver(event.action, None, error)
        elif isinstance(event, CallResponseInvalid):
            invalid = InvalidResponse(event.error.code.value, event.error.description, {})
            self._deliver(event.action, None, invalid)
            await self._send_reply(event.reply, event.error)
        elif isinstance(event, AnswerIgnored):
            log.debug("%s late or unknown answer %s ignored", self.station_id, event.message_id)
        elif isinstance(event, FrameRejected):
            log.info("%s rejected frame %s: %s", self.station_id, event.message_id, event.error)
            await self._send_reply(event.reply, event.error)

    async def _send_reply(self, reply: bytes | None, error: OcppError) -> None:
        if reply is not None:
            self.metrics.callerrors.labels(error.code.value, "sent").inc()
            await self._send(reply)

    # --- answering the station --------------------------------------------------------------

    async def _answer(self, event: CallReceived) -> None:
        token = MESSAGE_ID.set(event.message_id)  # for the log lines of this CALL
        try:
            await self._answer_call(event)
        finally:
            MESSAGE_ID.reset(token)

    async def _answer_call(self, event: CallReceived) -> None:
        started = time.perf_counter()
        action = event.action
        if not self._may_receive(action):
            refusal = OcppError(
                ErrorCode.SecurityError,
                f"{action} is not allowed before the BootNotification is Accepted",
            )
            await self._send_error(event, refusal, "refused")
            return
        deadline = self._deadline_for(action)
        self._answering = event
        self.watchdog.watch(self, trio.current_time() + deadline)
        try:
            frame = await self._run_handler(event)  # an overrun ends here: see _read_frames
        finally:
            self.watchdog.release(self)
        if self._handlers_scope is not None and self._handlers_scope.cancel_called:
            # Overdue all the same (the handler was in a wait that cannot be cancelled): the
            # answer is dropped here, before any write could be cut short.
            await trio.lowlevel.checkpoint()
        self._answering = None
        await self._send(frame)
        self.metrics.answered(action, time.perf_counter() - started)
        self._start_after_answer()

    async def _run_handler(self, event: CallReceived) -> bytes:
        """The frame answering `event`: its handler's result, or a CALLERROR."""
        try:
            response = await HANDLERS[event.action](self.ctx, event.request)
            frame = self.session.send_result(event.message_id, response)
            if isinstance(response, BootNotificationResponse):
                self.metrics.boot_answers.labels(response.status.value).inc()
            return frame
        except OcppError as error:
            return self._error_frame(event, error)
        except Exception:
            log.exception(
                "%s %s handler failed (%s)", self.station_id, event.action, event.message_id
            )
            return self._error_frame(event, OcppError(ErrorCode.InternalError, "handler failed"))

    def _error_frame(self, event: CallReceived, error: OcppError) -> bytes:
        self.metrics.callerrors.labels(error.code.value, "sent").inc()
        self.metrics.messages.labels(event.action, "in", "error").inc()
        self._after_answer.clear()
        return self.session.send_error(event.message_id, error)

    async def _send_error(self, event: CallReceived, error: OcppError, outcome: str) -> None:
        self.metrics.callerrors.labels(error.code.value, "sent").inc()
        self.metrics.messages.labels(event.action, "in", outcome).inc()
        self._after_answer.clear()
        await self._send(self.session.send_error(event.message_id, error))

    def _may_receive(self, action: str) -> bool:
        registration = self.ctx.registration
        if registration.status == "Accepted" or action == "BootNotification":
            return True
        if registration.status != "Pending":
            return False
        if action in registration.triggered:
            registration.triggered.discard(action)  # a trigger admits one message, not all
            return True
        return action in _PENDING_INCOMING

    def after_answer(self, work: Callable[[], Awaitable[None]]) -> None:
        """Run `work` in this connection once the current answer is sent."""
        self._after_answer.append(work)

    def _start_after_answer(self) -> None:
        if self._after_answer and self._nursery is not None:
            for work in self._after_answer:
                self._nursery.start_soon(work)
        self._after_answer.clear()

    # --- calling the station ----------------------------------------------------------------

    async def call(self, request: Message, timeout: float | None = None) -> Message:  # noqa: ASYNC109
        """Send a CALL to the station and return its answer.

        The timeout (default `call_timeout`) covers the wait in the queue and for the answer.

        Raises:
            CallRefused: not allowed in the station's registration state, or the queue is full.
            CallTimeout: no answer in time (the CALL is abandoned; a late answer is dropped).
            CallError: the station answered with a CALLERROR (InvalidResponse: malformed answer).
            ConnectionLost: the socket closed first.
            OcppError: the request breaks its schema (InternalError); nothing was sent.
        """
        if self.closed.is_set():
            raise ConnectionLost(f"{self.station_id}: connection closed")
        self._check_allowed(request)
        limit = self.call_timeout if timeout is None else timeout
        pending = _PendingCall(request, trio.current_time() + limit)
        try:
            self._outbound_send.send_nowait(pending)
        except trio.WouldBlock:
            raise CallRefused(f"{self.station_id}: {OUTBOUND_QUEUE} CALLs already queued") from None
        with trio.move_on_at(pending.deadline):
            await pending.done.wait()
        if not pending.done.is_set():
            pending.abandoned = True
            raise CallTimeout(f"{self.station_id}: no answer within {limit:g} s")
        if pending.error is not None:
            raise pending.error
        assert pending.response is not None
        return pending.response

    def _check_allowed(self, request: Message) -> None:
        spec = ACTION_BY_REQUEST.get(type(request))
        action = spec.action if spec is not None else type(request).__name__
        status = self.ctx.registration.status
        if status == "Accepted":
            return
        allowed = _REJECTED_OUTGOING if status == "Rejected" else _PENDING_OUTGOING
        if action not in allowed:
            state = status or "not done"
            raise CallRefused(
                f"{self.station_id}: {action} may not be sent while the boot is {state}"
            )
        if isinstance(request, TriggerMessageRequest):
            self.ctx.registration.triggered.add(_TRIGGERED_ACTION[request.requested_message])

    async def _send_calls(self) -> None:
        async for pending in self._outbound_receive:
            if pending.abandoned:
                continue
            try:
                outgoing, frame = self.session.send_call(pending.request)
            except OcppError as error:
                pending.finish(error=error)
                continue
            self._current = pending
            sent = time.perf_counter()
            await self._send(frame)
            with trio.move_on_at(pending.deadline):
                await pending.done.wait()
            self._current = None
            if not pending.done.is_set():
                self.session.abandon_call(outgoing.message_id)
                self.metrics.timeouts.labels("call", outgoing.action).inc()
                pending.finish(error=CallTimeout(f"{self.station_id}: {outgoing.action} timed out"))
            else:
                elapsed = time.perf_counter() - sent
                self.metrics.round_trip_seconds.labels(outgoing.action).observe(elapsed)

    def _deliver(self, action: str, response: Message | None, error: Exception | None) -> None:
        """Hand the answer to the waiting caller (the session has matched its MessageId)."""
        pending = self._current
        if pending is not None:
            self.metrics.messages.labels(action, "out", "ok" if error is None else "error").inc()
            pending.finish(response, error)

    def _fail_all(self, error: Exception) -> None:
        if self._current is not None:
            self._current.finish(error=error)
        while True:
            try:
                self._outbound_receive.receive_nowait().finish(error=error)
            except (trio.WouldBlock, trio.EndOfChannel, trio.ClosedResourceError):
                break

    # --- the socket -------------------------------------------------------------------------

    async def _send(self, frame: bytes) -> None:
        """Write one OCPP-J frame (a websocket text message, Part 4 §4.1.2)."""
        if self.frame_log is not None:
            self.frame_log.record("out", frame)
        with contextlib.suppress(ConnectionClosed):  # the reader sees the close and ends
            await self.ws.send_message(frame)

    async def close(self, code: int = 1000, reason: str = "") -> None:
        with trio.move_on_after(5):
            await self.ws.aclose(code, reason)
