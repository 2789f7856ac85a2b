"""RpcSession: the OCPP-J rules of Part 4 §4, driven with plain bytes (no sockets, no clock).

A `Pair` wires a station session to a CSMS session, like h11's ConnectionPair: what one sends,
the other receives.
"""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trio_csms.messages import (
    BootNotificationRequest,
    BootNotificationResponse,
    BootReasonEnumType,
    ChargingStationType,
    HeartbeatRequest,
    HeartbeatResponse,
    RegistrationStatusEnumType,
    ResetEnumType,
    ResetRequest,
    ResetResponse,
    ResetStatusEnumType,
)
from trio_csms.rpc import (
    AnswerIgnored,
    CallErrorReceived,
    CallReceived,
    CallResponseInvalid,
    CallResultReceived,
    ErrorCode,
    FrameRejected,
    LocalProtocolError,
    OcppError,
    Role,
    RpcSession,
)

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
BOOT = BootNotificationRequest(
    charging_station=ChargingStationType(model="M1", vendor_name="V"),
    reason=BootReasonEnumType.PowerUp,
)
BOOT_OK = BootNotificationResponse(
    current_time=NOW, interval=300, status=RegistrationStatusEnumType.Accepted
)
BOOT_PAYLOAD = b'{"chargingStation":{"model":"M1","vendorName":"V"},"reason":"PowerUp"}'


class Pair:
    def __init__(self) -> None:
        self.csms = RpcSession(Role.CSMS)
        self.station = RpcSession(Role.CHARGING_STATION)


def frame(*parts: object) -> bytes:
    return orjson.dumps(list(parts))


def reply_of(event: object) -> list[object]:
    assert isinstance(event, FrameRejected | CallResponseInvalid), event
    assert event.reply is not None
    parsed: list[object] = orjson.loads(event.reply)
    return parsed


def rejected(session: RpcSession, data: bytes) -> tuple[str, str, str]:
    """(message id, error code, description) of the CALLERROR `session` answers `data` with."""
    event = session.receive(data)
    message = reply_of(event)
    assert message[0] == 4 and message[4] == {}
    assert isinstance(message[1], str) and isinstance(message[2], str)
    assert isinstance(message[3], str)
    return message[1], message[2], message[3]


# --- the happy paths ---


def test_station_call_reaches_csms_as_typed_request_and_result_comes_back() -> None:
    pair = Pair()
    call, data = pair.station.send_call(BOOT)
    assert (
        data == b'[2,"' + call.message_id.encode() + b'","BootNotification",' + BOOT_PAYLOAD + b"]"
    )
    event = pair.csms.receive(data)
    assert event == CallReceived(call.message_id, "BootNotification", BOOT)
    answer = pair.station.receive(pair.csms.send_result(call.message_id, BOOT_OK))
    assert answer == CallResultReceived(call.message_id, "BootNotification", BOOT_OK)
    assert pair.station.outstanding_call is None


def test_csms_call_reaches_station_and_its_answer_is_matched() -> None:
    pair = Pair()
    call, data = pair.csms.send_call(ResetRequest(type=ResetEnumType.Immediate))
    event = pair.station.receive(data)
    assert isinstance(event, CallReceived) and event.action == "Reset"
    answer = pair.station.send_result(
        event.message_id, ResetResponse(status=ResetStatusEnumType.Accepted)
    )
    assert pair.csms.receive(answer) == CallResultReceived(
        call.message_id, "Reset", ResetResponse(status=ResetStatusEnumType.Accepted)
    )


def test_calls_may_cross_while_ours_is_outstanding() -> None:
    pair = Pair()
    ours, _ = pair.csms.send_call(ResetRequest(type=ResetEnumType.OnIdle))
    theirs, data = pair.station.send_call(HeartbeatRequest())
    assert isinstance(pair.csms.receive(data), CallReceived)
    pair.csms.send_result(theirs.message_id, HeartbeatResponse(current_time=NOW))
    assert pair.csms.outstanding_call == ours


