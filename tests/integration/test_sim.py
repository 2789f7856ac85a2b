"""The station simulator (`trio_csms.sim`) against a tiny fake CSMS, over real websockets.

The fake CSMS lives in this module and uses only trio-websocket and `RpcSession(Role.CSMS)`,
so these tests check the simulator without depending on the real server. Rules, as in
trio-websocket's own suite: 127.0.0.1 only, port 0, every test under `trio.fail_after(10)`, and
the station side always closes first (leaving `open_station`), so no socket is left open.
"""

from __future__ import annotations

import base64
import itertools
import json
import urllib.parse
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest
import trio
import trio.lowlevel
import trio_websocket

from trio_csms.messages import (
    AuthorizationStatusEnumType,
    AuthorizeRequest,
    AuthorizeResponse,
    BootNotificationRequest,
    BootNotificationResponse,
    ComponentType,
    DataTransferRequest,
    GenericDeviceModelStatusEnumType,
    GetBaseReportRequest,
    GetMonitoringReportRequest,
    GetVariableDataType,
    GetVariablesRequest,
    GetVariablesResponse,
    GetVariableStatusEnumType,
    HeartbeatRequest,
    HeartbeatResponse,
    IdTokenInfoType,
    Message,
    MessageTriggerEnumType,
    MeterValuesResponse,
    NotifyEventRequest,
    NotifyEventResponse,
    NotifyReportRequest,
    NotifyReportResponse,
    RegistrationStatusEnumType,
    ReportBaseEnumType,
    ResetEnumType,
    ResetRequest,
    ResetStatusEnumType,
    StatusNotificationRequest,
    StatusNotificationResponse,
    TransactionEventRequest,
    TransactionEventResponse,
    TriggerMessageRequest,
    TriggerMessageResponse,
    TriggerMessageStatusEnumType,
    VariableType,
)
from trio_csms.rpc import (
    CallErrorReceived,
    CallReceived,
    CallResponseInvalid,
    CallResultReceived,
    ErrorCode,
    FrameRejected,
    OcppError,
    Role,
    RpcEvent,
    RpcSession,
)
from trio_csms.sim import (
    CallErrorRaised,
    CallTimeout,
    ConnectFailed,
    ConnectionClosed,
    HandshakeRefused,
    NoSubprotocol,
    open_station,
    station_url,
)

LIMIT = 10
"""Hard limit on every test, in seconds."""


def _now() -> datetime:
    return datetime.now(UTC)


# Answers of the fake CSMS to the CALLs it supports; anything else gets NotSupported.
ANSWERS: dict[str, Callable[[Message], Message]] = {
    "BootNotification": lambda _: BootNotificationResponse(
        current_time=_now(), interval=300, status=RegistrationStatusEnumType.Accepted
    ),
    "Heartbeat": lambda _: HeartbeatResponse(current_time=_now()),
    "StatusNotification": lambda _: StatusNotificationResponse(),
    "NotifyEvent": lambda _: NotifyEventResponse(),
    "NotifyReport": lambda _: NotifyReportResponse(),
    "TransactionEvent": lambda _: TransactionEventResponse(),
    "MeterValues": lambda _: MeterValuesResponse(),
    "Authorize": lambda _: AuthorizeResponse(
        id_token_info=IdTokenInfoType(status=AuthorizationStatusEnumType.Accepted)
    ),
}


@dataclass
class Handshake:
    """What the fake CSMS saw of one websocket upgrade request."""

    path: str
    headers: dict[bytes, bytes]
    subprotocols: tuple[str, ...]


@dataclass
class Seen:
    """One CALL the fake CSMS received, and when it answered it."""

    call: CallReceived
    received_at: float
    answered_at: float | None = None


