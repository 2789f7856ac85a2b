"""Block F, Remote control: the Core test cases TC_F_xx_CSMS (catalogue section 1.F).

The tester's "manual action" is always a CALL made through the operator API
(POST /api/v1/stations/{id}/call/{action}); the tool's station then checks what the CSMS sent
(`next_csms_call`) and sends what Part 6 says, and the test checks the CSMS's answers and what
its API shows afterwards. The remote-start cases run for every idToken type the CSMS declares
for remote start (C-36 to C-39: ISO14443, ISO15693, Central, NoAuthorization).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import msgspec
import pytest
from conformance import states
from conformance.lab import Lab, open_lab
from conformance.states import Transaction

from trio_csms.messages import (
    AuthorizationStatusEnumType,
    ChargingStateEnumType,
    FirmwareStatusEnumType,
    FirmwareStatusNotificationRequest,
    FirmwareStatusNotificationResponse,
    HeartbeatResponse,
    LogStatusNotificationRequest,
    LogStatusNotificationResponse,
    MeasurandEnumType,
    Message,
    MessageTriggerEnumType,
    MeterValueType,
    ReadingContextEnumType,
    RequestStartStopStatusEnumType,
    RequestStartTransactionRequest,
    RequestStartTransactionResponse,
    SampledValueType,
    TriggerMessageRequest,
    TriggerMessageResponse,
    TriggerMessageStatusEnumType,
    UnitOfMeasureType,
    UnlockConnectorRequest,
    UploadLogStatusEnumType,
)
from trio_csms.sim import SimStation

REMOTE_START_TOKEN_TYPES = ("ISO14443", "ISO15693", "Central", "NoAuthorization")
WAIT = 5  # seconds the tool waits for a CALL of the CSMS
# Part 6 §3.1: labs allow 4 seconds of deviation when comparing timestamps.
CLOCK_DEVIATION = timedelta(seconds=4)

_M = TypeVar("_M", bound=Message)


# --- helpers -------------------------------------------------------------------------------


async def csms_request(station: SimStation, action: str, request_type: type[_M]) -> _M:
    """The next CALL `action` the CSMS sent the station, as its typed request."""
    received = await station.next_csms_call(action, timeout=WAIT)
    request = received.request
    assert isinstance(request, request_type), received
    return request


async def transaction_view(lab: Lab, tx: Transaction) -> dict[str, Any]:
    """The CSMS's view of a transaction (GET /transactions/{stationId}/{transactionId})."""
    view: dict[str, Any] = await lab.get_json(f"/transactions/{lab.station_id}/{tx.transaction_id}")
    return view


async def connector_statuses(lab: Lab) -> dict[tuple[int, int], str]:
    """The connector statuses the CSMS shows for the station, by (evse id, connector id)."""
    view = await lab.get_json(f"/stations/{lab.station_id}")
    return {
        (evse["evseId"], connector["connectorId"]): connector["status"]
        for evse in view["evses"]
        for connector in evse["connectors"]
    }


def energy_reading(wh: float, context: ReadingContextEnumType, at: datetime) -> MeterValueType:
    """One Energy.Active.Import.Register reading (Wh) with its reading context."""
    sample = SampledValueType(
        value=wh,
        context=context,
        measurand=MeasurandEnumType.Energy_Active_Import_Register,
        unit_of_measure=UnitOfMeasureType(unit="Wh"),
    )
    return MeterValueType(sampled_value=[sample], timestamp=at)


def answer_triggers(station: SimStation, status: TriggerMessageStatusEnumType) -> None:
    """Make the station answer every TriggerMessage with `status`.

    The test body then sends the triggered message itself: `lab.call` returns only once the
    CSMS has the TriggerMessageResponse, so the answer comes first, as F06 requires.
    """
    station.handle(TriggerMessageRequest, lambda _: TriggerMessageResponse(status=status))


