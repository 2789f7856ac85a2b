"""Opaque page cursors of the operator API's lists (`GET /api/v1/transactions`).

A page's `next` is the key of its last item, wrapped so that clients pass it back as it is
(`?after=<next>`) rather than build keys themselves: the key's form can change without
breaking them. The wrapping is base64url (no padding) of a version tag and the key; it is
not a secret, just not a contract.
"""

from __future__ import annotations

import base64
import binascii
import re

_TAG = "v1:"
_CURSOR = re.compile(r"[A-Za-z0-9_-]{1,4096}")


class InvalidCursor(ValueError):
    """The text is not a cursor this API made."""


def encode_cursor(key: str) -> str:
    """The cursor of a store page key (e.g. "<stationId>/<transactionId>")."""
    return base64.urlsafe_b64encode((_TAG + key).encode()).decode("ascii").rstrip("=")


def decode_cursor(cursor: str) -> str:
    """The page key a cursor from `encode_cursor` holds.

    Raises:
        InvalidCursor: it is not one (wrong characters, not base64, another version, ...).
    """
    if not _CURSOR.fullmatch(cursor):
        raise InvalidCursor("not a cursor")
    padded = cursor + "=" * (-len(cursor) % 4)
    try:
        text = base64.urlsafe_b64decode(padded).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidCursor("not a cursor") from None
    if not text.startswith(_TAG):
        raise InvalidCursor("not a cursor of this API version")
    return text[len(_TAG) :]
