"""Converting messages to the wire-shaped dicts the store keeps."""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec

from ..messages import Message

T = TypeVar("T")


def to_wire(message: Message) -> dict[str, Any]:
    """A message or datatype as a JSON-ready dict with the spec's camelCase names.

    Fields left UNSET are omitted; date-times become RFC 3339 strings.
    """
    wire: dict[str, Any] = msgspec.to_builtins(message)
    return wire


def given(value: T | msgspec.UnsetType) -> T | None:
    """An optional field's value, or None when the station left it out."""
    return None if value is msgspec.UNSET else value
