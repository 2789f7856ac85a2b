"""Property tests: the Rust and pure-Python frame codecs agree, and never fail badly.

Invariants checked on every generated input (as h11's fuzzer does for HTTP):

- both implementations return the same tuple, value for value and type for type;
- `parse_frame` returns a well-formed result or a well-formed error, never raises;
- an independent oracle, the stdlib `json` module plus the strictness it lacks (lone surrogate
  escapes, `NaN`, nesting depth), accepts exactly the frames we accept, with the same parts.

Inputs: arbitrary bytes, JSON-ish text, valid frames, and valid frames with targeted
mutations. Builders are compared on arbitrary strings and must round-trip through the parser.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from trio_csms import _native
from trio_csms.rpc import _frames_py
from trio_csms.rpc.errors import ErrorCode

ACTIONS = _frames_py.ACTION_NAMES
ERROR_CODES = frozenset(code.value for code in ErrorCode)
MAX_DEPTH = 64

# Example counts keep the whole file near 40 s on two cores: cheap inputs get thousands.
MANY = settings(max_examples=3000, deadline=None)
SOME = settings(
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
MUTATIONS = settings(SOME, max_examples=1200)


# --- the oracle -------------------------------------------------------------------------------


class _Rejected(Exception):
    pass


def _reject_constant(name: str) -> Any:
    raise _Rejected(name)


def _check_strict(value: Any, depth: int = 0) -> None:
    """Raise _Rejected for what RFC 8259-strict JSON forbids but the stdlib decodes: lone
    surrogates (they don't survive UTF-8 encoding) and nesting deeper than MAX_DEPTH."""
    if isinstance(value, str):
        value.encode()
    elif isinstance(value, (dict, list)):
        if depth >= MAX_DEPTH:
            raise _Rejected("too deep")
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            if isinstance(key, str):
                key.encode()
            _check_strict(item, depth + 1)


def _strict_loads(text: str) -> Any:
    value = json.loads(text, parse_constant=_reject_constant)
    _check_strict(value)
    return value


def oracle(data: bytes) -> tuple[Any, ...] | None:
    """What a well-formed frame parses to, by the stdlib: `(kind, id, x, payload, text)`, or
    None when the frame is malformed in any way."""
    try:
        text = data.decode()
        frame = json.loads(text, parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, _Rejected, RecursionError):
        return None
    shapes = {2: 4, 3: 3, 4: 5}
    if not isinstance(frame, list) or not frame or type(frame[0]) is not int:
        return None
    kind = frame[0]  # `2.0` and `2e0` decode to floats; `-0` to 0
    if shapes.get(kind) != len(frame) or not isinstance(frame[1], str):
        return None
    if not isinstance(frame[-1], dict) or not all(isinstance(s, str) for s in frame[1:-1]):
        return None
    try:
        for element in frame[1:]:
            _check_strict(element)
    except (_Rejected, UnicodeEncodeError):
        return None
    if len(frame[1]) > 36:
        return None
    if kind == 2:
        if frame[2] not in ACTIONS:
            return None
        return (2, frame[1], ACTIONS.index(frame[2]), frame[3], None)
    if kind == 3:
        return (3, frame[1], None, frame[2], None)
    return (4, frame[1], frame[2], frame[4], frame[3])


# --- the invariants ---------------------------------------------------------------------------


def check(data: bytes) -> tuple[int | str | None, ...]:
    """Parse with both implementations, check every invariant, return the common result."""
    rust = _native.parse_frame(data)
    python = _frames_py.parse_frame(data)
    assert rust == python, data
    assert [type(v) for v in rust] == [type(v) for v in python], data

    assert isinstance(rust, tuple) and len(rust) == 6
    kind, message_id, x, start, end, text = rust
    assert isinstance(message_id, str)
    if kind == 0:
        assert message_id == "-1" or len(message_id) <= 36
        assert isinstance(x, str) and x in ERROR_CODES
        assert start in (0, 2, 3, 4) and end == -1
        assert isinstance(text, str) and text
        if x == "MessageTypeNotSupported":
            assert start == 0
    else:
        assert kind in (2, 3, 4)
        assert len(message_id) <= 36
        assert 0 < start < end <= len(data)
        assert data[start : start + 1] == b"{" and data[end - 1 : end] == b"}"
        if kind == 2:
            assert isinstance(x, int) and 0 <= x < len(ACTIONS) and text is None
        elif kind == 3:
            assert x is None and text is None
        else:
            assert isinstance(x, str) and isinstance(text, str)

    expected = oracle(data)
    if expected is None:
        assert kind == 0, (data, rust)
    else:
        assert kind != 0, (data, rust)
        payload = _strict_loads(data[start:end].decode())
        assert (kind, message_id, x, payload, text) == expected
    return rust


# --- strategies -------------------------------------------------------------------------------

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=20,
)
json_objects = st.dictionaries(st.text(max_size=8), json_values, max_size=5)
# Short ids, and ids right around the 36-character limit.
message_ids = st.text(max_size=12) | st.integers(34, 38).flatmap(
    lambda size: st.text(min_size=size, max_size=size)
)
# Known actions, short unknown ones, and unknown ones around the 64 characters quoted back.
unknown_actions = st.text(max_size=12) | st.integers(62, 66).flatmap(
    lambda size: st.text(min_size=size, max_size=size)
)
actions = st.sampled_from(ACTIONS) | unknown_actions


