"""Block E, GetTransactionStatus (E14, feature C-16) and the per-transaction seqNo (E01).

Part 6 §3.6, TC_E_29..E_34 and TC_E_53 (pp. 669-675 by the PDF footer). The CSMS sends
GetTransactionStatusRequest when the tester asks it to (catalogue section 1.E: the tester action
is implicit in Part 6); the tester first looks the transaction up through the operator API, as
an operator would, so the id in the request is the one the CSMS recorded, not one the test
supplies from its own bookkeeping. Messages the station "queued while offline" are sent after
the reconnect with `offline` true and the seqNo they had when queued.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import msgspec
import orjson
import trio
from conformance import states
from conformance.lab import Lab, open_lab

from trio_csms.messages import (
    ChargingStateEnumType,
    GetTransactionStatusRequest,
    GetTransactionStatusResponse,
    MeasurandEnumType,
    MeterValueType,
    ReadingContextEnumType,
    SampledValueType,
    UnitOfMeasureType,
)
from trio_csms.sim import SimStation

WAIT: Final = 5.0
"""Seconds any single expected message may take (the tool's message timeout, shortened)."""
OFFLINE_FOR: Final = 0.2
"""Seconds the station stays disconnected (Part 6: <Configured Transaction Duration>, shortened)."""
QUEUED_ENERGY_WH: Final = 1234.0
"""The energy reading the station queued while offline (TC_E_29, TC_E_33)."""


# --- helpers --------------------------------------------------------------------------------


def _answer_status(
    messages_in_queue: bool, ongoing: bool | None
) -> Callable[[GetTransactionStatusRequest], GetTransactionStatusResponse]:
    """A GetTransactionStatus handler giving the scripted answer (ongoingIndicator omitted
    when `ongoing` is None, as Part 6 scripts for a request without transactionId)."""

    def answer(_request: GetTransactionStatusRequest) -> GetTransactionStatusResponse:
        response = GetTransactionStatusResponse(messages_in_queue=messages_in_queue)
        if ongoing is not None:
            response.ongoing_indicator = ongoing
        return response

    return answer


async def _transaction_status(
    lab: Lab,
    station: SimStation,
    transaction_id: str | None,
    *,
    messages_in_queue: bool,
    ongoing: bool | None,
) -> None:
    """The tester asks the CSMS for the status (of `transaction_id`, or of the station when
    None); checks the request the CSMS sent and that the station's answer is shown as given."""
    station.handle(GetTransactionStatusRequest, _answer_status(messages_in_queue, ongoing))
    payload = {} if transaction_id is None else {"transactionId": transaction_id}
    shown = await lab.call_ok("GetTransactionStatus", payload)
    expected: dict[str, bool] = {"messagesInQueue": messages_in_queue}
    if ongoing is not None:
        expected["ongoingIndicator"] = ongoing
    assert shown == expected
    request = (await station.next_csms_call("GetTransactionStatus", timeout=WAIT)).request
    assert isinstance(request, GetTransactionStatusRequest)
    wanted = msgspec.UNSET if transaction_id is None else transaction_id
    assert request.transaction_id == wanted, request
    await trio.sleep(0.2)  # the CSMS asks once per tester action
    assert not [c for c in station.csms_calls if c.action == "GetTransactionStatus"]


async def _transaction_view(lab: Lab, transaction_id: str) -> dict[str, Any]:
    view: dict[str, Any] = await lab.get_json(f"/transactions/{lab.station_id}/{transaction_id}")
    return view


async def _only_transaction(lab: Lab, *, active: bool) -> str:
    """The id of the station's one transaction, as the operator API lists it."""
    listed = await lab.get_json(
        f"/transactions?stationId={lab.station_id}&active={str(active).lower()}"
    )
    ids = [tx["transactionId"] for tx in listed["transactions"]]
    assert len(ids) == 1, listed
    transaction_id: str = ids[0]
    return transaction_id


async def _charging_then_offline(lab: Lab, name: str) -> states.Transaction:
    """Booted and EnergyTransferStarted (seqNo 0-2), then the tool closes the WebSocket and
    stays away for a moment before it reconnects (Part 6 steps 1-2)."""
    async with lab.station() as station:
        await states.booted(station)
        tx = states.Transaction(f"TX-{name}")
        await states.energy_transfer_started(station, tx, lab.tokens)
    await trio.sleep(OFFLINE_FOR)
    return tx


def _energy_reading() -> MeterValueType:
    sample = SampledValueType(
        value=QUEUED_ENERGY_WH,
        measurand=MeasurandEnumType.Energy_Active_Import_Register,
        context=ReadingContextEnumType.Sample_Periodic,
        unit_of_measure=UnitOfMeasureType(unit="Wh"),
    )
    return MeterValueType(sampled_value=[sample], timestamp=datetime.now(UTC))


async def _send_queued_meter_values(
    lab: Lab, station: SimStation, tx: states.Transaction, seq_no: int
) -> None:
    """The queued TransactionEvent: Updated, meterValues present, offline true. The CSMS
    answers it and stores its reading with the (still running) transaction."""
    await station.transaction_event(
        "Updated",
        "MeterValuePeriodic",
        tx.transaction_id,
        seq_no=seq_no,
        offline=True,
        meter_value=[_energy_reading()],
    )
    view = await _transaction_view(lab, tx.transaction_id)
    assert view["active"] is True and view["chargingState"] == "Charging", view
    assert view["energyImportedWh"] == QUEUED_ENERGY_WH, view
    readings = [
        sample["value"] for value in view["meterValues"] for sample in value["sampledValue"]
    ]
    assert QUEUED_ENERGY_WH in readings, view


def _sent_started_seq_nos(station: SimStation) -> list[tuple[str, int]]:
    """(transactionId, seqNo) of every TransactionEvent Started the station sent."""
    started = []
    for record in station.frames:
        if record.direction != "sent":
            continue
        frame = orjson.loads(record.text)
        if frame[0] == 2 and frame[2] == "TransactionEvent" and frame[3]["eventType"] == "Started":
            started.append((frame[3]["transactionInfo"]["transactionId"], frame[3]["seqNo"]))
    return started


# --- E14: GetTransactionStatus --------------------------------------------------------------


async def test_tc_e_29_csms(tmp_path: Path) -> None:
    """Check Transaction status - Transaction with id ongoing - with message in queue.

    EnergyTransferStarted; the tool disconnects and reconnects (no new boot); the CSMS sends
    GetTransactionStatusRequest with transactionId = the running transaction's id (tool
    validation, step 3); the tool answers ongoingIndicator true, messagesInQueue true, then
    delivers the queued TransactionEvent Updated (meterValues, offline true), which the CSMS
    answers and records with the transaction.
    """
    async with open_lab(tmp_path) as lab:
        tx = await _charging_then_offline(lab, "E29")
        async with lab.station() as station:
            transaction_id = await _only_transaction(lab, active=True)
            assert transaction_id == tx.transaction_id
            await _transaction_status(
                lab, station, transaction_id, messages_in_queue=True, ongoing=True
            )
            await _send_queued_meter_values(lab, station, tx, seq_no=3)


async def test_tc_e_30_csms(tmp_path: Path) -> None:
    """Check Transaction status - Transaction with id ongoing - without message in queue.

    EnergyTransferStarted; the CSMS sends GetTransactionStatusRequest with transactionId =
    the running transaction's id (tool validation, step 1); the tool answers ongoingIndicator
    true, messagesInQueue false. The transaction stays as it was (running, Charging).
    """
    async with open_lab(tmp_path) as lab, lab.station() as station:
        await states.booted(station)
        tx = states.Transaction("TX-E30")
        await states.energy_transfer_started(station, tx, lab.tokens)
        transaction_id = await _only_transaction(lab, active=True)
        assert transaction_id == tx.transaction_id
        await _transaction_status(
            lab, station, transaction_id, messages_in_queue=False, ongoing=True
        )
        view = await _transaction_view(lab, tx.transaction_id)
        assert view["active"] is True and view["chargingState"] == "Charging", view


async def test_tc_e_31_csms(tmp_path: Path) -> None:
    """Check Transaction status - Transaction with id ended - with message in queue.

    EnergyTransferStarted (seqNo 0-2); the tool disconnects and reconnects; StatusNotification
    Available; TransactionEvent Ended (offline, EVCommunicationLost, Idle) with seqNo 5, so 3
    and 4 are missing; the CSMS closes the transaction and shows the gap. The CSMS then sends
    GetTransactionStatusRequest with the ended transaction's id; the tool answers
    ongoingIndicator false, messagesInQueue true and delivers seqNo 3 (Updated StopAuthorized,
    offline) and seqNo 4 (Updated ChargingStateChanged EVConnected, offline). The CSMS answers
    both; the transaction stays ended with the state of its newest event (Idle) and no gap.

    Part 6's tool validation says "Step 5: GetTransactionStatusRequest"; step 5 is the Ended
    event, the request is step 7: the validation (its transactionId) is checked there. Part 6
    gives the Ended event no stoppedReason and the StopAuthorized event no idToken: both are
    sent as Part 6 writes them (optional fields).
    """
    async with open_lab(tmp_path) as lab:
        tx = await _charging_then_offline(lab, "E31")
        async with lab.station() as station:
            await station.status_notification(states.EVSE_ID, states.CONNECTOR_ID, "Available")
            await station.transaction_event(
                "Ended",
                "EVCommunicationLost",
                tx.transaction_id,
                seq_no=5,
                offline=True,
                charging_state=ChargingStateEnumType.Idle,
            )
            ended = await _transaction_view(lab, tx.transaction_id)
            assert ended["active"] is False and ended["seqNoGaps"] == [3, 4], ended

            transaction_id = await _only_transaction(lab, active=False)
            assert transaction_id == tx.transaction_id
            await _transaction_status(
                lab, station, transaction_id, messages_in_queue=True, ongoing=False
            )
            await station.transaction_event(
                "Updated", "StopAuthorized", tx.transaction_id, seq_no=3, offline=True
            )
            await station.transaction_event(
                "Updated",
                "ChargingStateChanged",
                tx.transaction_id,
                seq_no=4,
                offline=True,
                charging_state=ChargingStateEnumType.EVConnected,
            )
            view = await _transaction_view(lab, tx.transaction_id)
            assert view["active"] is False and view["seqNoGaps"] == [], view
            assert view["chargingState"] == "Idle" and view["endedAt"] == ended["endedAt"], view


async def test_tc_e_33_csms(tmp_path: Path) -> None:
    """Check Transaction status - Without transactionId - with message in queue.

    As TC_E_29, but the tester asks about the station's queue as a whole: the CSMS's
    GetTransactionStatusRequest must omit transactionId (tool validation, step 3); the tool
    answers messagesInQueue true with ongoingIndicator omitted, then delivers the queued
    TransactionEvent Updated (meterValues, offline true), which the CSMS answers.
    """
    async with open_lab(tmp_path) as lab:
        tx = await _charging_then_offline(lab, "E33")
        async with lab.station() as station:
            await _transaction_status(lab, station, None, messages_in_queue=True, ongoing=None)
            await _send_queued_meter_values(lab, station, tx, seq_no=3)


async def test_tc_e_34_csms(tmp_path: Path) -> None:
    """Check Transaction status - Without transactionId - without message in queue.

    No transaction (Part 6: no reusable state; the station is Booted to be connected); the
    CSMS's GetTransactionStatusRequest omits transactionId (tool validation, step 1); the tool
    answers messagesInQueue false with ongoingIndicator omitted.
    """
    async with open_lab(tmp_path) as lab, lab.station() as station:
        await states.booted(station)
        await _transaction_status(lab, station, None, messages_in_queue=False, ongoing=None)


# --- E01: seqNo per transaction -------------------------------------------------------------


async def test_tc_e_53_csms(tmp_path: Path) -> None:
    """Reset Sequence Number - CSMS accepting seqNo = 0 at start of transaction (E01.FR.07).

    EnergyTransferStarted, EVDisconnected, then again with a new transaction whose first
    TransactionEvent (Started) again has seqNo 0. Tool validations: each Started event with
    seqNo 0 is answered (its idTokenInfo Accepted, as the Authorized state requires). Beyond
    Part 6: both transactions are recorded as separate, ended, without seqNo gaps, so the
    restart was not mistaken for a retransmission or a gap.
    """
    async with open_lab(tmp_path) as lab, lab.station() as station:
        await states.booted(station)
        transactions = [states.Transaction("TX-E53-1"), states.Transaction("TX-E53-2")]
        for tx in transactions:
            await states.energy_transfer_started(station, tx, lab.tokens)
            states.assert_token_accepted(tx.responses[0])  # the Started event's answer
            await states.ev_disconnected(station, tx)
        ids = [tx.transaction_id for tx in transactions]
        assert _sent_started_seq_nos(station) == [(ids[0], 0), (ids[1], 0)]
        for transaction_id in ids:
            view = await _transaction_view(lab, transaction_id)
            assert view["active"] is False and view["stoppedReason"] == "EVDisconnected", view
            assert view["seqNoGaps"] == [] and view["startedAt"] is not None, view