async def trigger(
    lab: Lab, station: SimStation, requested: str, evse: dict[str, int] | None = None
) -> TriggerMessageRequest:
    """Tester: make the CSMS send TriggerMessage; the station answers Accepted.

    Checks what the tool validates at step 1: requestedMessage, and evse as asked for.
    """
    answer_triggers(station, TriggerMessageStatusEnumType.Accepted)
    payload: dict[str, Any] = {"requestedMessage": requested}
    if evse is not None:
        payload["evse"] = evse
    assert await lab.call_ok("TriggerMessage", payload) == {"status": "Accepted"}
    request = await csms_request(station, "TriggerMessage", TriggerMessageRequest)
    assert request.requested_message is MessageTriggerEnumType(requested)
    if evse is None:
        assert request.evse is msgspec.UNSET, request
    else:
        assert isinstance(request.evse, msgspec.Struct), request
        assert request.evse.id == evse["id"]
        assert request.evse.connector_id == evse.get("connectorId", msgspec.UNSET)
    return request


async def remote_start(
    lab: Lab,
    station: SimStation,
    remote_start_id: int,
    *,
    evse_id: int | None = None,
    transaction_id: str | None = None,
) -> RequestStartTransactionRequest:
    """Tester: make the CSMS send RequestStartTransaction for the cfg valid idToken.

    The station answers Accepted, with `transaction_id` when a transaction already runs
    (TC_F_01). Checks the request: idToken and type as configured, remoteStartId, evseId.
    """
    response = RequestStartTransactionResponse(status=RequestStartStopStatusEnumType.Accepted)
    if transaction_id is not None:
        response.transaction_id = transaction_id
    station.handle(RequestStartTransactionRequest, lambda _: response)
    payload: dict[str, Any] = {"idToken": lab.tokens.id_token(), "remoteStartId": remote_start_id}
    if evse_id is not None:
        payload["evseId"] = evse_id
    answer = await lab.call_ok("RequestStartTransaction", payload)
    expected: dict[str, Any] = {"status": "Accepted"}
    if transaction_id is not None:
        expected["transactionId"] = transaction_id
    assert answer == expected
    request = await csms_request(station, "RequestStartTransaction", RequestStartTransactionRequest)
    assert request.id_token.id_token == lab.tokens.valid
    assert request.id_token.type.value == lab.tokens.type
    assert request.remote_start_id == remote_start_id
    assert request.evse_id == (msgspec.UNSET if evse_id is None else evse_id)
    return request


async def remote_start_event(
    lab: Lab, station: SimStation, tx: Transaction, remote_start_id: int, *, evse: bool = True
) -> None:
    """The station's TransactionEvent RemoteStart with the CSMS's remoteStartId and the
    remotely given idToken; the CSMS must accept the token.

    `evse=False`: a Started event without evse (remote start first, no EVSE asked for: the
    station learns the EVSE only when the cable is plugged in).
    """
    fields: dict[str, Any] = {
        "id_token": states.id_token(lab.tokens),
        "remote_start_id": remote_start_id,
    }
    if evse or tx.started:
        response = await states.send_event(station, tx, "RemoteStart", **fields)
    else:
        response = await station.transaction_event(
            "Started", "RemoteStart", tx.transaction_id, **fields
        )
        tx.started = True
        tx.responses.append(response)
    states.assert_token_accepted(response)
    tx.authorized = True


async def cable_plugged_in(station: SimStation, tx: Transaction) -> None:
    """EVConnectedPreSession after a remote start: Occupied, then TransactionEvent Updated
    CablePluggedIn, which names the EVSE (the station learns it only now)."""
    await station.report_connector(tx.evse_id, tx.connector_id, "Occupied")
    await states.send_event(
        station,
        tx,
        "CablePluggedIn",
        charging_state=ChargingStateEnumType.EVConnected,
        evse_id=tx.evse_id,
        connector_id=tx.connector_id,
    )
    tx.cable_plugged = True


