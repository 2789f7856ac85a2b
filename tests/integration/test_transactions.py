"""Transactions (block E) and meter values (block J) over a real websocket, against the real CSMS.

A transaction is built from its TransactionEvents; what the catalogue asks of the CSMS is that
it answers every event (online, offline, late, out of order, retransmitted), checks the idToken
it carries, and keeps what happened: lifecycle, EVSE, idToken, charging state, stop reason,
energy, meter values. These tests drive the simulator and read the result from the store
(`store.get_transaction`, `list_transaction_events`, `list_meter_values`).

Each test runs a `Csms` on 127.0.0.1 (port 0) with a SQLite store under `tmp_path`, boots the
station (Accepted) first, and is bounded by `trio.fail_after(TIMEOUT)`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
import pytest
import trio
from csms_harness import RunningCsms, running_csms

from trio_csms.messages import (
    AuthorizationStatusEnumType,
    ChargingStateEnumType,
    IdTokenEnumType,
    IdTokenInfoType,
    IdTokenType,
    MeasurandEnumType,
    MeterValueType,
    PhaseEnumType,
    ReadingContextEnumType,
    ReasonEnumType,
    RegistrationStatusEnumType,
    SampledValueType,
    SignedMeterValueType,
    TransactionEventResponse,
    UnitOfMeasureType,
)
from trio_csms.sim import SimStation
from trio_csms.sim.station import CallErrorRaised
from trio_csms.store import IdTokenRecord, SqliteStore, Store, TransactionRecord

TIMEOUT = 10
STATION = "CS001"
T0 = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)

VALID = IdTokenType(id_token="04A2B3C4D5E6F7", type=IdTokenEnumType.ISO14443)
BLOCKED = IdTokenType(id_token="04B0B0B0B0B0B0", type=IdTokenEnumType.ISO14443)
EVSE_2_ONLY = IdTokenType(id_token="04E2E2E2E2E2E2", type=IdTokenEnumType.ISO14443)
UNKNOWN = IdTokenType(id_token="04FFFFFFFFFFFF", type=IdTokenEnumType.ISO14443)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@asynccontextmanager
async def csms_with_station(
    tmp_path: Path,
) -> AsyncIterator[tuple[RunningCsms, Store, SimStation]]:
    """A running CSMS with the test tokens stored, and one booted (Accepted) station."""
    async with running_csms(tmp_path) as csms:
        store = csms.csms.store
        await store.put_id_token(IdTokenRecord(id_token=VALID.id_token, type="ISO14443"))
        await store.put_id_token(
            IdTokenRecord(id_token=BLOCKED.id_token, type="ISO14443", status="Blocked")
        )
        await store.put_id_token(
            IdTokenRecord(id_token=EVSE_2_ONLY.id_token, type="ISO14443", evse_id=[2])
        )
        await csms.register(STATION)
        async with csms.station(STATION) as sim:
            boot = await sim.boot()
            assert boot.status is RegistrationStatusEnumType.Accepted
            yield csms, store, sim


async def transaction(store: Store, transaction_id: str) -> TransactionRecord:
    record = await store.get_transaction(STATION, transaction_id)
    assert record is not None, f"transaction {transaction_id} not stored"
    return record


def energy(
    value: float,
    timestamp: datetime,
    *,
    unit: str | None = "Wh",
    multiplier: int | None = None,
    measurand: MeasurandEnumType | None = MeasurandEnumType.Energy_Active_Import_Register,
    context: ReadingContextEnumType = ReadingContextEnumType.Sample_Periodic,
) -> MeterValueType:
    """One meter value with one sampled value, its optional fields left out when None."""
    sample = SampledValueType(value=value, context=context)
    if measurand is not None:
        sample.measurand = measurand
    if unit is not None or multiplier is not None:
        sample.unit_of_measure = UnitOfMeasureType()
        if unit is not None:
            sample.unit_of_measure.unit = unit
        if multiplier is not None:
            sample.unit_of_measure.multiplier = multiplier
    return MeterValueType(timestamp=timestamp, sampled_value=[sample])


def wire(value: msgspec.Struct) -> Any:
    return msgspec.to_builtins(value)


# --- lifecycle (E01-E06) ----------------------------------------------------------------------


async def test_started_updated_ended_lifecycle_is_stored(tmp_path: Path) -> None:
    """TC_E_03_CSMS / TC_E_15_CSMS (E02, E06): cable first, then authorization, charging,
    local stop. The transaction record follows: EVSE/connector, idToken, active flag,
    charging state, start and end time, stop reason, energy; every event is stored."""
    with trio.fail_after(TIMEOUT):
        async with csms_with_station(tmp_path) as (_, store, sim):
            await sim.report_connector(1, 1, "Occupied")
            started = await sim.transaction_event(
                "Started",
                "CablePluggedIn",
                "TX-1",
                timestamp=at(0),
                evse_id=1,
                connector_id=1,
                charging_state=ChargingStateEnumType.EVConnected,
                meter_value=[
                    energy(1000.0, at(0), context=ReadingContextEnumType.Transaction_Begin)
                ],
            )
            assert started == TransactionEventResponse()  # no idToken: no idTokenInfo (E_09)
            record = await transaction(store, "TX-1")
            assert (record.evse_id, record.connector_id) == (1, 1)
            assert (record.active, record.charging_state) == (True, "EVConnected")
            assert (record.started_at, record.ended_at, record.id_token) == (at(0), None, None)
            assert record.energy_imported_wh == 1000.0

            authorized = await sim.transaction_event(
                "Updated", "Authorized", "TX-1", timestamp=at(5), id_token=VALID
            )
            assert authorized.id_token_info == IdTokenInfoType(
                status=AuthorizationStatusEnumType.Accepted
            )
            await sim.transaction_event(
                "Updated",
                "ChargingStateChanged",
                "TX-1",
                timestamp=at(6),
                charging_state=ChargingStateEnumType.Charging,
            )
            record = await transaction(store, "TX-1")
            assert record.id_token == wire(VALID)
            assert (record.active, record.charging_state) == (True, "Charging")

            await sim.transaction_event(
                "Ended",
                "StopAuthorized",
                "TX-1",
                timestamp=at(3600),
                id_token=VALID,
                charging_state=ChargingStateEnumType.EVConnected,
                stopped_reason=ReasonEnumType.Local,
                meter_value=[
                    energy(
                        7.5, at(3600), unit="kWh", context=ReadingContextEnumType.Transaction_End
                    )
                ],
            )
            record = await transaction(store, "TX-1")
            assert record.active is False
            assert (record.started_at, record.ended_at) == (at(0), at(3600))
            assert record.stopped_reason == "Local"
            assert record.charging_state == "EVConnected"
            assert record.energy_imported_wh == 7500.0
            assert (record.evse_id, record.connector_id) == (1, 1)  # kept from Started
            assert (record.first_seq_no, record.last_seq_no, record.seq_no_gaps) == (0, 3, [])

            events = await store.list_transaction_events(STATION, "TX-1")
            assert [(e.seq_no, e.event_type, e.trigger_reason) for e in events] == [
                (0, "Started", "CablePluggedIn"),
                (1, "Updated", "Authorized"),
                (2, "Updated", "ChargingStateChanged"),
                (3, "Ended", "StopAuthorized"),
            ]
            assert [e.timestamp for e in events] == [at(0), at(5), at(6), at(3600)]
            assert not any(e.offline for e in events)


async def test_transaction_started_by_authorization_gets_its_evse_later(tmp_path: Path) -> None:
    """TC_E_04/E_10_CSMS (E01.FR.03): a transaction may start on authorization, before any
    EVSE is known (TC_E_12: even with no idToken); the EVSE of a later event is recorded."""
    with trio.fail_after(TIMEOUT):
        async with csms_with_station(tmp_path) as (_, store, sim):
            started = await sim.transaction_event("Started", "Authorized", "TX-2", id_token=VALID)
            assert started.id_token_info == IdTokenInfoType(
                status=AuthorizationStatusEnumType.Accepted
            )
            record = await transaction(store, "TX-2")
            assert (record.evse_id, record.connector_id, record.active) == (None, None, True)

            await sim.transaction_event(
                "Updated", "CablePluggedIn", "TX-2", evse_id=2, connector_id=1
            )
            record = await transaction(store, "TX-2")
            assert (record.evse_id, record.connector_id) == (2, 1)
            assert record.id_token == wire(VALID)


async def test_evse_without_connector_id_keeps_the_known_connector(tmp_path: Path) -> None:
    """E01/E02: EVSEType.connectorId is optional; a later event that names the same EVSE
    without it does not forget the connector an earlier event reported."""
    with trio.fail_after(TIMEOUT):
        async with csms_with_station(tmp_path) as (_, store, sim):
            await sim.transaction_event(
                "Started", "CablePluggedIn", "TX-CONN", evse_id=1, connector_id=2
            )
            await sim.transaction_event(
                "Updated",
                "ChargingStateChanged",
                "TX-CONN",
                evse_id=1,
                charging_state=ChargingStateEnumType.Charging,
            )
            record = await transaction(store, "TX-CONN")
            assert (record.evse_id, record.connector_id) == (1, 2)


async def test_remote_start_id_is_stored(tmp_path: Path) -> None:
    """TC_F_01/F_02_CSMS (F01.FR.23): the remoteStartId of RequestStartTransaction comes back
    in the transaction's event and is stored with the transaction."""
    with trio.fail_after(TIMEOUT):
        async with csms_with_station(tmp_path) as (_, store, sim):
            await sim.transaction_event(
                "Started",
                "RemoteStart",
                "TX-REMOTE",
                evse_id=1,
                connector_id=1,
                id_token=VALID,
                remote_start_id=424242,
            )
            await sim.transaction_event(
                "Updated",
                "ChargingStateChanged",
                "TX-REMOTE",
                charging_state=ChargingStateEnumType.Charging,
            )
            assert (await transaction(store, "TX-REMOTE")).remote_start_id == 424242