def test_customdata_vendor_extensions_are_accepted() -> None:
    payload = (
        b'{"customData":{"vendorId":"ACME","x":{"deep":[1,2]}},'
        b'"chargingStation":{"model":"M","vendorName":"V","customData":{"vendorId":"B","y":1}},'
        b'"reason":"PowerUp"}'
    )
    event = RpcSession().receive(b'[2,"1","BootNotification",' + payload + b"]")
    assert isinstance(event, CallReceived)


def test_callerror_answering_our_call_is_reported_with_its_details() -> None:
    session = RpcSession()
    call, _ = session.send_call(ResetRequest(type=ResetEnumType.Immediate))
    event = session.receive(frame(4, call.message_id, "NotSupported", "no reset here", {"a": 1}))
    assert event == CallErrorReceived(
        call.message_id, "Reset", "NotSupported", "no reset here", {"a": 1}
    )
    assert session.outstanding_call is None


# --- one outstanding CALL per direction (Part 4 §4.1.1) ---


def test_second_call_before_the_first_is_answered_is_refused() -> None:
    session = RpcSession()
    session.send_call(ResetRequest(type=ResetEnumType.Immediate))
    with pytest.raises(LocalProtocolError, match="still outstanding"):
        session.send_call(ResetRequest(type=ResetEnumType.Immediate))


def test_abandoned_call_frees_the_slot_and_its_late_answer_is_dropped() -> None:
    session = RpcSession()
    first, _ = session.send_call(ResetRequest(type=ResetEnumType.Immediate))
    session.abandon_call(first.message_id)
    second, _ = session.send_call(ResetRequest(type=ResetEnumType.Immediate))
    late = session.receive(frame(3, first.message_id, {"status": "Accepted"}))
    assert late == AnswerIgnored(first.message_id, 3)
    assert session.outstanding_call == second


@pytest.mark.parametrize("kind", [3, 4])
def test_answer_for_an_unknown_message_id_is_dropped_without_reply(kind: int) -> None:
    session = RpcSession()
    data = frame(3, "nope", {}) if kind == 3 else frame(4, "nope", "GenericError", "", {})
    assert session.receive(data) == AnswerIgnored("nope", kind)
    assert session.statistics().answers_ignored == 1


def test_message_ids_are_unique_across_connections_and_fit_36_chars() -> None:
    ids = set()
    for _ in range(50):
        session = RpcSession()
        for _ in range(5):
            call, _ = session.send_call(ResetRequest(type=ResetEnumType.OnIdle))
            session.abandon_call(call.message_id)
            assert len(call.message_id) <= 36
            ids.add(call.message_id)
    assert len(ids) == 250


# --- malformed answers to our CALL ---


def test_malformed_callresult_fails_our_call_and_is_answered_with_callerror() -> None:
    session = RpcSession()
    call, _ = session.send_call(ResetRequest(type=ResetEnumType.Immediate))
    event = session.receive(frame(3, call.message_id, {"status": "Maybe"}))
    assert isinstance(event, CallResponseInvalid)
    assert event.error.code is ErrorCode.PropertyConstraintViolation
    assert reply_of(event)[:3] == [4, call.message_id, "PropertyConstraintViolation"]
    assert session.outstanding_call is None


def test_malformed_callerror_fails_our_call_and_is_not_answered() -> None:
    session = RpcSession()
    call, _ = session.send_call(ResetRequest(type=ResetEnumType.Immediate))
    event = session.receive(b'[4,"' + call.message_id.encode() + b'","GenericError",7,{}]')
    assert isinstance(event, CallResponseInvalid) and event.reply is None
    assert event.error.code is ErrorCode.RpcFrameworkError
    assert session.outstanding_call is None


# --- every CALLERROR code (Part 4 §4.3) ---


def test_format_violation_for_payload_that_is_not_json() -> None:
    assert rejected(RpcSession(), b'[2,"a1","Heartbeat",{"x":}]')[:2] == ("a1", "FormatViolation")


def test_format_violation_for_payload_that_is_not_an_object() -> None:
    assert rejected(RpcSession(), b'[2,"a1","Heartbeat",null]')[:2] == ("a1", "FormatViolation")