class FakeConnection:
    """The fake CSMS's side of one accepted station connection."""

    def __init__(self, csms: FakeCsms, ws: trio_websocket.WebSocketConnection) -> None:
        self.csms = csms
        self.ws = ws
        self.session = RpcSession(Role.CSMS)
        self._pending: tuple[str, trio.Event, list[RpcEvent]] | None = None

    async def call(self, request: Message) -> RpcEvent:
        """Send a CALL to the station and return the event its answer produced."""
        outgoing, frame = self.session.send_call(request)
        done = trio.Event()
        box: list[RpcEvent] = []
        self._pending = (outgoing.message_id, done, box)
        await self.ws.send_message(frame.decode())
        await done.wait()
        return box[0]

    async def run(self) -> None:
        try:
            while True:
                message = await self.ws.get_message()
                assert isinstance(message, str)
                event = self.session.receive(message.encode())
                if isinstance(event, CallReceived):
                    if not await self._answer(event):
                        return
                elif isinstance(event, CallResultReceived | CallErrorReceived):
                    assert self._pending is not None
                    message_id, done, box = self._pending
                    assert message_id == event.message_id
                    box.append(event)
                    done.set()
                elif isinstance(event, CallResponseInvalid):
                    raise AssertionError(f"station sent an invalid answer: {event}")
                elif isinstance(event, FrameRejected) and event.reply is not None:
                    await self.ws.send_message(event.reply.decode())
        except trio_websocket.ConnectionClosed:
            pass

    async def _answer(self, event: CallReceived) -> bool:
        """Answer one station CALL; False when the connection was closed instead."""
        seen = Seen(event, trio.current_time())
        self.csms.seen.append(seen)
        self.csms.changed.set()
        self.csms.changed = trio.Event()
        if event.action in self.csms.close_on:
            code, reason = self.csms.close_on[event.action]
            await self.ws.aclose(code, reason)
            return False
        if event.action in self.csms.silent:
            return True
        await trio.sleep(self.csms.answer_delay)
        answer = ANSWERS.get(event.action)
        if answer is None:
            error = OcppError(ErrorCode.NotSupported, f"fake CSMS: no {event.action}")
            reply = self.session.send_error(event.message_id, error)
        else:
            reply = self.session.send_result(event.message_id, answer(event.request))
        seen.answered_at = trio.current_time()
        await self.ws.send_message(reply.decode())
        return True


@dataclass
class FakeCsms:
    """A minimal CSMS: answers a few actions, checks Basic auth, can call the station.

    Tests change its attributes before connecting: `password` (checked against the user name
    in the URL), `reject_status` (refuse every upgrade), `agree_subprotocol`, `silent`
    (actions never answered), `close_on` (close with (code, reason) on that action) and
    `answer_delay`.
    """

    port: int = 0
    password: str | None = None
    reject_status: int | None = None
    agree_subprotocol: bool = True
    silent: set[str] = field(default_factory=set)
    close_on: dict[str, tuple[int, str]] = field(default_factory=dict)
    answer_delay: float = 0.0
    handshakes: list[Handshake] = field(default_factory=list)
    seen: list[Seen] = field(default_factory=list)
    connections: list[FakeConnection] = field(default_factory=list)
    changed: trio.Event = field(default_factory=trio.Event)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ocpp"

    async def handler(self, request: trio_websocket.WebSocketRequest) -> None:
        headers = {name.lower(): value for name, value in request.headers}
        self.handshakes.append(
            Handshake(request.path, headers, tuple(request.proposed_subprotocols))
        )
        if self.reject_status is not None:
            await request.reject(self.reject_status, body=b"refused by the fake CSMS")
            return
        if self.password is not None:
            user = urllib.parse.unquote(request.path.rsplit("/", 1)[-1])
            token = base64.b64encode(f"{user}:{self.password}".encode())
            if headers.get(b"authorization") != b"Basic " + token:
                await request.reject(401, extra_headers=[(b"WWW-Authenticate", b"Basic")])
                return
        if not self.agree_subprotocol or "ocpp2.0.1" not in request.proposed_subprotocols:
            # Part 4 §3.1.2: finish the handshake without a subprotocol, then close at once.
            ws = await request.accept()
            await ws.aclose()
            return
        ws = await request.accept(subprotocol="ocpp2.0.1")
        connection = FakeConnection(self, ws)
        self.connections.append(connection)
        self._wake()
        await connection.run()

    def _wake(self) -> None:
        self.changed.set()
        self.changed = trio.Event()

    async def connection(self) -> FakeConnection:
        """The first accepted connection, waiting for it."""
        while not self.connections:
            await self.changed.wait()
        return self.connections[0]

    async def next_seen(self, action: str, after: int = 0) -> Seen:
        """The first CALL of `action` at index `after` or later, waiting for it."""
        while True:
            for seen in self.seen[after:]:
                if seen.call.action == action:
                    return seen
            await self.changed.wait()

    def actions(self) -> list[str]:
        return [seen.call.action for seen in self.seen]