async def test_new_transaction_restarting_at_seq_no_zero_is_a_separate_one(
    tmp_path: Path,
) -> None:
    """TC_E_53_CSMS (E01.FR.07): seqNo counts per transaction; a second transaction starts at
    seqNo 0 again and is stored on its own, without touching the first."""
    with trio.fail_after(TIMEOUT):
        async with csms_with_station(tmp_path) as (_, store, sim):
            for transaction_id in ["TX-A", "TX-B"]:
                await sim.transaction_event(
                    "Started", "CablePluggedIn", transaction_id, seq_no=0, evse_id=1, connector_id=1
                )
                await sim.transaction_event(
                    "Updated",
                    "ChargingStateChanged",
                    transaction_id,
                    seq_no=1,
                    charging_state=ChargingStateEnumType.Charging,
                )
            await sim.transaction_event(
                "Ended",
                "EVCommunicationLost",
                "TX-B",
                seq_no=2,
                charging_state=ChargingStateEnumType.Idle,
                stopped_reason=ReasonEnumType.EVDisconnected,
            )

            first, second = await transaction(store, "TX-A"), await transaction(store, "TX-B")
            assert (first.active, first.last_seq_no, first.stopped_reason) == (True, 1, None)
            assert (second.active, second.last_seq_no, second.stopped_reason) == (
                False,
                2,
                "EVDisconnected",
            )
            assert [e.seq_no for e in await store.list_transaction_events(STATION, "TX-A")] == [
                0,
                1,
            ]
            assert [e.seq_no for e in await store.list_transaction_events(STATION, "TX-B")] == [
                0,
                1,
                2,
            ]


