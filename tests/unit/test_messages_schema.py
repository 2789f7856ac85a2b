"""The generated OCPP 2.0.1 messages agree with the JSON schemas they were generated from.

`trio_csms.messages` is the only validation a payload gets: whatever its decoder accepts reaches
the handlers, whatever it rejects becomes a CALLERROR. So it must accept exactly what the OCA
schemas accept and, when it rejects, name the errorCode Part 4 §4.3 asks for. jsonschema
(draft-06, with the FormatChecker so that date-times are really checked) is the reference:

1. coverage: 128 schemas, 64 actions, one class per schema and one schema per class, and the
   direction of every action;
2. structure: every object of every schema against its Struct, field by field: wire names,
   required-ness, snake_case Python names, types and limits;
3. agreement, property-based on all 128 schemas: drawn valid instances are accepted by both and
   survive an encode/decode round trip; single-fault mutants are judged alike by both and get
   the errorCode of their fault; arbitrary JSON objects are judged alike;
4. targeted faults on a few concrete messages, encoding (UNSET fields left out, no null), and
   customData vendor extensions;
5. where we knowingly differ from jsonschema, one test per deviation saying why.

The schemas are the `ocpp` package's, with the OCA's maxLength for
Get15118EVCertificateResponse.exiResponse put back (5600, the package says 7500), as the
generator does.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta, timezone
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import msgspec
import msgspec.inspect as mi
import ocpp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from msgspec import NODEFAULT, UNSET
from schema_strategies import (
    MutationKind,
    SchemaStrategies,
    UnsupportedSchema,
    json_objects,
)

from trio_csms import messages
from trio_csms.messages import (
    ACTION_BY_NAME,
    ACTIONS,
    BootNotificationRequest,
    BootNotificationResponse,
    BootReasonEnumType,
    ChargingStationType,
    CustomDataType,
    DataTransferRequest,
    Direction,
    Get15118EVCertificateResponse,
    HeartbeatRequest,
    Message,
    RegistrationStatusEnumType,
    SetVariablesRequest,
    StatusInfoType,
)
from trio_csms.rpc.errors import ErrorCode, payload_error

SCHEMA_DIR = Path(ocpp.__file__).parent / "v201" / "schemas"
EXI_RESPONSE_IN_PACKAGE = 7500
EXI_RESPONSE_IN_OCA_SCHEMA = 5600

OCV = ErrorCode.OccurrenceConstraintViolation
PCV = ErrorCode.PropertyConstraintViolation
TCV = ErrorCode.TypeConstraintViolation
PROTOCOL = ErrorCode.ProtocolError

# Generated instances can be large (TransactionEventRequest, NotifyReportRequest, 1000-character
# strings) and jsonschema is slow on them; neither is a problem to report.
PROPERTY_SETTINGS = settings(
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)


@cache
def schemas() -> dict[str, dict[str, Any]]:
    """The 128 schemas by name (`BootNotificationRequest`), OCA correction applied."""
    loaded = {
        path.stem: json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(SCHEMA_DIR.glob("*.json"))
    }
    exi = loaded["Get15118EVCertificateResponse"]["properties"]["exiResponse"]
    assert exi["maxLength"] == EXI_RESPONSE_IN_PACKAGE, "the ocpp package changed: recheck"
    exi["maxLength"] = EXI_RESPONSE_IN_OCA_SCHEMA
    return loaded


SCHEMA_NAMES = sorted(path.stem for path in SCHEMA_DIR.glob("*.json"))
CLASSES: dict[str, type[Message]] = {
    cls.__name__: cls for spec in ACTIONS for cls in (spec.request, spec.response)
}


@cache
def validator(name: str) -> jsonschema.Draft6Validator:
    checker = jsonschema.Draft6Validator.FORMAT_CHECKER
    return jsonschema.Draft6Validator(schemas()[name], format_checker=checker)


@cache
def decoder(cls: type[Message]) -> msgspec.json.Decoder[Any]:
    return msgspec.json.Decoder(cls)


@cache
def strategies(name: str) -> SchemaStrategies:
    return SchemaStrategies(schemas()[name])


def schema_accepts(name: str, payload: bytes) -> bool:
    return bool(validator(name).is_valid(json.loads(payload)))


def decode(cls: type[Message], payload: bytes | str) -> Any:
    return decoder(cls).decode(payload)


def rejection(cls: type[Message], payload: bytes | str) -> ErrorCode | None:
    """The errorCode our decoder answers `payload` with, or None if it accepts it."""
    try:
        decode(cls, payload)
    except msgspec.DecodeError as exc:
        return payload_error(exc).code
    return None


def dumps(instance: object, *, ascii_only: bool = False) -> bytes:
    return json.dumps(instance, ensure_ascii=ascii_only).encode()


def null_paths(value: object, path: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    """Where `value` (parsed JSON) holds a null."""
    if value is None:
        yield path
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from null_paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from null_paths(item, (*path, index))


# --- 1. coverage -------------------------------------------------------------------------------

STATION_TO_CSMS = {
    "Authorize",
    "BootNotification",
    "ClearedChargingLimit",
    "FirmwareStatusNotification",
    "Get15118EVCertificate",
    "GetCertificateStatus",
    "Heartbeat",
    "LogStatusNotification",
    "MeterValues",
    "NotifyChargingLimit",
    "NotifyCustomerInformation",
    "NotifyDisplayMessages",
    "NotifyEVChargingNeeds",
    "NotifyEVChargingSchedule",
    "NotifyEvent",
    "NotifyMonitoringReport",
    "NotifyReport",
    "PublishFirmwareStatusNotification",
    "ReportChargingProfiles",
    "ReservationStatusUpdate",
    "SecurityEventNotification",
    "SignCertificate",
    "StatusNotification",
    "TransactionEvent",
}


def test_there_are_128_schemas_and_64_actions() -> None:
    assert len(SCHEMA_NAMES) == 128
    assert len(ACTIONS) == 64
    assert len(CLASSES) == 128, "a class serves two schemas"


def test_every_schema_is_a_valid_draft6_schema() -> None:
    for name in SCHEMA_NAMES:
        jsonschema.Draft6Validator.check_schema(schemas()[name])


def test_actions_are_unique_and_in_alphabetical_order() -> None:
    names = [spec.action for spec in ACTIONS]
    assert names == sorted(names)
    assert len(set(names)) == len(names)


def test_each_schema_maps_to_exactly_one_class_and_back() -> None:
    assert set(CLASSES) == set(SCHEMA_NAMES)
    for spec in ACTIONS:
        assert spec.request.__name__ == spec.action + "Request"
        assert spec.response.__name__ == spec.action + "Response"
        assert ACTION_BY_NAME[spec.action] is spec
        assert issubclass(spec.request, Message)
        assert issubclass(spec.response, Message)


def test_directions_24_from_station_39_from_csms_and_data_transfer_both() -> None:
    by_direction = {
        direction: {spec.action for spec in ACTIONS if spec.direction is direction}
        for direction in Direction
    }
    assert by_direction[Direction.STATION_TO_CSMS] == STATION_TO_CSMS
    assert len(by_direction[Direction.CSMS_TO_STATION]) == 39
    assert by_direction[Direction.BOTH] == {"DataTransfer"}
    assert ACTION_BY_NAME["DataTransfer"].direction.sent_by_station()
    assert ACTION_BY_NAME["DataTransfer"].direction.sent_by_csms()
    assert not ACTION_BY_NAME["SetVariables"].direction.sent_by_station()
    assert not ACTION_BY_NAME["BootNotification"].direction.sent_by_csms()


def test_format_checker_really_checks_date_times() -> None:
    """Without `rfc3339-validator`, jsonschema skips "date-time" silently; insist on it."""
    import rfc3339_validator  # noqa: F401  (the FormatChecker's date-time backend)

    checker = jsonschema.Draft6Validator.FORMAT_CHECKER
    assert checker.conforms("2024-01-01T00:00:00Z", "date-time")
    assert not checker.conforms("2024-13-01T00:00:00Z", "date-time")
    assert not checker.conforms("yesterday", "date-time")


def test_exi_response_uses_the_oca_max_length_not_the_packages() -> None:
    """The `ocpp` package raised exiResponse to 7500 characters; the OCA schema says 5600."""
    raw = json.loads((SCHEMA_DIR / "Get15118EVCertificateResponse.json").read_text("utf-8"))
    assert raw["properties"]["exiResponse"]["maxLength"] == EXI_RESPONSE_IN_PACKAGE
    cls = Get15118EVCertificateResponse
    assert rejection(cls, dumps({"status": "Accepted", "exiResponse": "e" * 5600})) is None
    assert rejection(cls, dumps({"status": "Accepted", "exiResponse": "e" * 5601})) == PCV


def test_strategy_builder_refuses_keywords_it_does_not_implement() -> None:
    for schema in (
        {"type": "string", "pattern": "^a$"},
        {"type": "object", "properties": {"a": {"type": "integer", "multipleOf": 2}}},
        {"type": "object", "additionalProperties": {"type": "string"}},
        {"type": "string", "format": "uri"},
        {"type": "null"},
        {"$ref": "other.json#/definitions/X"},
    ):
        with pytest.raises(UnsupportedSchema):
            SchemaStrategies(schema)


# --- 2. structure ------------------------------------------------------------------------------

SNAKE_CASE = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)*_?")


def resolve(name: str, node: Mapping[str, Any]) -> Mapping[str, Any]:
    while "$ref" in node:
        node = schemas()[name]["definitions"][node["$ref"].removeprefix("#/definitions/")]
    return node


def object_pairs(
    name: str,
) -> Iterator[tuple[str, Mapping[str, Any], mi.StructType]]:
    """Every object node of schema `name` with the Struct type it decodes into, and where."""

    def walk(
        where: str, node: Mapping[str, Any], info: mi.Type
    ) -> Iterator[tuple[str, Mapping[str, Any], mi.StructType]]:
        node = resolve(name, node)
        if node.get("type") == "object":
            assert isinstance(info, mi.StructType), f"{where}: object but {info}"
            yield where, node, info
            by_wire = {f.encode_name: f for f in info.fields}
            for prop, sub in node.get("properties", {}).items():
                if prop in by_wire:
                    yield from walk(f"{where}.{prop}", sub, by_wire[prop].type)
        elif node.get("type") == "array":
            assert isinstance(info, mi.ListType), f"{where}: array but {info}"
            yield from walk(f"{where}[]", node["items"], info.item_type)

    return walk(name, schemas()[name], mi.type_info(CLASSES[name]))


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_wire_names_and_required_fields_match_the_schema(name: str) -> None:
    problems = []
    for where, node, info in object_pairs(name):
        fields = msgspec.structs.fields(info.cls)
        wire = {f.encode_name: f for f in fields}
        declared = set(node.get("properties", {}))
        required = set(node.get("required", []))
        if set(wire) != declared:
            problems.append(f"{where}: wire names {sorted(set(wire) ^ declared)} differ")
        for prop in declared & set(wire):
            f = wire[prop]
            has_default = f.default is not NODEFAULT or f.default_factory is not NODEFAULT
            if (prop in required) == has_default:
                problems.append(f"{where}.{prop}: required {prop in required}, default {f.default}")
            if not has_default and f.required is not True:
                problems.append(f"{where}.{prop}: no default but not required")
            if has_default and f.default is not UNSET:
                problems.append(f"{where}.{prop}: optional with default {f.default!r}, not UNSET")
            if not SNAKE_CASE.fullmatch(f.name):
                problems.append(f"{where}.{prop}: Python name {f.name!r} is not snake_case")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    ("class_name", "python_name", "wire_name"),
    [
        ("OCSPRequestDataType", "responder_url", "responderURL"),
        ("OCSPRequestDataType", "issuer_name_hash", "issuerNameHash"),
        ("Get15118EVCertificateRequest", "iso15118_schema_version", "iso15118SchemaVersion"),
        ("AuthorizeRequest", "iso15118_certificate_hash_data", "iso15118CertificateHashData"),
        ("StatusNotificationRequest", "evse_id", "evseId"),
        ("NetworkConnectionProfileType", "ocpp_csms_url", "ocppCsmsUrl"),
        ("APNType", "apn_user_name", "apnUserName"),
        ("DCChargingParametersType", "full_soc", "fullSoC"),
        ("EVSEType", "id", "id"),
    ],
)
def test_acronyms_and_digits_keep_their_wire_spelling(
    class_name: str, python_name: str, wire_name: str
) -> None:
    cls = getattr(messages, class_name)
    by_name = {f.name: f.encode_name for f in msgspec.structs.fields(cls)}
    assert by_name[python_name] == wire_name


def type_problems(name: str) -> Iterator[str]:
    """Every difference in type or limits between the schema's properties and the Structs."""
    for where, node, info in object_pairs(name):
        if info.forbid_unknown_fields != (node.get("additionalProperties", True) is False):
            yield f"{where}: forbid_unknown_fields {info.forbid_unknown_fields}"
        by_wire = {f.encode_name: f for f in info.fields}
        for prop, sub in node.get("properties", {}).items():
            if prop in by_wire:
                yield from leaf_problems(f"{where}.{prop}", resolve(name, sub), by_wire[prop].type)


