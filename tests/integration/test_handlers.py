"""Every CALL a charging station may send, over a real websocket, against the real CSMS.

Each test runs a `Csms` on 127.0.0.1 (port 0) with a SQLite store under `tmp_path`, registers a
station, connects the simulator with Basic auth and boots it (Accepted) before sending anything
else. What is checked is what the catalogue asks of a CSMS (blocks C, E, J, L, N, P of
csms-test-catalog.md): the CALLRESULT of the right type (never a CALLERROR for a valid
request), the business answer where there is one, and what ends up in the store: notifications
kept as received with their requestId/seqNo, connector states, the station's firmware status,
the status of the CSMS request a notification answers, the reported device model.

Transactions (TransactionEvent in depth, MeterValues) are in test_transactions.py.
Every test is bounded by `trio.fail_after(TIMEOUT)`.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
import pytest
import trio
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from csms_harness import RunningCsms, running_csms

from trio_csms.handlers import Hooks
from trio_csms.handlers.notifications import ANSWERS
from trio_csms.messages import (
    ACTION_BY_NAME,
    ACTIONS,
    ACChargingParametersType,
    AttributeEnumType,
    AuthorizationStatusEnumType,
    AuthorizeRequest,
    AuthorizeResponse,
    BootNotificationRequest,
    BootReasonEnumType,
    CertificateActionEnumType,
    CertificateSignedRequest,
    CertificateSigningUseEnumType,
    ChargingLimitSourceEnumType,
    ChargingLimitType,
    ChargingNeedsType,
    ChargingProfileKindEnumType,
    ChargingProfilePurposeEnumType,
    ChargingProfileType,
    ChargingRateUnitEnumType,
    ChargingSchedulePeriodType,
    ChargingScheduleType,
    ChargingStateEnumType,
    ChargingStationType,
    ClearedChargingLimitRequest,
    ComponentType,
    ConnectorStatusEnumType,
    DataEnumType,
    DataTransferRequest,
    DataTransferResponse,
    DataTransferStatusEnumType,
    EnergyTransferModeEnumType,
    EventDataType,
    EventNotificationEnumType,
    EventTriggerEnumType,
    EVSEType,
    FirmwareStatusEnumType,
    FirmwareStatusNotificationRequest,
    GenericStatusEnumType,
    Get15118EVCertificateRequest,
    GetCertificateStatusEnumType,
    GetCertificateStatusRequest,
    HashAlgorithmEnumType,
    HeartbeatRequest,
    IdTokenEnumType,
    IdTokenInfoType,
    IdTokenType,
    Iso15118EVCertificateStatusEnumType,
    LogStatusNotificationRequest,
    MeasurandEnumType,
    Message,
    MessageContentType,
    MessageFormatEnumType,
    MessageInfoType,
    MessagePriorityEnumType,
    MeterValuesRequest,
    MeterValueType,
    MonitorEnumType,
    MonitoringDataType,
    MutabilityEnumType,
    NotifyChargingLimitRequest,
    NotifyCustomerInformationRequest,
    NotifyDisplayMessagesRequest,
    NotifyEVChargingNeedsRequest,
    NotifyEVChargingNeedsStatusEnumType,
    NotifyEVChargingScheduleRequest,
    NotifyEventRequest,
    NotifyMonitoringReportRequest,
    NotifyReportRequest,
    NotifyReportResponse,
    OCSPRequestDataType,
    PublishFirmwareStatusEnumType,
    PublishFirmwareStatusNotificationRequest,
    ReadingContextEnumType,
    RegistrationStatusEnumType,
    ReportChargingProfilesRequest,
    ReportDataType,
    ReservationStatusUpdateRequest,
    ReservationUpdateStatusEnumType,
    SampledValueType,
    SecurityEventNotificationRequest,
    SignCertificateRequest,
    SignCertificateResponse,
    StatusInfoType,
    StatusNotificationRequest,
    TransactionEventEnumType,
    TransactionEventRequest,
    TransactionType,
    TriggerReasonEnumType,
    UnitOfMeasureType,
    UploadLogStatusEnumType,
    VariableAttributeType,
    VariableCharacteristicsType,
    VariableMonitoringType,
    VariableType,
)
from trio_csms.security.ca import CertificateAuthority
from trio_csms.sim import SimStation
from trio_csms.store import IdTokenRecord, RequestRecord, Store

TIMEOUT = 10
STATION = "CS001"
T0 = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
REQUEST_ID = 4711

STATION_ACTIONS = sorted(spec.action for spec in ACTIONS if spec.direction.sent_by_station())


# --- helpers ---------------------------------------------------------------------------------


@asynccontextmanager
async def booted(csms: RunningCsms, station_id: str = STATION) -> AsyncIterator[SimStation]:
    """A registered station, connected with Basic auth and booted: Accepted (B01)."""
    await csms.register(station_id)
    async with csms.station(station_id) as sim:
        response = await sim.boot()
        assert response.status is RegistrationStatusEnumType.Accepted
        yield sim


@asynccontextmanager
async def csms_with_station(
    tmp_path: Path, **options: Any
) -> AsyncIterator[tuple[RunningCsms, Store, SimStation]]:
    """A running CSMS, its store, and one booted station."""
    async with running_csms(tmp_path, **options) as csms, booted(csms) as sim:
        yield csms, csms.csms.store, sim


def wire(message: Message) -> dict[str, Any]:
    """A message as the JSON object it is on the wire (camelCase, RFC 3339 date-times)."""
    value: dict[str, Any] = msgspec.to_builtins(message)
    return value


async def assert_kept(store: Store, action: str, request: Message) -> None:
    """`request` was stored once as received, with its requestId and seqNo (if it has them)."""
    notifications = await store.list_notifications(STATION, action)
    assert len(notifications) == 1, notifications
    (kept,) = notifications
    assert kept.station_id == STATION
    assert kept.payload == wire(request)
    request_id = getattr(request, "request_id", msgspec.UNSET)
    seq_no = getattr(request, "seq_no", msgspec.UNSET)
    assert kept.request_id == (None if request_id is msgspec.UNSET else request_id)
    assert kept.seq_no == (None if seq_no is msgspec.UNSET else seq_no)


# Every kind of request a notification answers: a test looks a record up whatever its kind.
KINDS: frozenset[str] = frozenset[str]().union(*ANSWERS.values())


async def put_request(store: Store, kind: str, request_id: int = REQUEST_ID) -> None:
    """A CSMS request (GetLog, UpdateFirmware, ...) waiting for notifications."""
    await store.put_request(
        RequestRecord(station_id=STATION, request_id=request_id, kind=kind, created_at=T0)
    )


async def request_state(store: Store, request_id: int = REQUEST_ID) -> tuple[str | None, bool]:
    record = await store.get_request(STATION, request_id, KINDS)
    assert record is not None
    return record.status, record.complete


async def connector_states(store: Store, station_id: str = STATION) -> list[tuple[int, int, str]]:
    return [(c.evse_id, c.connector_id, c.status) for c in await store.list_connectors(station_id)]


def make_csr(common_name: str) -> str:
    """A station's PEM CSR (EC P-256, SHA-256) with subject CN=`common_name`, O=trio-csms."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "trio-csms"),
        ]
    )
    csr = x509.CertificateSigningRequestBuilder().subject_name(subject).sign(key, hashes.SHA256())
    return csr.public_bytes(serialization.Encoding.PEM).decode("ascii")