@st.composite
def dumped(draw: st.DrawFn, value: Any) -> bytes:
    """`value` as JSON, in one of several legal spellings."""
    ensure_ascii = draw(st.booleans())
    style = draw(st.sampled_from(["compact", "spaced", "indented"]))
    if style == "compact":
        text = json.dumps(value, ensure_ascii=ensure_ascii, separators=(",", ":"))
    elif style == "spaced":
        text = json.dumps(value, ensure_ascii=ensure_ascii)
    else:
        text = json.dumps(value, ensure_ascii=ensure_ascii, indent=draw(st.sampled_from([1, "\t"])))
    if draw(st.booleans()):
        ws = draw(st.text(alphabet=" \t\r\n", max_size=3))
        text = ws + text + ws[::-1]
    # A decoded lone surrogate escape can't be UTF-8: the bytes are then invalid, also a case.
    return text.encode("utf-8", "surrogatepass")


@st.composite
def frames(draw: st.DrawFn) -> bytes:
    """A syntactically valid frame of any kind (its content may still break the rules)."""
    kind = draw(st.sampled_from([2, 3, 4]))
    if kind == 2:
        frame: list[Any] = [2, draw(message_ids), draw(actions), draw(json_objects)]
    elif kind == 3:
        frame = [3, draw(message_ids), draw(json_objects)]
    else:
        code, description = draw(st.text(max_size=20)), draw(st.text(max_size=20))
        frame = [4, draw(message_ids), code, description, draw(json_objects)]
    return draw(dumped(frame))


JSONISH = [
    *b'[]{}",:-.eE+0123456789 \t\r\nu\\/',
    *b"truefalsenull",
    0x00,
    0x01,
    0x0C,
    0x7F,
]
jsonish_bytes = st.lists(st.sampled_from(JSONISH), max_size=60).map(bytes)
jsonish_text = st.text(alphabet='[]{}",:-.eE+012349 \\ud8c0"tfn\x01é😀', max_size=60)