def test_type_constraint_violation_for_wrong_json_type() -> None:
    data = frame(
        2,
        "a2",
        "BootNotification",
        {"chargingStation": {"model": 5, "vendorName": "V"}, "reason": "PowerUp"},
    )
    message_id, code, description = rejected(RpcSession(), data)
    assert (message_id, code) == ("a2", "TypeConstraintViolation")
    assert "$.chargingStation.model" in description


def test_occurrence_constraint_violation_for_missing_required_field() -> None:
    data = frame(2, "a3", "BootNotification", {"reason": "PowerUp"})
    assert rejected(RpcSession(), data)[:2] == ("a3", "OccurrenceConstraintViolation")


def test_occurrence_constraint_violation_for_empty_list_where_one_is_required() -> None:
    data = frame(
        2, "a4", "NotifyEvent", {"generatedAt": "2026-01-01T00:00:00Z", "seqNo": 0, "eventData": []}
    )
    assert rejected(RpcSession(), data)[:2] == ("a4", "OccurrenceConstraintViolation")


@pytest.mark.parametrize(
    "payload",
    [
        {"chargingStation": {"model": "M" * 21, "vendorName": "V"}, "reason": "PowerUp"},
        {"chargingStation": {"model": "M", "vendorName": "V"}, "reason": "Sunrise"},
    ],
    ids=["string-too-long", "bad-enum"],
)
def test_property_constraint_violation_for_disallowed_value(payload: dict[str, object]) -> None:
    data = frame(2, "a5", "BootNotification", payload)
    assert rejected(RpcSession(), data)[:2] == ("a5", "PropertyConstraintViolation")


def test_protocol_error_for_property_the_message_does_not_define() -> None:
    data = frame(2, "a6", "Heartbeat", {"beat": 1})
    assert rejected(RpcSession(), data)[:2] == ("a6", "ProtocolError")


def test_not_implemented_for_unknown_action() -> None:
    assert rejected(RpcSession(), frame(2, "a7", "Dance", {}))[:2] == ("a7", "NotImplemented")


def test_not_supported_for_action_the_station_may_not_send() -> None:
    data = frame(2, "a8", "Reset", {"type": "Immediate"})
    assert rejected(RpcSession(Role.CSMS), data)[:2] == ("a8", "NotSupported")


def test_message_type_not_supported_for_type_outside_2_3_4() -> None:
    assert rejected(RpcSession(), b'[5,"a9",{}]')[:2] == ("a9", "MessageTypeNotSupported")


def test_rpc_framework_error_with_minus_one_when_id_is_unreadable() -> None:
    assert rejected(RpcSession(), b'[2,17,"Heartbeat",{}]')[:2] == ("-1", "RpcFrameworkError")
    assert rejected(RpcSession(), b"not json")[:2] == ("-1", "RpcFrameworkError")


def test_rpc_framework_error_for_id_over_36_chars() -> None:
    data = frame(2, "x" * 37, "Heartbeat", {})
    assert rejected(RpcSession(), data)[:2] == ("-1", "RpcFrameworkError")


def test_rpc_framework_error_for_wrong_element_count() -> None:
    assert rejected(RpcSession(), b'[2,"b1","Heartbeat"]')[:2] == ("b1", "RpcFrameworkError")


def test_rpc_framework_error_for_a_second_call_with_an_id_being_handled() -> None:
    session = RpcSession()
    assert isinstance(session.receive(frame(2, "dup", "Heartbeat", {})), CallReceived)
    assert rejected(session, frame(2, "dup", "Heartbeat", {}))[:2] == ("dup", "RpcFrameworkError")


def test_pipelined_calls_are_accepted_up_to_the_bound() -> None:
    session = RpcSession(max_pending_incoming=2)
    assert isinstance(session.receive(frame(2, "p1", "Heartbeat", {})), CallReceived)
    assert isinstance(session.receive(frame(2, "p2", "Heartbeat", {})), CallReceived)
    assert rejected(session, frame(2, "p3", "Heartbeat", {}))[:2] == ("p3", "RpcFrameworkError")
    session.send_result("p1", HeartbeatResponse(current_time=NOW))
    assert isinstance(session.receive(frame(2, "p4", "Heartbeat", {})), CallReceived)