def connector_event(
    evse_id: int, connector_id: int | None, state: str, *, event_id: int = 1
) -> EventDataType:
    """An N07 event: component Connector, variable AvailabilityState (as Part 5 allows)."""
    evse = EVSEType(id=evse_id)
    if connector_id is not None:
        evse.connector_id = connector_id
    return EventDataType(
        event_id=event_id,
        timestamp=T0,
        trigger=EventTriggerEnumType.Delta,
        actual_value=state,
        component=ComponentType(name="Connector", evse=evse),
        variable=VariableType(name="AvailabilityState"),
        event_notification_type=EventNotificationEnumType.HardWiredNotification,
    )


def energy_reading(wh: float) -> MeterValueType:
    return MeterValueType(
        timestamp=T0,
        sampled_value=[
            SampledValueType(
                value=wh,
                context=ReadingContextEnumType.Sample_Clock,
                measurand=MeasurandEnumType.Energy_Active_Import_Register,
                unit_of_measure=UnitOfMeasureType(unit="Wh"),
            )
        ],
    )


SCHEDULE = ChargingScheduleType(
    id=1,
    charging_rate_unit=ChargingRateUnitEnumType.A,
    charging_schedule_period=[ChargingSchedulePeriodType(start_period=0, limit=16.0)],
)

VALID_TOKEN = IdTokenType(id_token="04A2B3C4D5E6F7", type=IdTokenEnumType.ISO14443)


# --- one realistic request per station action -------------------------------------------------

Check = Callable[[Store, Message, Any], Awaitable[None]]


@dataclass(frozen=True)
class Case:
    """One station action as the parametrized test sends it.

    Attributes:
        request: the request, built by hand.
        kept: the CSMS keeps it as a notification (with its requestId/seqNo).
        tracks: (kind, status, complete): a RequestRecord of that kind with id REQUEST_ID is
            put first; afterwards it must have that status and completeness.
        setup: prepares the store before the request is sent.
        check: further expectations on the store and the response.
    """

    request: Message
    kept: bool = True
    tracks: tuple[str, str, bool] | None = None
    setup: Callable[[Store], Awaitable[object]] | None = None
    check: Check | None = None


async def _token_accepted(store: Store) -> None:
    await store.put_id_token(IdTokenRecord(id_token=VALID_TOKEN.id_token, type="ISO14443"))


async def _check_authorize(store: Store, request: Message, response: Any) -> None:
    assert response.id_token_info.status is AuthorizationStatusEnumType.Accepted


async def _check_boot(store: Store, request: Any, response: Any) -> None:
    assert response.status is RegistrationStatusEnumType.Accepted
    assert response.interval == 300
    station = await store.get_station(STATION)
    assert station is not None
    assert station.registration_status == "Accepted"
    assert station.charging_station == wire(request.charging_station)
    assert station.last_boot_reason == "RemoteReset"


def _status(expected: Any) -> Check:
    async def check(store: Store, request: Message, response: Any) -> None:
        assert response.status is expected

    return check


async def _check_firmware(store: Store, request: Message, response: Any) -> None:
    station = await store.get_station(STATION)
    assert station is not None
    assert station.firmware_status == "Installed"


async def _check_heartbeat(store: Store, request: Message, response: Any) -> None:
    assert abs(response.current_time - datetime.now(UTC)) < timedelta(seconds=5)


async def _check_meter_values(store: Store, request: Any, response: Any) -> None:
    (stored,) = await store.list_meter_values(STATION, None)
    assert (stored.evse_id, stored.transaction_id, stored.timestamp) == (1, None, T0)
    assert stored.sampled_value == wire(request.meter_value[0])["sampledValue"]


async def _check_connector_occupied(store: Store, request: Message, response: Any) -> None:
    assert await connector_states(store) == [(1, 1, "Occupied")]


async def _check_connector_unavailable(store: Store, request: Message, response: Any) -> None:
    assert await connector_states(store) == [(1, 2, "Unavailable")]


async def _check_report(store: Store, request: Any, response: Any) -> None:
    (variable,) = await store.list_variables(STATION)
    reported = wire(request.report_data[0])
    assert variable.component == reported["component"]
    assert variable.variable == reported["variable"]
    assert variable.variable_attribute == reported["variableAttribute"]
    assert variable.variable_characteristics == reported["variableCharacteristics"]


async def _check_sign_without_ca(store: Store, request: Message, response: Any) -> None:
    assert response.status is GenericStatusEnumType.Rejected
    assert response.status_info.reason_code == "NoCA"


async def _check_transaction(store: Store, request: Message, response: Any) -> None:
    transaction = await store.get_transaction(STATION, "TX-0001")
    assert transaction is not None
    assert (transaction.evse_id, transaction.connector_id) == (1, 1)
    assert transaction.charging_state == "EVConnected"
    assert transaction.active
    (event,) = await store.list_transaction_events(STATION, "TX-0001")
    assert event.payload == wire(request)