async def test_ended_event_for_an_already_ended_transaction_is_answered(tmp_path: Path) -> None:
    """TC_E_19_CSMS (E06.FR.01): after EVDisconnected ended the transaction, a later Ended
    (EVDeparted, ParkingBayUnoccupied stop point) is answered normally, not with an error."""
    with trio.fail_after(TIMEOUT):
        async with csms_with_station(tmp_path) as (_, store, sim):
            await sim.transaction_event("Started", "EVDetected", "TX-BAY", timestamp=at(0))
            await sim.transaction_event(
                "Ended",
                "EVCommunicationLost",
                "TX-BAY",
                timestamp=at(60),
                stopped_reason=ReasonEnumType.EVDisconnected,
            )
            response = await sim.transaction_event(
                "Ended",
                "EVDeparted",
                "TX-BAY",
                timestamp=at(90),
                stopped_reason=ReasonEnumType.Local,
            )
            assert response == TransactionEventResponse()
            record = await transaction(store, "TX-BAY")
            assert (record.active, record.ended_at, record.stopped_reason) == (
                False,
                at(90),
                "Local",
            )
            assert len(await store.list_transaction_events(STATION, "TX-BAY")) == 3


# --- the idToken in TransactionEvent (C01, C12) ----------------------------------------------


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        (VALID, AuthorizationStatusEnumType.Accepted),
        (BLOCKED, AuthorizationStatusEnumType.Blocked),
        (UNKNOWN, AuthorizationStatusEnumType.Unknown),
    ],
    ids=["accepted", "blocked", "unknown"],
)
async def test_transaction_event_answers_the_id_token_status(
    tmp_path: Path, token: IdTokenType, expected: AuthorizationStatusEnumType
) -> None:
    """TC_C_08/C_20_CSMS (C12.FR.03), TC_E_16_CSMS (E01.FR.11): an event carrying an idToken
    (here from the station's authorization cache, without Authorize) gets idTokenInfo with the
    CSMS's status for it: Accepted, Blocked, or Unknown for a token it does not know."""
    with trio.fail_after(TIMEOUT):
        async with csms_with_station(tmp_path) as (_, _store, sim):
            await sim.transaction_event(
                "Started", "CablePluggedIn", "TX-C", evse_id=1, connector_id=1
            )
            response = await sim.transaction_event("Updated", "Authorized", "TX-C", id_token=token)
            assert response.id_token_info == IdTokenInfoType(status=expected)