@pytest.fixture
async def csms(nursery: trio.Nursery) -> AsyncIterator[FakeCsms]:
    fake = FakeCsms()
    server = await nursery.start(trio_websocket.serve_websocket, fake.handler, "127.0.0.1", 0, None)
    fake.port = server.port
    yield fake


# --- connecting ------------------------------------------------------------------------------


async def test_boot_and_connector_report(csms: FakeCsms) -> None:
    with trio.fail_after(LIMIT):
        async with open_station(csms.url, "CS1") as station:
            boot = await station.boot(model="M1", vendor_name="V1")
            assert boot.status is RegistrationStatusEnumType.Accepted
            assert station.boot_response is boot
            status, event = await station.report_connector(1, 2, "Available")
            assert isinstance(status, StatusNotificationResponse)
            assert isinstance(event, NotifyEventResponse)
            await station.report_connector(1, 2, "Occupied")
            assert station.connectors == {(1, 2): "Occupied"}
            assert station.handler_errors == []
    assert csms.handshakes[0].path == "/ocpp/CS1"
    assert csms.handshakes[0].subprotocols == ("ocpp2.0.1",)
    assert csms.actions() == [
        "BootNotification",
        "StatusNotification",
        "NotifyEvent",
        "StatusNotification",
        "NotifyEvent",
    ]
    boot_request = csms.seen[0].call.request
    assert isinstance(boot_request, BootNotificationRequest)
    assert boot_request.charging_station.model == "M1"
    assert boot_request.reason == "PowerUp"
    notified = csms.seen[1].call.request
    assert isinstance(notified, StatusNotificationRequest)
    assert (notified.evse_id, notified.connector_id, notified.connector_status) == (
        1,
        2,
        "Available",
    )
    first, second = (seen.call.request for seen in csms.seen if seen.call.action == "NotifyEvent")
    assert isinstance(first, NotifyEventRequest)
    assert isinstance(second, NotifyEventRequest)
    data = first.event_data[0]
    assert data.component.name == "Connector"
    assert (data.component.evse.id, data.component.evse.connector_id) == (1, 2)  # type: ignore[union-attr]
    assert data.variable.name == "AvailabilityState"
    assert data.trigger == "Delta"
    assert data.actual_value == "Available"
    assert second.event_data[0].actual_value == "Occupied"
    assert second.event_data[0].event_id != data.event_id


async def test_records_latency_frames_and_statistics(csms: FakeCsms) -> None:
    with trio.fail_after(LIMIT):
        async with open_station(csms.url, "CS1") as station:
            await station.boot()
            await station.heartbeat()
            await station.heartbeat()
            assert station.latency["Heartbeat"].count == 2
            assert station.latency["BootNotification"].count == 1
            assert 0 <= station.latency["Heartbeat"].max < LIMIT
            directions = [record.direction for record in station.frames]
            assert directions == ["sent", "received"] * 3
            assert '"Heartbeat"' in station.frames[2].text
            assert station.format_frames().count("\n") == 5
            stats = station.statistics()
            assert (stats.frames_sent, stats.frames_received, stats.connected) == (3, 3, True)
            assert stats.rpc.calls_sent == 3
        assert not station.statistics().connected


