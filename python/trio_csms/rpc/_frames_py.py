"""The OCPP-J frame codec in pure Python: the reference twin of the Rust `trio_csms._native`.

`parse_frame` reads one WebSocket text frame (Part 4 §4.2: `[2, id, action, {payload}]`,
`[3, id, {payload}]`, `[4, id, errorCode, errorDescription, {errorDetails}]`) and returns
either its parts or the first fault with the CALLERROR that answers it; the `build_*`
functions write frames. Behaviour is identical to `rust/src/frame.rs`, byte for byte, and
`tests/unit/test_frames_equivalence.py` holds the two to it: change both or neither.

Used when `TRIO_CSMS_NATIVE=0`; import `trio_csms.rpc.frames`, not this module. It knows
nothing about message schemas (a payload is only checked to be a well-formed JSON object and
reported as a byte range), sockets or Trio.

The JSON grammar is RFC 8259, strictly, spelled as regular expressions: whitespace is only
space, tab, LF and CR; strings may not hold raw control characters, bad escapes or lone
surrogate escapes; numbers are `-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][+-]?[0-9]+)?`; containers
nest at most `MAX_DEPTH` deep. All positions are byte offsets into the frame.
"""

from __future__ import annotations

import json
import re
from typing import Final

from .errors import ErrorCode

__all__ = [
    "ACTION_NAMES",
    "MAX_DEPTH",
    "FrameTuple",
    "build_call",
    "build_error",
    "build_result",
    "parse_frame",
]

FrameTuple = tuple[int, str, int | str | None, int, int, str | None]
"""What `parse_frame` returns; see `trio_csms.rpc.frames` for the contract."""

ACTION_NAMES: Final[tuple[str, ...]] = (
    "Authorize",
    "BootNotification",
    "CancelReservation",
    "CertificateSigned",
    "ChangeAvailability",
    "ClearCache",
    "ClearChargingProfile",
    "ClearDisplayMessage",
    "ClearVariableMonitoring",
    "ClearedChargingLimit",
    "CostUpdated",
    "CustomerInformation",
    "DataTransfer",
    "DeleteCertificate",
    "FirmwareStatusNotification",
    "Get15118EVCertificate",
    "GetBaseReport",
    "GetCertificateStatus",
    "GetChargingProfiles",
    "GetCompositeSchedule",
    "GetDisplayMessages",
    "GetInstalledCertificateIds",
    "GetLocalListVersion",
    "GetLog",
    "GetMonitoringReport",
    "GetReport",
    "GetTransactionStatus",
    "GetVariables",
    "Heartbeat",
    "InstallCertificate",
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
    "PublishFirmware",
    "PublishFirmwareStatusNotification",
    "ReportChargingProfiles",
    "RequestStartTransaction",
    "RequestStopTransaction",
    "ReservationStatusUpdate",
    "ReserveNow",
    "Reset",
    "SecurityEventNotification",
    "SendLocalList",
    "SetChargingProfile",
    "SetDisplayMessage",
    "SetMonitoringBase",
    "SetMonitoringLevel",
    "SetNetworkProfile",
    "SetVariableMonitoring",
    "SetVariables",
    "SignCertificate",
    "StatusNotification",
    "TransactionEvent",
    "TriggerMessage",
    "UnlockConnector",
    "UnpublishFirmware",
    "UpdateFirmware",
)
"""Every OCPP 2.0.1 CALL Action (Part 4 §4.1.6), sorted; the twin of `rust/src/actions.rs`.
A CALL's action is reported as an index into this tuple (the order of
`trio_csms.messages.ACTIONS`, which a unit test checks)."""

_ACTION_INDEX: Final[dict[str, int]] = {name: i for i, name in enumerate(ACTION_NAMES)}

MAX_DEPTH: Final = 64
"""The deepest nesting of objects and arrays a payload may have, the payload itself counting
as 1. OCPP payloads nest fewer than 10 deep; the limit bounds a hostile peer's cost."""

MAX_MESSAGE_ID_CHARS: Final = 36
"""Part 4 §4.1.4: messageId is a string[36] (room for a UUID)."""

_MAX_QUOTED_ACTION_CHARS: Final = 64
_MAX_QUOTED_TYPE_ID_CHARS: Final = 32

# Plain `str` values, so the result tuples equal the Rust ones in type as well as value.
_RPC: Final[str] = ErrorCode.RpcFrameworkError.value
_FORMAT: Final[str] = ErrorCode.FormatViolation.value
_NOT_IMPLEMENTED: Final[str] = ErrorCode.NotImplemented.value
_TYPE_NOT_SUPPORTED: Final[str] = ErrorCode.MessageTypeNotSupported.value