async def test_token_limited_to_another_evse_is_not_at_this_location(tmp_path: Path) -> None:
    """C01 (IdTokenInfo.evseId): a token valid only on EVSE 2 is NotAtThisLocation for a
    transaction on EVSE 1, judged by the transaction's EVSE even when the event carrying the
    token does not repeat it; on EVSE 2 it is Accepted."""
    with trio.fail_after(TIMEOUT):
        async with csms_with_station(tmp_path) as (_, _store, sim):
            await sim.transaction_event(
                "Started", "CablePluggedIn", "TX-E1", evse_id=1, connector_id=1
            )
            elsewhere = await sim.transaction_event(
                "Updated", "Authorized", "TX-E1", id_token=EVSE_2_ONLY
            )
            assert elsewhere.id_token_info == IdTokenInfoType(
                status=AuthorizationStatusEnumType.NotAtThisLocation, evse_id=[2]
            )

            here = await sim.transaction_event(
                "Started", "Authorized", "TX-E2", evse_id=2, connector_id=1, id_token=EVSE_2_ONLY
            )
            assert here.id_token_info == IdTokenInfoType(
                status=AuthorizationStatusEnumType.Accepted, evse_id=[2]
            )


async def test_the_stop_token_does_not_replace_the_authorizing_one(tmp_path: Path) -> None:
    """TC_C_39_CSMS, TC_C_47_CSMS: a transaction stopped with another token (same group, master
    pass) keeps the token that authorized it, also when the stop event arrives first (offline
    queue) and the authorizing event after it."""
    with trio.fail_after(TIMEOUT):
        async with csms_with_station(tmp_path) as (_, store, sim):
            await sim.transaction_event("Started", "Authorized", "TX-S1", id_token=VALID)
            await sim.transaction_event("Ended", "StopAuthorized", "TX-S1", id_token=EVSE_2_ONLY)
            assert (await transaction(store, "TX-S1")).id_token == wire(VALID)

            await sim.transaction_event("Started", "CablePluggedIn", "TX-S2", seq_no=0)
            await sim.transaction_event(
                "Ended", "StopAuthorized", "TX-S2", seq_no=2, id_token=EVSE_2_ONLY, offline=True
            )
            assert (await transaction(store, "TX-S2")).id_token == wire(EVSE_2_ONLY)
            await sim.transaction_event(
                "Updated", "Authorized", "TX-S2", seq_no=1, id_token=VALID, offline=True
            )
            record = await transaction(store, "TX-S2")
            assert (record.id_token, record.active, record.seq_no_gaps) == (wire(VALID), False, [])


# --- retransmission, offline and out-of-order events (E14, TC_E_29-E_34) ---------------------


