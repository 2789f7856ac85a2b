"""The OCPP-J frame codec (Part 4 §4), rule by rule, against both implementations.

Every test runs twice: against the Rust extension `trio_csms._native` and against the
pure-Python reference `trio_csms.rpc._frames_py`. `tests/unit/test_frames_equivalence.py`
checks the two agree on inputs nobody wrote down.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from types import ModuleType

import pytest

from trio_csms import _native
from trio_csms.rpc import _frames_py, frames
from trio_csms.rpc.errors import ErrorCode

Result = tuple[int, str, int | str | None, int, int, str | None]

IMPLEMENTATIONS = [pytest.param(_native, id="rust"), pytest.param(_frames_py, id="python")]


@pytest.fixture(params=IMPLEMENTATIONS)
def codec(request: pytest.FixtureRequest) -> ModuleType:
    module: ModuleType = request.param
    return module


def action_names(codec: ModuleType) -> tuple[str, ...]:
    names: tuple[str, ...] = codec.ACTIONS if codec is _native else codec.ACTION_NAMES
    return names


def rpc(message_id: str, seen: int, description: str) -> Result:
    return (0, message_id, "RpcFrameworkError", seen, -1, description)


def fmt(message_id: str, seen: int, description: str) -> Result:
    return (0, message_id, "FormatViolation", seen, -1, description)


def unsupported(message_id: str, literal: str) -> Result:
    return (
        0,
        message_id,
        "MessageTypeNotSupported",
        0,
        -1,
        f"MessageTypeId {literal} is not supported",
    )


def unknown(message_id: str, action: str) -> Result:
    return (0, message_id, "NotImplemented", 2, -1, f"unknown action: {action}")


def span(data: bytes, fragment: bytes) -> tuple[int, int]:
    """The byte range of the last occurrence of `fragment` in `data`."""
    start = data.rindex(fragment)
    return start, start + len(fragment)


HEARTBEAT = _frames_py.ACTION_NAMES.index("Heartbeat")
BOOT = _frames_py.ACTION_NAMES.index("BootNotification")


# --- well-formed frames -----------------------------------------------------------------------


def test_call(codec: ModuleType) -> None:
    data = b'[2,"19223201","BootNotification",{"reason":"PowerUp"}]'
    start, end = span(data, b'{"reason":"PowerUp"}')
    assert codec.parse_frame(data) == (2, "19223201", BOOT, start, end, None)


def test_call_from_part4_with_newlines(codec: ModuleType) -> None:
    data = (
        b'[2,\n  "19223201",\n  "BootNotification",\n  {\n    "reason": "PowerUp",\n'
        b'    "chargingStation": {\n      "model": "SingleSocketCharger",\n'
        b'      "vendorName": "VendorX"\n    }\n  }\n]\n'
    )
    kind, message_id, action, start, end, text = codec.parse_frame(data)
    assert (kind, message_id, action, text) == (2, "19223201", BOOT, None)
    assert data[start:end] == data[data.index(b"{") : data.rindex(b"}") + 1]


def test_callresult(codec: ModuleType) -> None:
    data = b'[3,"19223201",{"currentTime":"2013-02-01T20:53:32.486Z","interval":300}]'
    start, end = span(data, data[data.index(b"{") : -1])
    assert codec.parse_frame(data) == (3, "19223201", None, start, end, None)


def test_callerror(codec: ModuleType) -> None:
    data = b'[4,"162376037","NotSupported","SetDisplayMessageRequest not implemented",{}]'
    start, end = span(data, b"{}")
    assert codec.parse_frame(data) == (
        4,
        "162376037",
        "NotSupported",
        start,
        end,
        "SetDisplayMessageRequest not implemented",
    )


def test_callerror_code_is_passed_through_unchecked(codec: ModuleType) -> None:
    data = b'[4,"a","NoSuchCode","",{"k":[1]}]'
    start, end = span(data, b'{"k":[1]}')
    assert codec.parse_frame(data) == (4, "a", "NoSuchCode", start, end, "")


def test_whitespace_is_allowed_between_all_tokens(codec: ModuleType) -> None:
    data = b' \r\n\t[ 2 ,\n "a" ,\t"Heartbeat" , { } ] \n'
    start, end = span(data, b"{ }")
    assert codec.parse_frame(data) == (2, "a", HEARTBEAT, start, end, None)


def test_strings_are_unescaped_and_offsets_count_bytes(codec: ModuleType) -> None:
    data = '[4,"\\u00e9\\n","C\\/d","dé\\ud83d\\ude00",{"€":"😀"}]'.encode()
    start, end = span(data, '{"€":"😀"}'.encode())
    assert codec.parse_frame(data) == (4, "é\n", "C/d", start, end, "dé😀")


def test_payload_span_is_exactly_the_object(codec: ModuleType) -> None:
    payload = {"a": [1, -2.5e-3, True, None, {"b": "c"}], "d": {}}
    data = b'[3,"x",' + json.dumps(payload).encode() + b"]"
    _, _, _, start, end, _ = codec.parse_frame(data)
    assert json.loads(data[start:end]) == payload
    assert data[start:end].startswith(b"{") and data[start:end].endswith(b"}")


def test_every_action_is_known_by_its_index(codec: ModuleType) -> None:
    for index, action in enumerate(action_names(codec)):
        data = b'[2,"id","' + action.encode() + b'",{}]'
        assert codec.parse_frame(data) == (2, "id", index, len(data) - 3, len(data) - 1, None)


def test_empty_message_id_is_allowed(codec: ModuleType) -> None:
    assert codec.parse_frame(b'[3,"",{}]') == (3, "", None, 6, 8, None)


# --- rule 1: UTF-8 (Part 4 §4.1.2) ------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        b'[2,"\xff","Heartbeat",{}]',
        b"\xc3",
        b'[3,"a",{"k":"\xed\xa0\x80"}]',  # an encoded surrogate
        b'[3,"a",{}]\xc0\xaf',  # overlong encoding, after an otherwise complete frame
        b'[3,"a",{"k":"\xf4\x90\x80\x80"}]',  # above U+10FFFF
    ],
)
def test_rule_1_not_utf8(codec: ModuleType, data: bytes) -> None:
    assert codec.parse_frame(data) == rpc("-1", 0, "frame is not valid UTF-8")


# --- rule 2: an array -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [b"", b"   ", b"{}", b"2", b'"["', "\ufeff[3]".encode(), b"\x0c[3]", b"null", b"\x00"],
)
def test_rule_2_not_an_array(codec: ModuleType, data: bytes) -> None:
    assert codec.parse_frame(data) == rpc("-1", 0, "frame is not a JSON array")


# --- rule 3: MessageTypeId is an integer (Part 4 §4.1.3) --------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        b"[",
        b"[]",
        b"[ ]",
        b'["2","a",{}]',
        b'[2.0,"a",{}]',
        b'[2e0,"a",{}]',
        b"[2E0]",
        b"[2.]",
        b'[02,"a",{}]',
        b"[-02]",
        b"[00]",
        b"[-]",
        b"[+2]",
        b"[x]",
        b"[null]",
        b"[,2]",
        b"[.2]",
    ],
)
def test_rule_3_type_id_not_an_integer(codec: ModuleType, data: bytes) -> None:
    assert codec.parse_frame(data) == rpc("-1", 0, "MessageTypeId is not an integer")


# --- rule 4: MessageTypeId 2, 3 or 4 (Part 4 §4.1.3, §4.4) ------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b'[5,"abc",{}]', unsupported("abc", "5")),
        (b'[6, "abc" , garbage', unsupported("abc", "6")),  # the payload is ignored
        (b"[0]", unsupported("-1", "0")),
        (b'[-0,"a"]', unsupported("a", "-0")),
        (b'[-2,"a"]', unsupported("a", "-2")),
        (b'[1 "a"]', unsupported("-1", "1")),
        (b'[1,"a', unsupported("-1", "1")),
        (b'[1,"a\\x"]', unsupported("-1", "1")),
        (b"[1,7]", unsupported("-1", "1")),
        (b"[1x", unsupported("-1", "1")),
        (b'[7,"' + b"a" * 36 + b'"]', unsupported("a" * 36, "7")),
        (b'[7,"' + b"a" * 37 + b'"]', unsupported("-1", "7")),
        (b"[" + b"9" * 40 + b"]", unsupported("-1", "9" * 32)),
    ],
)
def test_rule_4_type_id_not_supported(codec: ModuleType, data: bytes, expected: Result) -> None:
    assert codec.parse_frame(data) == expected


# --- rule 5: MessageId is a string (Part 4 §4.1.4) --------------------------------------------


@pytest.mark.parametrize(
    ("data", "seen"),
    [
        (b"[2]", 2),
        (b"[3 ]", 3),
        (b"[4", 4),
        (b"[4,", 4),
        (b'[2 "a"]', 2),
        (b"[2,]", 2),
        (b'[2,5,"Heartbeat",{}]', 2),
        (b"[3,null,{}]", 3),
        (b'[3,"a', 3),
        (b'[3,"a\\qb",{}]', 3),
        (b'[3,"a\x01b",{}]', 3),
        (b'[3,"\\ud800",{}]', 3),
        (b'[3,"\\udc00",{}]', 3),
        (b'[3,"\\ud800\\ud800",{}]', 3),
        (b'[3,"\\ude00\\ud83d",{}]', 3),
        (b'[3,"\\u12",{}]', 3),
        (b'[2x,"a"]', 2),
    ],
)
def test_rule_5_message_id_not_a_string(codec: ModuleType, data: bytes, seen: int) -> None:
    assert codec.parse_frame(data) == rpc("-1", seen, "MessageId is not a string")


# --- rule 6: MessageId at most 36 characters (Part 4 §4.1.4) ----------------------------------


def test_rule_6_message_id_of_36_characters_is_fine(codec: ModuleType) -> None:
    message_id = "é" * 36  # 72 bytes, 36 characters
    data = f'[3,"{message_id}",{{}}]'.encode()
    assert codec.parse_frame(data) == (3, message_id, None, 78, 80, None)


def test_rule_6_message_id_is_counted_after_unescaping(codec: ModuleType) -> None:
    data = b'[3,"' + b"\\u0041" * 36 + b'",{}]'
    assert codec.parse_frame(data) == (3, "A" * 36, None, len(data) - 3, len(data) - 1, None)


@pytest.mark.parametrize(
    "message_id",
    ["é" * 37, "a" * 100, "\\ud83d\\ude00" * 37],
)
def test_rule_6_message_id_too_long(codec: ModuleType, message_id: str) -> None:
    data = f'[2,"{message_id}","Heartbeat",{{}}]'.encode()
    assert codec.parse_frame(data) == rpc("-1", 2, "MessageId is longer than 36 characters")


# --- rule 7: the separator after each non-final element ---------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b'[2,"a"]', rpc("a", 2, "CALL must have 4 elements")),
        (b'[3,"a" ]', rpc("a", 3, "CALLRESULT must have 3 elements")),
        (b'[4,"a"\n]', rpc("a", 4, "CALLERROR must have 5 elements")),
        (b'[2,"a"', rpc("a", 2, "frame is not valid JSON")),
        (b'[2,"a" "Heartbeat",{}]', rpc("a", 2, "frame is not valid JSON")),
        (b'[3,"a":{}]', rpc("a", 3, "frame is not valid JSON")),
        (b'[2,"a","Heartbeat"]', rpc("a", 2, "CALL must have 4 elements")),
        (b'[2,"a","Heartbeat"}', rpc("a", 2, "frame is not valid JSON")),
        (b'[4,"a","C"]', rpc("a", 4, "CALLERROR must have 5 elements")),
        (b'[4,"a","C":', rpc("a", 4, "frame is not valid JSON")),
        (b'[4,"a","C","d"]', rpc("a", 4, "CALLERROR must have 5 elements")),
        (b'[4,"a","C","d" {}]', rpc("a", 4, "frame is not valid JSON")),
    ],
)
def test_rule_7_separators(codec: ModuleType, data: bytes, expected: Result) -> None:
    assert codec.parse_frame(data) == expected


# --- rule 8: the Action (Part 4 §4.1.6, §4.1.7) -----------------------------------------------


@pytest.mark.parametrize(
    "data",
    [b'[2,"a",1,{}]', b'[2,"a",]', b'[2,"a",', b'[2,"a","Heart', b'[2,"a","\\x"]', b'[2,"a",{}]'],
)
def test_rule_8_action_not_a_string(codec: ModuleType, data: bytes) -> None:
    assert codec.parse_frame(data) == rpc("a", 2, "Action is not a string")


@pytest.mark.parametrize(
    ("data", "action"),
    [
        (b'[2,"a","heartbeat",{}]', "heartbeat"),
        (b'[2,"a","HeartbeatRequest",{}]', "HeartbeatRequest"),
        (b'[2,"a","",{}]', ""),
        (b'[2,"a","Nope"', "Nope"),  # the unknown action is found before the missing rest
        (b'[2,"a","Nope",[]]', "Nope"),
        ('[2,"a","' + "ü" * 70 + '",{}]', "ü" * 64),  # quoted up to 64 characters
    ],
)
def test_rule_8_unknown_action(codec: ModuleType, data: bytes | str, action: str) -> None:
    raw = data.encode() if isinstance(data, str) else data
    assert codec.parse_frame(raw) == unknown("a", action)


def test_rule_8_action_is_unescaped_before_lookup(codec: ModuleType) -> None:
    assert codec.parse_frame(b'[2,"a","H\\u0065artbeat",{}]') == (2, "a", HEARTBEAT, 24, 26, None)


# --- rule 9: the payload (Part 4 §4.1.5, §4.1.7) ----------------------------------------------


@pytest.mark.parametrize(
    ("data", "seen"),
    [
        (b'[2,"a","Heartbeat",[]]', 2),
        (b'[2,"a","Heartbeat",null]', 2),
        (b'[2,"a","Heartbeat",', 2),
        (b'[2,"a","Heartbeat",]', 2),
        (b'[3,"a","{}"]', 3),
        (b'[3,"a",1]', 3),
        (b'[3,"a",]', 3),
    ],
)
def test_rule_9_payload_not_an_object(codec: ModuleType, data: bytes, seen: int) -> None:
    assert codec.parse_frame(data) == fmt("a", seen, "payload is not a JSON object")


@pytest.mark.parametrize(
    "payload",
    [
        b"{]",
        b'{"k":01}',
        b'{"k":1.}',
        b'{"k":.5}',
        b'{"k":+1}',
        b'{"k":1e}',
        b'{"k":-}',
        b'{"k":NaN}',
        b'{"k":Infinity}',
        b'{"k":-Infinity}',
        b'{"k":tru}',
        b'{"k":True}',
        b'{"k":"\\ud800"}',
        b'{"k":"\\udc00\\ud800"}',
        b'{"k":"\t"}',
        b'{"k":"\\a"}',
        b'{"k":"\\u00g0"}',
        b'{"k":1,}',
        b'{"k":[1,]}',
        b'{"k":[,1]}',
        b"{k:1}",
        b"{1:1}",
        b'{"k" 1}',
        b'{"k":1 "l":2}',
        b'{"k":[1 2]}',
        b'{"k":[}',
        b'{"k":{]}',
        b'{"k":1',
        b'{"k"',
        b"{",
        b'{"k":\x0c1}',
        b'{"k":"a"\xc2\xa0}',  # NBSP is not JSON whitespace
    ],
)
def test_rule_9_payload_not_valid_json(codec: ModuleType, payload: bytes) -> None:
    for data in (b'[3,"a",' + payload + b"]", b'[2,"a","Reset",' + payload + b"]"):
        seen = data[1] - ord("0")
        assert codec.parse_frame(data) == fmt("a", seen, "payload is not valid JSON")


def test_rule_9_nesting_up_to_64_is_fine(codec: ModuleType) -> None:
    payload = b'{"k":' * 63 + b"[]" + b"}" * 63  # 64 containers, the payload counting as 1
    data = b'[3,"a",' + payload + b"]"
    assert codec.parse_frame(data) == (3, "a", None, 7, len(data) - 1, None)


@pytest.mark.parametrize(
    "payload",
    [
        b'{"k":' * 64 + b"[]" + b"}" * 64,
        b'{"k":' * 64 + b"{}" + b"}" * 64,
        b'{"k":' + b"[" * 64 + b"]" * 64 + b"}",
        b'{"k":' + b"[" * 100_000,
    ],
)
def test_rule_9_nesting_deeper_than_64_is_invalid(codec: ModuleType, payload: bytes) -> None:
    data = b'[3,"a",' + payload + b"]"
    assert codec.parse_frame(data) == fmt("a", 3, "payload is not valid JSON")


# --- rule 10: CALLERROR elements (Part 4 §4.2.3) ----------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b'[4,"a",1,"d",{}]', rpc("a", 4, "ErrorCode is not a string")),
        (b'[4,"a",]', rpc("a", 4, "ErrorCode is not a string")),
        (b'[4,"a","C\\z","d",{}]', rpc("a", 4, "ErrorCode is not a string")),
        (b'[4,"a","C",null,{}]', rpc("a", 4, "ErrorDescription is not a string")),
        (b'[4,"a","C","d\x1f",{}]', rpc("a", 4, "ErrorDescription is not a string")),
        (b'[4,"a","C","d",[]]', fmt("a", 4, "ErrorDetails is not a JSON object")),
        (b'[4,"a","C","d"]', rpc("a", 4, "CALLERROR must have 5 elements")),
        (b'[4,"a","C","d",{"x"}]', fmt("a", 4, "ErrorDetails is not valid JSON")),
        (b'[4,"a","C","d",{"x":1', fmt("a", 4, "ErrorDetails is not valid JSON")),
    ],
)
def test_rule_10_callerror_elements(codec: ModuleType, data: bytes, expected: Result) -> None:
    assert codec.parse_frame(data) == expected


# --- rule 11: after the last element ----------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b'[3,"a",{},{}]', rpc("a", 3, "CALLRESULT must have 3 elements")),
        (b'[3,"a",{} , 1]', rpc("a", 3, "CALLRESULT must have 3 elements")),
        (b'[2,"a","Reset",{},]', rpc("a", 2, "CALL must have 4 elements")),
        (b'[4,"a","C","d",{},{}]', rpc("a", 4, "CALLERROR must have 5 elements")),
        (b'[3,"a",{}', rpc("a", 3, "frame is not valid JSON")),
        (b'[3,"a",{} ', rpc("a", 3, "frame is not valid JSON")),
        (b'[3,"a",{}}', rpc("a", 3, "frame is not valid JSON")),
        (b'[3,"a",{}]]', rpc("a", 3, "frame is not valid JSON")),
        (b'[3,"a",{}] x', rpc("a", 3, "frame is not valid JSON")),
        (b'[3,"a",{}]\x00', rpc("a", 3, "frame is not valid JSON")),
        (b'[3,"a",{}]\x0c', rpc("a", 3, "frame is not valid JSON")),
        (b'[3,"a",{}] \t\r\n', (3, "a", None, 7, 9, None)),
    ],
)
def test_rule_11_after_the_last_element(codec: ModuleType, data: bytes, expected: Result) -> None:
    assert codec.parse_frame(data) == expected


def test_first_fault_wins(codec: ModuleType) -> None:
    # Long id and bad payload: the id is found first.
    data = b'[3,"' + b"x" * 37 + b'",{]'
    assert codec.parse_frame(data) == rpc("-1", 3, "MessageId is longer than 36 characters")
    # Unknown action and a missing payload: the action is found first.
    assert codec.parse_frame(b'[2,"a","X"]') == unknown("a", "X")
    # Bad payload and too many elements: the payload is found first.
    assert codec.parse_frame(b'[3,"a",{"k":},1]') == fmt("a", 3, "payload is not valid JSON")


def test_every_truncation_is_an_error(codec: ModuleType) -> None:
    data = '[2, "é\\u00e9", "DataTransfer", {"a": [1, -2.5e3, true, null, "\\ud83d\\ude00"]}]'
    raw = data.encode()
    assert codec.parse_frame(raw)[0] == 2
    for cut in range(len(raw)):
        result = codec.parse_frame(raw[:cut])
        assert result[0] == 0 and result[4] == -1, (cut, result)


def test_error_codes_are_plain_errorcode_values(codec: ModuleType) -> None:
    for data in (b"\xff", b"[9]", b'[2,"a","X",{}]', b'[3,"a",1]'):
        code = codec.parse_frame(data)[2]
        assert type(code) is str
        assert code in set(ErrorCode)


def test_rejects_non_bytes(codec: ModuleType) -> None:
    for data in ('[3,"a",{}]', bytearray(b'[3,"a",{}]'), memoryview(b'[3,"a",{}]')):
        with pytest.raises(TypeError):
            codec.parse_frame(data)


# --- building ---------------------------------------------------------------------------------


def test_build_call(codec: ModuleType) -> None:
    assert codec.build_call("1", "Heartbeat", b"{}") == b'[2,"1","Heartbeat",{}]'


def test_build_result(codec: ModuleType) -> None:
    assert codec.build_result("", b'{"a": 1}') == b'[3,"",{"a": 1}]'


def test_build_error(codec: ModuleType) -> None:
    built = codec.build_error("1", "GenericError", "", b"{}")
    assert built == b'[4,"1","GenericError","",{}]'


def test_build_inserts_payload_bytes_unvalidated(codec: ModuleType) -> None:
    assert codec.build_result("1", b"not json") == b'[3,"1",not json]'


def test_build_escapes_strings(codec: ModuleType) -> None:
    text = 'q"b\\s/\b\f\n\r\t\x00\x1f\x7fé😀'
    expected = '[3,"q\\"b\\\\s/\\b\\f\\n\\r\\t\\u0000\\u001f\x7fé😀",{}]'.encode()
    assert codec.build_result(text, b"{}") == expected


def test_build_escapes_every_control_character_with_lowercase_hex(codec: ModuleType) -> None:
    short = {0x08: "\\b", 0x09: "\\t", 0x0A: "\\n", 0x0C: "\\f", 0x0D: "\\r"}
    for c in range(0x20):
        escaped = short.get(c, f"\\u{c:04x}")
        assert codec.build_result(chr(c), b"{}") == f'[3,"{escaped}",{{}}]'.encode()


@pytest.mark.parametrize("bad", ["\ud800", "a\udfffb", "\udc00\ud800"])
def test_build_rejects_lone_surrogates(codec: ModuleType, bad: str) -> None:
    with pytest.raises(UnicodeEncodeError):
        codec.build_call(bad, "Heartbeat", b"{}")
    with pytest.raises(UnicodeEncodeError):
        codec.build_call("1", bad, b"{}")
    with pytest.raises(UnicodeEncodeError):
        codec.build_result(bad, b"{}")
    with pytest.raises(UnicodeEncodeError):
        codec.build_error("1", "GenericError", bad, b"{}")


def test_built_frames_parse_back(codec: ModuleType) -> None:
    message_id = '\x01"\\é😀'
    data = codec.build_error(message_id, "C\n", "d\x1f", b'{"k":[]}')
    start, end = span(data, b'{"k":[]}')
    assert codec.parse_frame(data) == (4, message_id, "C\n", start, end, "d\x1f")
    data = codec.build_call(message_id, "Reset", b"{}")
    index = action_names(codec).index("Reset")
    assert codec.parse_frame(data) == (2, message_id, index, len(data) - 3, len(data) - 1, None)


# --- the action list and the module that picks the implementation -----------------------------


def test_rust_actions_equal_the_message_registry() -> None:
    from trio_csms.messages import ACTIONS

    registry = tuple(spec.action for spec in ACTIONS)
    assert len(registry) == 64
    assert registry == _native.ACTIONS
    assert registry == _frames_py.ACTION_NAMES


def test_native_reports_its_build_profile() -> None:
    assert _native.build_profile in ("release", "debug")


def test_frames_uses_the_implementation_the_environment_asks_for() -> None:
    expected = "python" if os.environ.get("TRIO_CSMS_NATIVE") == "0" else "rust"
    assert expected == frames.IMPLEMENTATION
    source = _frames_py if expected == "python" else _native
    assert frames.parse_frame is source.parse_frame
    assert frames.build_call is source.build_call
    assert frames.build_result is source.build_result
    assert frames.build_error is source.build_error
    assert frames.ACTION_NAMES == _frames_py.ACTION_NAMES


def _run(
    code: str, native: str | None, block_native: bool = False
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "TRIO_CSMS_NATIVE"}
    if native is not None:
        env["TRIO_CSMS_NATIVE"] = native
    prelude = "import sys; sys.modules['trio_csms._native'] = None\n" if block_native else ""
    return subprocess.run(
        [sys.executable, "-c", prelude + code],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(("native", "expected"), [(None, "rust"), ("1", "rust"), ("0", "python")])
def test_trio_csms_native_selects_the_implementation(native: str | None, expected: str) -> None:
    done = _run("from trio_csms.rpc import frames; print(frames.IMPLEMENTATION)", native)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == expected


def test_missing_extension_is_an_import_error_not_a_silent_fallback() -> None:
    code = "from trio_csms.rpc import frames"
    done = _run(code, None, block_native=True)
    assert done.returncode != 0
    assert "ImportError" in done.stderr and "TRIO_CSMS_NATIVE=0" in done.stderr
    done = _run(code + "; print(frames.IMPLEMENTATION)", "0", block_native=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "python"