_ELEMENT_COUNT: Final[dict[int, str]] = {
    2: "CALL must have 4 elements",
    3: "CALLRESULT must have 3 elements",
    4: "CALLERROR must have 5 elements",
}

# --- JSON tokens (bytes patterns; possessive quantifiers keep every match linear) -------------
#
# Patterns are spelled as templates: `%(name)s` stands for the pattern of that name in `_P`.

_P: dict[bytes, bytes] = {b"ws": rb"[ \t\n\r]*+"}


def _define(name: str, template: bytes) -> bytes:
    """Expand `template` with the patterns defined so far and define it as `name`."""
    pattern = template % _P
    _P[name.encode()] = pattern
    return pattern


# A \u escape: a non-surrogate, or a high surrogate immediately followed by a low one.
_define(
    "u_escape",
    rb"u(?:[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}"
    rb"|(?![dD][89a-fA-F])[0-9a-fA-F]{4})",
)
_define("char", rb'[^"\\\x00-\x1f]')
_STRING = _define("string", rb'"%(char)s*+(?:\\(?:["\\/bfnrt]|%(u_escape)s)%(char)s*+)*+"')
_define("number", rb"-?(?:0|[1-9][0-9]*+)(?:\.[0-9]++)?+(?:[eE][+-]?[0-9]++)?+")
_define("scalar", rb"(?:%(string)s|%(number)s|true|false|null)")
_define("member", rb"%(string)s%(ws)s:%(ws)s%(scalar)s")
_define("key", rb"%(string)s%(ws)s:")
# Shortcuts: a container holding only scalars (most of an OCPP payload) is one match, and so is
# a run of scalar members or elements; they accept exactly what token-by-token matching would.
_define("flat_object", rb"\{%(ws)s(?:%(member)s(?:%(ws)s,%(ws)s%(member)s)*+%(ws)s)?+\}")
_define("flat_array", rb"\[%(ws)s(?:%(scalar)s(?:%(ws)s,%(ws)s%(scalar)s)*+%(ws)s)?+\]")

_PLAIN_STRING_RE = re.compile(rb'"(%(char)s*+)"' % _P)
_STRING_RE = re.compile(_STRING)

# The validator's states. A value is due: group 1 is a flat container, 2 is `{`, 3 is `[`,
# none is a scalar.
_VALUE_RE = re.compile(rb"%(ws)s(?:(%(flat_object)s|%(flat_array)s)|(\{)|(\[)|%(scalar)s)" % _P)
# After `{`, and after `[`: group 1 is the close of an empty container.
_OBJECT_FIRST_RE = re.compile(rb"%(ws)s(?:(\})|%(key)s)" % _P)
_ARRAY_FIRST_RE = re.compile(rb"%(ws)s(\])?" % _P)
# After a member, and after an element: a run of scalar ones, then group 1 is the close.
_OBJECT_NEXT_RE = re.compile(rb"(?:%(ws)s,%(ws)s%(member)s)*+%(ws)s(?:(\})|,%(ws)s%(key)s)" % _P)
_ARRAY_NEXT_RE = re.compile(rb"(?:%(ws)s,%(ws)s%(scalar)s)*+%(ws)s(?:(\])|,)" % _P)

# --- frame structure --------------------------------------------------------------------------

_OPEN_RE = re.compile(rb"%(ws)s\[%(ws)s" % _P)
# Part 4 §4.1.3: an integer literal; a following digit (`02`), fraction or exponent disqualifies.
_TYPE_ID_RE = re.compile(rb"-?(?:0|[1-9][0-9]*+)(?![0-9.eE])")
_COMMA_RE = re.compile(rb"%(ws)s,%(ws)s" % _P)
# Between elements: group 1 is a `]` where another element is due.
_SEPARATOR_RE = re.compile(rb"%(ws)s(?:,%(ws)s|(\]))" % _P)
# After the last element: group 1 is the end of the frame, group 2 a `,` (one element too many).
_END_RE = re.compile(rb"%(ws)s(?:(\]%(ws)s\Z)|(,))" % _P)


def _read_string(data: bytes, pos: int) -> tuple[str, int] | None:
    """The unescaped string token at `pos` and the position after it, or None if there is no
    valid string token there."""
    m = _PLAIN_STRING_RE.match(data, pos)
    if m is not None:
        return m.group(1).decode(), m.end()
    m = _STRING_RE.match(data, pos)
    if m is None:
        return None
    # The token is valid strict JSON, so the stdlib decodes its escapes exactly as we would.
    value: str = json.loads(m.group())
    return value, m.end()