async def test_authorize_and_transaction_event_numbering(csms: FakeCsms) -> None:
    with trio.fail_after(LIMIT):
        async with open_station(csms.url, "CS1") as station:
            authorized = await station.authorize("TOKEN-1", "ISO14443")
            assert authorized.id_token_info.status is AuthorizationStatusEnumType.Accepted
            await station.transaction_event("Started", "Authorized", "tx-1", evse_id=1)
            await station.transaction_event(
                "Updated", "ChargingStateChanged", "tx-1", charging_state="Charging"
            )
            await station.transaction_event("Started", "CablePluggedIn", "tx-2")
            await station.transaction_event("Ended", "StopAuthorized", "tx-1")
            await station.meter_values(1, energy_wh=1500.0, power_w=7000.0)
    events = [seen.call.request for seen in csms.seen if seen.call.action == "TransactionEvent"]
    assert all(isinstance(event, TransactionEventRequest) for event in events)
    numbered = [
        (event.transaction_info.transaction_id, event.seq_no)
        for event in events
        if isinstance(event, TransactionEventRequest)
    ]
    assert numbered == [("tx-1", 0), ("tx-1", 1), ("tx-2", 0), ("tx-1", 2)]
    updated = events[1]
    assert isinstance(updated, TransactionEventRequest)
    assert updated.transaction_info.charging_state == "Charging"
    authorize = csms.seen[0].call.request
    assert isinstance(authorize, AuthorizeRequest)
    assert (authorize.id_token.id_token, authorize.id_token.type) == ("TOKEN-1", "ISO14443")


async def test_basic_auth_header_uses_the_station_id(csms: FakeCsms) -> None:
    csms.password = "s3cret-passw0rd"
    with trio.fail_after(LIMIT):
        async with open_station(csms.url, "CS1", password="s3cret-passw0rd") as station:
            await station.heartbeat()
    expected = b"Basic " + base64.b64encode(b"CS1:s3cret-passw0rd")
    assert csms.handshakes[0].headers[b"authorization"] == expected


async def test_wrong_password_is_refused_with_401(csms: FakeCsms) -> None:
    csms.password = "right"
    with trio.fail_after(LIMIT), pytest.raises(HandshakeRefused) as refused:
        async with open_station(csms.url, "CS1", password="wrong"):
            raise AssertionError("connected with a wrong password")
    assert refused.value.status_code == 401
    assert (b"www-authenticate", b"Basic") in refused.value.headers


async def test_refused_handshake_raises_handshake_refused(csms: FakeCsms) -> None:
    csms.reject_status = 401
    with trio.fail_after(LIMIT), pytest.raises(HandshakeRefused) as refused:
        async with open_station(csms.url, "CS1"):
            raise AssertionError("connected although refused")
    assert refused.value.status_code == 401
    assert refused.value.body == b"refused by the fake CSMS"
    assert isinstance(refused.value, ConnectFailed)


async def test_no_agreed_subprotocol_raises_no_subprotocol(csms: FakeCsms) -> None:
    csms.agree_subprotocol = False
    with trio.fail_after(LIMIT), pytest.raises(NoSubprotocol) as failed:
        async with open_station(csms.url, "CS1"):
            raise AssertionError("connected without a subprotocol")
    assert failed.value.selected is None
    assert failed.value.offered == ("ocpp2.0.1",)


async def test_unreachable_csms_raises_connect_failed(csms: FakeCsms) -> None:
    # Bind and close a listener, so the port is (very likely) closed.
    listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
    port = listeners[0].socket.getsockname()[1]
    await listeners[0].aclose()
    with trio.fail_after(LIMIT), pytest.raises(ConnectFailed):
        async with open_station(f"ws://127.0.0.1:{port}/ocpp", "CS1"):
            raise AssertionError("connected to a closed port")


async def test_station_id_is_percent_encoded(csms: FakeCsms) -> None:
    csms.password = "pw"
    with trio.fail_after(LIMIT):
        async with open_station(csms.url + "/", "RDAM 123/x", password="pw") as station:
            await station.heartbeat()
    assert csms.handshakes[0].path == "/ocpp/RDAM%20123%2Fx"
    expected = b"Basic " + base64.b64encode(b"RDAM 123/x:pw")
    assert csms.handshakes[0].headers[b"authorization"] == expected