async def assert_remote_transaction(
    lab: Lab, tx: Transaction, remote_start_id: int, **expected: Any
) -> dict[str, Any]:
    """The CSMS shows the transaction with the remoteStartId and the remote idToken."""
    view = await transaction_view(lab, tx)
    assert view["remoteStartId"] == remote_start_id, view
    assert view["idToken"] == lab.tokens.id_token(), view
    for name, value in expected.items():
        assert view[name] == value, (name, view)
    return view


# --- F01/F02: remote start -----------------------------------------------------------------


@pytest.mark.parametrize("token_type", REMOTE_START_TOKEN_TYPES)
async def test_tc_f_01_csms(tmp_path: Path, token_type: str) -> None:
    """Remote start transaction - Cable plugin first.

    Before: EVConnectedPreSession (the cable started the transaction). The tool validates
    the RequestStartTransactionRequest: idToken.idToken and idToken.type are the configured
    valid token. The station answers Accepted with the running transactionId, then sends
    TransactionEvent Updated, triggerReason RemoteStart, with the CSMS's remoteStartId; the
    CSMS must accept the idToken there too, and then EnergyTransferStarted. The CSMS's
    transaction view must carry the remoteStartId, the idToken and chargingState Charging.
    """
    async with open_lab(tmp_path) as lab, lab.station() as station:
        tokens = await lab.provision_tokens(token_type)
        await states.booted(station)
        tx = Transaction("F01-TX")
        await states.ev_connected_pre_session(station, tx)
        await remote_start(lab, station, 101, evse_id=tx.evse_id, transaction_id=tx.transaction_id)
        await remote_start_event(lab, station, tx, 101)
        await states.energy_transfer_started(station, tx, tokens)
        await assert_remote_transaction(
            lab, tx, 101, active=True, chargingState="Charging", evseId=1, connectorId=1
        )


@pytest.mark.parametrize("token_type", REMOTE_START_TOKEN_TYPES)
async def test_tc_f_02_csms(tmp_path: Path, token_type: str) -> None:
    """Remote start transaction - Remote start first - AuthorizeRemoteStart is true.

    The tool validates the RequestStartTransactionRequest's idToken (configured valid token)
    and that the CSMS answers the station's AuthorizeRequest for that token with Accepted.
    The station answers Accepted without transactionId, authorizes, sends TransactionEvent
    Started, RemoteStart, remoteStartId (no EVSE yet: none was asked for), then
    EnergyTransferStarted with the cable plugged in afterwards (naming the EVSE).
    """
    async with open_lab(tmp_path) as lab, lab.station() as station:
        tokens = await lab.provision_tokens(token_type)
        await states.booted(station)
        await remote_start(lab, station, 202)
        authorize = await station.authorize(tokens.valid, tokens.type)
        assert authorize.id_token_info.status is AuthorizationStatusEnumType.Accepted
        tx = Transaction("F02-TX")
        await remote_start_event(lab, station, tx, 202, evse=False)
        view = await assert_remote_transaction(lab, tx, 202, active=True)
        assert view["evseId"] is None, view
        await cable_plugged_in(station, tx)
        await states.energy_transfer_started(station, tx, tokens)
        await assert_remote_transaction(lab, tx, 202, chargingState="Charging", evseId=1)


@pytest.mark.parametrize("token_type", REMOTE_START_TOKEN_TYPES)
async def test_tc_f_03_csms(tmp_path: Path, token_type: str) -> None:
    """Remote start transaction - Remote start first - AuthorizeRemoteStart is false.

    As TC_F_02 without the Authorize step: the CSMS must take the RemoteStart event (here
    for the EVSE the tester asked for, evseId 1) as the authorization, and accept its idToken.
    """
    async with open_lab(tmp_path) as lab, lab.station() as station:
        tokens = await lab.provision_tokens(token_type)
        await states.booted(station)
        tx = Transaction("F03-TX")
        await remote_start(lab, station, 303, evse_id=tx.evse_id)
        await remote_start_event(lab, station, tx, 303)
        await assert_remote_transaction(lab, tx, 303, active=True, evseId=1)
        await states.ev_connected_pre_session(station, tx)
        await states.energy_transfer_started(station, tx, tokens)
        await assert_remote_transaction(lab, tx, 303, chargingState="Charging", connectorId=1)


