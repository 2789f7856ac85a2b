"""Functional blocks E (Transactions) and J (Meter Values): TransactionEvent and MeterValues.

A transaction is built from its events. Offline-queued events may arrive late and out of order
(TC_E_29-E_34): the state fields (charging state, EVSE, stop reason) follow the event with the
highest seqNo, so a late older event never rolls the state back; its meter values are stored
all the same. The idToken is the one that authorized the transaction, not the one that stopped
it. seqNo values missing between the lowest and highest received are kept as `seq_no_gaps`. A
retransmitted event (same station, transaction and seqNo) is answered again but not stored
twice. A new transaction may start again at seqNo 0 (TC_E_53).
"""

from __future__ import annotations

from datetime import datetime

from ..events import DomainEvent, TransactionEnded, TransactionStarted, TransactionUpdated
from ..messages import (
    MeasurandEnumType,
    MeterValuesRequest,
    MeterValuesResponse,
    MeterValueType,
    TransactionEventEnumType,
    TransactionEventRequest,
    TransactionEventResponse,
    TriggerReasonEnumType,
)
from ..store.base import MeterValueRecord, TransactionEventRecord, TransactionRecord
from .authorization import id_token_info
from .context import StationContext
from .wire import given, to_wire

_ENERGY = MeasurandEnumType.Energy_Active_Import_Register


async def transaction_event(
    ctx: StationContext, req: TransactionEventRequest
) -> TransactionEventResponse:
    """E01-E15: record the event; check its idToken when it carries one (C01)."""
    transaction_id = req.transaction_info.transaction_id
    transaction = (
        ctx.transactions.get(transaction_id)
        or await ctx.store.get_transaction(ctx.station_id, transaction_id)
        or TransactionRecord(station_id=ctx.station_id, transaction_id=transaction_id)
    )
    # From here the record in memory runs ahead of the store until the write returns.
    try:
        response, stored = await _record(ctx, req, transaction)
    except BaseException:
        ctx.transactions.forget(transaction_id)
        raise
    if stored:
        ctx.transactions.stored(transaction)
        ctx.emit(_domain_event(ctx.station_id, req, transaction))
    else:  # a retransmission: nothing was written, so the record in memory may be ahead
        ctx.transactions.forget(transaction_id)
    return response


async def _record(
    ctx: StationContext, req: TransactionEventRequest, transaction: TransactionRecord
) -> tuple[TransactionEventResponse, bool]:
    """Fold `req` into `transaction`, store both; the answer, and False for a retransmission."""
    info = req.transaction_info
    newest = apply_event(transaction, req)
    energy = energy_wh(given(req.meter_value) or ())
    previous = transaction.energy_imported_wh
    # A register never decreases: an older (late) event's reading counts only when higher, so
    # it cannot roll the energy back below what a newer event reported.
    if energy is not None and (newest or previous is None or energy > previous):
        transaction.energy_imported_wh = energy
    now = transaction.updated_at = ctx.now()
    event = TransactionEventRecord(
        station_id=ctx.station_id,
        transaction_id=info.transaction_id,
        seq_no=req.seq_no,
        event_type=req.event_type.value,
        trigger_reason=req.trigger_reason.value,
        timestamp=req.timestamp,
        offline=req.offline is True,
        payload=to_wire(req),  # its meter values are read back from here
        received_at=now,
    )
    response = TransactionEventResponse()
    token = given(req.id_token)
    if token is not None:
        response.id_token_info = await id_token_info(ctx, token, evse_id=transaction.evse_id)
    stored = await ctx.store.record_transaction_event(event, transaction)
    return response, stored


def _domain_event(
    station_id: str, req: TransactionEventRequest, transaction: TransactionRecord
) -> DomainEvent:
    """The domain event one newly stored TransactionEvent makes (retransmissions make none)."""
    transaction_id = transaction.transaction_id
    energy = transaction.energy_imported_wh
    if req.event_type is TransactionEventEnumType.Started:
        return TransactionStarted(station_id, transaction_id, transaction.evse_id, req.timestamp)
    if req.event_type is TransactionEventEnumType.Ended:
        reason = transaction.stopped_reason
        return TransactionEnded(station_id, transaction_id, reason, energy, req.timestamp)
    return TransactionUpdated(station_id, transaction_id, transaction.charging_state, energy)