def leaf_problems(where: str, node: Mapping[str, Any], info: mi.Type) -> Iterator[str]:
    kind = node.get("type")
    expected: tuple[type[mi.Type], dict[str, object]]
    if kind is None:
        expected = (mi.AnyType, {})
    elif "enum" in node:
        if isinstance(info, mi.EnumType) and [m.value for m in info.cls] != node["enum"]:
            yield f"{where}: enum members {[m.value for m in info.cls]} != {node['enum']}"
        expected = (mi.EnumType, {})
    elif kind == "string" and node.get("format") == "date-time":
        expected = (mi.DateTimeType, {"tz": True})
    elif kind == "string":
        expected = (mi.StrType, {"max_length": node.get("maxLength"), "min_length": None})
    elif kind in ("integer", "number"):
        expected = (
            mi.IntType if kind == "integer" else mi.FloatType,
            {"ge": node.get("minimum"), "le": node.get("maximum"), "gt": None, "lt": None},
        )
        if kind == "integer":
            for bound in ("ge", "le"):
                value = getattr(info, bound, None)
                if value is not None and type(value) is not int:
                    yield f"{where}: integer bound {bound}={value!r} is not an int"
    elif kind == "boolean":
        expected = (mi.BoolType, {})
    elif kind == "array":
        expected = (
            mi.ListType,
            {"min_length": node.get("minItems"), "max_length": node.get("maxItems")},
        )
    else:
        expected = (mi.StructType, {})
    cls, attrs = expected
    if not isinstance(info, cls):
        yield f"{where}: {kind} decodes as {info}"
        return
    for attr, value in attrs.items():
        if getattr(info, attr) != value:
            yield f"{where}: {attr} is {getattr(info, attr)!r}, the schema says {value!r}"


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_field_types_and_limits_match_the_schema(name: str) -> None:
    problems = list(type_problems(name))
    assert not problems, "\n".join(problems)