async def test_retransmitted_event_is_answered_again_but_stored_once(tmp_path: Path) -> None:
    """Part 4 §4.1 (message retry), E14: a station that lost our answer sends the same event
    (same transactionId and seqNo) again; it gets the same answer again, and the event is
    stored once; a late copy of an older event does not roll the state back."""
    with trio.fail_after(TIMEOUT):
        async with csms_with_station(tmp_path) as (_, store, sim):
            await sim.transaction_event(
                "Started", "CablePluggedIn", "TX-R", seq_no=0, timestamp=at(0), evse_id=1
            )
            charging: dict[str, Any] = {
                "seq_no": 1,
                "timestamp": at(10),
                "id_token": VALID,
                "charging_state": ChargingStateEnumType.Charging,
                "meter_value": [energy(500.0, at(10))],
            }
            first = await sim.transaction_event("Updated", "Authorized", "TX-R", **charging)
            again = await sim.transaction_event("Updated", "Authorized", "TX-R", **charging)
            assert first == again
            assert again.id_token_info == IdTokenInfoType(
                status=AuthorizationStatusEnumType.Accepted
            )
            await sim.transaction_event(
                "Started", "CablePluggedIn", "TX-R", seq_no=0, timestamp=at(0), evse_id=1
            )

            events = await store.list_transaction_events(STATION, "TX-R")
            assert [e.seq_no for e in events] == [0, 1]
            assert len(await store.list_meter_values(STATION, "TX-R")) == 1
            record = await transaction(store, "TX-R")
            assert (record.charging_state, record.last_seq_no, record.seq_no_gaps) == (
                "Charging",
                1,
                [],
            )


async def test_offline_events_out_of_order_keep_the_newest_state_and_track_gaps(
    tmp_path: Path,
) -> None:
    """TC_E_29/E_31_CSMS (E14, E01.FR.07): after a reconnect queued events arrive offline and
    out of order (seqNo 0, 3, 1). The state follows the highest seqNo (3), the missing seqNo
    is recorded as a gap, a late older event adds its meter values but does not roll the state
    or the energy register back, and delivering the missing event closes the gap."""
    with trio.fail_after(TIMEOUT):
        async with csms_with_station(tmp_path) as (_, store, sim):
            await sim.transaction_event(
                "Started",
                "CablePluggedIn",
                "TX-OFF",
                seq_no=0,
                timestamp=at(0),
                evse_id=1,
                connector_id=1,
                charging_state=ChargingStateEnumType.EVConnected,
            )
            await sim.transaction_event(
                "Updated",
                "ChargingStateChanged",
                "TX-OFF",
                seq_no=3,
                timestamp=at(300),
                offline=True,
                charging_state=ChargingStateEnumType.SuspendedEV,
                meter_value=[energy(5000.0, at(300))],
            )
            await sim.transaction_event(
                "Updated",
                "ChargingStateChanged",
                "TX-OFF",
                seq_no=1,
                timestamp=at(100),
                offline=True,
                charging_state=ChargingStateEnumType.Charging,
                meter_value=[energy(2000.0, at(100))],
            )

            record = await transaction(store, "TX-OFF")
            assert record.charging_state == "SuspendedEV"
            assert (record.first_seq_no, record.last_seq_no, record.seq_no_gaps) == (0, 3, [2])
            assert record.energy_imported_wh == 5000.0
            events = await store.list_transaction_events(STATION, "TX-OFF")
            assert [(e.seq_no, e.offline) for e in events] == [(0, False), (1, True), (3, True)]
            readings = await store.list_meter_values(STATION, "TX-OFF")
            assert [m.timestamp for m in readings] == [at(100), at(300)]

            await sim.transaction_event(
                "Updated",
                "MeterValuePeriodic",
                "TX-OFF",
                seq_no=2,
                timestamp=at(200),
                offline=True,
                meter_value=[energy(3500.0, at(200))],
            )
            record = await transaction(store, "TX-OFF")
            assert record.seq_no_gaps == []
            assert (record.charging_state, record.energy_imported_wh) == ("SuspendedEV", 5000.0)
            assert [e.seq_no for e in await store.list_transaction_events(STATION, "TX-OFF")] == [
                0,
                1,
                2,
                3,
            ]


async def test_late_events_after_ended_do_not_reopen_the_transaction(tmp_path: Path) -> None:
    """TC_E_31_CSMS (E14.FR.03/04): the Ended event arrives with a gap of two seqNo values,
    then the two missing Updated events; they are answered, fill the gaps, and the
    transaction stays ended with the Ended event's state."""
    with trio.fail_after(TIMEOUT):
        async with csms_with_station(tmp_path) as (_, store, sim):
            await sim.transaction_event(
                "Started", "CablePluggedIn", "TX-END", seq_no=0, timestamp=at(0), evse_id=1
            )
            await sim.transaction_event(
                "Ended",
                "EVCommunicationLost",
                "TX-END",
                seq_no=3,
                timestamp=at(30),
                offline=True,
                charging_state=ChargingStateEnumType.Idle,
                stopped_reason=ReasonEnumType.EVDisconnected,
            )
            assert (await transaction(store, "TX-END")).seq_no_gaps == [1, 2]

            await sim.transaction_event(
                "Updated", "StopAuthorized", "TX-END", seq_no=1, timestamp=at(10), offline=True
            )
            await sim.transaction_event(
                "Updated",
                "ChargingStateChanged",
                "TX-END",
                seq_no=2,
                timestamp=at(20),
                offline=True,
                charging_state=ChargingStateEnumType.EVConnected,
            )
            record = await transaction(store, "TX-END")
            assert (record.active, record.ended_at, record.seq_no_gaps) == (False, at(30), [])
            assert (record.charging_state, record.stopped_reason) == ("Idle", "EVDisconnected")