def apply_event(transaction: TransactionRecord, req: TransactionEventRequest) -> bool:
    """Fold one event into its transaction (the state follows the newest seqNo).

    Returns True when the event is the newest received for the transaction.
    """
    if req.event_type is TransactionEventEnumType.Started:
        transaction.started_at = req.timestamp
    if req.event_type is TransactionEventEnumType.Ended:
        transaction.ended_at = req.timestamp
        transaction.active = False
    info = req.transaction_info
    remote_start_id = given(info.remote_start_id)
    if remote_start_id is not None:
        transaction.remote_start_id = remote_start_id
    token = given(req.id_token)
    # The transaction's idToken is the one that authorized it. The token that stops it may be
    # another (same group, TC_C_39; a master pass, TC_C_47): it never replaces a known one,
    # whatever order the events arrive in.
    stopping = req.trigger_reason is TriggerReasonEnumType.StopAuthorized
    if token is not None and (transaction.id_token is None or not stopping):
        transaction.id_token = to_wire(token)
    if not track_seq_no(transaction, req.seq_no):
        return False  # an older event: it adds meter values, not state
    state = given(info.charging_state)
    if state is not None:
        transaction.charging_state = state.value
    reason = given(info.stopped_reason)
    if reason is not None:
        transaction.stopped_reason = reason.value
    evse = given(req.evse)
    if evse is not None:
        connector_id = given(evse.connector_id)
        # connectorId is optional: naming the same EVSE without it keeps the known connector.
        if connector_id is not None or evse.id != transaction.evse_id:
            transaction.connector_id = connector_id
        transaction.evse_id = evse.id
    return True


def track_seq_no(transaction: TransactionRecord, seq_no: int) -> bool:
    """Record `seq_no`; True when it is the newest received for this transaction."""
    if transaction.last_seq_no < 0:
        transaction.first_seq_no = transaction.last_seq_no = seq_no
        return True
    if seq_no > transaction.last_seq_no:
        transaction.seq_no_gaps.extend(range(transaction.last_seq_no + 1, seq_no))
        transaction.last_seq_no = seq_no
        return True
    if seq_no < transaction.first_seq_no:
        transaction.seq_no_gaps[:0] = range(seq_no + 1, transaction.first_seq_no)
        transaction.first_seq_no = seq_no
    elif seq_no in transaction.seq_no_gaps:
        transaction.seq_no_gaps.remove(seq_no)
    return False


def energy_wh(values: list[MeterValueType] | tuple[()]) -> float | None:
    """The latest Energy.Active.Import.Register reading among `values`, in Wh."""
    latest: tuple[datetime, float] | None = None
    for value in values:
        for sample in value.sampled_value:
            measurand = given(sample.measurand) or _ENERGY  # the default measurand
            if measurand is not _ENERGY or given(sample.phase) is not None:
                continue
            unit = given(sample.unit_of_measure)
            scale = 10.0 ** (given(unit.multiplier) or 0) if unit is not None else 1.0
            name = (given(unit.unit) if unit is not None else None) or "Wh"
            wh = sample.value * scale * (1000.0 if name == "kWh" else 1.0)
            if latest is None or value.timestamp >= latest[0]:
                latest = (value.timestamp, wh)
    return None if latest is None else latest[1]


async def meter_values(ctx: StationContext, req: MeterValuesRequest) -> MeterValuesResponse:
    """J01/J02: store sampled values sent outside transactions (a TransactionEvent's are
    stored as part of the event)."""
    # evseId 0 is the station's main meter; it is kept as 0, not treated as missing.
    # One conversion of the whole request gives each sampled value's wire form (converting
    # them one by one cost as much again).
    parts = to_wire(req)["meterValue"]
    await ctx.store.add_meter_values(
        [
            MeterValueRecord(
                station_id=ctx.station_id,
                evse_id=req.evse_id,
                transaction_id=None,
                timestamp=value.timestamp,
                sampled_value=part["sampledValue"],
            )
            for value, part in zip(req.meter_value, parts, strict=True)
        ]
    )
    return MeterValuesResponse()
