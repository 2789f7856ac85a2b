"""Block E, Transactions: the Core start/stop option cases TC_E_xx_CSMS (catalogue section 1.E).

Every case is one transaction played by the tool's station; they differ in where the
transaction starts (the TxStartPoint options E01 S1-S6), how it is authorized, and where it
stops (the TxStopPoint options E06). `TransactionFlow` holds what they share: the lab, the
station, the tool's tokens and the transaction, the steps Part 6 writes out (Authorize, the
connector report, one TransactionEvent), the reusable before-states by name, and the checks of
the CSMS's record of the transaction through the operator API.

Part 6 lists few tool validations for these cases (mostly "the CSMS responds"); each test also
checks what "responds" has to mean for a CSMS: every event is answered, an event carrying an
idToken gets its idTokenInfo, and the transaction the CSMS keeps follows the events (open or
closed, charging state, stop reason, EVSE, the authorizing idToken, no seqNo missing).

The start cases that present an idToken run once per idToken type (the CSMS declares every
type, C-30..C-39). For NoAuthorization Part 6 §3.1 has no AuthorizeRequest and an empty idToken
in the TransactionEvent, which the CSMS accepts without a lookup.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from conformance import states
from conformance.lab import TOKEN_TYPES, Lab, Tokens, open_lab

from trio_csms.messages import (
    AuthorizationStatusEnumType,
    ChargingStateEnumType,
    IdTokenInfoType,
    MeterValueType,
    ReadingContextEnumType,
    ReasonEnumType,
    RequestStartStopStatusEnumType,
    RequestStopTransactionRequest,
    RequestStopTransactionResponse,
    SampledValueType,
    SignedMeterValueType,
    TransactionEventResponse,
)
from trio_csms.sim import SimStation

NO_AUTHORIZATION = "NoAuthorization"
# Types with an invalid token in the tool's set (NoAuthorization has only the empty one).
AUTHORIZING_TYPES = [token_type for token_type in TOKEN_TYPES if token_type != NO_AUTHORIZATION]

State = ChargingStateEnumType
Reason = ReasonEnumType


@dataclass
class TransactionFlow:
    """One transaction of the tool's station, and the CSMS's record of it."""

    lab: Lab
    station: SimStation
    tokens: Tokens
    tx: states.Transaction

    async def authorize(self) -> None:
        """AuthorizeRequest with the valid token, answered Accepted (none for NoAuthorization)."""
        if self.tokens.type == NO_AUTHORIZATION:
            return
        response = await self.station.authorize(self.tokens.valid, self.tokens.type)
        info = response.id_token_info
        assert info.status is AuthorizationStatusEnumType.Accepted, response

    async def connector(self, status: str) -> None:
        """The station reports its connector's new status (StatusNotification + NotifyEvent)."""
        await self.station.report_connector(self.tx.evse_id, self.tx.connector_id, status)

    async def event(self, trigger: str, **fields: Any) -> TransactionEventResponse:
        """One TransactionEvent (Started first, then Updated unless `event_type` is given).

        `token="valid"` (or another of the tool's tokens) adds that idToken; the first event
        names the EVSE and connector unless `evse_id=None` is given.
        """
        which = fields.pop("token", None)
        if "evse_id" in fields and fields["evse_id"] is None:
            fields["connector_id"] = None  # the event names no EVSE (authorization first)
        if which is not None:
            fields["id_token"] = states.id_token(self.tokens, which)
        response = await states.send_event(self.station, self.tx, trigger, **fields)
        if which is None:
            # No idToken, no idTokenInfo: there is nothing for the CSMS to judge (E_09).
            assert not isinstance(response.id_token_info, IdTokenInfoType), response
        return response

    async def end(self, trigger: str, reason: ReasonEnumType, **fields: Any) -> None:
        """TransactionEvent Ended with `reason`; the CSMS closes the transaction with it."""
        await self.event(trigger, event_type="Ended", stopped_reason=reason, **fields)
        view = await self.assert_record(active=False, stoppedReason=reason.value)
        assert view["endedAt"] is not None, view

    async def record(self) -> dict[str, Any]:
        """The CSMS's record of the transaction (GET /transactions/{station}/{transaction})."""
        path = f"/transactions/{self.lab.station_id}/{self.tx.transaction_id}"
        view: dict[str, Any] = await self.lab.get_json(path)
        return view

    async def assert_record(self, **expected: Any) -> dict[str, Any]:
        """The record has the `expected` fields, and every seqNo up to the last arrived."""
        view = await self.record()
        assert {name: view[name] for name in expected} == expected, view
        assert view["seqNoGaps"] == [], view
        assert view["stationId"] == self.lab.station_id, view
        return view

    async def assert_running(self, state: ChargingStateEnumType) -> None:
        """Still open, in `state`, on the tool's EVSE/connector, with the authorizing token."""
        await self.assert_record(
            active=True,
            chargingState=state.value,
            evseId=self.tx.evse_id,
            connectorId=self.tx.connector_id,
            idToken=self.tokens.id_token("valid") if self.tx.authorized else None,
            stoppedReason=None,
            endedAt=None,
        )

    def assert_accepted(self, response: TransactionEventResponse) -> None:
        """The event's idToken is answered Accepted (Part 6: `idTokenInfo.status Accepted`)."""
        states.assert_token_accepted(response)
        self.tx.authorized = True


