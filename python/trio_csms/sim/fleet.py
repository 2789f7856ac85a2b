"""A fleet of simulated charging stations in one process, for load tests, benchmarks and demos.

`Fleet(options).run()` connects `count` stations to a CSMS (ids `prefix` + zero-padded number,
Basic auth, optional TLS), boots them, runs a scenario (`sim.scenarios`) for `duration`
seconds, closes them, and returns a `FleetReport`: per-action latency histograms, connection
failures, boot statuses, throughput.

Theory of operation, built for tens of thousands of connections and tens of thousands of
calls per second on one core:

- Each station is one task, blocked reading its socket (`sim.wsclient`, no trio-websocket);
  it wakes only when the CSMS sends something. Its state is a small `__slots__` object.
- A station sends its next CALL from the task that learns it may: the reader, when the last
  CALL is answered (closed loop, and paced steps without a pause); the fleet's one timer task,
  when a pause of the scenario ends (paced mode, a heap of due times); the pacer task, which
  hands out calls at a fixed total rate to the stations that are ready (rate mode). There is
  no per-station timer, so an idle station costs no wake-ups.
- One ticker task, once a second, reports progress and expires CALLs that got no answer
  within `call_timeout` (a scan, cheaper than a timer per CALL).
- Latency is the time from sending a CALL to reading its answer; in rate mode it is counted
  from the CALL's scheduled time, so a simulator or server that falls behind shows up in the
  figures instead of silently lowering the rate. A scheduled CALL that finds no free station
  waits for the next one (up to `_BACKLOG_SECONDS` of them; beyond, it is counted missed).
"""

from __future__ import annotations

import contextlib
import heapq
import math
import random
import ssl
import urllib.parse
from collections import Counter, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final, Literal

import trio

from ..messages import (
    AttributeEnumType,
    AuthorizeResponse,
    BootNotificationRequest,
    BootNotificationResponse,
    BootReasonEnumType,
    ChargingStationType,
    ComponentType,
    ConnectorStatusEnumType,
    GenericDeviceModelStatusEnumType,
    GetBaseReportRequest,
    GetBaseReportResponse,
    GetVariablesRequest,
    HeartbeatRequest,
    Message,
    MessageTriggerEnumType,
    MutabilityEnumType,
    NotifyReportRequest,
    RegistrationStatusEnumType,
    ReportDataType,
    SetVariablesRequest,
    StatusNotificationRequest,
    TriggerMessageRequest,
    TriggerMessageResponse,
    TriggerMessageStatusEnumType,
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
    RpcSession,
)
from .answers import CONSTANT_ANSWERS, constant_answer, get_variables, set_variables
from .histogram import LatencyHistogram
from .scenarios import ScenarioOptions, Script, script
from .station import OCPP201, ConnectFailed, HandshakeRefused, basic_auth
from .wsclient import WsClient, WsClosed, open_ws

__all__ = [
    "MODES",
    "ActionReport",
    "Fleet",
    "FleetOptions",
    "FleetReport",
    "Mode",
    "Progress",
    "WindowReport",
]

Mode = Literal["paced", "closed", "rate"]
MODES: Final[tuple[Mode, ...]] = ("paced", "closed", "rate")

_BACKLOG_SECONDS: Final = 10.0  # rate mode: how far behind schedule CALLs may queue
_RETRY_BOOT: Final = 10.0  # seconds before a station whose boot failed tries again
_PERCENTILES: Final = (50.0, 90.0, 99.0, 99.9)
_MODEL: Final = ChargingStationType(model="FleetSim", vendor_name="trio-csms")