CASES: dict[str, Case] = {
    "Authorize": Case(
        AuthorizeRequest(id_token=VALID_TOKEN),
        kept=False,
        setup=_token_accepted,
        check=_check_authorize,
    ),
    "BootNotification": Case(
        BootNotificationRequest(
            charging_station=ChargingStationType(
                model="AC-22",
                vendor_name="ACME",
                serial_number="SN-000123",
                firmware_version="1.4.2",
            ),
            reason=BootReasonEnumType.RemoteReset,
        ),
        kept=False,
        check=_check_boot,
    ),
    "ClearedChargingLimit": Case(
        ClearedChargingLimitRequest(
            charging_limit_source=ChargingLimitSourceEnumType.EMS, evse_id=1
        )
    ),
    "DataTransfer": Case(
        DataTransferRequest(vendor_id="org.example.unknown", message_id="Ping", data={"n": 1}),
        check=_status(DataTransferStatusEnumType.UnknownVendorId),
    ),
    "FirmwareStatusNotification": Case(
        FirmwareStatusNotificationRequest(
            status=FirmwareStatusEnumType.Installed, request_id=REQUEST_ID
        ),
        tracks=("UpdateFirmware", "Installed", True),
        check=_check_firmware,
    ),
    "Get15118EVCertificate": Case(
        Get15118EVCertificateRequest(
            iso15118_schema_version="urn:iso:15118:2:2013:MsgDef",
            action=CertificateActionEnumType.Install,
            exi_request="gAQAAAAAAAAAAA==",
        ),
        check=_status(Iso15118EVCertificateStatusEnumType.Failed),
    ),
    "GetCertificateStatus": Case(
        GetCertificateStatusRequest(
            ocsp_request_data=OCSPRequestDataType(
                hash_algorithm=HashAlgorithmEnumType.SHA256,
                issuer_name_hash="9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                issuer_key_hash="60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752",
                serial_number="5A3B91C0",
                responder_url="http://ocsp.example.com",
            )
        ),
        check=_status(GetCertificateStatusEnumType.Failed),
    ),
    "Heartbeat": Case(HeartbeatRequest(), kept=False, check=_check_heartbeat),
    "LogStatusNotification": Case(
        LogStatusNotificationRequest(
            status=UploadLogStatusEnumType.Uploaded, request_id=REQUEST_ID
        ),
        tracks=("GetLog", "Uploaded", True),
    ),
    "MeterValues": Case(
        MeterValuesRequest(evse_id=1, meter_value=[energy_reading(1520.0)]),
        kept=False,
        check=_check_meter_values,
    ),
    "NotifyChargingLimit": Case(
        NotifyChargingLimitRequest(
            charging_limit=ChargingLimitType(
                charging_limit_source=ChargingLimitSourceEnumType.SO, is_grid_critical=True
            ),
            evse_id=1,
            charging_schedule=[SCHEDULE],
        )
    ),
    "NotifyCustomerInformation": Case(
        NotifyCustomerInformationRequest(
            data="idToken 04A2B3C4D5E6F7: 3 sessions",
            seq_no=0,
            generated_at=T0,
            request_id=REQUEST_ID,
        ),
        tracks=("CustomerInformation", "Complete", True),
    ),
    "NotifyDisplayMessages": Case(
        NotifyDisplayMessagesRequest(
            request_id=REQUEST_ID,
            message_info=[
                MessageInfoType(
                    id=1,
                    priority=MessagePriorityEnumType.NormalCycle,
                    message=MessageContentType(
                        format=MessageFormatEnumType.UTF8, language="en", content="Welcome"
                    ),
                )
            ],
        ),
        tracks=("GetDisplayMessages", "Complete", True),
    ),
    "NotifyEVChargingNeeds": Case(
        NotifyEVChargingNeedsRequest(
            evse_id=1,
            charging_needs=ChargingNeedsType(
                requested_energy_transfer=EnergyTransferModeEnumType.AC_three_phase,
                ac_charging_parameters=ACChargingParametersType(
                    energy_amount=20000, ev_min_current=6, ev_max_current=32, ev_max_voltage=400
                ),
                departure_time=T0 + timedelta(hours=8),
            ),
        ),
        check=_status(NotifyEVChargingNeedsStatusEnumType.Rejected),
    ),
    "NotifyEVChargingSchedule": Case(
        NotifyEVChargingScheduleRequest(time_base=T0, evse_id=1, charging_schedule=SCHEDULE),
        check=_status(GenericStatusEnumType.Accepted),
    ),
    "NotifyEvent": Case(
        NotifyEventRequest(
            generated_at=T0, seq_no=0, event_data=[connector_event(1, 1, "Occupied")]
        ),
        check=_check_connector_occupied,
    ),
    "NotifyMonitoringReport": Case(
        NotifyMonitoringReportRequest(
            request_id=REQUEST_ID,
            seq_no=0,
            generated_at=T0,
            monitor=[
                MonitoringDataType(
                    component=ComponentType(name="EVSE", evse=EVSEType(id=1)),
                    variable=VariableType(name="Power"),
                    variable_monitoring=[
                        VariableMonitoringType(
                            id=1,
                            transaction=False,
                            value=22000.0,
                            type=MonitorEnumType.UpperThreshold,
                            severity=5,
                        )
                    ],
                )
            ],
        ),
        tracks=("GetMonitoringReport", "Complete", True),
    ),
    "NotifyReport": Case(
        NotifyReportRequest(
            request_id=REQUEST_ID,
            generated_at=T0,
            seq_no=0,
            report_data=[
                ReportDataType(
                    component=ComponentType(name="OCPPCommCtrlr"),
                    variable=VariableType(name="HeartbeatInterval"),
                    variable_attribute=[
                        VariableAttributeType(
                            type=AttributeEnumType.Actual,
                            value="300",
                            mutability=MutabilityEnumType.ReadWrite,
                        )
                    ],
                    variable_characteristics=VariableCharacteristicsType(
                        unit="s", data_type=DataEnumType.integer, supports_monitoring=False
                    ),
                )
            ],
        ),
        tracks=("GetBaseReport", "Complete", True),
        check=_check_report,
    ),
    "PublishFirmwareStatusNotification": Case(
        PublishFirmwareStatusNotificationRequest(
            status=PublishFirmwareStatusEnumType.Published,
            location=["http://192.168.1.2/firmware/ac22-1.4.2.bin"],
            request_id=REQUEST_ID,
        ),
        tracks=("PublishFirmware", "Published", True),
    ),
    "ReportChargingProfiles": Case(
        ReportChargingProfilesRequest(
            request_id=REQUEST_ID,
            charging_limit_source=ChargingLimitSourceEnumType.CSO,
            evse_id=1,
            charging_profile=[
                ChargingProfileType(
                    id=10,
                    stack_level=0,
                    charging_profile_purpose=ChargingProfilePurposeEnumType.TxDefaultProfile,
                    charging_profile_kind=ChargingProfileKindEnumType.Absolute,
                    charging_schedule=[SCHEDULE],
                )
            ],
        ),
        tracks=("GetChargingProfiles", "Complete", True),
    ),
    "ReservationStatusUpdate": Case(
        ReservationStatusUpdateRequest(
            reservation_id=7, reservation_update_status=ReservationUpdateStatusEnumType.Expired
        )
    ),
    "SecurityEventNotification": Case(
        SecurityEventNotificationRequest(
            type="FirmwareUpdated", timestamp=T0, tech_info="1.4.1 -> 1.4.2"
        )
    ),
    "SignCertificate": Case(
        SignCertificateRequest(
            csr=make_csr(STATION),
            certificate_type=CertificateSigningUseEnumType.ChargingStationCertificate,
        ),
        check=_check_sign_without_ca,
    ),
    "StatusNotification": Case(
        StatusNotificationRequest(
            timestamp=T0,
            connector_status=ConnectorStatusEnumType.Unavailable,
            evse_id=1,
            connector_id=2,
        ),
        kept=False,
        check=_check_connector_unavailable,
    ),
    "TransactionEvent": Case(
        TransactionEventRequest(
            event_type=TransactionEventEnumType.Started,
            timestamp=T0,
            trigger_reason=TriggerReasonEnumType.CablePluggedIn,
            seq_no=0,
            transaction_info=TransactionType(
                transaction_id="TX-0001", charging_state=ChargingStateEnumType.EVConnected
            ),
            evse=EVSEType(id=1, connector_id=1),
        ),
        kept=False,
        check=_check_transaction,
    ),
}