# --- the reusable before-states of Part 6 §3.18, by name -------------------------------------

Step = Callable[[TransactionFlow], Awaitable[None]]


async def _authorized(flow: TransactionFlow) -> None:
    await states.authorized(flow.station, flow.tx, flow.tokens)


async def _pre_session(flow: TransactionFlow) -> None:
    await states.ev_connected_pre_session(flow.station, flow.tx)


async def _energy_transfer_started(flow: TransactionFlow) -> None:
    await states.energy_transfer_started(flow.station, flow.tx, flow.tokens)


async def _energy_transfer_suspended(flow: TransactionFlow) -> None:
    await states.energy_transfer_suspended(flow.station, flow.tx)


async def _stop_authorized(flow: TransactionFlow) -> None:
    await states.stop_authorized(flow.station, flow.tx, flow.tokens)


async def _post_session(flow: TransactionFlow) -> None:
    await states.ev_connected_post_session(flow.station, flow.tx)


async def _ev_disconnected(flow: TransactionFlow) -> None:
    await states.ev_disconnected(flow.station, flow.tx)


# Each state with the states that lead to it, in order, from Booted.
BEFORE: dict[str, tuple[Step, ...]] = {
    "Booted": (),
    "Authorized": (_authorized,),
    "EVConnectedPreSession": (_pre_session,),
    "EnergyTransferStarted": (_energy_transfer_started,),
    "EnergyTransferSuspended": (_energy_transfer_started, _energy_transfer_suspended),
    "StopAuthorized": (_energy_transfer_started, _stop_authorized),
    "EVConnectedPostSession": (_energy_transfer_started, _stop_authorized, _post_session),
    "EVDisconnected": (
        _energy_transfer_started,
        _stop_authorized,
        _post_session,
        _ev_disconnected,
    ),
}


@asynccontextmanager
async def transaction_flow(
    tmp_path: Path, before: str = "Booted", token_type: str = "ISO14443"
) -> AsyncIterator[TransactionFlow]:
    """A lab with the tool's `token_type` tokens, its station Booted, then in state `before`."""
    async with open_lab(tmp_path) as lab, lab.station() as station:
        tokens = await lab.provision_tokens(token_type)
        await states.booted(station)
        flow = TransactionFlow(lab, station, tokens, states.Transaction("octt-tx-0001"))
        for step in BEFORE[before]:
            await step(flow)
        yield flow


# --- start options (E01), local start (E02, E03) ---------------------------------------------


async def start_with_token_on_evse(
    flow: TransactionFlow, trigger: str, state: ChargingStateEnumType, **fields: Any
) -> None:
    """Authorize, connector Occupied, then Started with `trigger`, the token, EVSE and `state`.

    The shape of TC_E_01, E_02 and E_11: Part 6 validates Accepted in both answers.
    """
    await flow.authorize()
    await flow.connector("Occupied")
    started = await flow.event(trigger, token="valid", charging_state=state, **fields)
    flow.assert_accepted(started)
    flow.tx.cable_plugged = True
    await flow.assert_running(state)