# Replacement fragments for mutations: each is a plausible way for a peer to go wrong.
FRAGMENTS = [
    b"",
    b" ",
    b"\t\n\r",
    b"\x0c",
    b"\xc2\xa0",
    b",",
    b",,",
    b"]",
    b"[",
    b"{",
    b"}",
    b":",
    b'"',
    b"\\",
    b"\\x",
    b"\\u",
    b"\\u12",
    b"\\ud800",
    b"\\udc00",
    b"\\ud83d\\ude00",
    b"\x00",
    b"\x1f",
    b"\xff",
    b"\xc3",
    b"\xed\xa0\x80",
    b"0",
    b"01",
    b"-",
    b"1.",
    b".5",
    b"1e",
    b"+1",
    b"NaN",
    b"Infinity",
    b"-0",
    b"2.0",
    b"true",
    b"nul",
    b"null",
    b"{}",
    b"[]",
    b'""',
    b'"x"',
    b'"' + b"x" * 37 + b'"',
    b'"' + "é".encode() * 36 + b'"',
    b'"Heartbeat"',
    b'"heartbeat"',
    b'"' + b"U" * 80 + b'"',
    b'{"a":' * 65 + b"1" + b"}" * 65,
    b"[" * 64 + b"]" * 64,
    b"[" * 65 + b"]" * 65,
    b',{"extra":1}',
    b',"extra"',
]


@st.composite
def mutated_frames(draw: st.DrawFn) -> bytes:
    """A valid frame with one to three targeted edits."""
    data = bytearray(draw(frames()))
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["truncate", "insert", "replace", "delete", "element"]))
        at = draw(st.integers(0, len(data)))
        if op == "truncate":
            del data[at:]
        elif op == "insert":
            data[at:at] = draw(st.sampled_from(FRAGMENTS))
        elif op == "replace":
            size = draw(st.integers(1, 8))
            data[at : at + size] = draw(st.sampled_from(FRAGMENTS))
        elif op == "delete":
            del data[at : at + draw(st.integers(1, 4))]
        else:
            # Replace a whole top-level element: swapped types, extra or missing elements.
            data = bytearray(_swap_element(bytes(data), draw))
    return bytes(data)


def _swap_element(data: bytes, draw: st.DrawFn) -> bytes:
    try:
        frame = json.loads(data)
    except ValueError:
        return data
    if not isinstance(frame, list):
        return data
    choice = draw(st.sampled_from(["set", "append", "drop"]))
    if choice == "set" and frame:
        frame[draw(st.integers(0, len(frame) - 1))] = draw(json_values)
    elif choice == "append":
        frame.append(draw(json_values))
    elif frame:
        del frame[draw(st.integers(0, len(frame) - 1))]
    result: bytes = draw(dumped(frame))
    return result


# --- parse properties -------------------------------------------------------------------------


@MANY
@given(st.binary(max_size=120))
@example(b"")
@example(b"\xff\xfe")
def test_random_bytes(data: bytes) -> None:
    check(data)


@MANY
@given(st.binary(max_size=80).map(lambda tail: b"[" + tail))
def test_random_bytes_after_an_open_bracket(data: bytes) -> None:
    check(data)


@MANY
@given(st.sampled_from([b"[2,", b"[3,", b"[4,", b'[2,"a",', b'[3,"a",', b'[4,"a",']), jsonish_bytes)
def test_jsonish_bytes_after_a_frame_prefix(prefix: bytes, tail: bytes) -> None:
    check(prefix + tail)


@MANY
@given(jsonish_text)
def test_jsonish_text(text: str) -> None:
    check(text.encode("utf-8", "surrogatepass"))


@SOME
@given(frames())
def test_valid_frames(data: bytes) -> None:
    check(data)


@MUTATIONS
@given(mutated_frames())
def test_mutated_frames(data: bytes) -> None:
    check(data)


@SOME
@given(frames(), st.data())
def test_truncated_frames(data: bytes, draw: st.DataObject) -> None:
    at = draw.draw(st.integers(0, len(data)))
    check(data[:at])


def test_every_truncation_of_a_few_frames() -> None:
    for data in (
        b'[2,"3f2504e0-4f89-11d3-9a0c-0305e82c3301","TransactionEvent",{"seqNo":1,"a":[1,{}]}]',
        '[3, "é\\u00e9", {"k": [1, -2.5e3, true, null, "\\ud83d\\ude00"], "e": {}}]'.encode(),
        b'[4,"x","GenericError","d\\n",{"k":{"l":[[],[{}]]}}]',
        b'[9,"x",{}]',
    ):
        for at in range(len(data) + 1):
            check(data[:at])