def test_there_is_one_case_per_station_action() -> None:
    """The parametrized test below really covers all 25 actions a station may send."""
    assert sorted(CASES) == STATION_ACTIONS
    assert len(CASES) == 25
    for action, case in CASES.items():
        assert type(case.request) is ACTION_BY_NAME[action].request, action


@pytest.mark.parametrize("action", STATION_ACTIONS)
async def test_every_station_action_gets_its_callresult_and_is_stored(
    tmp_path: Path, action: str
) -> None:
    """Part 4 §4.2.2: a valid CALL of any of the 25 station actions is answered with a
    CALLRESULT of that action's response type (never NotImplemented or another CALLERROR);
    what it reports is stored before the answer is sent."""
    case = CASES[action]
    with trio.fail_after(TIMEOUT):
        async with csms_with_station(tmp_path) as (_, store, sim):
            if case.tracks is not None:
                await put_request(store, case.tracks[0])
            if case.setup is not None:
                await case.setup(store)

            response = await sim.call(case.request, ACTION_BY_NAME[action].response)

            if case.kept:
                await assert_kept(store, action, case.request)
            if case.tracks is not None:
                assert await request_state(store) == case.tracks[1:]
            if case.check is not None:
                await case.check(store, case.request, response)


@pytest.mark.parametrize(
    "action", sorted(action for action, case in CASES.items() if case.tracks is not None)
)
async def test_a_notification_moves_only_requests_of_the_kind_it_reports_on(
    tmp_path: Path, action: str
) -> None:
    """The CSMS numbers each kind of request on its own: a notification whose requestId is
    that of a request of another kind (a GetLog; for LogStatusNotification an UpdateFirmware)
    leaves that request as it was."""
    case = CASES[action]
    assert case.tracks is not None
    other = "UpdateFirmware" if case.tracks[0] == "GetLog" else "GetLog"
    with trio.fail_after(TIMEOUT):
        async with csms_with_station(tmp_path) as (_, store, sim):
            await put_request(store, other)
            if case.setup is not None:
                await case.setup(store)
            await sim.call(case.request, ACTION_BY_NAME[action].response)
            assert await request_state(store) == (None, False)
            record = await store.get_request(STATION, REQUEST_ID, KINDS)
            assert record is not None and record.kind == other


# --- connector status: StatusNotification and NotifyEvent (G01, N07) -------------------------


async def test_connector_status_follows_status_notification_and_notify_event(
    tmp_path: Path,
) -> None:
    """G01/N07: a CSMS must take connector state from StatusNotification and equally from
    NotifyEvent on Connector.AvailabilityState (Part 5 note to G01); the latest report wins."""
    with trio.fail_after(TIMEOUT):
        async with csms_with_station(tmp_path) as (_, store, sim):
            await sim.report_connector(1, 1, "Occupied")
            await sim.status_notification(2, 1, "Available")
            assert await connector_states(store) == [(1, 1, "Occupied"), (2, 1, "Available")]

            event = NotifyEventRequest(
                generated_at=T0, seq_no=0, event_data=[connector_event(2, 1, "Faulted")]
            )
            await sim.call(event)
            assert await connector_states(store) == [(1, 1, "Occupied"), (2, 1, "Faulted")]

            await sim.status_notification(2, 1, "Available")
            assert await connector_states(store) == [(1, 1, "Occupied"), (2, 1, "Available")]


async def test_notify_event_applies_every_connector_event_of_a_message(tmp_path: Path) -> None:
    """N07: one NotifyEvent may carry several events; each AvailabilityState is applied."""
    with trio.fail_after(TIMEOUT):
        async with csms_with_station(tmp_path) as (_, store, sim):
            events = [
                connector_event(1, 1, "Reserved", event_id=1),
                connector_event(1, 2, "Unavailable", event_id=2),
            ]
            await sim.call(NotifyEventRequest(generated_at=T0, seq_no=0, event_data=events))
            assert await connector_states(store) == [(1, 1, "Reserved"), (1, 2, "Unavailable")]