@pytest.mark.parametrize("token_type", TOKEN_TYPES)
async def test_tc_e_01_csms(tmp_path: Path, token_type: str) -> None:
    """Start transaction options - PowerPathClosed.

    Authorize, connector Occupied, TransactionEvent Started (ChargingStateChanged, idToken,
    EVSE, SuspendedEVSE), then Updated Charging. The tool validates idTokenInfo.status
    Accepted in the AuthorizeResponse and the Started answer; also checked: the CSMS keeps
    the transaction open on that EVSE with the token, following SuspendedEVSE to Charging.
    """
    async with transaction_flow(tmp_path, token_type=token_type) as flow:
        await start_with_token_on_evse(flow, "ChargingStateChanged", State.SuspendedEVSE)
        await flow.event("ChargingStateChanged", charging_state=State.Charging)
        await flow.assert_running(State.Charging)


@pytest.mark.parametrize("token_type", TOKEN_TYPES)
async def test_tc_e_02_csms(tmp_path: Path, token_type: str) -> None:
    """Start transaction options - EnergyTransfer.

    Authorize, connector Occupied, TransactionEvent Started (ChargingStateChanged, idToken,
    EVSE, Charging). The tool validates Accepted in both answers; also checked: the CSMS has
    the transaction open and Charging from its first event.
    """
    async with transaction_flow(tmp_path, token_type=token_type) as flow:
        await start_with_token_on_evse(flow, "ChargingStateChanged", State.Charging)


@pytest.mark.parametrize("token_type", TOKEN_TYPES)
async def test_tc_e_03_csms(tmp_path: Path, token_type: str) -> None:
    """Local start transaction - Cable plugin first - Success.

    Before EVConnectedPreSession (the transaction starts on CablePluggedIn, without a token);
    then Authorized and EnergyTransferStarted, whose reusable-state checks are Accepted in
    the AuthorizeResponse and the TransactionEventResponse. Also checked: the token reaches
    the already-open transaction, which ends up Charging.
    """
    async with transaction_flow(tmp_path, "EVConnectedPreSession", token_type) as flow:
        await flow.assert_running(State.EVConnected)
        await states.authorized(flow.station, flow.tx, flow.tokens)
        await states.energy_transfer_started(flow.station, flow.tx, flow.tokens)
        await flow.assert_running(State.Charging)


@pytest.mark.parametrize("token_type", TOKEN_TYPES)
async def test_tc_e_04_csms(tmp_path: Path, token_type: str) -> None:
    """Local start transaction - Authorization first - Success.

    Authorized (the transaction starts on the Authorized event, before any cable), then
    EnergyTransferStarted (Occupied, CablePluggedIn, Charging). The reusable states check
    Accepted in both answers; also checked: the CSMS's transaction gets the EVSE named by the
    authorizing event and ends up Charging.
    """
    async with transaction_flow(tmp_path, "Authorized", token_type) as flow:
        await flow.assert_record(active=True, idToken=flow.tokens.id_token("valid"))
        await states.energy_transfer_started(flow.station, flow.tx, flow.tokens)
        await flow.assert_running(State.Charging)


async def test_tc_e_09_csms(tmp_path: Path) -> None:
    """Start transaction options - EVConnected.

    Connector Occupied, then TransactionEvent Started (CablePluggedIn, EVSE, EVConnected) with
    no idToken. No tool validation; checked: the answer has no idTokenInfo (nothing to judge)
    and the CSMS opens the transaction without a token, on that EVSE, and shows the connector
    Occupied.
    """
    async with transaction_flow(tmp_path) as flow:
        await states.ev_connected_pre_session(flow.station, flow.tx)
        await flow.assert_running(State.EVConnected)
        station = await flow.lab.get_json(f"/stations/{flow.lab.station_id}")
        connectors = [evse["connectors"] for evse in station["evses"] if evse["evseId"] == 1]
        assert connectors == [[{"connectorId": 1, "status": "Occupied"}]], station


@pytest.mark.parametrize("token_type", TOKEN_TYPES)
async def test_tc_e_10_csms(tmp_path: Path, token_type: str) -> None:
    """Start transaction options - Authorized - Local.

    Authorize, then TransactionEvent Started (Authorized, idToken) naming no EVSE yet. The
    tool validates Accepted in both answers; also checked: the CSMS opens the transaction with
    the token and no EVSE.
    """
    async with transaction_flow(tmp_path, token_type=token_type) as flow:
        await flow.authorize()
        started = await flow.event("Authorized", token="valid", evse_id=None)
        flow.assert_accepted(started)
        await flow.assert_record(
            active=True, idToken=flow.tokens.id_token("valid"), evseId=None, connectorId=None
        )