def test_station_url_appends_the_encoded_identity() -> None:
    assert station_url("ws://h/ocpp", "RDAM 123") == "ws://h/ocpp/RDAM%20123"
    assert station_url("wss://h:8443/ocpp/", "CS-1") == "wss://h:8443/ocpp/CS-1"
    assert station_url("ws://h", "a:b") == "ws://h/a%3Ab"
    assert station_url("ws://h/ocpp?x=1", "é") == "ws://h/ocpp/%C3%A9?x=1"


# --- our CALLs -------------------------------------------------------------------------------


async def test_call_timeout_raises_and_frees_the_next_call(csms: FakeCsms) -> None:
    csms.silent.add("Heartbeat")
    with trio.fail_after(LIMIT):
        async with open_station(csms.url, "CS1", call_timeout=0.2) as station:
            with pytest.raises(CallTimeout) as timed_out:
                await station.heartbeat()
            assert isinstance(timed_out.value, trio.TooSlowError)
            assert (timed_out.value.action, timed_out.value.timeout) == ("Heartbeat", 0.2)
            # The abandoned CALL doesn't block the next one.
            station.call_timeout = LIMIT
            boot = await station.boot()
            assert boot.status is RegistrationStatusEnumType.Accepted
            assert "Heartbeat" not in station.latency


async def test_callerror_is_raised_as_call_error_raised(csms: FakeCsms) -> None:
    with trio.fail_after(LIMIT):
        async with open_station(csms.url, "CS1") as station:
            with pytest.raises(CallErrorRaised) as raised:
                await station.call(DataTransferRequest(vendor_id="com.example"))
            assert raised.value.action == "DataTransfer"
            assert raised.value.code == "NotSupported"
            assert raised.value.description == "fake CSMS: no DataTransfer"
            assert raised.value.details == {}
            assert station.latency["DataTransfer"].count == 1
            await station.heartbeat()  # the station is still usable


async def test_typed_call_checks_the_response_type(csms: FakeCsms) -> None:
    with trio.fail_after(LIMIT):
        async with open_station(csms.url, "CS1") as station:
            response = await station.call(HeartbeatRequest(), HeartbeatResponse)
            assert isinstance(response, HeartbeatResponse)
            with pytest.raises(TypeError, match="HeartbeatResponse"):
                await station.call(HeartbeatRequest(), BootNotificationResponse)


async def test_concurrent_calls_wait_for_each_other(csms: FakeCsms) -> None:
    csms.answer_delay = 0.05
    with trio.fail_after(LIMIT):
        async with open_station(csms.url, "CS1") as station, trio.open_nursery() as nursery:
            for _ in range(3):
                nursery.start_soon(station.heartbeat)
    assert csms.actions() == ["Heartbeat"] * 3
    for earlier, later in itertools.pairwise(csms.seen):
        assert earlier.answered_at is not None
        assert later.received_at >= earlier.answered_at


async def test_socket_closing_during_a_call_raises_connection_closed(csms: FakeCsms) -> None:
    csms.close_on["Heartbeat"] = (4000, "going away")
    with trio.fail_after(LIMIT):
        async with open_station(csms.url, "CS1") as station:  # call_timeout stays 30 s
            with trio.fail_after(2), pytest.raises(ConnectionClosed) as closed:
                await station.heartbeat()
            assert (closed.value.code, closed.value.reason) == (4000, "going away")
            assert station.closed is not None
            with pytest.raises(ConnectionClosed):
                await station.boot()
            with pytest.raises(ConnectionClosed):
                await station.next_csms_call(timeout=1)
            assert (await station.wait_closed()).code == 4000


async def test_station_can_close_first(csms: FakeCsms) -> None:
    with trio.fail_after(LIMIT):
        async with open_station(csms.url, "CS1") as station:
            await station.aclose(1001, "rebooting")
            with pytest.raises(ConnectionClosed) as closed:
                await station.heartbeat()
            assert closed.value.code == 1001