async def test_notify_event_for_other_variables_leaves_connectors_alone(tmp_path: Path) -> None:
    """N07: only Connector.AvailabilityState with an EVSE and connector id is a connector
    state; other events (another variable, no connector id, a value that is not a state) are
    kept, and every part of a multi-part NotifyEvent is kept with its seqNo."""
    with trio.fail_after(TIMEOUT):
        async with csms_with_station(tmp_path) as (_, store, sim):
            other_variable = connector_event(1, 1, "Occupied", event_id=1)
            other_variable.variable = VariableType(name="Problem")
            no_connector = connector_event(1, None, "Faulted", event_id=2)
            not_a_state = connector_event(1, 1, "true", event_id=3)
            parts = [
                NotifyEventRequest(
                    generated_at=T0, seq_no=0, tbc=True, event_data=[other_variable, no_connector]
                ),
                NotifyEventRequest(generated_at=T0, seq_no=1, event_data=[not_a_state]),
            ]
            for part in parts:
                await sim.call(part)

            assert await connector_states(store) == []
            kept = await store.list_notifications(STATION, "NotifyEvent")
            assert [(n.seq_no, n.payload) for n in kept] == [
                (0, wire(parts[0])),
                (1, wire(parts[1])),
            ]


# --- notifications matched to the CSMS request they answer (L01, N01, N09) -------------------


async def test_log_status_notifications_update_the_get_log_request(tmp_path: Path) -> None:
    """TC_N_25_CSMS (N01): Uploading then Uploaded, both with the GetLog requestId, are
    answered; the request follows them and is complete after Uploaded."""
    with trio.fail_after(TIMEOUT):
        async with csms_with_station(tmp_path) as (_, store, sim):
            await put_request(store, "GetLog")

            await sim.call(
                LogStatusNotificationRequest(
                    status=UploadLogStatusEnumType.Uploading, request_id=REQUEST_ID
                )
            )
            assert await request_state(store) == ("Uploading", False)

            await sim.call(
                LogStatusNotificationRequest(
                    status=UploadLogStatusEnumType.Uploaded, request_id=REQUEST_ID
                )
            )
            assert await request_state(store) == ("Uploaded", True)
            kept = await store.list_notifications(STATION, "LogStatusNotification", REQUEST_ID)
            assert [n.payload["status"] for n in kept] == ["Uploading", "Uploaded"]


async def test_log_status_notifications_are_matched_to_their_own_request(tmp_path: Path) -> None:
    """TC_N_36_CSMS: with a second GetLog the first is AcceptedCanceled; each notification
    updates the request with its own requestId only."""
    with trio.fail_after(TIMEOUT):
        async with csms_with_station(tmp_path) as (_, store, sim):
            await put_request(store, "GetLog", 1)
            await put_request(store, "GetLog", 2)
            for status, request_id in [
                (UploadLogStatusEnumType.Uploading, 1),
                (UploadLogStatusEnumType.AcceptedCanceled, 1),
                (UploadLogStatusEnumType.Uploading, 2),
            ]:
                await sim.call(LogStatusNotificationRequest(status=status, request_id=request_id))

            assert await request_state(store, 1) == ("AcceptedCanceled", True)
            assert await request_state(store, 2) == ("Uploading", False)


async def test_firmware_status_notifications_follow_the_update(tmp_path: Path) -> None:
    """TC_L_01_CSMS (L01): every FirmwareStatusNotification is answered; the station's
    firmware status is the last one reported; the UpdateFirmware request completes only at a
    final status (Installed), and a reboot BootNotification in between is Accepted."""
    with trio.fail_after(TIMEOUT):
        async with csms_with_station(tmp_path) as (_, store, sim):
            await put_request(store, "UpdateFirmware")
            for status in ["Downloading", "Downloaded", "SignatureVerified", "Installing"]:
                await sim.call(
                    FirmwareStatusNotificationRequest(
                        status=FirmwareStatusEnumType(status), request_id=REQUEST_ID
                    )
                )
                station = await store.get_station(STATION)
                assert station is not None
                assert station.firmware_status == status
                assert await request_state(store) == (status, False)

            boot = await sim.boot(BootReasonEnumType.FirmwareUpdate)
            assert boot.status is RegistrationStatusEnumType.Accepted
            await sim.call(
                FirmwareStatusNotificationRequest(
                    status=FirmwareStatusEnumType.Installed, request_id=REQUEST_ID
                )
            )
            assert await request_state(store) == ("Installed", True)
            kept = await store.list_notifications(STATION, "FirmwareStatusNotification")
            assert len(kept) == 5


async def test_firmware_status_without_request_id_sets_the_station_status(tmp_path: Path) -> None:
    """L01: a FirmwareStatusNotification may come without requestId (e.g. Idle after a
    TriggerMessage); it is answered, kept, and sets the station's firmware status."""
    with trio.fail_after(TIMEOUT):
        async with csms_with_station(tmp_path) as (_, store, sim):
            request = FirmwareStatusNotificationRequest(status=FirmwareStatusEnumType.Idle)
            await sim.call(request)
            await assert_kept(store, "FirmwareStatusNotification", request)
            station = await store.get_station(STATION)
            assert station is not None
            assert station.firmware_status == "Idle"


async def test_customer_information_parts_complete_the_request(tmp_path: Path) -> None:
    """TC_N_27_CSMS (N09): the data comes in parts (tbc true, then false); each part is kept
    with its seqNo; the request is Partial, then Complete."""
    with trio.fail_after(TIMEOUT):
        async with csms_with_station(tmp_path) as (_, store, sim):
            await put_request(store, "CustomerInformation")
            first = NotifyCustomerInformationRequest(
                data="part one", seq_no=0, tbc=True, generated_at=T0, request_id=REQUEST_ID
            )
            await sim.call(first)
            assert await request_state(store) == ("Partial", False)

            last = NotifyCustomerInformationRequest(
                data="part two", seq_no=1, generated_at=T0, request_id=REQUEST_ID
            )
            await sim.call(last)
            assert await request_state(store) == ("Complete", True)
            kept = await store.list_notifications(STATION, "NotifyCustomerInformation", REQUEST_ID)
            assert [(n.seq_no, n.payload["data"]) for n in kept] == [
                (0, "part one"),
                (1, "part two"),
            ]


async def test_notification_for_an_unknown_request_is_answered_and_kept(tmp_path: Path) -> None:
    """A notification whose requestId this CSMS never issued (another system's request, or
    a station bug) is still answered and kept; no request record is invented for it."""
    with trio.fail_after(TIMEOUT):
        async with csms_with_station(tmp_path) as (_, store, sim):
            request = LogStatusNotificationRequest(
                status=UploadLogStatusEnumType.Uploaded, request_id=99
            )
            await sim.call(request)
            await assert_kept(store, "LogStatusNotification", request)
            assert await store.get_request(STATION, 99, KINDS) is None