_Handler = Callable[[Any], Message]
_ANSWERS: Final[dict[type[Message], _Handler]] = {
    **{request_type: constant_answer(answer) for request_type, answer in CONSTANT_ANSWERS},
    GetVariablesRequest: get_variables,
    SetVariablesRequest: set_variables,
}


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class FleetOptions:
    """What to simulate.

    Attributes:
        url: the CSMS's OCPP-J endpoint (`ws://host:port/ocpp`, or `wss://`), without the id.
        count: how many stations.
        first: the number of the first station; ids are `prefix` + number, zero-padded to
            `digits` (run several processes with different `first` for more stations).
        prefix, digits: see `first`.
        password: the Basic-auth password of every station; None sends no Authorization.
        passwords: per-station passwords (by station id); they win over `password`.
        ssl_context: for `wss://` URLs (None: the system's trust store).
        scenario: what the stations do once booted.
        mode: "paced" follows the scenario's pauses; "closed" sends each station's next CALL
            as soon as the last is answered (throughput); "rate" sends `rate` CALLs per
            second in total, to whichever stations are free (latency at a given load); a
            CALL that finds none free goes to the next station to be free.
        rate: CALLs per second in "rate" mode.
        duration: seconds from the start until the stations are closed.
        connect_rate: new connections per second; 0 opens them as fast as `connect_concurrency`
            allows.
        connect_concurrency: connections (TCP, TLS and websocket handshake) in progress at once.
        connect_timeout: seconds a connection may take before it counts as failed.
        call_timeout: seconds a CALL may wait for its answer before it counts as timed out.
        close_timeout: seconds the closing handshakes may take at the end.
        seed: for the random pauses and meter readings; None: different every run.
        until_booted: end the run as soon as every station is Accepted (a boot storm's
            measure), or at `duration` if that comes first.
        steady_seconds: end the run this many seconds after the steady phase began (every
            station booted or failed), so a measurement does not depend on how long the
            connections took; `duration` still bounds the whole run.
        windows: with `steady_seconds`, measure this many consecutive windows of that length
            on the same connections, each reported on its own (`FleetReport.windows`):
            repeated measurements without reconnecting a large fleet.
    """

    url: str
    count: int
    first: int = 1
    prefix: str = "SIM"
    digits: int = 5
    password: str | None = None
    passwords: Mapping[str, str] | None = None
    ssl_context: ssl.SSLContext | None = None
    scenario: ScenarioOptions = field(default_factory=ScenarioOptions)
    mode: Mode = "paced"
    rate: float = 0.0
    duration: float = 10.0
    connect_rate: float = 0.0
    connect_concurrency: int = 1000
    connect_timeout: float = 30.0
    call_timeout: float = 30.0
    close_timeout: float = 5.0
    seed: int | None = None
    until_booted: bool = False
    steady_seconds: float | None = None
    windows: int = 1

    def __post_init__(self) -> None:
        parts = urllib.parse.urlsplit(self.url)
        if parts.scheme not in ("ws", "wss") or not parts.hostname:
            raise ValueError(f"not a ws:// or wss:// URL with a host: {self.url!r}")
        if self.ssl_context is not None and parts.scheme != "wss":
            raise ValueError("a TLS context (CA file) needs a wss:// URL")
        if self.count < 1 or self.first < 0 or self.digits < 1:
            raise ValueError("count must be at least 1, first not negative, digits at least 1")
        if self.mode not in MODES:
            raise ValueError(f"unknown mode {self.mode!r}; choose one of {list(MODES)}")
        if self.mode == "rate" and not self.rate > 0:
            raise ValueError("rate mode needs a rate (calls per second) above 0")
        if not self.duration > 0 or self.connect_rate < 0 or self.connect_concurrency < 1:
            raise ValueError("duration must be positive, the connect rate and concurrency too")
        if not (self.connect_timeout > 0 and self.call_timeout > 0 and self.close_timeout > 0):
            raise ValueError("timeouts must be positive")
        if self.steady_seconds is not None and not self.steady_seconds > 0:
            raise ValueError("the steady phase's length must be positive")
        if self.windows < 1 or (self.windows > 1 and self.steady_seconds is None):
            raise ValueError("windows must be at least 1, and more than 1 needs steady_seconds")

    def station_id(self, number: int) -> str:
        """The identity of station `number`."""
        return f"{self.prefix}{number:0{self.digits}d}"

    @property
    def station_ids(self) -> list[str]:
        """Every station's identity, in order."""
        return [self.station_id(n) for n in range(self.first, self.first + self.count)]


# --- statistics ------------------------------------------------------------------------------


class _ActionStats:
    __slots__ = ("errors", "histogram", "invalid", "timeouts")

    def __init__(self) -> None:
        self.histogram = LatencyHistogram()
        self.errors = 0  # answered with a CALLERROR
        self.invalid = 0  # answered with something that broke the schema or the framing
        self.timeouts = 0  # not answered within call_timeout

    def merge(self, other: _ActionStats) -> None:
        self.histogram.merge(other.histogram)
        self.errors += other.errors
        self.invalid += other.invalid
        self.timeouts += other.timeouts

    @property
    def failed(self) -> int:
        return self.errors + self.invalid + self.timeouts


@dataclass(frozen=True, slots=True)
class Progress:
    """A snapshot for the live progress line."""

    elapsed: float
    connecting: int
    connected: int
    accepted: int
    count: int
    calls_per_second: float
    errors: int

    def line(self) -> str:
        return (
            f"[{self.elapsed:7.1f}s] connected {self.connected}/{self.count}"
            f" (connecting {self.connecting}), booted {self.accepted},"
            f" {self.calls_per_second:,.0f} calls/s, errors {self.errors}"
        )


@dataclass(frozen=True, slots=True)
class ActionReport:
    """The CALLs of one action: how many, how they ended, and their round-trip times (s)."""

    action: str
    count: int
    errors: int
    invalid: int
    timeouts: int
    min: float
    mean: float
    percentiles: dict[float, float]
    max: float

    def to_json(self) -> dict[str, object]:
        data: dict[str, object] = {
            "count": self.count,
            "errors": self.errors,
            "invalid": self.invalid,
            "timeouts": self.timeouts,
            "minMs": _ms(self.min),
            "meanMs": _ms(self.mean),
        }
        data.update({f"p{p:g}Ms": _ms(v) for p, v in self.percentiles.items()})
        data["maxMs"] = _ms(self.max)
        return data