# --- 3. agreement, property-based ------------------------------------------------------------


@pytest.mark.parametrize("name", SCHEMA_NAMES)
@settings(PROPERTY_SETTINGS, max_examples=25)
@given(data=st.data())
def test_valid_instances_are_accepted_and_round_trip(name: str, data: st.DataObject) -> None:
    instance = data.draw(strategies(name).valid(), label="instance")
    payload = dumps(instance, ascii_only=data.draw(st.booleans(), label="ascii_only"))
    assert schema_accepts(name, payload), "the strategy drew an invalid instance"

    cls = CLASSES[name]
    try:
        decoded = decode(cls, payload)
    except msgspec.ValidationError as exc:
        pytest.fail(f"schema-valid payload rejected: {payload_error(exc)}")
    encoded = msgspec.json.encode(decoded)
    assert schema_accepts(name, encoded), f"our encoding is not schema-valid: {encoded!r}"
    assert decode(cls, encoded) == decoded
    # The one value that may be null is an any-JSON `data` (DataTransfer) the peer sent as null.
    for path in null_paths(json.loads(encoded)):
        assert name.startswith("DataTransfer") and path[:1] == ("data",), f"null at {path}"


@pytest.mark.parametrize("name", SCHEMA_NAMES)
@settings(PROPERTY_SETTINGS, max_examples=40)
@given(data=st.data())
def test_mutants_are_judged_alike_and_get_the_right_error_code(
    name: str, data: st.DataObject
) -> None:
    mutant = data.draw(strategies(name).mutants(), label="mutant")
    payload = dumps(mutant.instance)
    schema_ok = schema_accepts(name, payload)
    code = rejection(CLASSES[name], payload)
    assert (code is None) == schema_ok, (
        f"{mutant.kind} at {mutant.path}: jsonschema {'accepts' if schema_ok else 'rejects'}, "
        f"we answer {code}"
    )
    if code is not None:
        assert code == mutant.expected, f"{mutant.kind} at {mutant.path}"