async def test_a_station_cannot_update_another_stations_request(tmp_path: Path) -> None:
    """Request ids are per station: CS002's notification leaves CS001's request alone."""
    with trio.fail_after(TIMEOUT):
        async with csms_with_station(tmp_path) as (csms, store, _):
            await put_request(store, "GetLog")
            async with booted(csms, "CS002") as other:
                await other.call(
                    LogStatusNotificationRequest(
                        status=UploadLogStatusEnumType.Uploaded, request_id=REQUEST_ID
                    )
                )
            assert await request_state(store) == (None, False)
            assert await store.get_request("CS002", REQUEST_ID, KINDS) is None


# --- device model reports (B07/B08) -----------------------------------------------------------


def report_part(seq_no: int, value: str, *, tbc: bool, variable: str) -> NotifyReportRequest:
    part = NotifyReportRequest(
        request_id=REQUEST_ID,
        generated_at=T0,
        seq_no=seq_no,
        report_data=[
            ReportDataType(
                component=ComponentType(name="OCPPCommCtrlr"),
                variable=VariableType(name=variable),
                variable_attribute=[VariableAttributeType(value=value)],
            )
        ],
    )
    if tbc:
        part.tbc = True
    return part


async def test_notify_report_parts_store_variables_and_complete_the_request(
    tmp_path: Path,
) -> None:
    """TC_B_12/B_13_CSMS (B07): a report in two parts; every variable is stored, each part
    kept with its seqNo; the GetBaseReport request completes with the last part (tbc false)."""
    with trio.fail_after(TIMEOUT):
        async with csms_with_station(tmp_path) as (_, store, sim):
            await put_request(store, "GetBaseReport")
            first = report_part(0, "300", tbc=True, variable="HeartbeatInterval")
            response = await sim.call(first, NotifyReportResponse)
            assert response == NotifyReportResponse()
            assert (await request_state(store))[1] is False

            await sim.call(report_part(1, "3", tbc=False, variable="MessageAttempts"))
            assert await request_state(store) == ("Complete", True)
            stored = {
                v.variable["name"]: v.variable_attribute
                for v in await store.list_variables(STATION)
            }
            assert stored == {
                "HeartbeatInterval": [{"value": "300"}],
                "MessageAttempts": [{"value": "3"}],
            }
            kept = await store.list_notifications(STATION, "NotifyReport", REQUEST_ID)
            assert [n.seq_no for n in kept] == [0, 1]


async def test_a_new_report_replaces_a_variables_stored_value(tmp_path: Path) -> None:
    """B07: the stored device model is the latest report of each component/variable."""
    with trio.fail_after(TIMEOUT):
        async with csms_with_station(tmp_path) as (_, store, sim):
            await sim.call(report_part(0, "300", tbc=False, variable="HeartbeatInterval"))
            await sim.call(report_part(0, "60", tbc=False, variable="HeartbeatInterval"))
            (variable,) = await store.list_variables(STATION)
            assert variable.variable_attribute == [{"value": "60"}]


# --- authorization (block C) ------------------------------------------------------------------

# A realistic idToken for each type (Part 2 IdTokenEnumType); a suffix makes one per status.
TOKEN_VALUES = {
    IdTokenEnumType.ISO14443: "04A2B3C4D5E6",
    IdTokenEnumType.ISO15693: "E00401009C8D7A",
    IdTokenEnumType.KeyCode: "48213",
    IdTokenEnumType.Local: "LOCAL-CARD-",
    IdTokenEnumType.MacAddress: "00:1A:2B:3C:4D:",
    IdTokenEnumType.Central: "CENTRAL-",
    IdTokenEnumType.eMAID: "NLTNMC00122045",
}
STORED_STATUSES = ["Accepted", "Blocked", "Expired", "Invalid"]


@pytest.mark.parametrize("token_type", list(TOKEN_VALUES), ids=lambda t: t.value)
async def test_authorize_answers_the_stored_status_for_every_token_type(
    tmp_path: Path, token_type: IdTokenEnumType
) -> None:
    """TC_C_02/C_06/C_07_CSMS (C01.FR.07): Authorize answers exactly the status the CSMS
    holds for the token (Accepted, Blocked, Expired, Invalid), for every idToken type; the
    token is identified by value AND type, so the same value of another type is Unknown."""
    with trio.fail_after(TIMEOUT):
        async with csms_with_station(tmp_path) as (_, store, sim):
            for index, status in enumerate(STORED_STATUSES):
                value = f"{TOKEN_VALUES[token_type]}{index:02d}"
                await store.put_id_token(
                    IdTokenRecord(id_token=value, type=token_type.value, status=status)
                )
            for index, status in enumerate(STORED_STATUSES):
                value = f"{TOKEN_VALUES[token_type]}{index:02d}"
                response = await sim.authorize(value, token_type)
                assert response.id_token_info == IdTokenInfoType(
                    status=AuthorizationStatusEnumType(status)
                )

            other_type = (
                IdTokenEnumType.Central
                if token_type is not IdTokenEnumType.Central
                else IdTokenEnumType.Local
            )
            response = await sim.authorize(f"{TOKEN_VALUES[token_type]}00", other_type)
            assert response.id_token_info.status is AuthorizationStatusEnumType.Unknown


async def test_authorize_unknown_token_is_unknown(tmp_path: Path) -> None:
    """TC_C_02_CSMS (C01.FR.07): a token the CSMS does not know is Unknown."""
    with trio.fail_after(TIMEOUT):
        async with csms_with_station(tmp_path) as (_, _store, sim):
            response = await sim.authorize("DEADBEEF", IdTokenEnumType.ISO14443)
            assert response.id_token_info == IdTokenInfoType(
                status=AuthorizationStatusEnumType.Unknown
            )


async def test_authorize_no_authorization_token_is_accepted(tmp_path: Path) -> None:
    """C-35: a NoAuthorization idToken (empty) needs no authorization: Accepted."""
    with trio.fail_after(TIMEOUT):
        async with csms_with_station(tmp_path) as (_, _store, sim):
            response = await sim.authorize("", IdTokenEnumType.NoAuthorization)
            assert response.id_token_info.status is AuthorizationStatusEnumType.Accepted


GROUP = {"idToken": "GROUP-FLEET-7", "type": "Central"}


