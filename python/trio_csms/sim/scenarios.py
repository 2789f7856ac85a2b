"""What each simulated station of a fleet sends once it is booted: the scenario scripts.

A script is a generator per station. It yields either a request (a `Message`) to send as its
next CALL, or a number: a pause in seconds before the next request. The fleet (`sim.fleet`)
drives it: it asks for the next item only once the previous CALL has been answered, honours
the pauses in paced mode and skips them when it sets the pace itself (closed loop, fixed rate).
Requests are built when the fleet asks for them, so their timestamps are the sending time.

Scenarios:
- `boot`: nothing after the BootNotification; the station stays connected, idle.
- `heartbeat`: a Heartbeat every interval (the boot answer's, unless one is given).
- `session`: charging sessions, over and over: StatusNotification Occupied, Authorize,
  TransactionEvent Started, Updated with sampled meter values every `meter_interval`, Ended,
  StatusNotification Available, Heartbeat, then a pause.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final, Literal

from ..messages import (
    AuthorizeRequest,
    ChargingStateEnumType,
    ConnectorStatusEnumType,
    EVSEType,
    HeartbeatRequest,
    IdTokenEnumType,
    IdTokenType,
    MeasurandEnumType,
    Message,
    MeterValueType,
    PhaseEnumType,
    ReadingContextEnumType,
    ReasonEnumType,
    SampledValueType,
    StatusNotificationRequest,
    TransactionEventEnumType,
    TransactionEventRequest,
    TransactionType,
    TriggerReasonEnumType,
    UnitOfMeasureType,
)

__all__ = ["SCENARIOS", "Scenario", "ScenarioOptions", "Script", "script"]

Scenario = Literal["boot", "heartbeat", "session"]
SCENARIOS: Final[tuple[Scenario, ...]] = ("boot", "heartbeat", "session")

Script = Iterator[Message | float]
"""Requests to send, and pauses (seconds) between them."""

_EVSE_ID: Final = 1
_CONNECTOR_ID: Final = 1
_VOLTAGE: Final = 230.0
_OFFERED: Final = 32.0  # amperes the EVSE offers
_ENERGY: Final = MeasurandEnumType.Energy_Active_Import_Register
_VOLTS: Final = MeasurandEnumType.Voltage
_AMPERES: Final = MeasurandEnumType.Current_Import
_PHASES: Final = ((PhaseEnumType.L1_N, PhaseEnumType.L1), (PhaseEnumType.L2_N, PhaseEnumType.L2))
_PHASES_3: Final = (*_PHASES, (PhaseEnumType.L3_N, PhaseEnumType.L3))


@dataclass(frozen=True, slots=True)
class ScenarioOptions:
    """The knobs of the scenarios.

    Attributes:
        name: which scenario.
        heartbeat_interval: seconds between Heartbeats in `heartbeat`; None takes the interval
            of the station's BootNotification answer.
        meter_interval: seconds between the TransactionEvents of a session.
        updates: TransactionEvent Updated messages per session.
        pause: seconds a station stays idle between two sessions (on average).
        token_type: the IdTokenEnumType of the station's token (its id is derived from the
            station's number, so the same station always presents the same token).
    """

    name: Scenario = "heartbeat"
    heartbeat_interval: float | None = None
    meter_interval: float = 5.0
    updates: int = 3
    pause: float = 30.0
    token_type: IdTokenEnumType = IdTokenEnumType.ISO14443

    def __post_init__(self) -> None:
        if self.name not in SCENARIOS:
            raise ValueError(f"unknown scenario {self.name!r}; choose one of {list(SCENARIOS)}")
        if self.heartbeat_interval is not None and not self.heartbeat_interval > 0:
            raise ValueError("the heartbeat interval must be positive")
        if self.meter_interval < 0 or self.pause < 0:
            raise ValueError("the meter interval and the pause must not be negative")
        if self.updates < 0:
            raise ValueError("the number of updates must not be negative")


def script(
    options: ScenarioOptions, number: int, boot_interval: float, rng: random.Random
) -> Script:
    """The script of station `number`, booted with heartbeat `boot_interval` (seconds).

    The first pause is drawn at random in [0, period), so a fleet booted at once does not
    send in lockstep.
    """
    if options.name == "heartbeat":
        interval = options.heartbeat_interval or boot_interval
        return _heartbeats(interval, rng.uniform(0, interval))
    if options.name == "session":
        return _sessions(options, number, rng)
    return iter(())


def _heartbeats(interval: float, first: float) -> Script:
    yield first
    while True:
        yield HeartbeatRequest()
        yield interval


def _now() -> datetime:
    return datetime.now(UTC)


def _sessions(options: ScenarioOptions, number: int, rng: random.Random) -> Script:
    token = IdTokenType(id_token=f"{number:08X}", type=options.token_type)
    evse = EVSEType(id=_EVSE_ID, connector_id=_CONNECTOR_ID)
    energy = float(rng.randrange(0, 10_000_000))  # the meter's register, Wh
    yield rng.uniform(0, options.pause)
    while True:
        meter = _Meter(energy, rng)
        yield _status(ConnectorStatusEnumType.Occupied)
        yield AuthorizeRequest(id_token=token)
        transaction = str(uuid.uuid4())
        seq_no = 0
        yield TransactionEventRequest(
            event_type=TransactionEventEnumType.Started,
            timestamp=_now(),
            trigger_reason=TriggerReasonEnumType.Authorized,
            seq_no=seq_no,
            transaction_info=TransactionType(
                transaction_id=transaction, charging_state=ChargingStateEnumType.Charging
            ),
            evse=evse,
            id_token=token,
            meter_value=[meter.register(ReadingContextEnumType.Transaction_Begin)],
        )
        for _ in range(options.updates):
            yield options.meter_interval
            meter.advance(options.meter_interval)
            seq_no += 1
            yield TransactionEventRequest(
                event_type=TransactionEventEnumType.Updated,
                timestamp=_now(),
                trigger_reason=TriggerReasonEnumType.MeterValuePeriodic,
                seq_no=seq_no,
                transaction_info=TransactionType(
                    transaction_id=transaction, charging_state=ChargingStateEnumType.Charging
                ),
                meter_value=[meter.sample()],
            )
        yield options.meter_interval
        meter.advance(options.meter_interval)
        yield TransactionEventRequest(
            event_type=TransactionEventEnumType.Ended,
            timestamp=_now(),
            trigger_reason=TriggerReasonEnumType.EVCommunicationLost,
            seq_no=seq_no + 1,
            transaction_info=TransactionType(
                transaction_id=transaction,
                charging_state=ChargingStateEnumType.Idle,
                stopped_reason=ReasonEnumType.EVDisconnected,
            ),
            meter_value=[meter.register(ReadingContextEnumType.Transaction_End)],
        )
        energy = meter.energy
        yield _status(ConnectorStatusEnumType.Available)
        yield HeartbeatRequest()
        yield rng.uniform(0.5, 1.5) * options.pause


def _status(status: ConnectorStatusEnumType) -> StatusNotificationRequest:
    return StatusNotificationRequest(
        timestamp=_now(), connector_status=status, evse_id=_EVSE_ID, connector_id=_CONNECTOR_ID
    )


class _Meter:
    """A plausible AC charge: 11 or 22 kW, current and voltage per phase, rising state of
    charge; 10 sampled values per periodic reading on three phases, 8 on two."""

    __slots__ = ("current", "energy", "phases", "power", "soc")

    def __init__(self, energy: float, rng: random.Random) -> None:
        self.energy = energy
        self.phases = _PHASES_3 if rng.random() < 0.8 else _PHASES
        self.current = round(rng.uniform(10.0, 16.0), 1)
        self.power = round(self.current * _VOLTAGE * len(self.phases), 1)
        self.soc = float(rng.randrange(10, 60))

    def advance(self, seconds: float) -> None:
        self.energy = round(self.energy + self.power * seconds / 3600, 1)
        self.soc = min(100.0, round(self.soc + seconds / 120, 1))

    def register(self, context: ReadingContextEnumType) -> MeterValueType:
        return MeterValueType(
            timestamp=_now(),
            sampled_value=[
                _sample(self.energy, MeasurandEnumType.Energy_Active_Import_Register, "Wh", context)
            ],
        )

    def sample(self) -> MeterValueType:
        periodic = ReadingContextEnumType.Sample_Periodic
        values = [
            _sample(self.energy, _ENERGY, "Wh", periodic),
            _sample(self.power, MeasurandEnumType.Power_Active_Import, "W", periodic),
            _sample(self.soc, MeasurandEnumType.SoC, "Percent", periodic),
            _sample(_OFFERED, MeasurandEnumType.Current_Offered, "A", periodic),
        ]
        for voltage_phase, current_phase in self.phases:
            values.append(
                _sample(_VOLTAGE, MeasurandEnumType.Voltage, "V", periodic, voltage_phase)
            )
            values.append(
                _sample(
                    self.current, MeasurandEnumType.Current_Import, "A", periodic, current_phase
                )
            )
        return MeterValueType(timestamp=_now(), sampled_value=values)


def _sample(
    value: float,
    measurand: MeasurandEnumType,
    unit: str,
    context: ReadingContextEnumType,
    phase: PhaseEnumType | None = None,
) -> SampledValueType:
    sample = SampledValueType(
        value=value,
        context=context,
        measurand=measurand,
        unit_of_measure=UnitOfMeasureType(unit=unit),
    )
    if phase is not None:
        sample.phase = phase
    return sample