@pytest.mark.parametrize("token_type", REMOTE_START_TOKEN_TYPES)
async def test_tc_f_04_csms(tmp_path: Path, token_type: str) -> None:
    """Remote start transaction - Remote start first - Cable plugin timeout.

    RequestStartTransaction (validated as in TC_F_02), TransactionEvent Started RemoteStart,
    then, the EV never being plugged in, TransactionEvent triggerReason EVConnectTimeout.
    Part 6's CSMS case sends that event as eventType Updated, while E03.FR.05 and the
    station-side case TC_F_04_CS have the station end the transaction (eventType Ended,
    stoppedReason Timeout). The CSMS must cope with both, so the tool's station sends Part
    6's Updated event first and then ends the transaction as a real station does; the CSMS
    must answer both and show the transaction ended with stoppedReason Timeout.
    """
    async with open_lab(tmp_path) as lab, lab.station() as station:
        await lab.provision_tokens(token_type)
        await states.booted(station)
        await remote_start(lab, station, 404)
        tx = Transaction("F04-TX")
        await remote_start_event(lab, station, tx, 404, evse=False)
        await states.send_event(
            station, tx, "EVConnectTimeout", charging_state=ChargingStateEnumType.Idle
        )
        await assert_remote_transaction(lab, tx, 404, active=True, chargingState="Idle")
        await states.send_event(
            station,
            tx,
            "EVConnectTimeout",
            event_type="Ended",
            charging_state=ChargingStateEnumType.Idle,
            stopped_reason="Timeout",
        )
        await assert_remote_transaction(lab, tx, 404, active=False, stoppedReason="Timeout")


# --- F05: unlock connector -----------------------------------------------------------------


async def test_tc_f_06_csms(tmp_path: Path) -> None:
    """Remote unlock Connector - Without ongoing transaction - Accepted (C-11).

    The tool validates UnlockConnectorRequest evseId and connectorId = the configured ones;
    it answers Unlocked, which the CSMS hands back to the tester.
    """
    async with open_lab(tmp_path) as lab, lab.station() as station:
        await states.booted(station)
        answer = await lab.call_ok("UnlockConnector", {"evseId": 1, "connectorId": 1})
        assert answer == {"status": "Unlocked"}
        request = await csms_request(station, "UnlockConnector", UnlockConnectorRequest)
        assert (request.evse_id, request.connector_id) == (1, 1)


# --- F06: trigger message ------------------------------------------------------------------


async def test_tc_f_11_csms(tmp_path: Path) -> None:
    """Trigger message - MeterValues - Specific EVSE (C-29.1).

    The tool validates TriggerMessageRequest requestedMessage MeterValues, evse.id = the
    configured EVSE; it answers Accepted and sends MeterValuesRequest for that EVSE with
    context Trigger, which the CSMS must answer and keep (shown by its meter-values view).
    """
    async with open_lab(tmp_path) as lab, lab.station() as station:
        await states.booted(station)
        await trigger(lab, station, "MeterValues", {"id": 1})
        at = datetime.now(UTC).replace(microsecond=0)
        await station.meter_values(1, [energy_reading(1234.5, ReadingContextEnumType.Trigger, at)])
        (value,) = (await lab.get_json(f"/stations/{lab.station_id}/meter-values"))["meterValues"]
        assert value["evseId"] == 1
        assert datetime.fromisoformat(value["timestamp"]) == at
        (sample,) = value["sampledValue"]
        assert sample["value"] == 1234.5 and sample["context"] == "Trigger"