def signed_begin_reading(at: datetime) -> MeterValueType:
    """The Started event's meter value of TC_E_11: 0.0, Transaction.Begin, signed."""
    signed = SignedMeterValueType(
        signed_meter_data="T0NUVC1URVNULVNJR05FRC1SRUFESU5HLTAuMA==",
        signing_method="ECDSA-secp256r1-SHA256",
        encoding_method="OCMF",
        public_key="T0NUVC1QVUJMSUMtS0VZ",
    )
    sample = SampledValueType(
        value=0.0, context=ReadingContextEnumType.Transaction_Begin, signed_meter_value=signed
    )
    return MeterValueType(timestamp=at, sampled_value=[sample])


@pytest.mark.parametrize("token_type", TOKEN_TYPES)
async def test_tc_e_11_csms(tmp_path: Path, token_type: str) -> None:
    """Start transaction options - DataSigned.

    Authorize, connector Occupied, TransactionEvent Started (SignedDataReceived, idToken, EVSE,
    meterValue 0.0 Transaction.Begin with a signedMeterValue), then Updated Charging. The tool
    validates Accepted in both answers. Part 5: the CSMS must accept a signed meter value
    and need not verify it; checked too: it keeps the reading with its signature as sent.
    The charging state of the Started event is not given by Part 6 (EVConnected here).
    """
    async with transaction_flow(tmp_path, token_type=token_type) as flow:
        reading = signed_begin_reading(datetime.now(UTC).replace(microsecond=0))
        await start_with_token_on_evse(
            flow, "SignedDataReceived", State.EVConnected, meter_value=[reading]
        )
        await flow.event("ChargingStateChanged", charging_state=State.Charging)
        await flow.assert_running(State.Charging)
        view = await flow.record()
        [stored] = view["meterValues"]
        [sample] = stored["sampledValue"]
        assert sample["value"] == 0.0, stored
        assert sample["context"] == "Transaction.Begin", stored
        assert sample["signedMeterValue"] == {
            "signedMeterData": "T0NUVC1URVNULVNJR05FRC1SRUFESU5HLTAuMA==",
            "signingMethod": "ECDSA-secp256r1-SHA256",
            "encodingMethod": "OCMF",
            "publicKey": "T0NUVC1QVUJMSUMtS0VZ",
        }, stored


async def test_tc_e_12_csms(tmp_path: Path) -> None:
    """Start transaction options - ParkingBayOccupied.

    TransactionEvent Started with triggerReason EVDetected only: no EVSE, no token, no
    charging state. No tool validation; checked: the CSMS opens this minimal transaction.
    """
    async with transaction_flow(tmp_path) as flow:
        await flow.event("EVDetected", evse_id=None)
        await flow.assert_record(
            active=True, idToken=None, evseId=None, chargingState=None, stoppedReason=None
        )


async def test_tc_e_38_csms(tmp_path: Path) -> None:
    """Local start transaction - EV not ready.

    Before Authorized; EVConnectedPreSession, then TransactionEvent Updated
    ChargingStateChanged, SuspendedEV. No tool validation; checked: the CSMS keeps the
    transaction open and SuspendedEV.
    """
    async with transaction_flow(tmp_path, "Authorized") as flow:
        await states.ev_connected_pre_session(flow.station, flow.tx)
        await flow.event("ChargingStateChanged", charging_state=State.SuspendedEV)
        await flow.assert_running(State.SuspendedEV)


# --- stop options (E06), EV-side disconnect (E10) --------------------------------------------


async def test_tc_e_07_csms(tmp_path: Path) -> None:
    """Stop transaction options - PowerPathClosed - Local stop.

    Before EnergyTransferStarted; TransactionEvent Ended, StopAuthorized, stoppedReason Local.
    No tool validation; checked: the CSMS closes the transaction with reason Local, keeping
    the token that started it.
    """
    async with transaction_flow(tmp_path, "EnergyTransferStarted") as flow:
        await flow.end("StopAuthorized", Reason.Local)
        await flow.assert_record(idToken=flow.tokens.id_token("valid"), chargingState="Charging")