NESTING_CORES = [b"1", b"{}", b"[]", b"", b'"s"', b'[1,{"a":1}]', b'{"a":1,"b":[]}']


def _nested(levels: list[bool], core: bytes, unclosed: int) -> bytes:
    opening = b"".join(b'{"k":' if is_object else b"[" for is_object in levels)
    closing = b"".join(b"}" if is_object else b"]" for is_object in reversed(levels))
    return b'[3,"a",' + opening + core + closing[: len(closing) - unclosed] + b"]"


def test_nesting_around_the_limit() -> None:
    for depth in range(60, 67):
        for pattern in ([True], [False], [True, False]):
            levels = [True, *(pattern * depth)[: depth - 1]]
            for core in NESTING_CORES:
                for unclosed in (0, 1):
                    check(_nested(levels, core, unclosed))


@SOME
@given(
    st.integers(58, 68),
    st.lists(st.booleans(), min_size=68, max_size=68),
    st.sampled_from(NESTING_CORES),
    st.sampled_from([0, 0, 0, 1, 2]),
)
def test_deep_nesting(depth: int, kinds: list[bool], core: bytes, unclosed: int) -> None:
    """Payloads nested around the limit; `kinds` says object (True) or array for each level
    below the payload object."""
    check(_nested([True, *kinds[: depth - 1]], core, unclosed))


NUMBERISH = st.text(alphabet="-+0123456789.eE", min_size=1, max_size=8).map(str.encode)


@MANY
@given(NUMBERISH, st.sampled_from([b'{"k":%s}', b'{"k":[%s,1]}', b'{"k":[1,%s]}', b"{%s}"]))
def test_number_tokens(number: bytes, template: bytes) -> None:
    check(b'[3,"a",' + template % number + b"]")
    check(b"[" + number + b',"a",{}]')


WHITESPACEISH = [b" ", b"\t", b"\n", b"\r", b"\x0b", b"\x0c", b"\x00", b"\xc2\xa0", b"\xe2\x80\x8b"]
SPACEABLE = [
    b'[2,"a","Heartbeat",{"k":[1,{"l":true},[]],"m":"n"}]',
    b'[3,"a",{"k":[null,{},[[]]]}]',
    b'[4,"a","C","d",{"k":{"l":[1,2]}}]',
    b'[7,"a",{}]',
]


@MANY
@given(
    st.sampled_from(SPACEABLE),
    st.lists(st.tuples(st.integers(0, 60), st.sampled_from(WHITESPACEISH)), max_size=4),
)
def test_whitespace_variations(data: bytes, insertions: list[tuple[int, bytes]]) -> None:
    spaced = bytearray(data)
    for at, ws in insertions:
        spaced[at:at] = ws
    check(bytes(spaced))


@SOME
@given(
    message_ids,
    unknown_actions,
    st.integers(-9, 9) | st.integers(10**29, 10**34) | st.integers(-(10**34), -(10**29)),
    st.booleans(),
)
def test_ids_actions_and_type_ids(message_id: str, action: str, type_id: int, known: bool) -> None:
    if known:
        action = ACTIONS[abs(type_id) % len(ACTIONS)]
    frame = json.dumps([type_id, message_id, action, {}]).encode()
    check(frame)


hex_quads = st.text(alphabet="0123456789abcdefABCDEF", min_size=4, max_size=4) | st.sampled_from(
    ["d800", "DBFF", "dc00", "DFFF", "d83d", "de00", "D7FF", "E000", "0000", "001f"]
)
string_pieces = st.lists(
    st.sampled_from(
        [b"a", b"\\\\", b'\\"', b"\\/", b"\\n", b"\\b", b"\\x", b"\\", b"\\u", b"\\u12", b"\x01"]
    )
    | st.sampled_from([b"\x7f", "é".encode(), "😀".encode()])
    | hex_quads.map(lambda quad: b"\\u" + quad.encode()),
    max_size=8,
).map(b"".join)