def _ms(seconds: float) -> float | None:
    return None if math.isnan(seconds) else round(seconds * 1000, 3)


@dataclass(frozen=True, slots=True)
class WindowReport:
    """One measuring window of the steady phase (`FleetOptions.windows`)."""

    start: float  # seconds from the start of the run
    seconds: float
    calls: int
    missed: int
    actions: list[ActionReport]

    @property
    def calls_per_second(self) -> float:
        return self.calls / self.seconds if self.seconds > 0 else 0.0

    def to_json(self) -> dict[str, object]:
        return {
            "startSeconds": round(self.start, 3),
            "seconds": round(self.seconds, 3),
            "calls": self.calls,
            "callsPerSecond": round(self.calls_per_second, 1),
            "missedCalls": self.missed,
            "actions": {a.action: a.to_json() for a in self.actions},
        }


@dataclass(frozen=True, slots=True)
class FleetReport:
    """What a fleet run measured; `to_json` for scripts, `format_table` for people.

    Times are seconds from the start of the run. The steady phase begins once every station
    has connected and had its first boot answer (or failed); calls per second are measured
    over it.
    """

    options: FleetOptions
    elapsed: float
    connected: int
    connect_failures: dict[str, tuple[int, str]]
    disconnects: dict[str, tuple[int, str]]
    boot_statuses: dict[str, int]
    accepted: int
    all_connected_after: float | None
    all_accepted_after: float | None
    steady_from: float | None
    steady_calls: int
    calls: int
    queued: int
    missed: int
    unanswered: int
    frames_rejected: int
    csms_calls: dict[str, int]
    authorize_statuses: dict[str, int]
    actions: list[ActionReport]
    connect_latency: ActionReport
    windows: list[WindowReport] = field(default_factory=list)

    @property
    def calls_per_second(self) -> float:
        if self.steady_from is None or self.elapsed - self.steady_from <= 0:
            return 0.0
        return self.steady_calls / (self.elapsed - self.steady_from)

    @property
    def errors(self) -> int:
        """Everything that went wrong: failed connections, dropped ones, bad or no answers."""
        return (
            sum(count for count, _ in self.connect_failures.values())
            + sum(count for count, _ in self.disconnects.values())
            + sum(a.errors + a.invalid + a.timeouts for a in self.actions)
            + self.frames_rejected
        )

    @property
    def ok(self) -> bool:
        """No errors, every station Accepted, and no CALL the pacer could not place."""
        return not self.errors and self.accepted == self.options.count and not self.missed

    def to_json(self) -> dict[str, object]:
        options = self.options
        return {
            "scenario": options.scenario.name,
            "mode": options.mode,
            "rate": options.rate if options.mode == "rate" else None,
            "stations": options.count,
            "firstStation": options.station_id(options.first),
            "lastStation": options.station_id(options.first + options.count - 1),
            "elapsedSeconds": round(self.elapsed, 3),
            "connected": self.connected,
            "connectFailures": _failures_json(self.connect_failures),
            "disconnects": _failures_json(self.disconnects),
            "bootStatuses": self.boot_statuses,
            "accepted": self.accepted,
            "allConnectedSeconds": _round(self.all_connected_after),
            "bootStormSeconds": _round(self.all_accepted_after),
            "steadyFromSeconds": _round(self.steady_from),
            "calls": self.calls,
            "callsPerSecond": round(self.calls_per_second, 1),
            "queuedCalls": self.queued,
            "missedCalls": self.missed,
            "unansweredAtEnd": self.unanswered,
            "framesRejected": self.frames_rejected,
            "errors": self.errors,
            "csmsCalls": self.csms_calls,
            "authorizeStatuses": self.authorize_statuses,
            "connect": self.connect_latency.to_json(),
            "actions": {a.action: a.to_json() for a in self.actions},
            "windows": [window.to_json() for window in self.windows],
        }

    def format_table(self) -> str:
        options = self.options
        first = options.station_id(options.first)
        last = options.station_id(options.first + options.count - 1)
        mode = {"paced": "paced", "closed": "closed loop", "rate": f"{options.rate:g} calls/s"}
        lines = [
            f"{options.count} stations ({first}..{last}), scenario {options.scenario.name},"
            f" {mode[options.mode]}, {self.elapsed:.1f} s",
            f"connected {self.connected}/{options.count}"
            + (
                f", all within {self.all_connected_after:.2f} s"
                if self.all_connected_after is not None
                else ""
            ),
            "boot storm: "
            + (
                f"all {options.count} Accepted within {self.all_accepted_after:.2f} s"
                if self.all_accepted_after is not None
                else f"{self.accepted}/{options.count} Accepted"
            )
            + (f" ({_counts(self.boot_statuses)})" if self.boot_statuses else ""),
            f"calls answered {self.calls:,}; steady phase {self.calls_per_second:,.0f} calls/s;"
            f" errors {self.errors}",
        ]
        for title, failures in (
            ("connect failures", self.connect_failures),
            ("disconnects", self.disconnects),
        ):
            for reason, (count, example) in sorted(failures.items()):
                lines.append(f"{title}: {count} x {reason} (e.g. {example})")
        if self.queued:
            lines.append(f"{self.queued} scheduled calls waited for a free station")
        if self.missed:
            lines.append(f"missed {self.missed} scheduled calls: the backlog was full")
        if self.unanswered:
            lines.append(f"CALLs in flight when the run ended: {self.unanswered}")
        if self.frames_rejected:
            lines.append(f"{self.frames_rejected} frames from the CSMS were rejected")
        for number, window in enumerate(self.windows, 1):
            worst = max((a.percentiles[99.0] for a in window.actions), default=math.nan)
            lines.append(
                f"window {number}: {window.seconds:.1f} s, {window.calls_per_second:,.0f} calls/s,"
                f" worst action p99 {_fmt_ms(worst)} ms, missed {window.missed}"
            )
        if self.csms_calls:
            lines.append(f"CSMS calls answered: {_counts(self.csms_calls)}")
        if self.authorize_statuses:
            lines.append(f"Authorize answers: {_counts(self.authorize_statuses)}")
        lines.append("")
        header = f"{'action':<20} {'count':>9} {'errors':>6}"
        header += "".join(f" {'p' + format(p, 'g'):>8}" for p in _PERCENTILES) + f" {'max':>8}"
        lines.append(header + "  (ms)")
        for row in [*self.actions, self.connect_latency]:
            if not row.count and row is self.connect_latency:
                continue
            failed = row.errors + row.invalid + row.timeouts
            text = f"{row.action:<20} {row.count:>9,} {failed:>6}"
            text += "".join(f" {_fmt_ms(row.percentiles[p]):>8}" for p in _PERCENTILES)
            lines.append(text + f" {_fmt_ms(row.max):>8}")
        return "\n".join(lines)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _fmt_ms(seconds: float) -> str:
    return "-" if math.isnan(seconds) else f"{seconds * 1000:.2f}"