@pytest.mark.parametrize("name", SCHEMA_NAMES)
@settings(PROPERTY_SETTINGS, max_examples=15)
@given(data=st.data())
def test_arbitrary_json_objects_are_judged_alike(name: str, data: st.DataObject) -> None:
    instance = data.draw(json_objects(list(schemas()[name].get("properties", {}))))
    payload = dumps(instance)
    schema_ok = schema_accepts(name, payload)
    code = rejection(CLASSES[name], payload)
    assert (code is None) == schema_ok, f"jsonschema says {schema_ok}, we answer {code}"


# --- 4. targeted faults, encoding, customData ----------------------------------------------------

BOOT = {"chargingStation": {"model": "M1", "vendorName": "V"}, "reason": "PowerUp"}
TRANSACTION_EVENT: dict[str, Any] = {
    "eventType": "Updated",
    "timestamp": "2024-05-01T12:00:00.5+02:00",
    "triggerReason": "MeterValuePeriodic",
    "seqNo": 3,
    "transactionInfo": {"transactionId": "tx-1", "chargingState": "Charging"},
    "evse": {"id": 1, "connectorId": 1},
    "meterValue": [
        {
            "timestamp": "2024-05-01T12:00:00Z",
            "sampledValue": [{"value": 1234.5, "measurand": "Energy.Active.Import.Register"}],
        }
    ],
}
SET_VARIABLES = {
    "setVariableData": [
        {
            "attributeValue": "60",
            "component": {"name": "OCPPCommCtrlr"},
            "variable": {"name": "HeartbeatInterval"},
        }
    ]
}
GET_VARIABLES = {
    "getVariableData": [{"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "X"}}]
}
GET_REPORT = {"requestId": 1, "componentCriteria": ["Active", "Available"]}
EV_CHARGING_NEEDS = {
    "evseId": 1,
    "chargingNeeds": {
        "requestedEnergyTransfer": "DC",
        "dcChargingParameters": {"evMaxCurrent": 100, "evMaxVoltage": 400, "stateOfCharge": 50},
    },
}


def changed(base: Mapping[str, Any], path: str, value: object) -> dict[str, Any]:
    """A deep copy of `base` with the value at dotted `path` replaced (`...` removes it)."""
    out: dict[str, Any] = json.loads(json.dumps(base))
    *parents, last = [int(step) if step.isdigit() else step for step in path.split(".")]
    node: Any = out
    for step in parents:
        node = node[step]
    if value is ...:
        del node[last]
    else:
        node[last] = value
    return out


BN, TE = "BootNotificationRequest", "TransactionEventRequest"
SV, GV = "SetVariablesRequest", "GetVariablesRequest"
GR, EVN = "GetReportRequest", "NotifyEVChargingNeedsRequest"
TARGETS = {BN: BOOT, TE: TRANSACTION_EVENT, SV: SET_VARIABLES, GV: GET_VARIABLES}
TARGETS |= {GR: GET_REPORT, EVN: EV_CHARGING_NEEDS}
SOC = "chargingNeeds.dcChargingParameters.stateOfCharge"


def fault(name: str, path: str, value: object, code: ErrorCode) -> Any:
    """A test case: the target message of `name` with `path` set to `value` (or removed)."""
    shown = "removed" if value is ... else repr(value)[:24]
    return pytest.param(name, changed(TARGETS[name], path, value), code, id=f"{path}={shown}")


@pytest.mark.parametrize(
    ("name", "payload", "expected"),
    [
        fault(BN, "reason", ..., OCV),
        fault(BN, "chargingStation.model", ..., OCV),
        fault(BN, "reason", 1, TCV),
        fault(BN, "chargingStation", "x", TCV),
        fault(BN, "chargingStation.model", "m" * 21, PCV),
        fault(BN, "chargingStation.model", "😀" * 21, PCV),
        fault(BN, "reason", "powerUp", PCV),
        fault(BN, "foo", 1, PROTOCOL),
        fault(BN, "chargingStation.foo", 1, PROTOCOL),
        fault(BN, "Reason", "PowerUp", PROTOCOL),
        fault(BN, "chargingStation.serialNumber", None, TCV),
        fault(BN, "reason", None, TCV),
        fault(BN, "customData", None, TCV),
        fault(BN, "customData", {"x": 1}, OCV),
        fault(BN, "customData", {"vendorId": "v" * 256}, PCV),
        fault(TE, "transactionInfo", ..., OCV),
        fault(TE, "seqNo", 1.5, TCV),
        fault(TE, "seqNo", "3", TCV),
        fault(TE, "offline", "yes", TCV),
        fault(TE, "timestamp", "2024-05-01T12:00:00", PCV),
        fault(TE, "timestamp", "2024-02-30T12:00:00Z", PCV),
        fault(TE, "timestamp", 1714557600, TCV),
        fault(TE, "meterValue", [], OCV),
        fault(TE, "meterValue.0.sampledValue", [], OCV),
        fault(TE, "meterValue.0.sampledValue.0.value", "1", TCV),
        fault(TE, "meterValue.0.sampledValue.0.measurand", "Energy", PCV),
        fault(TE, "transactionInfo.transactionId", "t" * 37, PCV),
        fault(TE, "evse.id", None, TCV),
        fault(SV, "setVariableData", ..., OCV),
        fault(SV, "setVariableData", [], OCV),
        fault(SV, "setVariableData.0.attributeValue", "1" * 1001, PCV),
        fault(SV, "setVariableData.0.attributeType", "Max", PCV),
        fault(SV, "setVariableData.0.x", 1, PROTOCOL),
        fault(SV, "setVariableData.0.component.name", ..., OCV),
        fault(SV, "setVariableData.0", "x", TCV),
        fault(GV, "getVariableData", [], OCV),
        fault(GV, "getVariableData", {}, TCV),
        fault(GR, "componentCriteria", ["Active"] * 5, OCV),
        fault(GR, "componentCriteria", [], OCV),
        fault(EVN, SOC, -1, PCV),
        fault(EVN, SOC, 101, PCV),
        fault(EVN, SOC, 50.5, TCV),
    ],
)
def test_targeted_fault_gets_its_error_code(
    name: str, payload: dict[str, Any], expected: ErrorCode
) -> None:
    assert not schema_accepts(name, dumps(payload)), "the fault is not a fault"
    assert rejection(CLASSES[name], dumps(payload)) == expected


@pytest.mark.parametrize(
    ("name", "payload"),
    [
        (BN, BOOT),
        (BN, changed(BOOT, "chargingStation.model", "😀" * 20)),
        (TE, TRANSACTION_EVENT),
        (SV, SET_VARIABLES),
        (SV, changed(SET_VARIABLES, "setVariableData.0.attributeValue", "1" * 1000)),
        (GV, GET_VARIABLES),
        (GR, changed(GET_REPORT, "componentCriteria", ["Active"] * 4)),
        (EVN, EV_CHARGING_NEEDS),
        (EVN, changed(EV_CHARGING_NEEDS, SOC, 0)),
        (EVN, changed(EV_CHARGING_NEEDS, SOC, 100)),
    ],
)
def test_the_unbroken_targets_are_accepted(name: str, payload: dict[str, Any]) -> None:
    assert schema_accepts(name, dumps(payload))
    assert rejection(CLASSES[name], dumps(payload)) is None


def test_optional_fields_default_to_unset_and_are_left_out_on_encode() -> None:
    message = BootNotificationRequest(
        charging_station=ChargingStationType(model="M1", vendor_name="V"),
        reason=BootReasonEnumType.PowerUp,
    )
    assert message.custom_data is UNSET
    assert message.charging_station.serial_number is UNSET
    assert msgspec.json.encode(message) == (
        b'{"chargingStation":{"model":"M1","vendorName":"V"},"reason":"PowerUp"}'
    )


def test_encoding_never_emits_null() -> None:
    """Part 4 §4.1.5: an optional field without a value is left out, never sent as null."""
    response = BootNotificationResponse(
        current_time=datetime(2024, 5, 1, 12, tzinfo=UTC),
        interval=300,
        status=RegistrationStatusEnumType.Rejected,
        status_info=StatusInfoType(reason_code="Busy"),
    )
    encoded = msgspec.json.encode(response)
    assert b"null" not in encoded
    assert json.loads(encoded) == {
        "currentTime": "2024-05-01T12:00:00Z",
        "interval": 300,
        "status": "Rejected",
        "statusInfo": {"reasonCode": "Busy"},
    }
    assert msgspec.json.encode(HeartbeatRequest()) == b"{}"


def test_null_is_rejected_even_for_optional_fields() -> None:
    assert rejection(HeartbeatRequest, b'{"customData":null}') == TCV
    assert rejection(SetVariablesRequest, dumps({**SET_VARIABLES, "customData": None})) == TCV


def test_custom_data_vendor_extensions_are_accepted_at_top_level_and_nested() -> None:
    """customData is the one open object (Part 4 §9): a CSMS that does not know the vendor must
    accept and ignore its extra properties (TC_P_03_CSMS), but vendorId stays required."""
    payload = changed(
        changed(BOOT, "customData", {"vendorId": "com.example", "x": {"deep": [1, None, "y"]}}),
        "chargingStation.customData",
        {"vendorId": "org.example", "flag": True, "vendorId2": "not vendorId"},
    )
    assert schema_accepts("BootNotificationRequest", dumps(payload))
    decoded = decode(BootNotificationRequest, dumps(payload))
    assert decoded.custom_data == CustomDataType(vendor_id="com.example")
    assert decoded.charging_station.custom_data == CustomDataType(vendor_id="org.example")
    # The extras are not kept: re-encoding sends the vendorId only, which is still valid.
    encoded = msgspec.json.encode(decoded)
    assert json.loads(encoded)["customData"] == {"vendorId": "com.example"}
    assert schema_accepts("BootNotificationRequest", encoded)

    deep = changed(TRANSACTION_EVENT, "meterValue.0.sampledValue.0.customData",
                   {"vendorId": "v", "calibration": {"k": 1.5}})  # fmt: skip
    assert schema_accepts("TransactionEventRequest", dumps(deep))
    assert rejection(CLASSES["TransactionEventRequest"], dumps(deep)) is None


# --- 5. documented deviations from jsonschema ---------------------------------------------------


def boot_response(current_time: str) -> bytes:
    return dumps({"currentTime": current_time, "interval": 300, "status": "Accepted"})


def test_deviation_space_instead_of_t_is_accepted() -> None:
    """RFC 3339 §5.6 (NOTE): applications may use a space instead of "T" for readability.

    We accept it, as msgspec does; rfc3339-validator, jsonschema's date-time checker, requires
    the "T". Being lenient here costs nothing and a few stations send it.
    """
    payload = boot_response("2024-05-01 12:00:00Z")
    assert not schema_accepts("BootNotificationResponse", payload)
    decoded = decode(BootNotificationResponse, payload)
    assert decoded.current_time == datetime(2024, 5, 1, 12, tzinfo=UTC)


def test_deviation_lowercase_t_and_z_are_accepted() -> None:
    """RFC 3339 §5.6 (NOTE): "T" and "Z" may alternatively be lower case; we accept "t", "z".

    Listed as a deviation, but in fact it is none: rfc3339-validator alone accepts only upper
    case, yet jsonschema's FormatChecker upper-cases the string before it asks it, so both
    accept. Pinned on both sides so that a change on either shows up here.
    """
    payload = boot_response("2024-05-01t12:00:00z")
    assert schema_accepts("BootNotificationResponse", payload)
    decoded = decode(BootNotificationResponse, payload)
    assert decoded.current_time == datetime(2024, 5, 1, 12, tzinfo=UTC)


def test_deviation_leap_second_is_rejected() -> None:
    """RFC 3339 §5.7 allows a leap second, `23:59:60`; Python's datetime cannot represent it.

    We answer PropertyConstraintViolation. This deviates from RFC 3339 rather than from
    jsonschema: rfc3339-validator (0.1.4) rejects `:60` as well, which this test also pins so
    that a change on its side gets noticed.
    """
    payload = boot_response("2016-12-31T23:59:60Z")
    assert rejection(BootNotificationResponse, payload) == PCV
    assert not schema_accepts("BootNotificationResponse", payload)


@pytest.mark.parametrize("number", ["300.0", "3e2", "3.00E+2"])
def test_deviation_integral_float_for_an_integer_field_is_rejected(number: str) -> None:
    """Draft-06 counts any number with a zero fraction (`300.0`, `3e2`) as an integer.

    We accept only integer tokens for integer fields and answer TypeConstraintViolation: the
    OCPP schemas were written with integers in mind, every implementation sends `300`, and a
    `300.0` is more likely a sender bug (a float where a count belongs) than intent.
    """
    payload = b'{"currentTime":"2024-05-01T12:00:00Z","interval":%s,"status":"Accepted"}' % (
        number.encode()
    )
    assert schema_accepts("BootNotificationResponse", payload)
    assert rejection(BootNotificationResponse, payload) == TCV


@pytest.mark.parametrize(
    "data",
    [None, True, 0, -1.5, 2**70, "text", [], [1, "a", None], {}, {"k": {"n": [None]}}],
)
def test_data_transfer_data_is_any_json_value(data: object) -> None:
    """DataTransfer `data` has no type in the schema: any JSON value, null included, is valid and
    comes back unchanged; it is the only place our encoding can contain a null."""
    payload = dumps({"vendorId": "com.example", "data": data})
    assert schema_accepts("DataTransferRequest", payload)
    decoded = decode(DataTransferRequest, payload)
    assert decoded.data == data
    assert json.loads(msgspec.json.encode(decoded)) == {"vendorId": "com.example", "data": data}


# Found by these tests and not (yet) in the design notes: pinned so they stay visible.


def test_observed_offset_without_colon_is_accepted() -> None:
    """RFC 3339 requires `±hh:mm`; msgspec also accepts `±hhmm` (ISO 8601 basic format).

    Observed deviation, not yet a documented decision: jsonschema rejects `+0200`, we accept it
    and read it correctly. Harmless (no other meaning is possible) but not RFC 3339.
    """
    payload = boot_response("2024-05-01T12:00:00+0200")
    assert not schema_accepts("BootNotificationResponse", payload)
    decoded = decode(BootNotificationResponse, payload)
    assert decoded.current_time.utcoffset() == timedelta(hours=2)


def test_observed_trailing_newline_is_rejected_though_the_format_checker_accepts_it() -> None:
    """rfc3339-validator matches with `$`, which in Python also matches before a final "\\n",
    so jsonschema accepts `...Z\\n`. We reject it; here we are right and the checker is not."""
    payload = boot_response("2024-05-01T12:00:00Z\n")
    assert schema_accepts("BootNotificationResponse", payload)
    assert rejection(BootNotificationResponse, payload) == PCV


def test_observed_sub_microsecond_rounding_past_year_9999_is_rejected() -> None:
    """msgspec rounds fractions finer than a microsecond; at the last instant of year 9999 the
    rounding carries into year 10000, which datetime cannot hold, and the value is rejected
    though it is valid RFC 3339. Earlier instants round normally."""
    last = boot_response("9999-12-31T23:59:59.9999999Z")
    assert schema_accepts("BootNotificationResponse", last)
    assert rejection(BootNotificationResponse, last) == PCV
    earlier = decode(BootNotificationResponse, boot_response("2024-12-31T23:59:59.9999999Z"))
    assert earlier.current_time == datetime(2025, 1, 1, tzinfo=UTC)


def test_observed_number_beyond_float_range_is_a_format_violation() -> None:
    """`1E400` is valid JSON; Python's json reads it as infinity, so jsonschema accepts it as
    DataTransfer `data`. msgspec refuses numbers out of float range ("Number out of range"),
    which `payload_error` maps to FormatViolation."""
    payload = b'{"vendorId":"v","data":1E400}'
    assert schema_accepts("DataTransferRequest", payload)
    assert rejection(DataTransferRequest, payload) == ErrorCode.FormatViolation


def test_date_times_keep_their_offset() -> None:
    decoded = decode(BootNotificationResponse, boot_response("2024-05-01T12:00:00.25-05:30"))
    offset = timezone(-timedelta(hours=5, minutes=30))
    assert decoded.current_time == datetime(2024, 5, 1, 12, 0, 0, 250000, tzinfo=offset)
    assert decoded.current_time.utcoffset() == offset.utcoffset(None)
    assert msgspec.json.encode(decoded.current_time) == b'"2024-05-01T12:00:00.250000-05:30"'


def test_mutation_kinds_map_to_distinct_documented_codes() -> None:
    """Sanity of the strategies module: every kind has one code, from Part 4 §4.3."""
    from schema_strategies import EXPECTED_CODE

    assert set(EXPECTED_CODE) == set(MutationKind)
    assert set(EXPECTED_CODE.values()) == {OCV, PCV, TCV, PROTOCOL}