async def test_tc_e_08_csms(tmp_path: Path) -> None:
    """Stop transaction options - EnergyTransfer stopped - StopAuthorized.

    Before StopAuthorized (its TransactionEvent answered Accepted); TransactionEvent Ended,
    ChargingStateChanged, EVConnected, stoppedReason Local. No tool validation; checked: the
    CSMS closes the transaction, EVConnected, reason Local.
    """
    async with transaction_flow(tmp_path, "StopAuthorized") as flow:
        await flow.assert_running(State.Charging)
        await flow.end("ChargingStateChanged", Reason.Local, charging_state=State.EVConnected)
        await flow.assert_record(chargingState="EVConnected")


async def test_tc_e_14_csms(tmp_path: Path) -> None:
    """Stop transaction options - EVDisconnected - Charging Station side.

    Before EVConnectedPostSession; EVDisconnected (connector Available, TransactionEvent
    Ended, EVCommunicationLost, Idle, stoppedReason EVDisconnected). No tool validation;
    checked: the CSMS closes the transaction (Idle, EVDisconnected) and shows the connector
    Available.
    """
    async with transaction_flow(tmp_path, "EVConnectedPostSession") as flow:
        await flow.assert_running(State.EVConnected)
        await states.ev_disconnected(flow.station, flow.tx)
        await flow.assert_record(active=False, chargingState="Idle", stoppedReason="EVDisconnected")
        station = await flow.lab.get_json(f"/stations/{flow.lab.station_id}")
        assert station["evses"][0]["connectors"][0]["status"] == "Available", station


async def test_tc_e_15_csms(tmp_path: Path) -> None:
    """Stop transaction options - StopAuthorized - Local.

    Before EnergyTransferStarted; TransactionEvent Ended, StopAuthorized, stoppedReason Local
    (Part 6 gives the event no idToken, so it has none here). No tool validation; checked:
    the answer has no idTokenInfo, and the CSMS closes the transaction with reason Local.
    """
    async with transaction_flow(tmp_path, "EnergyTransferStarted") as flow:
        await flow.end("StopAuthorized", Reason.Local)


@pytest.mark.parametrize("token_type", AUTHORIZING_TYPES)
async def test_tc_e_16_csms(tmp_path: Path, token_type: str) -> None:
    """Stop transaction options - Deauthorized - Invalid idToken.

    TransactionEvent Started, Authorized, with the tool's invalid token; the tool validates
    idTokenInfo.status Invalid or Unknown. The CSMS has the token as Invalid, so it must say
    Invalid. Then TransactionEvent Ended, Deauthorized, stoppedReason DeAuthorized: checked,
    the CSMS closes the transaction with that reason.
    """
    async with transaction_flow(tmp_path, token_type=token_type) as flow:
        started = await flow.event("Authorized", token="invalid", evse_id=None)
        info = started.id_token_info
        assert isinstance(info, IdTokenInfoType), started
        invalid_or_unknown = (
            AuthorizationStatusEnumType.Invalid,
            AuthorizationStatusEnumType.Unknown,
        )
        assert info.status in invalid_or_unknown, info
        assert info.status is AuthorizationStatusEnumType.Invalid, info
        await flow.end("Deauthorized", Reason.DeAuthorized)
        await flow.assert_record(idToken=flow.tokens.id_token("invalid"))


async def test_tc_e_17_csms(tmp_path: Path) -> None:
    """Stop transaction options - Deauthorized - EV side disconnect.

    Before EnergyTransferSuspended; TransactionEvent Ended, EVCommunicationLost, Idle,
    stoppedReason EVDisconnected. No tool validation; checked: the CSMS closes the
    transaction, Idle, reason EVDisconnected.
    """
    async with transaction_flow(tmp_path, "EnergyTransferSuspended") as flow:
        await flow.assert_running(State.SuspendedEV)
        await flow.end("EVCommunicationLost", Reason.EVDisconnected, charging_state=State.Idle)
        await flow.assert_record(chargingState="Idle")


async def test_tc_e_19_csms(tmp_path: Path) -> None:
    """Stop transaction options - ParkingBayUnoccupied.

    Before EVDisconnected, which Part 6 writes with an Ended event already; then the
    TransactionEvent Ended, EVDeparted, stoppedReason Local of the ParkingBay stop point.
    No tool validation. The catalogue (section 1.E) asks that the second Ended be answered
    normally, not with an error: checked, and that the CSMS takes it as the transaction's
    real end (reason Local, its later end time), with no seqNo missing.
    """
    async with transaction_flow(tmp_path, "EVDisconnected") as flow:
        first = await flow.assert_record(active=False, stoppedReason="EVDisconnected")
        await flow.end("EVDeparted", Reason.Local)
        view = await flow.record()
        assert view["endedAt"] >= first["endedAt"], view