async def test_tc_f_12_csms(tmp_path: Path) -> None:
    """Trigger message - MeterValues - All EVSE (C-29.1).

    The tool validates TriggerMessageRequest requestedMessage MeterValues (no evse); it
    answers Accepted and sends one MeterValuesRequest per EVSE with context Trigger. Part 6
    writes "evseId omitted", which the MeterValuesRequest schema forbids (evseId is
    required); a station reporting "for every EVSE" names each one, so the tool's station,
    here with two EVSEs, sends evseId 1 and 2. The CSMS must answer and keep both.
    """
    connectors = ((1, 1), (2, 1))
    async with open_lab(tmp_path) as lab, lab.station() as station:
        await states.booted(station, connectors)
        await trigger(lab, station, "MeterValues")
        at = datetime.now(UTC).replace(microsecond=0)
        for evse_id, _ in connectors:
            reading = energy_reading(100.0 * evse_id, ReadingContextEnumType.Trigger, at)
            await station.meter_values(evse_id, [reading])
        values = (await lab.get_json(f"/stations/{lab.station_id}/meter-values"))["meterValues"]
        kept = sorted((v["evseId"], v["sampledValue"][0]["value"]) for v in values)
        assert kept == [(1, 100.0), (2, 200.0)]
        assert all(v["sampledValue"][0]["context"] == "Trigger" for v in values)


async def triggered_transaction_event(lab: Lab, station: SimStation, evse: bool) -> None:
    """TC_F_13/F_14: EnergyTransferStarted, TriggerMessage TransactionEvent, then the
    station's TransactionEvent Updated, triggerReason Trigger, chargingState Charging, with a
    meter value of context Trigger (and evse.id only when the trigger named the EVSE)."""
    await states.booted(station)
    tx = Transaction("F13-TX" if evse else "F14-TX")
    await states.energy_transfer_started(station, tx, lab.tokens)
    await trigger(lab, station, "TransactionEvent", {"id": tx.evse_id} if evse else None)
    at = datetime.now(UTC).replace(microsecond=0)
    fields: dict[str, Any] = {"evse_id": tx.evse_id} if evse else {}
    await states.send_event(
        station,
        tx,
        "Trigger",
        charging_state=ChargingStateEnumType.Charging,
        meter_value=[energy_reading(4321.0, ReadingContextEnumType.Trigger, at)],
        **fields,
    )
    view = await transaction_view(lab, tx)
    assert view["chargingState"] == "Charging" and view["energyImportedWh"] == 4321.0
    (value,) = view["meterValues"]
    assert value["sampledValue"][0]["context"] == "Trigger"
    assert datetime.fromisoformat(value["timestamp"]) == at


async def test_tc_f_13_csms(tmp_path: Path) -> None:
    """Trigger message - TransactionEvent - Specific EVSE (C-29.2).

    Before: EnergyTransferStarted. The tool validates TriggerMessageRequest requestedMessage
    TransactionEvent, evse.id = the configured EVSE; the CSMS must answer the triggered
    TransactionEvent and keep its Trigger meter value with the transaction.
    """
    async with open_lab(tmp_path) as lab, lab.station() as station:
        await triggered_transaction_event(lab, station, evse=True)


async def test_tc_f_14_csms(tmp_path: Path) -> None:
    """Trigger message - TransactionEvent - All EVSE (C-29.2).

    As TC_F_13 with no evse in the TriggerMessageRequest, and the triggered TransactionEvent
    without evse (Part 6: "evse.id omitted"), once per running transaction.
    """
    async with open_lab(tmp_path) as lab, lab.station() as station:
        await triggered_transaction_event(lab, station, evse=False)


async def test_tc_f_15_csms(tmp_path: Path) -> None:
    """Trigger message - LogStatusNotification - Idle (C-29.3).

    The tool validates requestedMessage LogStatusNotification; it answers Accepted and sends
    LogStatusNotificationRequest status Idle (no upload running, so no requestId), which the
    CSMS must answer.
    """
    async with open_lab(tmp_path) as lab, lab.station() as station:
        await states.booted(station)
        await trigger(lab, station, "LogStatusNotification")
        notification = LogStatusNotificationRequest(status=UploadLogStatusEnumType.Idle)
        await station.call(notification, LogStatusNotificationResponse)