async def test_call_raw_returns_the_raw_answer(csms: FakeCsms) -> None:
    with trio.fail_after(LIMIT):
        async with open_station(csms.url, "CS1") as station:
            result = await station.call_raw('[2,"raw-1","Heartbeat",{}]')
            assert result is not None
            assert json.loads(result)[:2] == [3, "raw-1"]
            error = await station.call_raw(b'[2,"raw-2","Heartbeat",[]]')
            assert error is not None
            assert json.loads(error)[:2] == [4, "raw-2"]
            garbage = await station.call_raw("this is not json")
            assert garbage is not None
            assert json.loads(garbage)[:3] == [4, "-1", "RpcFrameworkError"]
            csms.silent.add("Heartbeat")
            assert await station.call_raw('[2,"raw-3","Heartbeat",{}]', timeout=0.2) is None
            # Typed calls still work after raw ones.
            csms.silent.clear()
            await station.heartbeat()


# --- the CSMS's CALLs ------------------------------------------------------------------------


async def test_csms_call_answered_by_default_handler(csms: FakeCsms) -> None:
    with trio.fail_after(LIMIT):
        async with open_station(csms.url, "CS1") as station:
            connection = await csms.connection()
            answer = await connection.call(ResetRequest(type=ResetEnumType.Immediate))
            assert isinstance(answer, CallResultReceived)
            assert answer.response.status is ResetStatusEnumType.Accepted  # type: ignore[attr-defined]
            received = await station.next_csms_call("Reset")
            assert received.action == "Reset"
            assert received.request == ResetRequest(type=ResetEnumType.Immediate)

            get = GetVariablesRequest(
                get_variable_data=[
                    GetVariableDataType(
                        component=ComponentType(name="OCPPCommCtrlr"),
                        variable=VariableType(name="HeartbeatInterval"),
                    )
                ]
            )
            answer = await connection.call(get)
            assert isinstance(answer, CallResultReceived)
            assert isinstance(answer.response, GetVariablesResponse)
            (result,) = answer.response.get_variable_result
            assert result.attribute_status is GetVariableStatusEnumType.UnknownComponent
            assert result.variable.name == "HeartbeatInterval"
            assert station.handler_errors == []


async def test_csms_call_answered_by_custom_handler(csms: FakeCsms) -> None:
    requests: list[TriggerMessageRequest] = []

    async def refuse(request: TriggerMessageRequest) -> TriggerMessageResponse:
        requests.append(request)
        await trio.lowlevel.checkpoint()
        return TriggerMessageResponse(status=TriggerMessageStatusEnumType.Rejected)

    with trio.fail_after(LIMIT):
        async with open_station(csms.url, "CS1") as station:
            station.handle(TriggerMessageRequest, refuse)
            connection = await csms.connection()
            trigger = TriggerMessageRequest(requested_message=MessageTriggerEnumType.Heartbeat)
            answer = await connection.call(trigger)
            assert isinstance(answer, CallResultReceived)
            assert answer.response.status is TriggerMessageStatusEnumType.Rejected  # type: ignore[attr-defined]
            assert requests == [trigger]
            received = await station.next_csms_call()
            assert received.request == trigger


async def test_default_trigger_message_sends_the_heartbeat_after_answering(
    csms: FakeCsms,
) -> None:
    with trio.fail_after(LIMIT):
        async with open_station(csms.url, "CS1") as station:
            connection = await csms.connection()
            trigger = TriggerMessageRequest(requested_message=MessageTriggerEnumType.Heartbeat)
            answer = await connection.call(trigger)
            assert isinstance(answer, CallResultReceived)
            assert answer.response.status is TriggerMessageStatusEnumType.Accepted  # type: ignore[attr-defined]
            await csms.next_seen("Heartbeat")
            assert (await station.next_csms_call("TriggerMessage")).request == trigger