async def test_tc_e_20_csms(tmp_path: Path) -> None:
    """Stop transaction options - EVDisconnected - EV side (able to charge IEC 61851-1 EV).

    Before EnergyTransferSuspended; EVDisconnected straight from the suspended session. No
    tool validation; checked: the CSMS closes the transaction, Idle, reason EVDisconnected.
    """
    async with transaction_flow(tmp_path, "EnergyTransferSuspended") as flow:
        await states.ev_disconnected(flow.station, flow.tx)
        await flow.assert_record(active=False, chargingState="Idle", stoppedReason="EVDisconnected")


async def test_tc_e_21_csms(tmp_path: Path) -> None:
    """Stop transaction options - StopAuthorized - Remote.

    Before EnergyTransferStarted. The tester makes the CSMS stop the transaction (POST
    .../call/RequestStopTransaction); the tool validates RequestStopTransactionRequest
    .transactionId = the id it generated. The station answers Accepted and then sends
    TransactionEvent Ended, RemoteStop, stoppedReason Remote. Also checked: the API reports
    the station's Accepted, and the CSMS closes the transaction with reason Remote.
    """
    async with transaction_flow(tmp_path, "EnergyTransferStarted") as flow:
        accepted = RequestStopTransactionResponse(status=RequestStartStopStatusEnumType.Accepted)
        flow.station.handle(RequestStopTransactionRequest, lambda _request: accepted)
        answer = await flow.lab.call_ok(
            "RequestStopTransaction", {"transactionId": flow.tx.transaction_id}
        )
        assert answer == {"status": "Accepted"}, answer
        request = await flow.station.next_csms_call("RequestStopTransaction", timeout=5)
        assert isinstance(request.request, RequestStopTransactionRequest), request
        assert request.request.transaction_id == flow.tx.transaction_id, request
        await flow.end("RemoteStop", Reason.Remote)


async def test_tc_e_22_csms(tmp_path: Path) -> None:
    """Stop transaction options - EnergyTransfer stopped - SuspendedEV.

    Before EnergyTransferStarted; TransactionEvent Ended, ChargingStateChanged, SuspendedEV,
    stoppedReason StoppedByEV. No tool validation; checked: the CSMS closes the transaction,
    SuspendedEV, reason StoppedByEV.
    """
    async with transaction_flow(tmp_path, "EnergyTransferStarted") as flow:
        await flow.end("ChargingStateChanged", Reason.StoppedByEV, charging_state=State.SuspendedEV)
        await flow.assert_record(chargingState="SuspendedEV")


async def test_tc_e_26_csms(tmp_path: Path) -> None:
    """Disconnect cable on EV-side - Suspend transaction.

    Before EnergyTransferSuspended; TransactionEvent Updated EVCommunicationLost, Idle; the
    connector reported Available; Updated CablePluggedIn, EVConnected; Updated
    ChargingStateChanged, Charging. No tool validation; the catalogue asks the CSMS to keep
    the same transaction alive through the unplug and re-plug: checked after each step.
    """
    async with transaction_flow(tmp_path, "EnergyTransferSuspended") as flow:
        await flow.event("EVCommunicationLost", charging_state=State.Idle)
        await flow.assert_running(State.Idle)
        await flow.connector("Available")
        await flow.event("CablePluggedIn", charging_state=State.EVConnected)
        await flow.assert_running(State.EVConnected)
        await flow.event("ChargingStateChanged", charging_state=State.Charging)
        await flow.assert_running(State.Charging)


async def test_tc_e_39_csms(tmp_path: Path) -> None:
    """Stop transaction options - Deauthorized - timeout.

    Before Authorized (the transaction started on authorization, no cable); after the EV
    connection timeout (the tool's wait, not the CSMS's: no delay here), TransactionEvent
    Ended, EVConnectTimeout, stoppedReason Timeout. No tool validation; checked: the CSMS
    closes the cable-less transaction with reason Timeout and the authorizing token.
    """
    async with transaction_flow(tmp_path, "Authorized") as flow:
        await flow.end("EVConnectTimeout", Reason.Timeout)
        await flow.assert_record(idToken=flow.tokens.id_token("valid"), chargingState=None)