# --- energy and meter values (J01, J02) -------------------------------------------------------


@pytest.mark.parametrize(
    ("reading", "expected_wh"),
    [
        (energy(1234.5, T0, unit=None, measurand=None), 1234.5),
        (energy(12.5, T0, unit="kWh"), 12_500.0),
        (energy(2.5, T0, unit="Wh", multiplier=3), 2_500.0),
        (energy(0.5, T0, unit="kWh", multiplier=1), 5_000.0),
    ],
    ids=["default-measurand-and-unit", "kWh", "Wh-multiplier-3", "kWh-multiplier-1"],
)
async def test_energy_register_reading_is_stored_in_wh(
    tmp_path: Path, reading: MeterValueType, expected_wh: float
) -> None:
    """J02 / Part 2 SampledValueType: measurand defaults to Energy.Active.Import.Register and
    unit to Wh; kWh and the power-of-ten multiplier are converted, so energy is always Wh."""
    with trio.fail_after(TIMEOUT):
        async with csms_with_station(tmp_path) as (_, store, sim):
            await sim.transaction_event(
                "Started", "CablePluggedIn", "TX-WH", evse_id=1, meter_value=[reading]
            )
            assert (await transaction(store, "TX-WH")).energy_imported_wh == expected_wh


async def test_energy_takes_the_latest_total_register_reading_only(tmp_path: Path) -> None:
    """J02: of several meter values in one event the latest one counts; per-phase register
    readings and other measurands (power) do not replace the total energy."""
    with trio.fail_after(TIMEOUT):
        async with csms_with_station(tmp_path) as (_, store, sim):
            per_phase = energy(9999.0, at(90))
            per_phase.sampled_value[0].phase = PhaseEnumType.L1
            power = energy(
                11000.0, at(90), unit="W", measurand=MeasurandEnumType.Power_Active_Import
            )
            await sim.transaction_event(
                "Updated",
                "MeterValuePeriodic",
                "TX-LATEST",
                evse_id=1,
                meter_value=[energy(800.0, at(60)), per_phase, power, energy(600.0, at(30))],
            )
            assert (await transaction(store, "TX-LATEST")).energy_imported_wh == 800.0


async def test_transaction_meter_values_are_stored_with_the_transaction(tmp_path: Path) -> None:
    """TC_J_07/J_09/J_10/J_11_CSMS (J02): Transaction.Begin, periodic and Transaction.End
    values, signed ones too (accepted, not verified), are kept with the transaction and its
    EVSE, in time order, as sent."""
    signed = energy(1500.0, at(120), context=ReadingContextEnumType.Transaction_End)
    signed.sampled_value[0].signed_meter_value = SignedMeterValueType(
        signed_meter_data="AQIDBAUGBwg=",
        signing_method="ECDSA-secp256r1-SHA256",
        encoding_method="OCMF",
        public_key="MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE",
    )
    begin = energy(0.0, at(0), context=ReadingContextEnumType.Transaction_Begin)
    periodic = [energy(500.0, at(60)), energy(1000.0, at(90))]
    with trio.fail_after(TIMEOUT):
        async with csms_with_station(tmp_path) as (_, store, sim):
            await sim.transaction_event(
                "Started", "CablePluggedIn", "TX-MV", evse_id=1, connector_id=1, meter_value=[begin]
            )
            await sim.transaction_event(
                "Updated", "MeterValuePeriodic", "TX-MV", meter_value=periodic
            )
            await sim.transaction_event(
                "Ended",
                "EVCommunicationLost",
                "TX-MV",
                stopped_reason=ReasonEnumType.EVDisconnected,
                meter_value=[signed],
            )

            stored = await store.list_meter_values(STATION, "TX-MV")
            sent = [begin, *periodic, signed]
            assert [(m.evse_id, m.transaction_id, m.timestamp) for m in stored] == [
                (1, "TX-MV", value.timestamp) for value in sent
            ]
            assert [m.sampled_value for m in stored] == [
                wire(value)["sampledValue"] for value in sent
            ]
            assert await store.list_meter_values(STATION, None) == []
            assert (await transaction(store, "TX-MV")).energy_imported_wh == 1500.0


