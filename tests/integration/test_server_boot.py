"""Boot, registration state and deadlines of a station connection, over real websockets.

Functional block B (TC_B_01, TC_B_02, TC_B_30, TC_B_31), the configurable boot answer (AQ-1),
onboarding a new station by its FullInventory report (AQ-2, C-50.1), traffic of a known station
that reconnects without booting (protocol.md §6), the answer deadlines for station CALLs and
the timeout and connection loss of CSMS CALLs.

A real `Csms` serves on 127.0.0.1 (port 0, a temporary SQLite store); stations are simulated
with `trio_csms.sim`. Every test runs under `trio.fail_after(10)`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import trio
import trio.testing
from csms_harness import RunningCsms, running_csms

from trio_csms.errors import CallRefused, CallTimeout, ConnectionLost
from trio_csms.handlers import Hooks
from trio_csms.messages import (
    AuthorizationStatusEnumType,
    ChangeAvailabilityRequest,
    ChangeAvailabilityResponse,
    ChangeAvailabilityStatusEnumType,
    ComponentType,
    ConnectorStatusEnumType,
    DataTransferRequest,
    DataTransferResponse,
    DataTransferStatusEnumType,
    EventDataType,
    EventNotificationEnumType,
    EventTriggerEnumType,
    GenericDeviceModelStatusEnumType,
    GetBaseReportRequest,
    GetBaseReportResponse,
    GetVariableDataType,
    GetVariablesRequest,
    GetVariablesResponse,
    IdTokenEnumType,
    IdTokenInfoType,
    IdTokenType,
    MessageTriggerEnumType,
    MutabilityEnumType,
    NotifyEventRequest,
    NotifyReportRequest,
    NotifyReportResponse,
    OperationalStatusEnumType,
    RegistrationStatusEnumType,
    ReportBaseEnumType,
    ReportDataType,
    RequestStartTransactionRequest,
    ResetEnumType,
    ResetRequest,
    ResetResponse,
    ResetStatusEnumType,
    TriggerMessageRequest,
    TriggerMessageResponse,
    TriggerMessageStatusEnumType,
    VariableAttributeType,
    VariableType,
)
from trio_csms.sim import CallErrorRaised, SimStation

TIMEOUT = 10
PENDING_RETRY = 17
HEARTBEAT = 123


# --- helpers ---------------------------------------------------------------------------------


@asynccontextmanager
async def booted_station(
    tmp_path: Path, hooks: Hooks, ocpp: dict[str, Any]
) -> AsyncIterator[tuple[RunningCsms, SimStation]]:
    """A CSMS with `hooks` and `ocpp` settings, and station CS001 registered and Accepted."""
    async with running_csms(tmp_path, hooks=hooks, ocpp=ocpp) as running:
        await running.register("CS001")
        async with running.station("CS001") as sim:
            await sim.boot()
            yield running, sim


async def wait_until(condition: Callable[[], bool]) -> None:
    """Poll `condition` until it holds (the caller's fail_after bounds the wait).

    For what the simulator records without an event to wait on (its last boot answer).
    """
    while not condition():  # noqa: ASYNC110
        await trio.sleep(0.01)


def metric(running: RunningCsms, name: str, **labels: str) -> float:
    value = running.csms.metrics.registry.get_sample_value(name, labels)
    return value or 0.0


async def expect_security_error(call: Awaitable[object]) -> None:
    """The station's CALL must be answered with CALLERROR SecurityError (B02.FR.09)."""
    with pytest.raises(CallErrorRaised) as raised:
        await call
    assert raised.value.code == "SecurityError", raised.value


def notify_event() -> NotifyEventRequest:
    """A connector status event, as a station sends it right after booting (TC_B_30)."""
    event = EventDataType(
        event_id=1,
        timestamp=datetime.now(UTC),
        trigger=EventTriggerEnumType.Delta,
        actual_value="Available",
        component=ComponentType(name="Connector"),
        variable=VariableType(name="AvailabilityState"),
        event_notification_type=EventNotificationEnumType.HardWiredNotification,
    )
    return NotifyEventRequest(generated_at=datetime.now(UTC), seq_no=0, event_data=[event])


def get_heartbeat_interval() -> GetVariablesRequest:
    return GetVariablesRequest(
        get_variable_data=[
            GetVariableDataType(
                component=ComponentType(name="OCPPCommCtrlr"),
                variable=VariableType(name="HeartbeatInterval"),
            )
        ]
    )


def remote_start() -> RequestStartTransactionRequest:
    token = IdTokenType(id_token="TOKEN1", type=IdTokenEnumType.ISO14443)
    return RequestStartTransactionRequest(id_token=token, remote_start_id=1)


def trigger_boot() -> TriggerMessageRequest:
    return TriggerMessageRequest(requested_message=MessageTriggerEnumType.BootNotification)


async def set_policy(running: RunningCsms, station_id: str, policy: str | None) -> None:
    station = await running.csms.store.get_station(station_id)
    assert station is not None
    station.registration_policy = policy
    await running.csms.store.put_station(station)


async def triggered_boot(running: RunningCsms, sim: SimStation) -> RegistrationStatusEnumType:
    """TC_B_31: the CSMS triggers a BootNotification; returns what the triggered boot got."""
    before = sim.boot_response
    response = await running.csms.call(sim.station_id, trigger_boot())
    assert isinstance(response, TriggerMessageResponse)
    assert response.status is TriggerMessageStatusEnumType.Accepted
    await wait_until(lambda: sim.boot_response is not before)
    assert sim.boot_response is not None
    record = await running.csms.store.get_station(sim.station_id)
    assert record is not None and record.last_boot_reason == "Triggered"
    return sim.boot_response.status


# --- Accepted (TC_B_01) ------------------------------------------------------------------------


async def test_accepted_boot_returns_time_and_heartbeat_interval_and_is_stored(
    tmp_path: Path,
) -> None:
    """TC_B_01: Accepted with currentTime (now, with a time zone) and interval =
    `stations.heartbeat_interval`; the boot is recorded with the station."""
    with trio.fail_after(TIMEOUT):
        async with running_csms(tmp_path, stations={"heartbeat_interval": HEARTBEAT}) as running:
            await running.register("CS001")
            async with running.station("CS001") as sim:
                response = await sim.boot(
                    model="Model-X", vendor_name="Vendor-Y", serial_number="SN-42"
                )
                assert response.status is RegistrationStatusEnumType.Accepted
                assert response.interval == HEARTBEAT
                assert response.current_time.tzinfo is not None
                assert abs(response.current_time - datetime.now(UTC)) < timedelta(seconds=5)
                # the connector reports that follow a boot are answered
                await sim.report_connector(1, 1, ConnectorStatusEnumType.Available)
            record = await running.csms.store.get_station("CS001")
            assert record is not None
            assert record.registration_status == "Accepted"
            assert record.last_boot_reason == "PowerUp"
            assert record.charging_station == {
                "model": "Model-X",
                "vendorName": "Vendor-Y",
                "serialNumber": "SN-42",
            }
            assert record.last_boot_at is not None
            assert metric(running, "trio_csms_boot_answers_total", status="Accepted") == 1


# --- Pending (TC_B_02, TC_B_30, TC_B_31) ---------------------------------------------------------


@pytest.fixture(params=["station policy", "server default"])
def pending_settings(request: pytest.FixtureRequest) -> tuple[dict[str, object], str | None]:
    """Pending by the station's own registration_policy, or by `default_registration` (AQ-1).

    Returns the `stations` settings and the station's registration_policy.
    """
    settings: dict[str, object] = {"pending_retry_interval": PENDING_RETRY}
    if request.param == "station policy":
        return settings, "Pending"
    return {**settings, "default_registration": "Pending"}, None


async def test_pending_station_may_only_boot_and_be_configured(
    tmp_path: Path, pending_settings: tuple[dict[str, object], str | None]
) -> None:
    """TC_B_02/TC_B_30: Pending with interval = pending_retry_interval; the station's
    StatusNotification and NotifyEvent get SecurityError; the CSMS may read its variables
    (B02.FR.02) but not start a transaction."""
    stations, policy = pending_settings
    with trio.fail_after(TIMEOUT):
        async with running_csms(tmp_path, stations=stations) as running:
            await running.register("CS001", registration_policy=policy)
            async with running.station("CS001") as sim:
                response = await sim.boot()
                assert response.status is RegistrationStatusEnumType.Pending
                assert response.interval == PENDING_RETRY
                await expect_security_error(
                    sim.status_notification(1, 1, ConnectorStatusEnumType.Available)
                )
                await expect_security_error(sim.call(notify_event()))
                await expect_security_error(sim.heartbeat())
                answer = await running.csms.call("CS001", get_heartbeat_interval())
                assert isinstance(answer, GetVariablesResponse)
                with pytest.raises(CallRefused):
                    await running.csms.call("CS001", remote_start())
                assert not [call for call in sim.csms_calls if call.action != "GetVariables"]
                assert sim.closed is None  # the socket stays open while Pending
            record = await running.csms.store.get_station("CS001")
            assert record is not None and record.registration_status == "Pending"


async def test_pending_station_is_accepted_on_triggered_boot_after_policy_change(
    tmp_path: Path, pending_settings: tuple[dict[str, object], str | None]
) -> None:
    """TC_B_31: while Pending the CSMS sends TriggerMessage(BootNotification); the station's
    Triggered boot is answered by the current policy: Pending, then Accepted once the
    operator accepts the station; after that its reports are answered normally."""
    stations, policy = pending_settings
    with trio.fail_after(TIMEOUT):
        async with running_csms(tmp_path, stations=stations) as running:
            await running.register("CS001", registration_policy=policy)
            async with running.station("CS001") as sim:
                assert (await sim.boot()).status is RegistrationStatusEnumType.Pending
                assert await triggered_boot(running, sim) is RegistrationStatusEnumType.Pending
                await expect_security_error(
                    sim.status_notification(1, 1, ConnectorStatusEnumType.Available)
                )
                await set_policy(running, "CS001", "Accepted")
                assert await triggered_boot(running, sim) is RegistrationStatusEnumType.Accepted
                await sim.report_connector(1, 1, ConnectorStatusEnumType.Available)
                await sim.heartbeat()
                await running.csms.call("CS001", remote_start())
                assert sim.handler_errors == []


# --- Rejected (TC_B_30, TC_B_31 with Rejected) -----------------------------------------------


async def test_rejected_station_gets_security_error_and_no_csms_calls(tmp_path: Path) -> None:
    """B03/TC_B_30: Rejected; every CALL but BootNotification gets SecurityError, and the CSMS
    sends nothing but TriggerMessage (B03.FR.07)."""
    stations = {"pending_retry_interval": PENDING_RETRY}
    with trio.fail_after(TIMEOUT):
        async with running_csms(tmp_path, stations=stations) as running:
            await running.register("CS001", registration_policy="Rejected")
            async with running.station("CS001") as sim:
                response = await sim.boot()
                assert response.status is RegistrationStatusEnumType.Rejected
                assert response.interval == PENDING_RETRY
                await expect_security_error(
                    sim.status_notification(1, 1, ConnectorStatusEnumType.Available)
                )
                await expect_security_error(sim.call(notify_event()))
                await expect_security_error(sim.heartbeat())
                await expect_security_error(sim.authorize("TOKEN1"))
                await expect_security_error(sim.call(DataTransferRequest(vendor_id="acme")))
                with pytest.raises(CallRefused):
                    await running.csms.call("CS001", ResetRequest(type=ResetEnumType.Immediate))
                with pytest.raises(CallRefused):
                    await running.csms.call("CS001", get_heartbeat_interval())
                assert sim.csms_calls == ()
                # Rejected again on a second boot; the station is not let in by retrying.
                assert (await sim.boot()).status is RegistrationStatusEnumType.Rejected
                # TC_B_31 (Rejected variant): accepted by the operator, then triggered.
                await set_policy(running, "CS001", None)
                assert await triggered_boot(running, sim) is RegistrationStatusEnumType.Accepted
                await sim.heartbeat()


# --- reconnecting without a boot (protocol.md §6) ----------------------------------------------


async def test_accepted_station_reconnecting_without_boot_may_send_at_once(
    tmp_path: Path,
) -> None:
    """A known, Accepted station that reconnects need not boot again: its Heartbeat and
    queued TransactionEvents are answered right away (TC_E_29/31/33 rely on it)."""
    with trio.fail_after(TIMEOUT):
        async with running_csms(tmp_path) as running:
            await running.register("CS001")
            async with running.station("CS001") as sim:
                await sim.boot()
            async with running.station("CS001") as sim:
                await sim.heartbeat()
                await sim.transaction_event(
                    "Started", "CablePluggedIn", "TX-1", evse_id=1, connector_id=1, offline=True
                )
                answer = await running.csms.call("CS001", ResetRequest(type=ResetEnumType.OnIdle))
                assert isinstance(answer, ResetResponse)
            transaction = await running.csms.store.get_transaction("CS001", "TX-1")
            assert transaction is not None


async def test_station_that_never_booted_must_boot_first(tmp_path: Path) -> None:
    """Without any BootNotification on record a station's other CALLs get SecurityError."""
    with trio.fail_after(TIMEOUT):
        async with running_csms(tmp_path) as running:
            await running.register("CS001")
            async with running.station("CS001") as sim:
                await expect_security_error(sim.heartbeat())
                with pytest.raises(CallRefused):
                    await running.csms.call("CS001", ResetRequest(type=ResetEnumType.Immediate))
                assert (await sim.boot()).status is RegistrationStatusEnumType.Accepted
                await sim.heartbeat()


async def test_pending_station_reconnecting_is_still_pending(tmp_path: Path) -> None:
    """The stored Pending state carries over a reconnect: no traffic before a new boot."""
    with trio.fail_after(TIMEOUT):
        async with running_csms(tmp_path) as running:
            await running.register("CS001", registration_policy="Pending")
            async with running.station("CS001") as sim:
                assert (await sim.boot()).status is RegistrationStatusEnumType.Pending
            async with running.station("CS001") as sim:
                await expect_security_error(sim.heartbeat())


# --- onboarding (AQ-2, C-50.1) -------------------------------------------------------------------


async def test_onboarding_holds_new_station_pending_until_full_inventory(tmp_path: Path) -> None:
    """C-50.1: a new station's first boot is Pending and the CSMS asks for its FullInventory
    (GetBaseReport); the NotifyReport is accepted while Pending; then the station is
    onboarded, its device model is stored and its next boot is Accepted."""
    with trio.fail_after(TIMEOUT):
        async with running_csms(tmp_path, stations={"onboarding": True}) as running:
            store = running.csms.store
            await running.register("CS001")
            async with running.station("CS001") as sim:
                assert (await sim.boot()).status is RegistrationStatusEnumType.Pending
                asked = await sim.next_csms_call("GetBaseReport")
                assert isinstance(asked.request, GetBaseReportRequest)
                assert asked.request.report_base is ReportBaseEnumType.FullInventory
                # The simulator's default handler answers Accepted, then sends the report as
                # one NotifyReport part (tbc absent: the last part).
                await wait_until(lambda: sim.latency_for("NotifyReport").count > 0)
                record = await store.get_station("CS001")
                assert record is not None and record.onboarded
                names = {v.variable["name"] for v in await store.list_variables("CS001")}
                assert {"AvailabilityState", "Model", "Identity"} <= names
                request = await store.get_request(
                    "CS001", asked.request.request_id, ("GetBaseReport",)
                )
                assert request is not None and request.complete
                assert (await sim.boot()).status is RegistrationStatusEnumType.Accepted
                await sim.heartbeat()
                assert sim.handler_errors == []
                assert not [call for call in sim.csms_calls if call.action == "GetBaseReport"]


async def test_onboarding_completes_only_with_the_last_report_part(tmp_path: Path) -> None:
    """B07/C-50.1: a report in several NotifyReport parts (tbc=true, then the last one);
    the station counts as onboarded only after the last part."""
    first_part_sent = trio.Event()
    send_last_part = trio.Event()
    report_done = trio.Event()

    def report_data(name: str) -> list[ReportDataType]:
        attribute = VariableAttributeType(value="1", mutability=MutabilityEnumType.ReadOnly)
        return [
            ReportDataType(
                component=ComponentType(name="ChargingStation"),
                variable=VariableType(name=name),
                variable_attribute=[attribute],
            )
        ]

    with trio.fail_after(TIMEOUT):
        async with running_csms(tmp_path, stations={"onboarding": True}) as running:
            store = running.csms.store
            await running.register("CS001")
            async with running.station("CS001") as sim:

                def get_base_report(request: GetBaseReportRequest) -> GetBaseReportResponse:
                    async def send_report() -> None:
                        for seq_no, name, tbc in ((0, "PartOne", True), (1, "PartTwo", False)):
                            if seq_no == 1:
                                await send_last_part.wait()
                            part = NotifyReportRequest(
                                request_id=request.request_id,
                                generated_at=datetime.now(UTC),
                                seq_no=seq_no,
                                tbc=tbc,
                                report_data=report_data(name),
                            )
                            await sim.call(part, NotifyReportResponse)
                            first_part_sent.set()
                        report_done.set()

                    sim.after_reply(send_report)
                    return GetBaseReportResponse(status=GenericDeviceModelStatusEnumType.Accepted)

                sim.handle(GetBaseReportRequest, get_base_report)
                assert (await sim.boot()).status is RegistrationStatusEnumType.Pending
                await first_part_sent.wait()
                record = await store.get_station("CS001")
                assert record is not None and not record.onboarded
                assert (await sim.boot()).status is RegistrationStatusEnumType.Pending
                send_last_part.set()
                await report_done.wait()
                record = await store.get_station("CS001")
                assert record is not None and record.onboarded
                names = {v.variable["name"] for v in await store.list_variables("CS001")}
                assert {"PartOne", "PartTwo"} <= names
                assert (await sim.boot()).status is RegistrationStatusEnumType.Accepted
                assert sim.handler_errors == []


async def test_onboarded_station_is_accepted_without_report(tmp_path: Path) -> None:
    """AQ-2: a station already onboarded is Accepted at once; no GetBaseReport is sent."""
    with trio.fail_after(TIMEOUT):
        async with running_csms(tmp_path, stations={"onboarding": True}) as running:
            await running.register("CS001", onboarded=True)
            async with running.station("CS001") as sim:
                assert (await sim.boot()).status is RegistrationStatusEnumType.Accepted
                await sim.heartbeat()
                assert sim.csms_calls == ()


# --- answer deadlines for station CALLs --------------------------------------------------------


async def slow_vendor(station_id: str, request: DataTransferRequest) -> DataTransferResponse:
    await trio.sleep(5)
    raise AssertionError("the answer deadline should have cancelled this handler")


async def test_handler_overrunning_answer_deadline_gets_internal_error(tmp_path: Path) -> None:
    """`ocpp.answer_deadline`: a CALL whose handler takes too long (here a DataTransfer vendor
    hook sleeping 5 s) is answered InternalError at the deadline, and counted."""
    hooks = Hooks(vendors={"slow": slow_vendor})
    with trio.fail_after(TIMEOUT):
        async with booted_station(tmp_path, hooks, {"answer_deadline": 0.5}) as (running, sim):
            started = trio.current_time()
            with pytest.raises(CallErrorRaised) as raised:
                await sim.call(DataTransferRequest(vendor_id="slow"))
            elapsed = trio.current_time() - started
            assert raised.value.code == "InternalError"
            assert 0.4 < elapsed < 1.5
            assert (
                metric(running, "trio_csms_timeouts_total", kind="answer", action="DataTransfer")
                == 1
            )
            await sim.heartbeat()  # the connection carries on


async def deaf_vendor(station_id: str, request: DataTransferRequest) -> DataTransferResponse:
    with trio.CancelScope(shield=True):  # a wait nothing can cut short
        await trio.sleep(1.0)
    return DataTransferResponse(status=DataTransferStatusEnumType.Accepted)


async def test_handler_that_cannot_be_cancelled_still_gets_internal_error_not_its_late_answer(
    tmp_path: Path,
) -> None:
    """A handler the deadline cannot interrupt (here a shielded wait of 1 s, deadline 0.3 s)
    finishes late: its answer is dropped and the CALL is answered InternalError, with the
    websocket intact for the next CALL."""
    hooks = Hooks(vendors={"deaf": deaf_vendor})
    with trio.fail_after(TIMEOUT):
        async with booted_station(tmp_path, hooks, {"answer_deadline": 0.3}) as (_, sim):
            with pytest.raises(CallErrorRaised) as raised:
                await sim.call(DataTransferRequest(vendor_id="deaf"))
            assert raised.value.code == "InternalError"
            assert "0.3" in raised.value.description
            for _ in range(3):
                await sim.heartbeat()  # the connection carries on


async def slow_authorizer(
    station_id: str, token: IdTokenType, evse_id: int | None
) -> IdTokenInfoType | None:
    await trio.sleep(5)
    raise AssertionError("the authorize deadline should have cancelled this hook")


async def test_authorize_overrunning_authorize_deadline_gets_internal_error(
    tmp_path: Path,
) -> None:
    """`ocpp.authorize_deadline` bounds Authorize (a driver waits for it), whatever the
    general answer deadline is."""
    hooks = Hooks(authorizer=slow_authorizer)
    ocpp = {"authorize_deadline": 0.5, "answer_deadline": 30}
    with trio.fail_after(TIMEOUT):
        async with booted_station(tmp_path, hooks, ocpp) as (running, sim):
            started = trio.current_time()
            with pytest.raises(CallErrorRaised) as raised:
                await sim.authorize("TOKEN1")
            elapsed = trio.current_time() - started
            assert raised.value.code == "InternalError"
            assert 0.4 < elapsed < 1.5
            assert (
                metric(running, "trio_csms_timeouts_total", kind="answer", action="Authorize") == 1
            )


async def test_authorize_is_not_bound_by_the_general_answer_deadline(tmp_path: Path) -> None:
    """Authorize gets `authorize_deadline`, not `answer_deadline`: an authorizer taking
    0.5 s is answered although answer_deadline is 0.2 s."""

    async def authorizer(
        station_id: str, token: IdTokenType, evse_id: int | None
    ) -> IdTokenInfoType | None:
        await trio.sleep(0.5)
        return IdTokenInfoType(status=AuthorizationStatusEnumType.Accepted)

    ocpp = {"authorize_deadline": 5, "answer_deadline": 0.2}
    with trio.fail_after(TIMEOUT):
        async with booted_station(tmp_path, Hooks(authorizer=authorizer), ocpp) as (_, sim):
            response = await sim.authorize("TOKEN1")
            assert response.id_token_info.status is AuthorizationStatusEnumType.Accepted


# --- CSMS CALLs: timeout and connection loss ---------------------------------------------------


async def test_csms_call_times_out_then_the_next_call_works(tmp_path: Path) -> None:
    """Part 4 §4.1.1: an unanswered CSMS CALL fails with CallTimeout after its timeout and
    frees the station's single CALL slot; the station's late answer is dropped (it is not
    taken for the answer of the next CALL) and the connection stays up."""
    release_reset = trio.Event()

    async def late_reset(request: ResetRequest) -> ResetResponse:
        await release_reset.wait()
        return ResetResponse(status=ResetStatusEnumType.Accepted)

    with trio.fail_after(TIMEOUT):
        async with running_csms(tmp_path) as running:
            csms = running.csms
            await running.register("CS001")
            async with running.station("CS001") as sim:
                sim.handle(ResetRequest, late_reset)
                await sim.boot()
                started = trio.current_time()
                with pytest.raises(CallTimeout):
                    await csms.call("CS001", ResetRequest(type=ResetEnumType.Immediate), 0.5)
                assert 0.4 < trio.current_time() - started < 1.5
                await wait_until(
                    lambda: (
                        metric(running, "trio_csms_timeouts_total", kind="call", action="Reset")
                        == 1
                    )
                )
                reset = await sim.next_csms_call("Reset", timeout=0)
                late_answer = f'[3,"{reset.message_id}"'

                async def availability(
                    request: ChangeAvailabilityRequest,
                ) -> ChangeAvailabilityResponse:
                    # The late Reset answer goes out while this CALL is outstanding.
                    release_reset.set()
                    await wait_until(
                        lambda: any(
                            f.direction == "sent" and f.text.startswith(late_answer)
                            for f in sim.frames
                        )
                    )
                    return ChangeAvailabilityResponse(
                        status=ChangeAvailabilityStatusEnumType.Scheduled
                    )

                sim.handle(ChangeAvailabilityRequest, availability)
                second = await csms.call(
                    "CS001",
                    ChangeAvailabilityRequest(
                        operational_status=OperationalStatusEnumType.Operative
                    ),
                    5,
                )
                assert isinstance(second, ChangeAvailabilityResponse)
                assert second.status is ChangeAvailabilityStatusEnumType.Scheduled
                third = await csms.call("CS001", get_heartbeat_interval(), 5)
                assert isinstance(third, GetVariablesResponse)
                await sim.heartbeat()
                assert csms.connected("CS001")
                assert sim.closed is None


async def test_outstanding_and_queued_calls_fail_at_once_when_the_station_disconnects(
    tmp_path: Path,
) -> None:
    """A CSMS CALL outstanding (and one queued behind it) when the station's socket closes
    fails with ConnectionLost right away, not when its 30 s timeout passes."""
    failures: list[BaseException] = []

    async def call_and_record(request: ResetRequest | GetVariablesRequest) -> None:
        try:
            await running.csms.call("CS001", request, 30)
        except Exception as exc:
            failures.append(exc)

    async def never_answer(request: ResetRequest) -> ResetResponse:
        await trio.sleep_forever()
        raise AssertionError("unreachable")

    with trio.fail_after(TIMEOUT):
        async with running_csms(tmp_path) as running, trio.open_nursery() as nursery:
            await running.register("CS001")
            async with running.station("CS001") as sim:
                sim.handle(ResetRequest, never_answer)
                await sim.boot()
                nursery.start_soon(call_and_record, ResetRequest(type=ResetEnumType.Immediate))
                await sim.next_csms_call("Reset")
                nursery.start_soon(call_and_record, get_heartbeat_interval())
                await trio.testing.wait_all_tasks_blocked()
                closing = trio.current_time()
                await sim.aclose()
            await wait_until(lambda: len(failures) == 2)
            assert trio.current_time() - closing < 2
            assert all(isinstance(failure, ConnectionLost) for failure in failures), failures