async def test_default_get_base_report_answers_then_notifies(csms: FakeCsms) -> None:
    with trio.fail_after(LIMIT):
        async with open_station(csms.url, "CS1") as station:
            await station.report_connector(1, 1, "Available")
            connection = await csms.connection()
            request = GetBaseReportRequest(
                request_id=42, report_base=ReportBaseEnumType.FullInventory
            )
            answer = await connection.call(request)
            assert isinstance(answer, CallResultReceived)
            assert answer.response.status is GenericDeviceModelStatusEnumType.Accepted  # type: ignore[attr-defined]
            report = (await csms.next_seen("NotifyReport")).call.request
            assert isinstance(report, NotifyReportRequest)
            assert (report.request_id, report.seq_no) == (42, 0)
            assert report.report_data
            components = {data.component.name for data in report.report_data}
            assert {"ChargingStation", "Connector"} <= components


async def test_unsupported_and_failing_handlers_answer_callerror(csms: FakeCsms) -> None:
    def broken(request: ResetRequest) -> Message:
        raise RuntimeError("boom")

    def refusing(request: GetVariablesRequest) -> Message:
        raise OcppError(ErrorCode.SecurityError, "not now")

    with trio.fail_after(LIMIT):
        async with open_station(csms.url, "CS1") as station:
            station.handle(ResetRequest, broken)
            station.handle(GetVariablesRequest, refusing)
            connection = await csms.connection()

            answer = await connection.call(GetMonitoringReportRequest(request_id=1))
            assert isinstance(answer, CallErrorReceived)
            assert answer.code == "NotSupported"

            answer = await connection.call(ResetRequest(type=ResetEnumType.OnIdle))
            assert isinstance(answer, CallErrorReceived)
            assert answer.code == "InternalError"
            assert [str(error) for error in station.handler_errors] == ["boom"]

            get = GetVariablesRequest(
                get_variable_data=[
                    GetVariableDataType(
                        component=ComponentType(name="X"), variable=VariableType(name="Y")
                    )
                ]
            )
            answer = await connection.call(get)
            assert isinstance(answer, CallErrorReceived)
            assert (answer.code, answer.description) == ("SecurityError", "not now")

            station.handle(ResetRequest, None)
            answer = await connection.call(ResetRequest(type=ResetEnumType.OnIdle))
            assert isinstance(answer, CallErrorReceived)
            assert answer.code == "NotSupported"
            # Every CALL was recorded, answered or not.
            assert [call.action for call in station.csms_calls] == [
                "GetMonitoringReport",
                "Reset",
                "GetVariables",
                "Reset",
            ]


async def test_handle_refuses_requests_a_csms_does_not_send(csms: FakeCsms) -> None:
    with trio.fail_after(LIMIT):
        async with open_station(csms.url, "CS1") as station:
            with pytest.raises(ValueError, match="BootNotificationRequest"):
                station.handle(BootNotificationRequest, lambda request: request)
            with pytest.raises(RuntimeError, match="handler"):
                station.after_reply(station.heartbeat)


async def test_next_csms_call_times_out(csms: FakeCsms) -> None:
    with trio.fail_after(LIMIT):
        async with open_station(csms.url, "CS1") as station:
            with pytest.raises(trio.TooSlowError):
                await station.next_csms_call("Reset", timeout=0.05)


async def test_body_exception_propagates_unwrapped(csms: FakeCsms) -> None:
    class Marker(Exception):
        pass

    with trio.fail_after(LIMIT), pytest.raises(Marker):
        async with open_station(csms.url, "CS1") as station:
            await station.heartbeat()
            raise Marker


async def test_many_stations_share_one_csms(csms: FakeCsms) -> None:
    async def one(index: int) -> None:
        async with open_station(csms.url, f"CS{index}") as station:
            await station.boot()
            await station.heartbeat()

    with trio.fail_after(LIMIT):
        async with trio.open_nursery() as nursery:
            for index in range(10):
                nursery.start_soon(one, index)
    assert sorted(handshake.path for handshake in csms.handshakes) == sorted(
        f"/ocpp/CS{index}" for index in range(10)
    )
    assert csms.actions().count("Heartbeat") == 10