def _skip_value(data: bytes, pos: int) -> int:
    """The end of the well-formed JSON value that starts at `pos`, or -1 if it is not one.

    Iterative: `stack` holds one bool per open container (True for an object), so hostile
    nesting costs no recursion; a container deeper than `MAX_DEPTH` makes the value invalid.
    """
    stack: list[bool] = []
    while True:
        m = _VALUE_RE.match(data, pos)
        if m is None:
            return -1
        pos = m.end()
        found = m.lastindex
        if found is not None:
            if len(stack) == MAX_DEPTH:
                return -1
            if found != 1:  # `{` or `[` with a nested container inside
                is_object = found == 2
                m = (_OBJECT_FIRST_RE if is_object else _ARRAY_FIRST_RE).match(data, pos)
                if m is None:
                    return -1
                pos = m.end()
                if m.lastindex is None:  # not empty: a value is due
                    stack.append(is_object)
                    continue
        # A value is complete: close containers until one expects another element.
        while stack:
            m = (_OBJECT_NEXT_RE if stack[-1] else _ARRAY_NEXT_RE).match(data, pos)
            if m is None:
                return -1
            pos = m.end()
            if m.lastindex is None:  # a separator: another value is due
                break
            stack.pop()
        else:
            return pos


def parse_frame(data: bytes) -> FrameTuple:
    """Parse one OCPP-J frame; see `trio_csms.rpc.frames.parse_frame` for the contract.

    Never raises for `bytes` input.

    Raises:
        TypeError: `data` is not `bytes`.
    """
    if not isinstance(data, bytes):
        raise TypeError(f"'{type(data).__name__}' object is not an instance of 'bytes'")
    # Part 4 §4.1.2: the whole message must be UTF-8.
    if not data.isascii():
        try:
            data.decode()
        except UnicodeDecodeError:
            return (0, "-1", _RPC, 0, -1, "frame is not valid UTF-8")

    m = _OPEN_RE.match(data)
    if m is None:
        return (0, "-1", _RPC, 0, -1, "frame is not a JSON array")

    # Part 4 §4.1.3 MessageTypeId.
    m = _TYPE_ID_RE.match(data, m.end())
    if m is None:
        return (0, "-1", _RPC, 0, -1, "MessageTypeId is not an integer")
    literal = m.group()
    pos = m.end()
    if literal == b"2":
        kind = 2
    elif literal == b"3":
        kind = 3
    elif literal == b"4":
        kind = 4
    else:
        # §4.1.3: the payload of an unknown type is ignored; answer with its id if readable.
        unsupported = _unsupported_type_id(data, pos)
        quoted = literal[:_MAX_QUOTED_TYPE_ID_CHARS].decode()
        return (
            0,
            unsupported,
            _TYPE_NOT_SUPPORTED,
            0,
            -1,
            f"MessageTypeId {quoted} is not supported",
        )

    # Part 4 §4.1.4 MessageId.
    m = _COMMA_RE.match(data, pos)
    found = None if m is None else _read_string(data, m.end())
    if found is None:
        return (0, "-1", _RPC, kind, -1, "MessageId is not a string")
    message_id, pos = found
    if len(message_id) > MAX_MESSAGE_ID_CHARS:
        return (0, "-1", _RPC, kind, -1, "MessageId is longer than 36 characters")

    m = _SEPARATOR_RE.match(data, pos)
    if m is None:
        return (0, message_id, _RPC, kind, -1, "frame is not valid JSON")
    if m.group(1) is not None:
        return (0, message_id, _RPC, kind, -1, _ELEMENT_COUNT[kind])
    pos = m.end()

    if kind == 2:
        # §4.2.1 [2, id, action, {payload}]
        found = _read_string(data, pos)
        if found is None:
            return (0, message_id, _RPC, 2, -1, "Action is not a string")
        action, pos = found
        index = _ACTION_INDEX.get(action)
        if index is None:
            quoted = action[:_MAX_QUOTED_ACTION_CHARS]
            return (0, message_id, _NOT_IMPLEMENTED, 2, -1, f"unknown action: {quoted}")
        m = _SEPARATOR_RE.match(data, pos)
        if m is None:
            return (0, message_id, _RPC, 2, -1, "frame is not valid JSON")
        if m.group(1) is not None:
            return (0, message_id, _RPC, 2, -1, _ELEMENT_COUNT[2])
        start = m.end()
        if data[start : start + 1] != b"{":
            return (0, message_id, _FORMAT, 2, -1, "payload is not a JSON object")
        end = _skip_value(data, start)
        if end < 0:
            return (0, message_id, _FORMAT, 2, -1, "payload is not valid JSON")
        fault = _end_fault(data, end, 2)
        if fault is not None:
            return (0, message_id, _RPC, 2, -1, fault)
        return (2, message_id, index, start, end, None)

    if kind == 3:
        # §4.2.2 [3, id, {payload}]
        start = pos
        if data[start : start + 1] != b"{":
            return (0, message_id, _FORMAT, 3, -1, "payload is not a JSON object")
        end = _skip_value(data, start)
        if end < 0:
            return (0, message_id, _FORMAT, 3, -1, "payload is not valid JSON")
        fault = _end_fault(data, end, 3)
        if fault is not None:
            return (0, message_id, _RPC, 3, -1, fault)
        return (3, message_id, None, start, end, None)

    # §4.2.3 [4, id, errorCode, errorDescription, {errorDetails}]
    found = _read_string(data, pos)
    if found is None:
        return (0, message_id, _RPC, 4, -1, "ErrorCode is not a string")
    code, pos = found
    m = _SEPARATOR_RE.match(data, pos)
    if m is None:
        return (0, message_id, _RPC, 4, -1, "frame is not valid JSON")
    if m.group(1) is not None:
        return (0, message_id, _RPC, 4, -1, _ELEMENT_COUNT[4])
    found = _read_string(data, m.end())
    if found is None:
        return (0, message_id, _RPC, 4, -1, "ErrorDescription is not a string")
    description, pos = found
    m = _SEPARATOR_RE.match(data, pos)
    if m is None:
        return (0, message_id, _RPC, 4, -1, "frame is not valid JSON")
    if m.group(1) is not None:
        return (0, message_id, _RPC, 4, -1, _ELEMENT_COUNT[4])
    start = m.end()
    if data[start : start + 1] != b"{":
        return (0, message_id, _FORMAT, 4, -1, "ErrorDetails is not a JSON object")
    end = _skip_value(data, start)
    if end < 0:
        return (0, message_id, _FORMAT, 4, -1, "ErrorDetails is not valid JSON")
    fault = _end_fault(data, end, 4)
    if fault is not None:
        return (0, message_id, _RPC, 4, -1, fault)
    return (4, message_id, code, start, end, description)


