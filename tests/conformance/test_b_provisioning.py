"""Block B, Provisioning: the Core test cases TC_B_xx_CSMS (catalogue section 1.B).

Part 6 §3.3 (pp. 598-621 by the PDF footer). The tester's manual actions go through the operator
API: `lab.call(...)` makes the CSMS send a request, `PUT /stations/{id}` sets the answer a
station's next BootNotification gets (PICS AQ-1). The station answers the CSMS's requests with
handlers installed by each test (`station.handle`), so every answer is the one Part 6 scripts.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import msgspec
import pytest
import trio
from conformance import states
from conformance.lab import Lab, open_lab

from trio_csms.messages import (
    AttributeEnumType,
    BootNotificationResponse,
    BootReasonEnumType,
    ChargingStateEnumType,
    ComponentType,
    DataEnumType,
    EventDataType,
    EventNotificationEnumType,
    EventTriggerEnumType,
    EVSEType,
    GenericDeviceModelStatusEnumType,
    GetBaseReportRequest,
    GetBaseReportResponse,
    GetVariableResultType,
    GetVariablesRequest,
    GetVariablesResponse,
    GetVariableStatusEnumType,
    MutabilityEnumType,
    NotifyEventRequest,
    NotifyReportRequest,
    NotifyReportResponse,
    RegistrationStatusEnumType,
    ReportBaseEnumType,
    ReportDataType,
    ResetEnumType,
    ResetRequest,
    ResetResponse,
    ResetStatusEnumType,
    SetNetworkProfileRequest,
    SetNetworkProfileResponse,
    SetNetworkProfileStatusEnumType,
    SetVariableResultType,
    SetVariablesRequest,
    SetVariablesResponse,
    SetVariableStatusEnumType,
    TriggerMessageRequest,
    TriggerMessageResponse,
    TriggerMessageStatusEnumType,
    VariableAttributeType,
    VariableCharacteristicsType,
    VariableType,
)
from trio_csms.rpc import CallReceived
from trio_csms.sim import CallErrorRaised, SimStation

WAIT: Final = 5.0
"""Seconds any single expected message may take (the tool's message timeout, shortened)."""
PENDING_INTERVAL: Final = 1
"""The `interval` a Pending boot is answered with (`stations.pending_retry_interval`)."""
QUIET: Final = 0.5
"""Seconds the station listens for requests the CSMS must not send (a retry, a second part)."""
# B06/B05 `attributeType` the tool accepts in a GetVariables/SetVariables request.
GET_ATTRIBUTES: Final = (msgspec.UNSET, *AttributeEnumType)
SET_ATTRIBUTES: Final = (msgspec.UNSET, AttributeEnumType.Actual)

OFFLINE_THRESHOLD: Final = ("OCPPCommCtrlr", "OfflineThreshold")
AUTHORIZE_REMOTE_START: Final = ("AuthCtrlr", "AuthorizeRemoteStart")


# --- helpers --------------------------------------------------------------------------------


def _variable_data(component: str, variable: str, **extra: str) -> dict[str, Any]:
    """A getVariableData/setVariableData item in wire form."""
    return {"component": {"name": component}, "variable": {"name": variable}, **extra}


def _names(item: Any) -> tuple[str, str]:
    """(component.name, variable.name) of a typed GetVariableData/SetVariableData item."""
    return item.component.name, item.variable.name


async def _csms_request(station: SimStation, action: str) -> CallReceived:
    """The CSMS CALL of `action` the station received (it is recorded before it is answered)."""
    return await station.next_csms_call(action, timeout=WAIT)


async def _no_more_requests(station: SimStation, action: str) -> None:
    """Wait a moment and check the CSMS sent no further `action` (no retry, no second part)."""
    await trio.sleep(QUIET)
    extra = [call for call in station.csms_calls if call.action == action]
    assert not extra, f"the CSMS sent {action} again: {extra}"


async def _station_view(lab: Lab) -> dict[str, Any]:
    view: dict[str, Any] = await lab.get_json(f"/stations/{lab.station_id}")
    return view


async def _notify_event(station: SimStation, status: str) -> None:
    """NotifyEvent Connector(1,1).AvailabilityState, trigger Delta, as in Part 6's state reports."""
    now = datetime.now(UTC)
    event = EventDataType(
        event_id=1,
        timestamp=now,
        trigger=EventTriggerEnumType.Delta,
        actual_value=status,
        component=ComponentType(
            name="Connector", evse=EVSEType(id=states.EVSE_ID, connector_id=states.CONNECTOR_ID)
        ),
        variable=VariableType(name="AvailabilityState"),
        event_notification_type=EventNotificationEnumType.HardWiredNotification,
    )
    await station.call(NotifyEventRequest(generated_at=now, seq_no=0, event_data=[event]))


async def _reboot(
    lab: Lab, reason: BootReasonEnumType, connector_status: str = "Available"
) -> None:
    """The station reboots after a reset: a new connection, BootNotification `reason` (must be
    Accepted), then the state of its connector."""
    async with lab.station() as station:
        response = await station.boot(reason)
        assert response.status is RegistrationStatusEnumType.Accepted, response
        await station.report_connector(states.EVSE_ID, states.CONNECTOR_ID, connector_status)
    view = await _station_view(lab)
    assert view["registrationStatus"] == "Accepted"
    assert view["lastBootReason"] == reason.value


# --- B01-B03: booting -----------------------------------------------------------------------


async def test_tc_b_01_csms(tmp_path: Path) -> None:
    """Cold Boot - Accepted: Booted; the answer has currentTime and a positive interval."""
    async with open_lab(tmp_path) as lab, lab.station() as station:
        response = await states.booted(station)
        assert response.status is RegistrationStatusEnumType.Accepted
        assert response.interval > 0
        station_view = await _station_view(lab)
        assert station_view["registrationStatus"] == "Accepted"


async def test_tc_b_02_csms(tmp_path: Path) -> None:
    """Cold Boot - Pending: the first BootNotification is answered Pending, the socket stays
    open, the CSMS may configure the station meanwhile (here: SetVariables, allowed while
    Pending by B02.FR.02), and the BootNotification sent after `interval` is Accepted.

    The CSMS runs with `stations.default_registration = "Pending"` (AQ-1); the tester accepts
    the station through the API (its own registrationStatus Accepted) during the interval.
    """
    stations = {"default_registration": "Pending", "pending_retry_interval": PENDING_INTERVAL}
    async with open_lab(tmp_path, stations=stations) as lab, lab.station() as station:
        first = await station.boot(BootReasonEnumType.PowerUp)
        waited = trio.current_time()
        assert first.status is RegistrationStatusEnumType.Pending, first
        assert first.interval == PENDING_INTERVAL
        assert (await _station_view(lab))["registrationStatus"] == "Pending"

        # During the interval the CSMS may write the device model of a Pending station.
        answer = await lab.call_ok(
            "SetVariables",
            {"setVariableData": [_variable_data(*OFFLINE_THRESHOLD, attributeValue="60")]},
        )
        assert answer["setVariableResult"][0]["attributeStatus"] == "Accepted"
        await lab.register_station(registration_status="Accepted")

        await trio.sleep_until(waited + first.interval)  # the tool waits `interval` seconds
        assert station.closed is None, "the CSMS closed the socket of a Pending station"
        second = await station.boot(BootReasonEnumType.PowerUp)
        assert second.status is RegistrationStatusEnumType.Accepted, second
        await station.report_connector(states.EVSE_ID, states.CONNECTOR_ID, "Available")
        view = await _station_view(lab)
        assert view["registrationStatus"] == "Accepted" and view["connected"] is True
        assert view["evses"] == [
            {"evseId": 1, "connectors": [{"connectorId": 1, "status": "Available"}]}
        ]


@pytest.mark.parametrize("registration", ["Pending", "Rejected"])
async def test_tc_b_30_csms(tmp_path: Path, registration: str) -> None:
    """Cold Boot - Pending/Rejected - SecurityError: the boot is answered Pending (or Rejected),
    and the station's unsolicited StatusNotification and NotifyEvent are answered with
    CALLERROR SecurityError (B02.FR.09, B03.FR.07) and not processed.

    Part 6 accepts either answer; the CSMS can be configured for both (AQ-1), so both run.
    """
    async with open_lab(tmp_path) as lab:
        await lab.register_station(registration_status=registration)
        async with lab.station() as station:
            response = await station.boot(BootReasonEnumType.PowerUp)
            assert response.status.value == registration, response
            with pytest.raises(CallErrorRaised) as status_error:
                await station.status_notification(states.EVSE_ID, states.CONNECTOR_ID, "Available")
            assert status_error.value.code == "SecurityError"
            with pytest.raises(CallErrorRaised) as event_error:
                await _notify_event(station, "Available")
            assert event_error.value.code == "SecurityError"
            view = await _station_view(lab)
            assert view["registrationStatus"] == registration
            assert view["evses"] == [], "a refused StatusNotification was processed"


@pytest.mark.parametrize("registration", ["Pending", "Rejected"])
async def test_tc_b_31_csms(tmp_path: Path, registration: str) -> None:
    """Cold Boot - Pending/Rejected - TriggerMessage: after a Pending (or Rejected) boot the
    CSMS sends TriggerMessage BootNotification before the interval expires; the triggered
    BootNotification (reason Triggered) is Accepted; then the connector reports are answered.

    The tester accepts the station (registrationStatus Accepted) and has the CSMS send the
    TriggerMessage through the call endpoint. The Pending interval is left long (30 s, the
    default) so that only the trigger can bring the second boot within the test's time.
    """
    async with open_lab(tmp_path) as lab:
        await lab.register_station(registration_status=registration)
        async with lab.station() as station:
            triggered: list[BootNotificationResponse] = []
            booted = trio.Event()

            def on_trigger(request: TriggerMessageRequest) -> TriggerMessageResponse:
                async def boot() -> None:  # F06: after the answer, send what was asked for
                    triggered.append(await station.boot(BootReasonEnumType.Triggered))
                    booted.set()

                station.after_reply(boot)
                return TriggerMessageResponse(status=TriggerMessageStatusEnumType.Accepted)

            station.handle(TriggerMessageRequest, on_trigger)
            first = await station.boot(BootReasonEnumType.PowerUp)
            assert first.status.value == registration, first

            await lab.register_station(registration_status="Accepted")
            answer = await lab.call_ok("TriggerMessage", {"requestedMessage": "BootNotification"})
            assert answer == {"status": "Accepted"}
            request = (await _csms_request(station, "TriggerMessage")).request
            assert isinstance(request, TriggerMessageRequest)
            assert request.requested_message == "BootNotification"
            with trio.fail_after(WAIT):
                await booted.wait()
            assert triggered[0].status is RegistrationStatusEnumType.Accepted, triggered
            await station.report_connector(states.EVSE_ID, states.CONNECTOR_ID, "Available")
            view = await _station_view(lab)
            assert view["registrationStatus"] == "Accepted"
            assert view["lastBootReason"] == "Triggered"


# --- B05/B06: GetVariables and SetVariables -----------------------------------------------


def _answer_get_variables(values: dict[tuple[str, str], str]) -> Any:
    """A GetVariables handler: Accepted with `values` for known variables, else UnknownVariable."""

    def answer(request: GetVariablesRequest) -> GetVariablesResponse:
        results = []
        for data in request.get_variable_data:
            result = GetVariableResultType(
                attribute_status=GetVariableStatusEnumType.UnknownVariable,
                component=data.component,
                variable=data.variable,
                attribute_type=data.attribute_type,
            )
            if _names(data) in values:
                result.attribute_status = GetVariableStatusEnumType.Accepted
                result.attribute_value = values[_names(data)]
            results.append(result)
        return GetVariablesResponse(get_variable_result=results)

    return answer


def _answer_set_variables(request: SetVariablesRequest) -> SetVariablesResponse:
    return SetVariablesResponse(
        set_variable_result=[
            SetVariableResultType(
                attribute_status=SetVariableStatusEnumType.Accepted,
                component=data.component,
                variable=data.variable,
                attribute_type=data.attribute_type,
            )
            for data in request.set_variable_data
        ]
    )


async def _get_variables(
    tmp_path: Path, wanted: list[tuple[str, str]], values: dict[tuple[str, str], str]
) -> None:
    """B06: the tester asks for `wanted`; the CSMS sends them in ONE GetVariablesRequest (any
    order, attributeType absent or an AttributeEnumType value) and shows the values read."""
    async with open_lab(tmp_path) as lab, lab.station() as station:
        await states.booted(station)
        station.handle(GetVariablesRequest, _answer_get_variables(values))
        answer = await lab.call_ok(
            "GetVariables", {"getVariableData": [_variable_data(*names) for names in wanted]}
        )
        request = (await _csms_request(station, "GetVariables")).request
        assert isinstance(request, GetVariablesRequest)
        assert sorted(_names(data) for data in request.get_variable_data) == sorted(wanted)
        assert all(data.attribute_type in GET_ATTRIBUTES for data in request.get_variable_data)
        await _no_more_requests(station, "GetVariables")
        # Post scenario: the operator sees what was read.
        shown = {
            (result["component"]["name"], result["variable"]["name"]): (
                result["attributeStatus"],
                result.get("attributeValue"),
            )
            for result in answer["getVariableResult"]
        }
        assert shown == {names: ("Accepted", values[names]) for names in wanted}


async def test_tc_b_06_csms(tmp_path: Path) -> None:
    """Get Variables - single value: one getVariableData OCPPCommCtrlr.OfflineThreshold
    (attributeType absent, or Actual/Target/MinSet/MaxSet); the value read is shown."""
    await _get_variables(tmp_path, [OFFLINE_THRESHOLD], {OFFLINE_THRESHOLD: "600"})


async def test_tc_b_07_csms(tmp_path: Path) -> None:
    """Get Variables - multiple values: ONE GetVariablesRequest with OCPPCommCtrlr.
    OfflineThreshold and AuthCtrlr.AuthorizeRemoteStart (C-45); both values are shown."""
    values = {OFFLINE_THRESHOLD: "600", AUTHORIZE_REMOTE_START: "true"}
    await _get_variables(tmp_path, [OFFLINE_THRESHOLD, AUTHORIZE_REMOTE_START], values)


async def _set_variables(tmp_path: Path, wanted: dict[tuple[str, str], str]) -> None:
    """B05: the tester sets `wanted`; the CSMS sends ONE SetVariablesRequest with exactly those
    values (attributeType absent or Actual) and shows the station's results."""
    async with open_lab(tmp_path) as lab, lab.station() as station:
        await states.booted(station)
        station.handle(SetVariablesRequest, _answer_set_variables)
        items = [_variable_data(*names, attributeValue=value) for names, value in wanted.items()]
        answer = await lab.call_ok("SetVariables", {"setVariableData": items})
        request = (await _csms_request(station, "SetVariables")).request
        assert isinstance(request, SetVariablesRequest)
        sent = {_names(data): data.attribute_value for data in request.set_variable_data}
        assert sent == wanted and len(request.set_variable_data) == len(wanted)
        assert all(data.attribute_type in SET_ATTRIBUTES for data in request.set_variable_data)
        await _no_more_requests(station, "SetVariables")
        shown = {
            (result["component"]["name"], result["variable"]["name"]): result["attributeStatus"]
            for result in answer["setVariableResult"]
        }
        assert shown == dict.fromkeys(wanted, "Accepted")


async def test_tc_b_09_csms(tmp_path: Path) -> None:
    """Set Variables - single value: OCPPCommCtrlr.OfflineThreshold = "123" (attributeType
    absent or Actual); the station's Accepted is shown."""
    await _set_variables(tmp_path, {OFFLINE_THRESHOLD: "123"})


async def test_tc_b_10_csms(tmp_path: Path) -> None:
    """Set Variables - multiple values: ONE SetVariablesRequest with OfflineThreshold = "123"
    and AuthCtrlr.AuthorizeRemoteStart = "false" (C-46); both results are shown."""
    await _set_variables(tmp_path, {OFFLINE_THRESHOLD: "123", AUTHORIZE_REMOTE_START: "false"})


# --- B07: GetBaseReport -----------------------------------------------------------------------


def _report_item(
    component: ComponentType, variable: str, value: str, mutability: MutabilityEnumType
) -> ReportDataType:
    return ReportDataType(
        component=component,
        variable=VariableType(name=variable),
        variable_attribute=[
            VariableAttributeType(type=AttributeEnumType.Actual, value=value, mutability=mutability)
        ],
        variable_characteristics=VariableCharacteristicsType(
            data_type=DataEnumType.string, supports_monitoring=False
        ),
    )


def _report(base: ReportBaseEnumType) -> list[list[ReportDataType]]:
    """The station's report in three NotifyReport parts. A ConfigurationInventory holds the
    writable configuration; a FullInventory also the read-only inventory."""
    read_write = MutabilityEnumType.ReadWrite
    parts = [
        [
            _report_item(
                ComponentType(name="OCPPCommCtrlr"), "OfflineThreshold", "600", read_write
            ),
            _report_item(ComponentType(name="OCPPCommCtrlr"), "MessageTimeout", "30", read_write),
        ],
        [
            _report_item(
                ComponentType(name="AuthCtrlr"), "AuthorizeRemoteStart", "false", read_write
            )
        ],
        [_report_item(ComponentType(name="TxCtrlr"), "EVConnectionTimeOut", "120", read_write)],
    ]
    if base is ReportBaseEnumType.FullInventory:
        read_only = MutabilityEnumType.ReadOnly
        parts[2] += [
            _report_item(ComponentType(name="ChargingStation"), "Model", "SimStation", read_only),
            _report_item(
                ComponentType(name="Connector", evse=EVSEType(id=1, connector_id=1)),
                "AvailabilityState",
                "Available",
                read_only,
            ),
        ]
    return parts


async def _base_report(tmp_path: Path, base: ReportBaseEnumType) -> None:
    """B07: GetBaseReportRequest(requestId >= 0, reportBase `base`); the station answers
    Accepted, then reports in three parts (tbc true, true, false); the CSMS answers each
    part, keeps the report Partial until the last part and shows the whole of it."""
    request_id = 4711
    async with open_lab(tmp_path) as lab, lab.station() as station:
        await states.booted(station)
        station.handle(
            GetBaseReportRequest,
            lambda _: GetBaseReportResponse(status=GenericDeviceModelStatusEnumType.Accepted),
        )
        answer = await lab.call_ok(
            "GetBaseReport", {"requestId": request_id, "reportBase": base.value}
        )
        assert answer == {"status": "Accepted"}
        request = (await _csms_request(station, "GetBaseReport")).request
        assert isinstance(request, GetBaseReportRequest)
        assert request.request_id >= 0 and request.report_base is base

        report_path = f"/stations/{lab.station_id}/reports/{request.request_id}"
        parts = _report(base)
        for seq_no, data in enumerate(parts):
            last = seq_no == len(parts) - 1
            part = NotifyReportRequest(
                request_id=request.request_id,
                generated_at=datetime.now(UTC),
                seq_no=seq_no,
                report_data=data,
            )
            if not last:
                part.tbc = True
            response = await station.call(part)
            assert isinstance(response, NotifyReportResponse), response
            report = await lab.get_json(report_path)
            assert report["complete"] is last
            assert report["status"] == ("Complete" if last else "Partial")

        # Post scenario: the CSMS shows the whole report to the operator.
        assert report["kind"] == "GetBaseReport"
        assert report["request"]["reportBase"] == base.value
        assert [p["payload"]["seqNo"] for p in report["parts"]] == list(range(len(parts)))
        variables = await lab.get_json(f"/stations/{lab.station_id}/variables")
        shown = {
            (v["component"]["name"], v["variable"]["name"]): v["variableAttribute"][0]["value"]
            for v in variables
        }
        expected = {
            (item.component.name, item.variable.name): item.variable_attribute[0].value
            for data in parts
            for item in data
        }
        assert shown == expected


async def test_tc_b_12_csms(tmp_path: Path) -> None:
    """Get Base Report - ConfigurationInventory: GetBaseReportRequest requestId >= 0, reportBase
    ConfigurationInventory; every NotifyReport part is answered and the report is shown."""
    await _base_report(tmp_path, ReportBaseEnumType.ConfigurationInventory)


async def test_tc_b_13_csms(tmp_path: Path) -> None:
    """Get Base Report - FullInventory: as TC_B_12 with reportBase FullInventory (C-50.2)."""
    await _base_report(tmp_path, ReportBaseEnumType.FullInventory)


# --- B11/B12: Reset ---------------------------------------------------------------------------


async def _reset(
    lab: Lab,
    station: SimStation,
    reset_type: ResetEnumType,
    answer: ResetStatusEnumType,
    evse_id: int | None = None,
) -> None:
    """The tester resets the station (or one EVSE); the station answers `answer`. Checks the
    ResetRequest's type and evseId (omitted for the station, errata 2025-01 on B_20-B_22)."""
    station.handle(ResetRequest, lambda _: ResetResponse(status=answer))
    payload: dict[str, Any] = {"type": reset_type.value}
    if evse_id is not None:
        payload["evseId"] = evse_id
    shown = await lab.call_ok("Reset", payload)
    assert shown == {"status": answer.value}
    request = (await _csms_request(station, "Reset")).request
    assert isinstance(request, ResetRequest)
    assert request.type is reset_type
    expected_evse = msgspec.UNSET if evse_id is None else evse_id
    assert request.evse_id == expected_evse, request


async def _stop_after_scheduled_reset(
    lab: Lab, station: SimStation, tx: states.Transaction
) -> None:
    """B12.FR.01/.07: after Scheduled the station ends the transaction the normal way:
    Updated StopAuthorized (EVConnected, the valid idToken), then Ended EVCommunicationLost
    (Idle, EVDisconnected). The CSMS answers both and closes the transaction."""
    stopped = await states.send_event(
        station,
        tx,
        "StopAuthorized",
        charging_state=ChargingStateEnumType.EVConnected,
        id_token=states.id_token(lab.tokens),
    )
    states.assert_token_accepted(stopped)
    await states.send_event(
        station,
        tx,
        "EVCommunicationLost",
        event_type="Ended",
        charging_state=ChargingStateEnumType.Idle,
        stopped_reason="EVDisconnected",
    )
    await _assert_ended(lab, tx, "EVDisconnected")


async def _end_by_immediate_reset(lab: Lab, station: SimStation, tx: states.Transaction) -> None:
    """B12: the station ends the transaction for the reset: Ended, ResetCommand, EVConnected,
    stoppedReason ImmediateReset, no idToken. The CSMS answers and closes the transaction."""
    await states.send_event(
        station,
        tx,
        "ResetCommand",
        event_type="Ended",
        charging_state=ChargingStateEnumType.EVConnected,
        stopped_reason="ImmediateReset",
    )
    await _assert_ended(lab, tx, "ImmediateReset")


async def _assert_ended(lab: Lab, tx: states.Transaction, reason: str) -> None:
    shown = await lab.get_json(f"/transactions/{lab.station_id}/{tx.transaction_id}")
    assert shown["active"] is False and shown["stoppedReason"] == reason, shown


async def _charging(lab: Lab, station: SimStation, name: str) -> states.Transaction:
    """Booted, then the reusable state EnergyTransferStarted."""
    await states.booted(station)
    tx = states.Transaction(f"TX-{name}")
    await states.energy_transfer_started(station, tx, lab.tokens)
    return tx


async def test_tc_b_20_csms(tmp_path: Path) -> None:
    """Reset Charging Station - Without ongoing transaction - OnIdle: ResetRequest type OnIdle,
    evseId omitted (errata 2025-01); Accepted; the station reboots and its BootNotification is
    Accepted. Part 6 gives no boot reason here; the station sends RemoteReset (B11)."""
    async with open_lab(tmp_path) as lab:
        async with lab.station() as station:
            await states.booted(station)
            await _reset(lab, station, ResetEnumType.OnIdle, ResetStatusEnumType.Accepted)
        await _reboot(lab, BootReasonEnumType.RemoteReset)


async def test_tc_b_21_csms(tmp_path: Path) -> None:
    """Reset Charging Station - With Ongoing Transaction - OnIdle: ResetRequest type OnIdle,
    evseId omitted (errata 2025-01); Scheduled; the transaction ends (StopAuthorized, then
    Ended EVDisconnected), both answered; BootNotification ScheduledReset is Accepted."""
    async with open_lab(tmp_path) as lab:
        async with lab.station() as station:
            tx = await _charging(lab, station, "B21")
            await _reset(lab, station, ResetEnumType.OnIdle, ResetStatusEnumType.Scheduled)
            await _stop_after_scheduled_reset(lab, station, tx)
        await _reboot(lab, BootReasonEnumType.ScheduledReset)


async def test_tc_b_22_csms(tmp_path: Path) -> None:
    """Reset Charging Station - With Ongoing Transaction - Immediate: ResetRequest type
    Immediate, evseId omitted (errata 2025-01); Accepted; TransactionEvent Ended ResetCommand/
    ImmediateReset answered; BootNotification RemoteReset Accepted; the used connector is
    reported Occupied (the EV is still plugged in)."""
    async with open_lab(tmp_path) as lab:
        async with lab.station() as station:
            tx = await _charging(lab, station, "B22")
            await _reset(lab, station, ResetEnumType.Immediate, ResetStatusEnumType.Accepted)
            await _end_by_immediate_reset(lab, station, tx)
        await _reboot(lab, BootReasonEnumType.RemoteReset, "Occupied")


async def test_tc_b_25_csms(tmp_path: Path) -> None:
    """Reset EVSE - Without ongoing transaction: ResetRequest type OnIdle with evseId
    <Configured evseId> (1); Accepted. Only the EVSE resets: the station stays connected and
    Accepted."""
    async with open_lab(tmp_path) as lab, lab.station() as station:
        await states.booted(station)
        await _reset(
            lab, station, ResetEnumType.OnIdle, ResetStatusEnumType.Accepted, states.EVSE_ID
        )
        await station.heartbeat()  # the CSMS still serves the station normally
        view = await _station_view(lab)
        assert view["connected"] is True and view["registrationStatus"] == "Accepted"


async def test_tc_b_26_csms(tmp_path: Path) -> None:
    """Reset EVSE - With Ongoing Transaction - OnIdle: ResetRequest type OnIdle with evseId 1;
    Scheduled; the transaction ends (StopAuthorized, then Ended EVDisconnected), both
    answered (B12.FR.07)."""
    async with open_lab(tmp_path) as lab, lab.station() as station:
        tx = await _charging(lab, station, "B26")
        await _reset(
            lab, station, ResetEnumType.OnIdle, ResetStatusEnumType.Scheduled, states.EVSE_ID
        )
        await _stop_after_scheduled_reset(lab, station, tx)


async def test_tc_b_27_csms(tmp_path: Path) -> None:
    """Reset EVSE - With Ongoing Transaction - Immediate: ResetRequest type Immediate with
    evseId 1; Accepted; TransactionEvent Ended ResetCommand/ImmediateReset answered."""
    async with open_lab(tmp_path) as lab, lab.station() as station:
        tx = await _charging(lab, station, "B27")
        await _reset(
            lab, station, ResetEnumType.Immediate, ResetStatusEnumType.Accepted, states.EVSE_ID
        )
        await _end_by_immediate_reset(lab, station, tx)


# --- B09: SetNetworkProfile -------------------------------------------------------------------

CONFIGURATION_SLOT: Final = 1


def _connection_data(lab: Lab, security_profile: int) -> dict[str, Any]:
    """The tool's configured network connection profile, in wire form."""
    return {
        "ocppVersion": "OCPP20",
        "ocppTransport": "JSON",
        "ocppCsmsUrl": lab.ocpp_url,
        "messageTimeout": 30,
        "securityProfile": security_profile,
        "ocppInterface": "Wired0",
    }


async def _set_network_profile(
    lab: Lab, station: SimStation, answer: SetNetworkProfileStatusEnumType, security_profile: int
) -> None:
    """B09: the tester configures a network profile; the CSMS sends it unchanged in
    SetNetworkProfileRequest (configurationSlot, connectionData as configured, JSON, OCPP20)
    and shows the station's answer."""
    station.handle(SetNetworkProfileRequest, lambda _: SetNetworkProfileResponse(status=answer))
    wanted = _connection_data(lab, security_profile)
    shown = await lab.call_ok(
        "SetNetworkProfile", {"configurationSlot": CONFIGURATION_SLOT, "connectionData": wanted}
    )
    assert shown == {"status": answer.value}
    request = (await _csms_request(station, "SetNetworkProfile")).request
    assert isinstance(request, SetNetworkProfileRequest)
    assert request.configuration_slot == CONFIGURATION_SLOT
    data = request.connection_data
    assert data.ocpp_transport == "JSON" and data.ocpp_version == "OCPP20"
    assert data.message_timeout == wanted["messageTimeout"]
    assert data.ocpp_csms_url == wanted["ocppCsmsUrl"]
    assert data.ocpp_interface == wanted["ocppInterface"]
    assert data.security_profile == security_profile
    await _no_more_requests(station, "SetNetworkProfile")


async def test_tc_b_42_csms(tmp_path: Path) -> None:
    """Set new NetworkConnectionProfile - Accepted: SetNetworkProfileRequest with
    configurationSlot <Configured configurationSlot> (1) and connectionData messageTimeout,
    ocppCsmsUrl, ocppInterface, securityProfile as configured, ocppTransport JSON, ocppVersion
    OCPP20; the station answers Accepted. The configured profile is the station's own (1), so
    nothing is pending and the station keeps connecting as before."""
    async with open_lab(tmp_path) as lab:
        async with lab.station() as station:
            await states.booted(station)
            await _set_network_profile(lab, station, SetNetworkProfileStatusEnumType.Accepted, 1)
            view = await _station_view(lab)
            assert (view["securityProfile"], view["pendingSecurityProfile"]) == (1, None)
        async with lab.station() as station:
            await states.booted(station)


async def test_tc_b_44_csms(tmp_path: Path) -> None:
    """Set new NetworkConnectionProfile - Failed: the station answers Failed (B09.FR.03). Part 6
    has no tool validation; the CSMS must handle it gracefully: the answer is shown, nothing
    is logged as an error, the request is not retried, and a profile the station failed to
    store (here securityProfile 2) does not become the station's pending profile, so its next
    connection on profile 1 is admitted."""
    async with open_lab(tmp_path) as lab:
        async with lab.station() as station:
            await states.booted(station)
            await _set_network_profile(lab, station, SetNetworkProfileStatusEnumType.Failed, 2)
            view = await _station_view(lab)
            assert (view["securityProfile"], view["pendingSecurityProfile"]) == (1, None)
            await station.heartbeat()
        async with lab.station() as station:
            await states.booted(station)
