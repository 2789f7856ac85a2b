"""Block J, Meter values: the Core test cases TC_J_xx_CSMS (catalogue section 1.J).

Part 6's tool validates nothing the CSMS sends here: the station reports meter values (clock-aligned
in MeterValues, NotifyEvent or TransactionEvent; sampled in TransactionEvent) and the CSMS must
answer every message. The tests check those answers and, beyond them, that the CSMS keeps what was
reported: readings outside transactions in GET /stations/{id}/meter-values, readings of a
transaction (exactly as sent, signed ones included) in GET /transactions/{stationId}/{id}, and
the transaction's energy taken from its Energy.Active.Import.Register total, not from a phase.

The station's intervals (AlignedDataInterval, SampledDataTxUpdatedInterval, the Tx-ended
intervals) are its own configuration, which Part 6's CSMS cases leave as configured; the tool's
station uses one second, sends each reading right after its boundary and stamps it with the
boundary, so the readings' timestamps are one interval apart and never in the future.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
import trio
from conformance import states
from conformance.lab import Lab, open_lab
from conformance.states import Transaction

from trio_csms.messages import (
    ChargingStateEnumType,
    ComponentType,
    EventDataType,
    EventNotificationEnumType,
    EventTriggerEnumType,
    EVSEType,
    MeasurandEnumType,
    MeterValueType,
    NotifyEventRequest,
    NotifyEventResponse,
    PhaseEnumType,
    ReadingContextEnumType,
    SampledValueType,
    SignedMeterValueType,
    UnitOfMeasureType,
    VariableType,
)
from trio_csms.sim import SimStation

INTERVAL = timedelta(seconds=1)  # the station's clock-aligned and sampled intervals
ROUNDS = 3  # Part 6: the tool ends the periodic cases after three meter value messages
CONNECTORS = ((1, 1), (2, 1))  # two EVSEs, so "every EVSE" and "the idle EVSEs" differ
CLOCK = ReadingContextEnumType.Sample_Clock
PERIODIC = ReadingContextEnumType.Sample_Periodic
BEGIN = ReadingContextEnumType.Transaction_Begin
END = ReadingContextEnumType.Transaction_End
_PHASES = (PhaseEnumType.L1, PhaseEnumType.L2, PhaseEnumType.L3)


# --- readings ------------------------------------------------------------------------------


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


def _signed(sample: SampledValueType, at: datetime) -> SignedMeterValueType:
    """A signed form of one reading, as a fiscal meter adds it (J01.FR.21, J02.FR.21).

    The CSMS stores and shows it; it cannot check the signature (the meter's key is not
    known to it), so content only has to be well-formed and distinct per reading.
    """
    reading = f'{{"TM":"{at.isoformat()}","RV":{sample.value},"RI":"{sample.measurand}"}}'
    digest = hashlib.sha256(reading.encode()).hexdigest()
    data = f'OCMF|{reading}|{{"SA":"ECDSA-secp256r1-SHA256","SD":"{digest}"}}'
    return SignedMeterValueType(
        signed_meter_data=base64.b64encode(data.encode()).decode(),
        signing_method="ECDSA-secp256r1-SHA256",
        encoding_method="OCMF",
        public_key=base64.b64encode(hashlib.sha256(b"lab meter").digest()).decode(),
    )


def reading(
    at: datetime, wh: float, context: ReadingContextEnumType, *, signed: bool = False
) -> MeterValueType:
    """A three-phase reading: the energy register total and per phase, power, currents.

    The per-phase registers differ from the total, so a CSMS that took a phase's register as
    the transaction's energy would show a wrong value.
    """
    energy = MeasurandEnumType.Energy_Active_Import_Register
    samples = [_sample(wh, energy, "Wh", context)]
    samples += [_sample(round(wh / 3, 1), energy, "Wh", context, phase) for phase in _PHASES]
    samples.append(_sample(11000.0, MeasurandEnumType.Power_Active_Import, "W", context))
    samples += [
        _sample(16.0, MeasurandEnumType.Current_Import, "A", context, phase) for phase in _PHASES
    ]
    if signed:
        for sample in samples:
            sample.signed_meter_value = _signed(sample, at)
    return MeterValueType(sampled_value=samples, timestamp=at)


def wire(value: msgspec.Struct) -> Any:
    """`value` as it goes over the wire (camelCase JSON), to compare with the API's view."""
    return msgspec.json.decode(msgspec.json.encode(value))