def _counts(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{key} {value}" for key, value in sorted(counts.items()))


def _failures_json(failures: Mapping[str, tuple[int, str]]) -> dict[str, object]:
    return {
        reason: {"count": count, "example": example}
        for reason, (count, example) in sorted(failures.items())
    }


def _action_report(action: str, stats: _ActionStats) -> ActionReport:
    histogram = stats.histogram
    return ActionReport(
        action=action,
        count=histogram.count,
        errors=stats.errors,
        invalid=stats.invalid,
        timeouts=stats.timeouts,
        min=histogram.min,
        mean=histogram.mean,
        percentiles={p: histogram.percentile(p) for p in _PERCENTILES},
        max=histogram.max,
    )


# --- one station -----------------------------------------------------------------------------


class _Station:
    """One connected station of the fleet: its RPC state and where it is in its script.

    At most one CALL is outstanding (`action` is set). `waiting` means the script asked for a
    pause (paced) or the pacer decides when it goes on (rate); `due` is then set by the timer or
    the pacer, and the next CALL leaves as soon as none is outstanding.
    """

    __slots__ = (
        "accepted",
        "action",
        "boot_answered",
        "due",
        "fleet",
        "follow_ups",
        "number",
        "script",
        "sent_at",
        "session",
        "station_id",
        "status",
        "waiting",
        "ws",
    )

    def __init__(self, fleet: Fleet, number: int, station_id: str, ws: WsClient) -> None:
        self.fleet = fleet
        self.number = number
        self.station_id = station_id
        self.ws = ws
        self.session = RpcSession(Role.CHARGING_STATION, validate_outgoing=False)
        self.accepted = False
        self.boot_answered = False  # had an answer (or a timeout) to its first boot
        self.action: str | None = None
        self.sent_at = 0.0
        self.script: Script | None = None
        self.waiting = False
        self.due: float | None = None
        # CALLs the CSMS asked for (TriggerMessage, GetBaseReport), sent before the script's.
        self.follow_ups: deque[Message] | None = None
        self.status = ConnectorStatusEnumType.Available

    async def run(self) -> None:
        """Boot, then read until the connection closes; raises `WsClosed` then."""
        await self.boot(BootReasonEnumType.PowerUp)
        while True:
            for text in await self.ws.receive():
                await self._on_text(text)

    async def boot(self, reason: BootReasonEnumType) -> None:
        await self._call(BootNotificationRequest(charging_station=_MODEL, reason=reason), None)

    async def fire(self, at: float) -> None:
        """The timer or the pacer says: the next step is due (scheduled for `at`)."""
        if self.ws.closed is not None:
            return
        if not self.accepted:
            if self.action is None:
                await self.boot(BootReasonEnumType.PowerUp)
            return
        self.due = at
        if self.action is None:
            await self._advance()

    async def expire(self, now: float) -> None:
        """Give up on the outstanding CALL (no answer within the call timeout)."""
        call = self.session.outstanding_call
        if call is None or self.action is None:
            return
        self.fleet.stats_for(self.action).timeouts += 1
        self.session.abandon_call(call.message_id)
        self.action = None
        if not self.accepted:
            self._first_boot_answer()
            self.fleet.schedule(self, _RETRY_BOOT)
        else:
            await self._advance()

    async def _call(self, request: Message, at: float | None) -> None:
        call, frame = self.session.send_call(request)
        self.action = call.action
        if isinstance(request, StatusNotificationRequest):
            self.status = request.connector_status
        self.sent_at = trio.current_time() if at is None else at
        # If the connection is gone, the reader sees it too and ends the station.
        with contextlib.suppress(WsClosed):
            await self.ws.send_text(frame)

    async def _advance(self) -> None:
        """No CALL is outstanding: send the next one, or arrange to be woken for it."""
        if self.follow_ups:
            await self._call(self.follow_ups.popleft(), None)
            return
        fleet = self.fleet
        if self.script is None or fleet.stopping:
            return
        at: float | None = None
        if self.waiting:
            if self.due is None:
                return  # the timer or the pacer will wake us
            at, self.due, self.waiting = self.due, None, False
        elif fleet.options.mode == "closed" and not fleet.steady:
            # Closed loop starts once the whole fleet is booted: stations already looping
            # would otherwise crowd out the handshakes of those still connecting.
            self.waiting = True
            fleet.hold(self)
            return
        elif fleet.options.mode == "rate":
            at = fleet.take_backlog()
            if at is None:
                self.waiting = True
                fleet.ready.append(self)
                return
        paced = fleet.options.mode == "paced"
        for item in self.script:
            if isinstance(item, Message):
                await self._call(item, at)
                return
            if paced and item > 0:
                self.waiting = True
                fleet.schedule(self, item)
                return
        self.script = None  # the scenario is over: stay connected, idle

    async def _on_text(self, text: bytes) -> None:
        event = self.session.receive(text)
        if isinstance(event, CallResultReceived | CallErrorReceived | CallResponseInvalid):
            await self._on_answer(event)
        elif isinstance(event, CallReceived):
            await self._answer(event)
        elif isinstance(event, AnswerIgnored):
            pass  # the answer to a CALL that timed out: already counted
        else:
            self.fleet.frames_rejected += 1
            if event.reply is not None:
                await self._send_frame(event.reply)

    async def _on_answer(
        self, event: CallResultReceived | CallErrorReceived | CallResponseInvalid
    ) -> None:
        fleet = self.fleet
        stats = fleet.stats_for(event.action)
        self.action = None
        if isinstance(event, CallResponseInvalid):
            stats.invalid += 1
            if event.reply is not None:
                await self._send_frame(event.reply)
        else:
            stats.histogram.record(max(0.0, trio.current_time() - self.sent_at))
            fleet.answered += 1
            if isinstance(event, CallErrorReceived):
                stats.errors += 1
            elif isinstance(event.response, BootNotificationResponse):
                self._booted(event.response)
                if self.accepted:
                    self._first_boot_answer()
            elif isinstance(event.response, AuthorizeResponse):
                fleet.authorize_statuses[event.response.id_token_info.status.value] += 1
        if not self.accepted and event.action == "BootNotification":
            self._first_boot_answer()
            retry = _RETRY_BOOT
            if isinstance(event, CallResultReceived) and isinstance(
                event.response, BootNotificationResponse
            ):
                retry = float(event.response.interval) or _RETRY_BOOT
            self.fleet.schedule(self, retry)  # Pending or Rejected: boot again later (B02, B03)
            return
        await self._advance()

    def _first_boot_answer(self) -> None:
        if not self.boot_answered:
            self.boot_answered = True
            self.fleet.first_boot_answer()

    def _booted(self, response: BootNotificationResponse) -> None:
        fleet = self.fleet
        fleet.boot_statuses[response.status.value] += 1
        if response.status is not RegistrationStatusEnumType.Accepted or self.accepted:
            return
        self.accepted = True
        fleet.station_accepted()
        self.script = script(fleet.options.scenario, self.number, response.interval, fleet.rng)

    async def _answer(self, event: CallReceived) -> None:
        self.fleet.csms_calls[event.action] += 1
        try:
            response = self._response(event.request)
            frame = self.session.send_result(event.message_id, response)
        except OcppError as error:
            frame = self.session.send_error(event.message_id, error)
        await self._send_frame(frame)
        if self.action is None and self.follow_ups:
            await self._advance()

    def _response(self, request: Message) -> Message:
        handler = _ANSWERS.get(type(request))
        if handler is not None:
            return handler(request)
        if isinstance(request, TriggerMessageRequest):
            return self._trigger(request)
        if isinstance(request, GetBaseReportRequest):
            self._follow_up(
                NotifyReportRequest(
                    request_id=request.request_id,
                    generated_at=_now(),
                    seq_no=0,
                    report_data=self._report(),
                )
            )
            return GetBaseReportResponse(status=GenericDeviceModelStatusEnumType.Accepted)
        raise OcppError(
            ErrorCode.NotSupported,
            f"the fleet simulator does not answer {type(request).__name__}",
        )

    def _trigger(self, request: TriggerMessageRequest) -> TriggerMessageResponse:
        wanted = request.requested_message
        if wanted is MessageTriggerEnumType.Heartbeat:
            self._follow_up(HeartbeatRequest())
        elif wanted is MessageTriggerEnumType.BootNotification:
            self._follow_up(
                BootNotificationRequest(
                    charging_station=_MODEL, reason=BootReasonEnumType.Triggered
                )
            )
        elif wanted is MessageTriggerEnumType.StatusNotification:
            self._follow_up(
                StatusNotificationRequest(
                    timestamp=_now(), connector_status=self.status, evse_id=1, connector_id=1
                )
            )
        else:
            return TriggerMessageResponse(status=TriggerMessageStatusEnumType.NotImplemented)
        return TriggerMessageResponse(status=TriggerMessageStatusEnumType.Accepted)

    def _follow_up(self, request: Message) -> None:
        if self.follow_ups is None:
            self.follow_ups = deque()
        self.follow_ups.append(request)

    def _report(self) -> list[ReportDataType]:
        def actual(component: str, variable: str, value: str) -> ReportDataType:
            attribute = VariableAttributeType(
                type=AttributeEnumType.Actual, value=value, mutability=MutabilityEnumType.ReadOnly
            )
            return ReportDataType(
                component=ComponentType(name=component),
                variable=VariableType(name=variable),
                variable_attribute=[attribute],
            )

        return [
            actual("ChargingStation", "AvailabilityState", self.status.value),
            actual("ChargingStation", "Model", _MODEL.model),
        ]

    async def _send_frame(self, frame: bytes) -> None:
        with contextlib.suppress(WsClosed):
            await self.ws.send_text(frame)


# --- the fleet -------------------------------------------------------------------------------


class Fleet:
    """Runs one fleet: `await Fleet(options).run()` returns the report.

    Bad options raise `ValueError` from `FleetOptions`; nothing the CSMS does raises here, it
    is counted (refused connections, dropped ones, CALLERRORs, timeouts, invalid answers).
    """

    def __init__(self, options: FleetOptions) -> None:
        self.options = options
        self.rng = random.Random(options.seed)
        self.stopping = False
        #: Stations waiting for the pacer, in the order they became free (rate mode).
        self.ready: deque[_Station] = deque()
        self.answered = 0
        self.frames_rejected = 0
        self.boot_statuses: Counter[str] = Counter()
        self.authorize_statuses: Counter[str] = Counter()
        self.csms_calls: Counter[str] = Counter()
        self._actions: dict[str, _ActionStats] = {}  # since the last window closed
        self._totals: dict[str, _ActionStats] = {}  # of the closed windows
        self._windows: list[WindowReport] = []
        self._connect = _ActionStats()
        self._open: set[_Station] = set()
        self._connecting = 0
        self._connected_ever = 0
        self._failed = 0  # stations that never connected
        self._boot_answered = 0  # stations that had their first boot answer
        self._accepted = 0
        self._connect_failures: dict[str, tuple[int, str]] = {}
        self._disconnects: dict[str, tuple[int, str]] = {}
        self._timers: list[tuple[float, int, _Station]] = []
        self._held: list[_Station] = []  # closed loop: booted, waiting for the steady phase
        self._timer_sequence = 0
        self._timer_scope: trio.CancelScope | None = None
        self._started = 0.0
        self._all_connected_at: float | None = None
        self._all_accepted_at: float | None = None
        self._all_accepted = trio.Event()
        self._steady_at: float | None = None
        self._steady_event = trio.Event()
        self._steady_answered = 0
        self._missed = 0
        self._queued = 0
        # Rate mode: scheduled times of CALLs that found no free station, oldest first.
        self._backlog: deque[float] = deque()
        self._all_closed = trio.Event()
        self._stopped_answered = 0
        self._unanswered = 0
        self._target = _Target.from_options(options)

    # --- called by the stations ---------------------------------------------------------

    def stats_for(self, action: str) -> _ActionStats:
        stats = self._actions.get(action)
        if stats is None:
            stats = self._actions[action] = _ActionStats()
        return stats

    def schedule(self, station: _Station, delay: float) -> None:
        """Wake `station` (`fire`) after `delay` seconds."""
        due = trio.current_time() + delay
        self._timer_sequence += 1
        heapq.heappush(self._timers, (due, self._timer_sequence, station))
        scope = self._timer_scope
        if scope is not None and due < scope.deadline:
            scope.deadline = due

    @property
    def steady(self) -> bool:
        """Every station has booted or failed."""
        return self._steady_at is not None

    def hold(self, station: _Station) -> None:
        """Closed loop: wake `station` when the steady phase begins."""
        self._held.append(station)

    def take_backlog(self) -> float | None:
        """Rate mode: the scheduled time of the oldest CALL waiting for a free station."""
        return self._backlog.popleft() if self._backlog else None

    def first_boot_answer(self) -> None:
        """A station had the answer to its first BootNotification (or gave up waiting)."""
        self._boot_answered += 1
        self._check_steady()

    def station_accepted(self) -> None:
        self._accepted += 1
        if self._accepted == self.options.count:
            self._all_accepted_at = trio.current_time()
            self._all_accepted.set()
        self._check_steady()

    # --- running ------------------------------------------------------------------------

    async def run(self, progress: Callable[[Progress], None] | None = None) -> FleetReport:
        """Connect, run the scenario for `duration` seconds, close; `progress` is called once
        a second with a snapshot."""
        options = self.options
        self._started = trio.current_time()
        deadline = self._started + options.duration
        async with trio.open_nursery() as helpers:
            helpers.start_soon(self._timer_loop)
            helpers.start_soon(self._tick, progress)
            if options.mode == "rate":
                helpers.start_soon(self._pacer)
            async with trio.open_nursery() as stations:
                stations.start_soon(self._connect_all, stations)
                with trio.move_on_at(deadline):
                    if options.until_booted:
                        await self._all_accepted.wait()
                    elif options.steady_seconds is not None:
                        await self._steady_event.wait()
                        if options.windows > 1:
                            self._merge_totals()  # the boots are in no window
                        for _ in range(options.windows):
                            await self._window(options.steady_seconds)
                    else:
                        await trio.sleep_forever()
                stopped = min(trio.current_time(), deadline)
                await self._stop()
                stations.cancel_scope.cancel()
            helpers.cancel_scope.cancel()
        return self._report(stopped)

    async def _stop(self) -> None:
        self.stopping = True
        self._stopped_answered = self.answered
        self._unanswered = sum(1 for station in self._open if station.action is not None)
        if not self._open:
            return
        with trio.move_on_after(self.options.close_timeout):
            for station in list(self._open):
                await station.ws.close(1000, "simulation over")
            await self._all_closed.wait()

    async def _connect_all(self, nursery: trio.Nursery) -> None:
        options = self.options
        slots = trio.Semaphore(options.connect_concurrency)
        for index, number in enumerate(range(options.first, options.first + options.count)):
            if options.connect_rate:
                await trio.sleep_until(self._started + index / options.connect_rate)
            await slots.acquire()
            self._connecting += 1
            nursery.start_soon(self._station, number, slots)

    async def _station(self, number: int, slots: trio.Semaphore) -> None:
        options = self.options
        station_id = options.station_id(number)
        started = trio.current_time()
        try:
            ws = await self._open_ws(station_id)
        finally:
            self._connecting -= 1
            slots.release()
        if ws is None:
            self._failed += 1
            self._check_steady()
            return
        self._connect.histogram.record(trio.current_time() - started)
        self._connected_ever += 1
        if self._connected_ever == options.count:
            self._all_connected_at = trio.current_time()
        station = _Station(self, number, station_id, ws)
        self._open.add(station)
        try:
            await station.run()
        except WsClosed as closed:
            if not self.stopping:
                _count(self._disconnects, f"closed {closed.code} {closed.reason}", station_id)
                if not station.accepted:
                    self._failed += 1
                    self._check_steady()
        finally:
            self._open.discard(station)
            if self.stopping and not self._open:
                self._all_closed.set()
            await ws.aclose()

    async def _window(self, seconds: float) -> None:
        """Measure one window; with several, its figures are reported and then cleared."""
        start, answered, missed = trio.current_time(), self.answered, self._missed
        await trio.sleep(seconds)
        if self.options.windows == 1:
            return
        now = trio.current_time()
        actions = [_action_report(name, stats) for name, stats in sorted(self._actions.items())]
        self._windows.append(
            WindowReport(
                start=start - self._started,
                seconds=now - start,
                calls=self.answered - answered,
                missed=self._missed - missed,
                actions=actions,
            )
        )
        self._merge_totals()

    def _merge_totals(self) -> None:
        for name, stats in self._actions.items():
            self._totals.setdefault(name, _ActionStats()).merge(stats)
        self._actions = {}

    def _check_steady(self) -> None:
        """The steady phase begins once every station is booted or has failed."""
        if self._steady_at is None and self._boot_answered + self._failed >= self.options.count:
            self._steady_at = trio.current_time()
            self._steady_answered = self.answered
            self._steady_event.set()
            for station in self._held:
                self.schedule(station, 0)
            self._held.clear()

    async def _timer_loop(self) -> None:
        timers = self._timers
        while True:
            now = trio.current_time()
            while timers and timers[0][0] <= now:
                due, _, station = heapq.heappop(timers)
                await station.fire(due)
            with trio.CancelScope(deadline=timers[0][0] if timers else math.inf) as scope:
                self._timer_scope = scope
                await trio.sleep_forever()
            self._timer_scope = None

    async def _pacer(self) -> None:
        """Rate mode: hand out CALLs at the fixed rate, from the steady phase on."""
        await self._steady_event.wait()
        interval = 1 / self.options.rate
        backlog_limit = max(1000, int(self.options.rate * _BACKLOG_SECONDS))
        start = trio.current_time()
        issued = 0
        while True:
            due = int((trio.current_time() - start) / interval) + 1
            while issued < due:
                at = start + issued * interval
                issued += 1
                station = self._take_ready()
                if station is not None:
                    await station.fire(at)
                elif len(self._backlog) < backlog_limit:
                    self._queued += 1
                    self._backlog.append(at)  # the next station to be free takes it
                else:
                    self._missed += 1
            await trio.sleep_until(start + issued * interval)

    def _take_ready(self) -> _Station | None:
        while self.ready:
            station = self.ready.popleft()
            if station.ws.closed is None and station.waiting and station.due is None:
                return station
        return None

    async def _tick(self, progress: Callable[[Progress], None] | None) -> None:
        """Once a second: expire CALLs that got no answer in time, report progress."""
        options = self.options
        last_answered = self.answered
        last = trio.current_time()
        while True:
            await trio.sleep_until(last + 1)
            now = trio.current_time()
            expired = now - options.call_timeout
            for station in [s for s in self._open if s.action is not None and s.sent_at < expired]:
                await station.expire(now)
            if progress is not None:
                progress(
                    Progress(
                        elapsed=now - self._started,
                        connecting=self._connecting,
                        connected=len(self._open),
                        accepted=self._accepted,
                        count=options.count,
                        calls_per_second=(self.answered - last_answered) / (now - last),
                        errors=self._errors(),
                    )
                )
            last, last_answered = now, self.answered

    def _errors(self) -> int:
        return (
            sum(count for count, _ in self._connect_failures.values())
            + sum(count for count, _ in self._disconnects.values())
            + sum(a.failed for a in self._actions.values())
            + sum(a.failed for a in self._totals.values())
            + self.frames_rejected
        )

    def _report(self, stopped: float) -> FleetReport:
        started = self._started
        self._merge_totals()

        def since_start(at: float | None) -> float | None:
            return None if at is None else at - started

        steady_from = since_start(self._steady_at)
        return FleetReport(
            options=self.options,
            elapsed=stopped - started,
            connected=self._connected_ever,
            connect_failures=dict(self._connect_failures),
            disconnects=dict(self._disconnects),
            boot_statuses=dict(self.boot_statuses),
            accepted=self._accepted,
            all_connected_after=since_start(self._all_connected_at),
            all_accepted_after=since_start(self._all_accepted_at),
            steady_from=steady_from,
            steady_calls=self._stopped_answered - self._steady_answered if steady_from else 0,
            calls=self.answered,
            queued=self._queued,
            missed=self._missed,
            unanswered=self._unanswered,
            frames_rejected=self.frames_rejected,
            csms_calls=dict(self.csms_calls),
            authorize_statuses=dict(self.authorize_statuses),
            actions=[_action_report(name, stats) for name, stats in sorted(self._totals.items())],
            connect_latency=_action_report("(connect)", self._connect),
            windows=list(self._windows),
        )

    async def _open_ws(self, station_id: str) -> WsClient | None:
        """Connect one station; None (and the reason counted) when that fails."""
        options = self.options
        target = self._target
        headers: list[tuple[bytes, bytes]] = []
        password = (options.passwords or {}).get(station_id, options.password)
        if password is not None:
            headers.append((b"Authorization", basic_auth(station_id, password)))
        reason = f"no connection within {options.connect_timeout:g} s"
        with trio.move_on_after(options.connect_timeout):
            try:
                return await open_ws(
                    target.host,
                    target.port,
                    host_header=target.host_header,
                    resource=target.path + urllib.parse.quote(station_id, safe=""),
                    subprotocol=OCPP201,
                    headers=headers,
                    ssl_context=target.ssl_context,
                )
            except HandshakeRefused as refused:
                reason = f"HTTP {refused.status_code}"
            except ConnectFailed as exc:  # NoSubprotocol too
                reason = str(exc)
        _count(self._connect_failures, reason, station_id)
        return None


@dataclass(frozen=True, slots=True)
class _Target:
    """Where the stations connect: the parts of the URL every handshake needs."""

    host: str
    port: int
    host_header: str
    path: str  # ends with "/"; the station id follows
    ssl_context: ssl.SSLContext | None

    @classmethod
    def from_options(cls, options: FleetOptions) -> _Target:
        parts = urllib.parse.urlsplit(options.url)
        tls = parts.scheme == "wss"
        host = parts.hostname or ""
        port = parts.port or (443 if tls else 80)
        shown = f"[{host}]" if ":" in host else host
        context = options.ssl_context
        if tls and context is None:
            context = ssl.create_default_context()
        return cls(
            host=host,
            port=port,
            host_header=shown if parts.port is None else f"{shown}:{port}",
            path=parts.path.rstrip("/") + "/",
            ssl_context=context if tls else None,
        )


def _count(counts: dict[str, tuple[int, str]], reason: str, station_id: str) -> None:
    """Count one more `reason`; the example is the lowest station id it happened to, so it
    does not depend on which connection failed first."""
    count, example = counts.get(reason, (0, station_id))
    counts[reason] = (count + 1, min(example, station_id))