async def test_meter_values_outside_transactions_keep_their_evse_including_zero(
    tmp_path: Path,
) -> None:
    """TC_J_01_CSMS (J01.FR.18): clock-aligned MeterValues for the main meter (evseId 0) and
    for an EVSE are stored outside any transaction; evseId 0 stays 0, not "unknown"."""
    with trio.fail_after(TIMEOUT):
        async with csms_with_station(tmp_path) as (_, store, sim):
            main = energy(123456.0, at(0), context=ReadingContextEnumType.Sample_Clock)
            evse = energy(2000.0, at(1), context=ReadingContextEnumType.Sample_Clock)
            await sim.meter_values(0, [main])
            await sim.meter_values(1, [evse])

            stored = await store.list_meter_values(STATION, None)
            assert [(m.evse_id, m.transaction_id, m.timestamp) for m in stored] == [
                (0, None, at(0)),
                (1, None, at(1)),
            ]
            assert stored[0].sampled_value == wire(main)["sampledValue"]


# --- durability -------------------------------------------------------------------------------


async def test_an_answered_event_is_already_committed(tmp_path: Path) -> None:
    """Store contract (durability rule): the CSMS answers a TransactionEvent only after the
    event is committed, so a new, independent store opened on the same database file right
    after the CALLRESULT arrives sees the event and the transaction."""
    with trio.fail_after(TIMEOUT):
        async with csms_with_station(tmp_path) as (_, _store, sim):
            await sim.transaction_event(
                "Started",
                "CablePluggedIn",
                "TX-DUR",
                evse_id=1,
                connector_id=1,
                meter_value=[energy(42.0, at(0))],
            )

            other = SqliteStore(str(tmp_path / "csms.db"))
            await other.open()
            try:
                events = await other.list_transaction_events(STATION, "TX-DUR")
                record = await other.get_transaction(STATION, "TX-DUR")
                readings = await other.list_meter_values(STATION, "TX-DUR")
            finally:
                await other.close()
            assert [(e.seq_no, e.event_type) for e in events] == [(0, "Started")]
            assert record is not None
            assert (record.evse_id, record.energy_imported_wh) == (1, 42.0)
            assert len(readings) == 1


async def test_an_event_whose_write_failed_leaves_no_trace_in_the_next_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CSMS keeps a running transaction in memory between events (no read per event).
    An event it could not store is answered with a CALLERROR, and the station will send it
    again: until then the transaction must be what the store holds, not what that event
    would have made of it (here: no Charging state, and its seqNo counted as missing)."""
    with trio.fail_after(TIMEOUT):
        async with csms_with_station(tmp_path) as (_, store, sim):
            await sim.transaction_event(
                "Started", "CablePluggedIn", "TX-F", seq_no=0, timestamp=at(0), evse_id=1,
                charging_state=ChargingStateEnumType.EVConnected,
            )  # fmt: skip
            record_event = store.record_transaction_event

            async def disk_full(*args: Any) -> bool:
                raise OSError("disk full")

            monkeypatch.setattr(store, "record_transaction_event", disk_full)
            with pytest.raises(CallErrorRaised) as failed:
                await sim.transaction_event(
                    "Updated", "ChargingStateChanged", "TX-F", seq_no=1, timestamp=at(5),
                    charging_state=ChargingStateEnumType.Charging,
                )  # fmt: skip
            assert failed.value.code == "InternalError"
            monkeypatch.setattr(store, "record_transaction_event", record_event)
            await sim.transaction_event(
                "Updated", "MeterValuePeriodic", "TX-F", seq_no=2, timestamp=at(10),
                meter_value=[energy(100.0, at(10))],
            )  # fmt: skip

            record = await transaction(store, "TX-F")
            assert (record.charging_state, record.last_seq_no, record.seq_no_gaps) == (
                "EVConnected",
                2,
                [1],
            )
            assert record.energy_imported_wh == 100.0
