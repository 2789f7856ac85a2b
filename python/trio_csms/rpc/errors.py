"""OCPP-J RPC error codes (Part 4 §4.3) and the errors that carry them.

Knows nothing about sockets, Trio or storage. An `OcppError` is a value that says which
CALLERROR to send (or that nothing may be sent); `payload_error` turns a msgspec decode failure
into the right one.
"""

from __future__ import annotations

import enum
import re

import msgspec

MAX_DESCRIPTION = 255
"""Part 4 §4.2.3: errorDescription is a string[255]."""


class ErrorCode(enum.StrEnum):
    """The only values allowed in a CALLERROR's errorCode (Part 4 §4.3, table 8)."""

    #: The payload for the action is not syntactically correct JSON, or not a JSON object.
    FormatViolation = "FormatViolation"
    #: Any other error not covered by a more specific code.
    GenericError = "GenericError"
    #: The receiver failed internally while handling an otherwise acceptable request.
    InternalError = "InternalError"
    #: The MessageTypeId is not 2, 3 or 4.
    MessageTypeNotSupported = "MessageTypeNotSupported"
    #: The Action is not an OCPP 2.0.1 action.
    NotImplemented = "NotImplemented"
    #: The Action is known, but this side does not support receiving it.
    NotSupported = "NotSupported"
    #: A field occurs the wrong number of times: required field missing, too few/many items.
    OccurrenceConstraintViolation = "OccurrenceConstraintViolation"
    #: A field has a value that is not allowed: enum, range, string length, date-time.
    PropertyConstraintViolation = "PropertyConstraintViolation"
    #: The payload does not match the message's structure: a property it does not define.
    ProtocolError = "ProtocolError"
    #: The frame is not a valid RPC message: unreadable id, wrong number of elements, ...
    RpcFrameworkError = "RpcFrameworkError"
    #: A security rule stops the request, e.g. a CALL before BootNotification was accepted.
    SecurityError = "SecurityError"
    #: A field has the wrong JSON type, e.g. a string where an integer is expected.
    TypeConstraintViolation = "TypeConstraintViolation"


class OcppError(Exception):
    """A failure that maps to one CALLERROR.

    Attributes:
        code: the errorCode to send.
        description: the errorDescription, at most 255 characters.
        details: the errorDetails object (JSON-encodable), `{}` when there is nothing to add.
    """

    def __init__(self, code: ErrorCode, description: str, details: dict[str, object] | None = None):
        super().__init__(f"{code}: {description}")
        self.code = code
        self.description = description[:MAX_DESCRIPTION]
        self.details: dict[str, object] = details if details is not None else {}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, OcppError):
            return NotImplemented
        return (self.code, self.description, self.details) == (
            other.code,
            other.description,
            other.details,
        )

    def __hash__(self) -> int:
        return hash((self.code, self.description))


# msgspec's validation messages, mapped to the CALLERROR code that Part 4 §4.3 assigns to that
# kind of fault. Checked in order; the first match wins. tests/unit/test_errors.py pins every one.
_VALIDATION_RULES: tuple[tuple[re.Pattern[str], ErrorCode], ...] = (
    (re.compile(r"^Object missing required field"), ErrorCode.OccurrenceConstraintViolation),
    (re.compile(r"^Expected `array` of length"), ErrorCode.OccurrenceConstraintViolation),
    (re.compile(r"^Object contains unknown field"), ErrorCode.ProtocolError),
    (re.compile(r"^Expected `str` of length"), ErrorCode.PropertyConstraintViolation),
    (re.compile(r"^Expected `(int|float)` [<>]=?"), ErrorCode.PropertyConstraintViolation),
    (re.compile(r"^Invalid enum value"), ErrorCode.PropertyConstraintViolation),
    (re.compile(r"^Invalid RFC3339 encoded datetime"), ErrorCode.PropertyConstraintViolation),
    (re.compile(r"^Expected `datetime` with a timezone"), ErrorCode.PropertyConstraintViolation),
    (re.compile(r"^Expected `\w+`, got `\w+`"), ErrorCode.TypeConstraintViolation),
)


def payload_error(exc: msgspec.DecodeError) -> OcppError:
    """The CALLERROR for a payload that msgspec could not decode into its message type.

    A `msgspec.ValidationError` (valid JSON that breaks the schema) maps by the kind of rule it
    broke; any other `DecodeError` means the JSON itself is malformed: FormatViolation.
    The description is msgspec's message, which names the field by its JSON path
    (`... - at `$.chargingStation.model``) in wire names.
    """
    message = str(exc)
    if not isinstance(exc, msgspec.ValidationError):
        return OcppError(ErrorCode.FormatViolation, f"payload is not valid JSON: {message}")
    for pattern, code in _VALIDATION_RULES:
        if pattern.match(message):
            return OcppError(code, message)
    return OcppError(ErrorCode.FormatViolation, message)