async def put_group_token(store: Store, value: str, **fields: Any) -> IdTokenRecord:
    token = IdTokenRecord(
        id_token=value,
        type="ISO14443",
        status="Accepted",
        group_id_token=GROUP,
        cache_expiry_date_time=T0 + timedelta(days=30),
        evse_id=[1, 2],
        language1="nl",
        personal_message={"format": "UTF8", "language": "nl", "content": "Welkom terug"},
        **fields,
    )
    await store.put_id_token(token)
    return token


def expected_group_info() -> IdTokenInfoType:
    return IdTokenInfoType(
        status=AuthorizationStatusEnumType.Accepted,
        group_id_token=IdTokenType(id_token="GROUP-FLEET-7", type=IdTokenEnumType.Central),
        cache_expiry_date_time=T0 + timedelta(days=30),
        evse_id=[1, 2],
        language1="nl",
        personal_message=MessageContentType(
            format=MessageFormatEnumType.UTF8, language="nl", content="Welkom terug"
        ),
    )


async def test_group_tokens_get_their_group_and_token_info_everywhere(tmp_path: Path) -> None:
    """TC_C_39_CSMS (C09.FR.02/03): two tokens of one group: both AuthorizeResponses and both
    TransactionEventResponses carry status Accepted and the groupIdToken, and the stored
    cacheExpiryDateTime, evseId, language1 and personalMessage are echoed in idTokenInfo."""
    with trio.fail_after(TIMEOUT):
        async with csms_with_station(tmp_path) as (_, store, sim):
            await put_group_token(store, "04A1A1A1A1A1A1")
            await put_group_token(store, "04B2B2B2B2B2B2")
            token_1 = IdTokenType(id_token="04A1A1A1A1A1A1", type=IdTokenEnumType.ISO14443)
            token_2 = IdTokenType(id_token="04B2B2B2B2B2B2", type=IdTokenEnumType.ISO14443)

            authorized = await sim.call(AuthorizeRequest(id_token=token_2), AuthorizeResponse)
            assert authorized.id_token_info == expected_group_info()
            started = await sim.transaction_event(
                "Started", "Authorized", "TX-GROUP", evse_id=1, connector_id=1, id_token=token_1
            )
            assert started.id_token_info == expected_group_info()
            authorized = await sim.call(AuthorizeRequest(id_token=token_2), AuthorizeResponse)
            assert authorized.id_token_info == expected_group_info()
            stopped = await sim.transaction_event(
                "Updated", "StopAuthorized", "TX-GROUP", id_token=token_2
            )
            assert stopped.id_token_info == expected_group_info()


async def test_authorizer_hook_overrides_the_store(tmp_path: Path) -> None:
    """Hooks.authorizer decides first: its IdTokenInfo is answered whatever the store holds;
    it gets the station id, the token and the EVSE (None for Authorize, the transaction's
    EVSE for TransactionEvent)."""
    calls: list[tuple[str, IdTokenType, int | None]] = []

    async def authorizer(station_id: str, token: IdTokenType, evse_id: int | None) -> Any:
        calls.append((station_id, token, evse_id))
        return IdTokenInfoType(status=AuthorizationStatusEnumType.NoCredit, language1="de")

    with trio.fail_after(TIMEOUT):
        async with csms_with_station(tmp_path, hooks=Hooks(authorizer=authorizer)) as (
            _,
            store,
            sim,
        ):
            await store.put_id_token(IdTokenRecord(id_token="04C3C3C3C3C3C3", type="ISO14443"))
            token = IdTokenType(id_token="04C3C3C3C3C3C3", type=IdTokenEnumType.ISO14443)
            expected = IdTokenInfoType(status=AuthorizationStatusEnumType.NoCredit, language1="de")

            authorized = await sim.call(AuthorizeRequest(id_token=token), AuthorizeResponse)
            assert authorized.id_token_info == expected
            started = await sim.transaction_event(
                "Started", "Authorized", "TX-HOOK", evse_id=2, connector_id=1, id_token=token
            )
            assert started.id_token_info == expected
            assert calls == [(STATION, token, None), (STATION, token, 2)]


async def test_authorizer_hook_returning_none_falls_back_to_the_store(tmp_path: Path) -> None:
    """Hooks.authorizer returning None leaves the decision to the CSMS's id-token store."""
    consulted: list[str] = []

    async def authorizer(station_id: str, token: IdTokenType, evse_id: int | None) -> None:
        consulted.append(token.id_token)

    with trio.fail_after(TIMEOUT):
        async with csms_with_station(tmp_path, hooks=Hooks(authorizer=authorizer)) as (
            _,
            store,
            sim,
        ):
            await store.put_id_token(
                IdTokenRecord(id_token="BLOCKED-1", type="Central", status="Blocked")
            )
            blocked = await sim.authorize("BLOCKED-1", IdTokenEnumType.Central)
            unknown = await sim.authorize("NOBODY", IdTokenEnumType.Central)
            assert blocked.id_token_info.status is AuthorizationStatusEnumType.Blocked
            assert unknown.id_token_info.status is AuthorizationStatusEnumType.Unknown
            assert consulted == ["BLOCKED-1", "NOBODY"]


# --- DataTransfer and customData (block P) ----------------------------------------------------


async def test_data_transfer_to_an_unknown_vendor_is_unknown_vendor_id(tmp_path: Path) -> None:
    """TC_P_02_CSMS (P02.FR.06/07): a vendorId the CSMS has no extension for is answered
    with status UnknownVendorId, not a CALLERROR; the message is kept."""
    with trio.fail_after(TIMEOUT):
        async with csms_with_station(tmp_path) as (_, store, sim):
            request = DataTransferRequest(vendor_id="com.octt.unknown", message_id="Msg", data="x")
            response = await sim.call(request, DataTransferResponse)
            assert response == DataTransferResponse(
                status=DataTransferStatusEnumType.UnknownVendorId
            )
            await assert_kept(store, "DataTransfer", request)