def fiscal_metering_event(event_id: int, evse_id: int, at: datetime, wh: float) -> EventDataType:
    """A clock-aligned reading as NotifyEvent data: component FiscalMetering (of the EVSE, none
    for the main meter, evseId 0), variable EnergyImportRegister, trigger Periodic."""
    component = ComponentType(name="FiscalMetering")
    if evse_id != 0:
        component.evse = EVSEType(id=evse_id)
    return EventDataType(
        event_id=event_id,
        timestamp=at,
        trigger=EventTriggerEnumType.Periodic,
        actual_value=str(wh),
        component=component,
        variable=VariableType(name="EnergyImportRegister"),
        event_notification_type=EventNotificationEnumType.HardWiredMonitor,
    )


async def boundaries(count: int) -> list[datetime]:
    """The next `count` interval boundaries (oldest first), once the last has passed."""
    return [boundary async for boundary in each_boundary(count)]


async def each_boundary(count: int) -> AsyncIterator[datetime]:
    """Async-iterate the next `count` interval boundaries, each as soon as it has passed."""
    step = INTERVAL.total_seconds()
    for _ in range(count):
        now = datetime.now(UTC)
        boundary = datetime.fromtimestamp((now.timestamp() // step + 1) * step, UTC)
        await trio.sleep((boundary - now).total_seconds())
        yield boundary


# --- the CSMS's views ----------------------------------------------------------------------


async def transaction_view(lab: Lab, tx: Transaction) -> dict[str, Any]:
    view: dict[str, Any] = await lab.get_json(f"/transactions/{lab.station_id}/{tx.transaction_id}")
    return view


def shown(values: list[dict[str, Any]]) -> list[tuple[datetime, Any]]:
    """The API's meter values as (timestamp, sampled values)."""
    return [(datetime.fromisoformat(v["timestamp"]), v["sampledValue"]) for v in values]


def sent(values: list[MeterValueType]) -> list[tuple[datetime, Any]]:
    """Meter values as the API must show them: (timestamp, sampled values as on the wire)."""
    return [(value.timestamp, wire(value)["sampledValue"]) for value in values]


async def assert_transaction_readings(
    lab: Lab, tx: Transaction, readings: list[MeterValueType], wh: float, **expected: Any
) -> dict[str, Any]:
    """The CSMS shows the transaction with exactly `readings` and energy `wh`."""
    view = await transaction_view(lab, tx)
    assert shown(view["meterValues"]) == sent(readings), view
    assert view["energyImportedWh"] == wh, view
    for name, value in expected.items():
        assert view[name] == value, (name, view)
    return view


# --- the station's steps -------------------------------------------------------------------


async def idle_readings(
    station: SimStation, evse_ids: tuple[int, ...], at: datetime, round_no: int
) -> list[tuple[int, MeterValueType]]:
    """One clock-aligned round for idle meters: MeterValues (Sample.Clock) and the same
    reading as NotifyEvent FiscalMetering, Periodic, for each of `evse_ids`."""
    sent_values = []
    events = []
    for evse_id in evse_ids:
        wh = 10_000.0 * (evse_id + 1) + 10.0 * round_no
        value = reading(at, wh, CLOCK)
        await station.meter_values(evse_id, [value])
        sent_values.append((evse_id, value))
        events.append(fiscal_metering_event(100 * round_no + evse_id, evse_id, at, wh))
    notify = NotifyEventRequest(generated_at=at, seq_no=0, event_data=events)
    assert await station.call(notify, NotifyEventResponse) == NotifyEventResponse()
    return sent_values


async def assert_idle_readings(lab: Lab, expected: list[tuple[int, MeterValueType]]) -> None:
    """GET /stations/{id}/meter-values holds exactly `expected`, oldest first (ties: as sent)."""
    values = (await lab.get_json(f"/stations/{lab.station_id}/meter-values"))["meterValues"]
    got = [(v["evseId"], *shown([v])[0]) for v in values]
    want = [(evse_id, *sent([value])[0]) for evse_id, value in expected]
    assert got == want


async def ev_disconnected(
    station: SimStation, tx: Transaction, readings: list[MeterValueType]
) -> None:
    """Reusable state EVDisconnected whose Ended event carries `readings` (Part 6 J_03, J_04,
    J_10, J_11): connector Available, then TransactionEvent Ended, EVDisconnected."""
    await station.report_connector(tx.evse_id, tx.connector_id, "Available")
    await states.send_event(
        station,
        tx,
        "EVCommunicationLost",
        event_type="Ended",
        timestamp=readings[-1].timestamp,
        charging_state=ChargingStateEnumType.Idle,
        stopped_reason="EVDisconnected",
        meter_value=readings,
    )


async def ended_with_readings(
    lab: Lab, station: SimStation, context: ReadingContextEnumType, *, signed: bool
) -> None:
    """J_03, J_04, J_10, J_11: EnergyTransferStarted; over the transaction the station
    collects a reading of `context` at every interval boundary; at the end (EVDisconnected)
    its Ended event carries them all and a last one, Transaction.End. The CSMS must answer,
    end the transaction, keep every reading as sent and take the energy from the last one."""
    await states.booted(station)
    tx = Transaction("J-END-TX")
    await states.energy_transfer_started(station, tx, lab.tokens)
    readings = [
        reading(at, 500.0 + 250.0 * n, context, signed=signed)
        for n, at in enumerate(await boundaries(ROUNDS))
    ]
    end = datetime.now(UTC).replace(microsecond=0) + INTERVAL
    await trio.sleep((end - datetime.now(UTC)).total_seconds())
    readings.append(reading(end, 1400.0, END, signed=signed))
    await ev_disconnected(station, tx, readings)
    view = await assert_transaction_readings(
        lab, tx, readings, 1400.0, active=False, stoppedReason="EVDisconnected"
    )
    assert datetime.fromisoformat(view["endedAt"]) == end
    contexts = [value["sampledValue"][0]["context"] for value in view["meterValues"]]
    assert contexts == [context.value] * ROUNDS + ["Transaction.End"]
    if signed:
        assert all(
            "signedMeterValue" in sample
            for value in view["meterValues"]
            for sample in value["sampledValue"]
        )


# --- J01: clock-aligned ----------------------------------------------------------------------


async def test_tc_j_01_csms(tmp_path: Path) -> None:
    """Clock-aligned Meter Values - No transaction ongoing.

    At each of three clock-aligned boundaries the station reports, for the main meter
    (evseId 0) and each of its two EVSEs, a MeterValuesRequest with context Sample.Clock and
    the same readings as NotifyEventRequest (trigger Periodic, component FiscalMetering):
    Part 6 lists both messages. The CSMS must answer all and keep the readings, each with
    its evseId (0 included) and timestamp, outside any transaction.
    """
    async with open_lab(tmp_path) as lab, lab.station() as station:
        await states.booted(station, CONNECTORS)
        expected: list[tuple[int, MeterValueType]] = []
        round_no = 0
        async for at in each_boundary(ROUNDS):
            expected += await idle_readings(station, (0, 1, 2), at, round_no)
            round_no += 1
        await assert_idle_readings(lab, expected)
        listed = await lab.get_json(f"/transactions?stationId={lab.station_id}")
        assert listed["transactions"] == [], listed


async def test_tc_j_02_csms(tmp_path: Path) -> None:
    """Clock-aligned Meter Values - Transaction ongoing.

    Before: EnergyTransferStarted on EVSE 1. At each of three boundaries the station reports
    the main meter and the idle EVSE 2 as in TC_J_01, and the busy EVSE 1 with a
    TransactionEvent Updated, triggerReason MeterValueClock, context Sample.Clock. The CSMS
    must answer all; it keeps the idle readings apart and the transaction's with the
    transaction (whose energy follows them), which stays Charging.
    """
    async with open_lab(tmp_path) as lab, lab.station() as station:
        await states.booted(station, CONNECTORS)
        tx = Transaction("J02-TX")
        await states.energy_transfer_started(station, tx, lab.tokens)
        idle: list[tuple[int, MeterValueType]] = []
        busy: list[MeterValueType] = []
        round_no = 0
        async for at in each_boundary(ROUNDS):
            idle += await idle_readings(station, (0, 2), at, round_no)
            busy.append(reading(at, 2000.0 + 100.0 * round_no, CLOCK))
            await states.send_event(
                station, tx, "MeterValueClock", timestamp=at, meter_value=[busy[-1]]
            )
            round_no += 1
        await assert_idle_readings(lab, idle)
        await assert_transaction_readings(
            lab, tx, busy, 2200.0, active=True, chargingState="Charging", evseId=1
        )


async def test_tc_j_03_csms(tmp_path: Path) -> None:
    """Clock-aligned Meter Values - EventType Ended.

    Before: EnergyTransferStarted. EVDisconnected, whose TransactionEvent Ended carries the
    clock-aligned readings of the transaction (context Sample.Clock, one interval apart) and
    a last one with Transaction.End. The CSMS must answer, end the transaction, keep every
    reading and take the energy from the Transaction.End one.
    """
    async with open_lab(tmp_path) as lab, lab.station() as station:
        await ended_with_readings(lab, station, CLOCK, signed=False)


async def test_tc_j_04_csms(tmp_path: Path) -> None:
    """Clock-aligned Meter Values - Signed.

    As TC_J_03 with every sampled value carrying a signedMeterValue (J01.FR.21). The CSMS
    must keep each signedMeterValue exactly as sent (shown with the transaction's readings).
    """
    async with open_lab(tmp_path) as lab, lab.station() as station:
        await ended_with_readings(lab, station, CLOCK, signed=True)


# --- J02: sampled --------------------------------------------------------------------------


async def test_tc_j_07_csms(tmp_path: Path) -> None:
    """Sampled Meter Values - EventType Started - EVSE known.

    Reusable state EVConnectedPreSession whose TransactionEvent (Started, CablePluggedIn,
    with the EVSE) carries a meterValue with context Transaction.Begin. The CSMS must answer
    and keep the reading with the new transaction on EVSE 1.
    """
    async with open_lab(tmp_path) as lab, lab.station() as station:
        await states.booted(station)
        tx = Transaction("J07-TX")
        await station.report_connector(tx.evse_id, tx.connector_id, "Occupied")
        begin = reading(datetime.now(UTC).replace(microsecond=0), 120.0, BEGIN)
        await states.send_event(
            station,
            tx,
            "CablePluggedIn",
            timestamp=begin.timestamp,
            charging_state=ChargingStateEnumType.EVConnected,
            meter_value=[begin],
        )
        await assert_transaction_readings(
            lab, tx, [begin], 120.0, active=True, evseId=1, connectorId=1
        )


async def test_tc_j_08_csms(tmp_path: Path) -> None:
    """Sampled Meter Values - Context Transaction.Begin - EVSE not known.

    Reusable state Authorized, the transaction starting with the idToken before the EVSE is
    known (TransactionEvent Started without evse); then EVConnectedPreSession, whose
    TransactionEvent Updated CablePluggedIn names the EVSE and carries the Transaction.Begin
    reading; then EnergyTransferStarted. The CSMS must accept the token, answer all, learn
    the EVSE and keep the reading with the transaction.
    """
    async with open_lab(tmp_path) as lab, lab.station() as station:
        await states.booted(station)
        tx = Transaction("J08-TX")
        authorize = await station.authorize(lab.tokens.valid, lab.tokens.type)
        assert authorize.id_token_info.status.value == "Accepted", authorize
        response = await station.transaction_event(
            "Started", "Authorized", tx.transaction_id, id_token=states.id_token(lab.tokens)
        )
        states.assert_token_accepted(response)
        tx.started = tx.authorized = True
        view = await transaction_view(lab, tx)
        assert view["evseId"] is None and view["active"] is True, view
        await station.report_connector(tx.evse_id, tx.connector_id, "Occupied")
        begin = reading(datetime.now(UTC).replace(microsecond=0), 75.0, BEGIN)
        await states.send_event(
            station,
            tx,
            "CablePluggedIn",
            timestamp=begin.timestamp,
            charging_state=ChargingStateEnumType.EVConnected,
            evse_id=tx.evse_id,
            connector_id=tx.connector_id,
            meter_value=[begin],
        )
        tx.cable_plugged = True
        await states.energy_transfer_started(station, tx, lab.tokens)
        await assert_transaction_readings(
            lab, tx, [begin], 75.0, chargingState="Charging", evseId=1, connectorId=1
        )


async def test_tc_j_09_csms(tmp_path: Path) -> None:
    """Sampled Meter Values - EventType Updated.

    Before: EnergyTransferStarted. At each of three sampled-interval boundaries the station
    sends TransactionEvent Updated, triggerReason MeterValuePeriodic, context
    Sample.Periodic. The CSMS must answer each and keep the readings with the transaction,
    its energy following the latest.
    """
    async with open_lab(tmp_path) as lab, lab.station() as station:
        await states.booted(station)
        tx = Transaction("J09-TX")
        await states.energy_transfer_started(station, tx, lab.tokens)
        readings: list[MeterValueType] = []
        async for at in each_boundary(ROUNDS):
            readings.append(reading(at, 300.0 * (len(readings) + 1), PERIODIC))
            await states.send_event(
                station, tx, "MeterValuePeriodic", timestamp=at, meter_value=[readings[-1]]
            )
        await assert_transaction_readings(
            lab, tx, readings, 900.0, active=True, chargingState="Charging"
        )


async def test_tc_j_10_csms(tmp_path: Path) -> None:
    """Sampled Meter Values - EventType Ended.

    As TC_J_03 with the transaction's sampled readings (context Sample.Periodic) in the
    Ended event, the last one Transaction.End. Part 6 times them by the "clock-aligned Tx
    ended" interval, a copy of TC_J_03's text; they are sampled readings, so the tool's
    station spaces them by its sampled interval (both are one second here).
    """
    async with open_lab(tmp_path) as lab, lab.station() as station:
        await ended_with_readings(lab, station, PERIODIC, signed=False)


async def test_tc_j_11_csms(tmp_path: Path) -> None:
    """Sampled Meter Values - Signed.

    As TC_J_10 with every sampled value carrying a signedMeterValue (J02.FR.21), which the
    CSMS must keep exactly as sent.
    """
    async with open_lab(tmp_path) as lab, lab.station() as station:
        await ended_with_readings(lab, station, PERIODIC, signed=True)