def _unsupported_type_id(data: bytes, pos: int) -> str:
    """The id after an unsupported MessageTypeId (`, "id"`), or "-1" if it can't be read."""
    m = _COMMA_RE.match(data, pos)
    found = None if m is None else _read_string(data, m.end())
    if found is None or len(found[0]) > MAX_MESSAGE_ID_CHARS:
        return "-1"
    return found[0]


def _end_fault(data: bytes, pos: int, kind: int) -> str | None:
    """After the last element: whitespace, `]`, whitespace, end of input; else the fault."""
    m = _END_RE.match(data, pos)
    if m is None:
        return "frame is not valid JSON"
    if m.group(2) is not None:
        return _ELEMENT_COUNT[kind]
    return None


# --- building ---------------------------------------------------------------------------------

_NEEDS_ESCAPE_RE = re.compile(r'["\\\x00-\x1f]')
_ESCAPES: Final[dict[int, str]] = {
    **{c: f"\\u{c:04x}" for c in range(0x20)},
    ord("\b"): "\\b",
    ord("\f"): "\\f",
    ord("\n"): "\\n",
    ord("\r"): "\\r",
    ord("\t"): "\\t",
    ord('"'): '\\"',
    ord("\\"): "\\\\",
}


def _quote(text: str) -> bytes:
    """`text` as a JSON string token: `"` and `\\` escaped, control characters as the short
    escapes or `\\u00xx` (lowercase hex), everything else raw UTF-8.

    Raises:
        UnicodeEncodeError: `text` contains a lone surrogate (not encodable as UTF-8).
    """
    if _NEEDS_ESCAPE_RE.search(text) is not None:
        text = text.translate(_ESCAPES)
    return b'"' + text.encode() + b'"'


def build_call(message_id: str, action: str, payload: bytes) -> bytes:
    """`[2,"<message_id>","<action>",<payload>]` (Part 4 §4.2.1); the payload is inserted as
    given. Raises UnicodeEncodeError for a string with a lone surrogate."""
    return b"".join((b"[2,", _quote(message_id), b",", _quote(action), b",", payload, b"]"))


def build_result(message_id: str, payload: bytes) -> bytes:
    """`[3,"<message_id>",<payload>]` (Part 4 §4.2.2); the payload is inserted as given.
    Raises UnicodeEncodeError for a string with a lone surrogate."""
    return b"".join((b"[3,", _quote(message_id), b",", payload, b"]"))


def build_error(message_id: str, code: str, description: str, details: bytes) -> bytes:
    """`[4,"<message_id>","<code>","<description>",<details>]` (Part 4 §4.2.3); the details are
    inserted as given. Raises UnicodeEncodeError for a string with a lone surrogate."""
    return b"".join(
        (
            b"[4,",
            _quote(message_id),
            b",",
            _quote(code),
            b",",
            _quote(description),
            b",",
            details,
            b"]",
        )
    )