@pytest.mark.parametrize(
    "code", [ErrorCode.SecurityError, ErrorCode.GenericError, ErrorCode.InternalError]
)
def test_handler_errors_are_sent_as_callerror(code: ErrorCode) -> None:
    session = RpcSession()
    event = session.receive(frame(2, "h1", "Heartbeat", {}))
    assert isinstance(event, CallReceived)
    data = session.send_error("h1", OcppError(code, "because", {"why": "test"}))
    assert orjson.loads(data) == [4, "h1", code.value, "because", {"why": "test"}]
    assert session.statistics().pending_incoming == 0


def test_invalid_outgoing_response_is_refused_as_internal_error_and_call_stays_open() -> None:
    session = RpcSession()
    session.receive(frame(2, "i1", "BootNotification", orjson.loads(BOOT_PAYLOAD)))
    bad = BootNotificationResponse(current_time=NOW, interval=300, status="Whatever")  # type: ignore[arg-type]
    with pytest.raises(OcppError) as info:
        session.send_result("i1", bad)
    assert info.value.code is ErrorCode.InternalError
    assert session.statistics().pending_incoming == 1
    assert orjson.loads(session.send_error("i1", info.value))[2] == "InternalError"


def test_description_is_cut_to_255_characters() -> None:
    data = RpcSession().send_error("z", OcppError(ErrorCode.GenericError, "x" * 400))
    assert len(orjson.loads(data)[3]) == 255


# --- misuse by our own code ---


def test_answering_a_call_that_is_not_waiting_is_a_local_error() -> None:
    with pytest.raises(LocalProtocolError):
        RpcSession().send_result("nope", HeartbeatResponse(current_time=NOW))


def test_answering_with_the_wrong_response_type_is_a_local_error() -> None:
    session = RpcSession()
    session.receive(frame(2, "w1", "Heartbeat", {}))
    with pytest.raises(LocalProtocolError, match="HeartbeatResponse"):
        session.send_result("w1", BOOT_OK)


def test_csms_may_not_send_a_station_request() -> None:
    with pytest.raises(LocalProtocolError):
        RpcSession(Role.CSMS).send_call(BOOT)


def test_unvalidated_mode_sends_what_it_is_given() -> None:
    session = RpcSession(validate_outgoing=False)
    session.receive(frame(2, "u1", "Heartbeat", {}))
    bad = HeartbeatResponse(current_time="yesterday")  # type: ignore[arg-type]
    assert orjson.loads(session.send_result("u1", bad)) == [3, "u1", {"currentTime": "yesterday"}]


def test_statistics_count_what_happened() -> None:
    pair = Pair()
    call, data = pair.station.send_call(BOOT)
    pair.csms.receive(data)
    pair.csms.receive(b"garbage")
    stats = pair.csms.statistics()
    assert (stats.calls_received, stats.frames_rejected, stats.pending_incoming) == (1, 1, 1)
    assert pair.station.statistics().call_outstanding
    assert call.action == "BootNotification"


# --- whatever the peer sends, the session answers with an event ---


INT64 = st.integers(-(2**63), 2**63 - 1)  # what a JSON encoder can write


@settings(max_examples=500, deadline=None)
@given(
    st.one_of(
        st.binary(max_size=200),
        st.builds(
            lambda t, i, rest: orjson.dumps([t, i, *rest]),
            st.integers(-2, 7),
            st.text(max_size=40),
            st.lists(
                st.one_of(
                    st.sampled_from(["Heartbeat", "BootNotification", "Reset", "NotifyEvent"]),
                    st.dictionaries(st.text(max_size=5), INT64, max_size=3),
                    st.none(),
                    INT64,
                ),
                max_size=4,
            ),
        ),
    )
)
def test_any_input_gives_one_event_never_an_exception(data: bytes) -> None:
    session = RpcSession()
    session.send_call(ResetRequest(type=ResetEnumType.Immediate))
    event = session.receive(data)
    if isinstance(event, FrameRejected | CallResponseInvalid) and event.reply is not None:
        message = orjson.loads(event.reply)
        assert message[0] == 4 and len(message) == 5
        assert len(message[1]) <= 36 and message[2] in set(ErrorCode)