async def test_tc_f_18_csms(tmp_path: Path) -> None:
    """Trigger message - FirmwareStatusNotification - Idle (C-29.4).

    The tool validates requestedMessage FirmwareStatusNotification; it answers Accepted and
    sends FirmwareStatusNotificationRequest status Idle, which the CSMS must answer; the
    CSMS then shows the station's firmware status Idle.
    """
    async with open_lab(tmp_path) as lab, lab.station() as station:
        await states.booted(station)
        await trigger(lab, station, "FirmwareStatusNotification")
        notification = FirmwareStatusNotificationRequest(status=FirmwareStatusEnumType.Idle)
        await station.call(notification, FirmwareStatusNotificationResponse)
        view = await lab.get_json(f"/stations/{lab.station_id}")
        assert view["firmwareStatus"] == "Idle", view


async def test_tc_f_20_csms(tmp_path: Path) -> None:
    """Trigger message - Heartbeat.

    The tool validates requestedMessage Heartbeat; it answers Accepted and sends
    HeartbeatRequest, which the CSMS must answer with its current time.
    """
    async with open_lab(tmp_path) as lab, lab.station() as station:
        await states.booted(station)
        await trigger(lab, station, "Heartbeat")
        response = await station.heartbeat()
        assert isinstance(response, HeartbeatResponse)
        assert abs(response.current_time - datetime.now(UTC)) <= CLOCK_DEVIATION


async def test_tc_f_23_csms(tmp_path: Path) -> None:
    """Trigger message - StatusNotification - Specific EVSE - Available (C-29.5).

    The tool validates requestedMessage StatusNotification, evse.id = the configured EVSE;
    it answers Accepted and reports the connector Available (StatusNotificationRequest and
    NotifyEventRequest Connector/AvailabilityState, Delta), which the CSMS must answer.
    """
    async with open_lab(tmp_path) as lab, lab.station() as station:
        await states.booted(station)
        await trigger(lab, station, "StatusNotification", {"id": 1})
        await station.report_connector(1, 1, "Available")
        assert await connector_statuses(lab) == {(1, 1): "Available"}


async def test_tc_f_24_csms(tmp_path: Path) -> None:
    """Trigger message - StatusNotification - Specific EVSE - Occupied (C-29.5).

    The station first reports the connector Occupied by itself; then the tool validates the
    TriggerMessageRequest as in TC_F_23 and reports Occupied again. The CSMS must answer
    the repeated report and keep showing the connector Occupied.
    """
    async with open_lab(tmp_path) as lab, lab.station() as station:
        await states.booted(station)
        await station.report_connector(1, 1, "Occupied")
        assert await connector_statuses(lab) == {(1, 1): "Occupied"}
        await trigger(lab, station, "StatusNotification", {"id": 1})
        await station.report_connector(1, 1, "Occupied")
        assert await connector_statuses(lab) == {(1, 1): "Occupied"}


async def test_tc_f_27_csms(tmp_path: Path) -> None:
    """Trigger message - NotImplemented.

    The station answers a TriggerMessageRequest with status NotImplemented (no tool
    validation). The CSMS must hand that answer to the tester as the station's answer, log
    no error, and carry on with the station (a Heartbeat is still answered).
    """
    async with open_lab(tmp_path) as lab, lab.station() as station:
        await states.booted(station)
        answer_triggers(station, TriggerMessageStatusEnumType.NotImplemented)
        payload = {"requestedMessage": "SignV2GCertificate"}
        assert await lab.call_ok("TriggerMessage", payload) == {"status": "NotImplemented"}
        request = await csms_request(station, "TriggerMessage", TriggerMessageRequest)
        assert request.requested_message is MessageTriggerEnumType.SignV2GCertificate
        await station.heartbeat()
        view = await lab.get_json(f"/stations/{lab.station_id}")
        assert view["connected"] is True
