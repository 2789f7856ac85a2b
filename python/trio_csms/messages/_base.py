"""The base every OCPP 2.0.1 message and datatype shares, and the registry's record types.

Decoding a `Message` validates it against its schema: required fields, string maxLength,
integer/number minimum and maximum, array minItems/maxItems, enum values, RFC 3339 date-times
with an offset, and no unknown fields. Optional fields default to `UNSET` and are left out on
the wire (Part 4 §4.1.5 forbids sending them as null); a null where a value is expected is
rejected, as the schemas reject it.
"""

from __future__ import annotations

import enum
from typing import Annotated, NamedTuple

import msgspec
from msgspec import Meta


class Message(
    msgspec.Struct,
    kw_only=True,
    forbid_unknown_fields=True,
    rename="camel",
    gc=False,  # messages are trees of values and never form reference cycles
):
    """Base class of every OCPP 2.0.1 request, response and datatype."""


class CustomDataType(msgspec.Struct, kw_only=True, rename="camel", gc=False):
    """`customData`: a vendorId plus any vendor-specific properties (Part 4 §9).

    It is the only object the schemas leave open. Properties other than `vendorId` are accepted
    and ignored, as a CSMS that does not know the vendor must do (TC_P_03_CSMS).
    """

    vendor_id: Annotated[str, Meta(max_length=255)]


class Direction(enum.Enum):
    """Who sends the request of an action."""

    STATION_TO_CSMS = "Charging Station to CSMS"
    CSMS_TO_STATION = "CSMS to Charging Station"
    BOTH = "either side"

    def sent_by_station(self) -> bool:
        return self is not Direction.CSMS_TO_STATION

    def sent_by_csms(self) -> bool:
        return self is not Direction.STATION_TO_CSMS


class ActionSpec(NamedTuple):
    """One OCPP action: its CALL `Action` name, message types and direction."""

    action: str
    request: type[Message]
    response: type[Message]
    direction: Direction
