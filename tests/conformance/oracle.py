"""What the test tool checks of every message the CSMS sends: OCPP-J framing and JSON schema.

Part 6 §1.2: every message from the system under test is validated against the OCPP 2.0.1 JSON
schemas. This oracle does it independently of the CSMS's own codec: it re-reads the station's
frame log with `json` and validates with `jsonschema` against the schemas of the `ocpp` package
(the OCA's published files), so a bug shared by our codec and our handlers cannot hide itself.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any, Final

import jsonschema
import ocpp

from trio_csms.sim import FrameRecord

SCHEMAS: Final = Path(ocpp.__file__).parent / "v201" / "schemas"

# Part 4 §4.3, the RPC framework's error codes (OCPP 2.0.1 Edition 3).
ERROR_CODES: Final = frozenset(
    {
        "FormatViolation",
        "GenericError",
        "InternalError",
        "MessageTypeNotSupported",
        "NotImplemented",
        "NotSupported",
        "OccurrenceConstraintViolation",
        "PropertyConstraintViolation",
        "ProtocolError",
        "RpcFrameworkError",
        "SecurityError",
        "TypeConstraintViolation",
    }
)


@cache
def validator(name: str) -> jsonschema.protocols.Validator:
    """A draft-06 validator with format checks for the schema `name` (e.g. "ResetRequest")."""
    schema = json.loads((SCHEMAS / f"{name}.json").read_text(encoding="utf-8"))
    checker = jsonschema.Draft6Validator.FORMAT_CHECKER
    validator: jsonschema.protocols.Validator = jsonschema.Draft6Validator(
        schema, format_checker=checker
    )
    return validator


def schema_errors(name: str, payload: object) -> list[str]:
    """Every violation of schema `name` by `payload`, as readable lines; empty if valid."""
    return [
        f"{name} at /{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in validator(name).iter_errors(payload)
    ]


def check_frames(frames: Iterable[FrameRecord]) -> list[str]:
    """Check every frame the CSMS sent (direction "received" at the station).

    Returns one line per problem: a frame that is not an OCPP-J message, a CALL or CALLRESULT
    whose payload breaks its schema, a CALLRESULT or CALLERROR answering no CALL of the
    station, or a CALLERROR with an unknown code.
    """
    problems: list[str] = []
    station_calls: dict[str, str] = {}  # our CALLs' message ids -> action
    for record in frames:
        try:
            frame = json.loads(record.text)
        except ValueError:
            if record.direction == "received":
                problems.append(f"not JSON: {record.text[:200]!r}")
            continue
        if record.direction == "sent":
            if isinstance(frame, list) and len(frame) == 4 and frame[0] == 2:
                station_calls[str(frame[1])] = str(frame[2])
            continue
        problems += _check_received(frame, station_calls)
    return problems


def _check_received(frame: Any, station_calls: dict[str, str]) -> list[str]:
    shapes = {2: 4, 3: 3, 4: 5}
    if not (
        isinstance(frame, list)
        and frame
        and frame[0] in shapes
        and len(frame) == shapes[frame[0]]
        and isinstance(frame[1], str)
        and 0 < len(frame[1]) <= 36
    ):
        return [f"not an OCPP-J CALL, CALLRESULT or CALLERROR: {frame!r:.200}"]
    kind, message_id = frame[0], frame[1]
    if kind == 2:
        action = frame[2]
        if not (SCHEMAS / f"{action}Request.json").exists():
            return [f"CALL of unknown action {action!r}"]
        return schema_errors(f"{action}Request", frame[3])
    action = station_calls.pop(message_id, None)
    if kind == 3:
        if action is None:
            return [f"CALLRESULT answering no CALL of the station: {frame!r:.200}"]
        return schema_errors(f"{action}Response", frame[2])
    # A CALLERROR may answer a CALL whose id could not be read (Part 4 §4.2.3: id "-1").
    code, description, details = frame[2], frame[3], frame[4]
    if code not in ERROR_CODES or not isinstance(description, str):
        return [f"malformed CALLERROR for {action}: {frame!r:.200}"]
    if not isinstance(details, dict):
        return [f"CALLERROR details for {action} is not an object: {frame!r:.200}"]
    return []