@MANY
@given(string_pieces, st.sampled_from(["id", "action", "key", "value", "code", "description"]))
def test_string_escapes(contents: bytes, where: str) -> None:
    token = b'"' + contents + b'"'
    frames = {
        "id": b"[3," + token + b",{}]",
        "action": b'[2,"a",' + token + b",{}]",
        "key": b'[3,"a",{' + token + b":1}]",
        "value": b'[3,"a",{"k":[' + token + b"]}]",
        "code": b'[4,"a",' + token + b',"d",{}]',
        "description": b'[4,"a","C",' + token + b",{}]",
    }
    check(frames[where])


# --- build properties -------------------------------------------------------------------------

any_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=50)
ascii_control_text = st.text(st.characters(max_codepoint=0x7F), max_size=50)
strings = any_text | ascii_control_text
payload_bytes = st.binary(max_size=30) | json_objects.map(lambda o: json.dumps(o).encode())


@SOME
@given(strings, strings, payload_bytes)
def test_build_call_is_identical(message_id: str, action: str, payload: bytes) -> None:
    assert _native.build_call(message_id, action, payload) == _frames_py.build_call(
        message_id, action, payload
    )


@SOME
@given(strings, payload_bytes)
def test_build_result_is_identical(message_id: str, payload: bytes) -> None:
    assert _native.build_result(message_id, payload) == _frames_py.build_result(message_id, payload)


@SOME
@given(strings, strings, strings, payload_bytes)
def test_build_error_is_identical(message_id: str, code: str, desc: str, details: bytes) -> None:
    rust = _native.build_error(message_id, code, desc, details)
    assert rust == _frames_py.build_error(message_id, code, desc, details)


@SOME
@given(strings)
def test_built_strings_are_the_json_of_the_string(text: str) -> None:
    built = _native.build_result(text, b"{}")
    assert json.loads(built) == [3, text, {}]


@SOME
@given(st.text(st.characters(categories=["Cs"]), min_size=1, max_size=3), strings)
def test_lone_surrogates_raise_in_both(bad: str, good: str) -> None:
    for codec in (_native, _frames_py):
        for args in ((bad, good, b"{}"), (good, bad, b"{}")):
            try:
                codec.build_call(*args)
            except UnicodeEncodeError:
                pass
            else:
                raise AssertionError(f"{codec.__name__}.build_call{args!r} did not raise")


@SOME
@given(message_ids, st.sampled_from(ACTIONS), json_objects)
def test_built_call_parses_back(message_id: str, action: str, payload: Any) -> None:
    raw = json.dumps(payload, separators=(",", ":")).encode()
    data = _native.build_call(message_id, action, raw)
    result = check(data)
    if len(message_id) > 36:
        assert result == (
            0,
            "-1",
            "RpcFrameworkError",
            2,
            -1,
            "MessageId is longer than 36 characters",
        )
    else:
        assert result == (
            2,
            message_id,
            ACTIONS.index(action),
            len(data) - len(raw) - 1,
            len(data) - 1,
            None,
        )


@SOME
@given(message_ids, json_objects)
def test_built_result_parses_back(message_id: str, payload: Any) -> None:
    raw = json.dumps(payload, ensure_ascii=False).encode()
    data = _frames_py.build_result(message_id, raw)
    result = check(data)
    if len(message_id) <= 36:
        assert result == (3, message_id, None, len(data) - len(raw) - 1, len(data) - 1, None)


@SOME
@given(st.text(max_size=36), strings, strings, json_objects)
def test_built_error_parses_back(message_id: str, code: str, desc: str, details: Any) -> None:
    raw = json.dumps(details).encode()
    data = _native.build_error(message_id, code, desc, raw)
    result = check(data)
    assert result == (4, message_id, code, len(data) - len(raw) - 1, len(data) - 1, desc)