async def test_data_transfer_to_a_registered_vendor_is_answered_by_its_handler(
    tmp_path: Path,
) -> None:
    """P02: Hooks.vendors answers the DataTransfers of its vendorId with the request and the
    station id; other vendors still get UnknownVendorId."""
    received: list[tuple[str, DataTransferRequest]] = []

    async def acme(station_id: str, request: DataTransferRequest) -> DataTransferResponse:
        received.append((station_id, request))
        return DataTransferResponse(
            status=DataTransferStatusEnumType.Accepted, data={"echo": request.data}
        )

    with trio.fail_after(TIMEOUT):
        async with csms_with_station(tmp_path, hooks=Hooks(vendors={"ACME": acme})) as (
            _,
            _store,
            sim,
        ):
            request = DataTransferRequest(vendor_id="ACME", message_id="Tariff", data={"a": [1]})
            response = await sim.call(request, DataTransferResponse)
            assert response == DataTransferResponse(
                status=DataTransferStatusEnumType.Accepted, data={"echo": {"a": [1]}}
            )
            assert received == [(STATION, request)]

            other = await sim.call(DataTransferRequest(vendor_id="OTHER"), DataTransferResponse)
            assert other.status is DataTransferStatusEnumType.UnknownVendorId


def custom_data(marker: str) -> dict[str, Any]:
    """A customData object with vendor-specific properties (Part 4 §9; TC_P_03)."""
    return {"vendorId": "com.example.vendor", "marker": marker, "nested": {"list": [1, 2.5]}}


async def test_custom_data_with_vendor_properties_is_accepted_anywhere(tmp_path: Path) -> None:
    """TC_P_03_CSMS: customData with unknown vendor properties, at the top level of a
    StatusNotification and of a TransactionEvent and inside its transactionInfo, is accepted
    (no schema rejection) and the messages take effect as without it."""
    status_notification = {
        "timestamp": "2025-03-14T09:30:00Z",
        "connectorStatus": "Occupied",
        "evseId": 1,
        "connectorId": 1,
        "customData": custom_data("status"),
    }
    transaction_event = {
        "eventType": "Started",
        "timestamp": "2025-03-14T09:30:01Z",
        "triggerReason": "CablePluggedIn",
        "seqNo": 0,
        "transactionInfo": {
            "transactionId": "TX-CUSTOM",
            "chargingState": "EVConnected",
            "customData": custom_data("transactionInfo"),
        },
        "evse": {"id": 1, "connectorId": 1, "customData": custom_data("evse")},
        "customData": custom_data("event"),
    }
    with trio.fail_after(TIMEOUT):
        async with csms_with_station(tmp_path) as (_, store, sim):
            for message_id, action, payload in [
                ("p03-1", "StatusNotification", status_notification),
                ("p03-2", "TransactionEvent", transaction_event),
            ]:
                answer = await sim.call_raw(json.dumps([2, message_id, action, payload]))
                assert answer is not None
                assert json.loads(answer) == [3, message_id, {}]

            assert await connector_states(store) == [(1, 1, "Occupied")]
            transaction = await store.get_transaction(STATION, "TX-CUSTOM")
            assert transaction is not None
            assert (transaction.evse_id, transaction.charging_state) == (1, "EVConnected")


# --- SignCertificate (A02/A03) ----------------------------------------------------------------


async def test_sign_certificate_is_accepted_and_followed_by_a_verifiable_chain(
    tmp_path: Path,
) -> None:
    """A02 (TC_A_11-style): a CSR whose CN is the station id is Accepted; after the answer
    the CSMS sends CertificateSigned whose chain is a certificate for the CSR's key, with
    CN = station id, issued by the CSMS's CA."""
    ca = CertificateAuthority.create(tmp_path / "ca")
    with trio.fail_after(TIMEOUT):
        async with csms_with_station(tmp_path, ca=ca) as (_, store, sim):
            csr_pem = make_csr(STATION)
            request = SignCertificateRequest(
                csr=csr_pem,
                certificate_type=CertificateSigningUseEnumType.ChargingStationCertificate,
            )
            response = await sim.call(request, SignCertificateResponse)
            assert response.status is GenericStatusEnumType.Accepted

            signed = await sim.next_csms_call("CertificateSigned")
            assert isinstance(signed.request, CertificateSignedRequest)
            assert (
                signed.request.certificate_type
                is CertificateSigningUseEnumType.ChargingStationCertificate
            )
            leaf, *rest = x509.load_pem_x509_certificates(
                signed.request.certificate_chain.encode("ascii")
            )
            leaf.verify_directly_issued_by(ca.certificate)
            assert rest == [ca.certificate]
            common_names = leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
            assert [name.value for name in common_names] == [STATION]
            csr = x509.load_pem_x509_csr(csr_pem.encode("ascii"))
            assert leaf.public_key() == csr.public_key()
            await assert_kept(store, "SignCertificate", request)
            await assert_kept(store, "CertificateSigned", signed.request)  # the issued chain


async def test_sign_certificate_for_another_stations_name_is_rejected(tmp_path: Path) -> None:
    """A02: a CSR whose CN is not the station's identity is Rejected (one station must not
    obtain a certificate for another) and no CertificateSigned follows."""
    ca = CertificateAuthority.create(tmp_path / "ca")
    with trio.fail_after(TIMEOUT):
        async with csms_with_station(tmp_path, ca=ca) as (_, _store, sim):
            response = await sim.call(
                SignCertificateRequest(csr=make_csr("CS999")), SignCertificateResponse
            )
            assert response.status is GenericStatusEnumType.Rejected
            assert isinstance(response.status_info, StatusInfoType)
            assert response.status_info.reason_code == "InvalidCSR"
            await sim.heartbeat()  # a CertificateSigned would be sent before this answer
            assert [call.action for call in sim.csms_calls] == []


async def test_sign_certificate_with_a_malformed_csr_is_rejected(tmp_path: Path) -> None:
    """A02: something that is not a PEM CSR is Rejected, not a CALLERROR."""
    ca = CertificateAuthority.create(tmp_path / "ca")
    with trio.fail_after(TIMEOUT):
        async with csms_with_station(tmp_path, ca=ca) as (_, _store, sim):
            response = await sim.call(
                SignCertificateRequest(csr="-----BEGIN CERTIFICATE REQUEST-----\nAAAA"),
                SignCertificateResponse,
            )
            assert response.status is GenericStatusEnumType.Rejected


async def test_sign_certificate_without_a_ca_is_rejected(tmp_path: Path) -> None:
    """A02: a CSMS with no CA configured cannot sign: Rejected, nothing follows."""
    with trio.fail_after(TIMEOUT):
        async with csms_with_station(tmp_path) as (_, _store, sim):
            response = await sim.call(
                SignCertificateRequest(csr=make_csr(STATION)), SignCertificateResponse
            )
            assert response.status is GenericStatusEnumType.Rejected
            await sim.heartbeat()
            assert sim.csms_calls == ()
