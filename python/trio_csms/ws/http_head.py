"""The head of an HTTP/1.1 request (RFC 9112 §2-5), parsed strictly and within limits.

Only what the websocket opening handshake needs: a request line and header fields, no body.
A general HTTP library (h11) cost more per connection than the rest of the handshake together
in a boot storm of thousands of stations; this parser does one regular-expression match per
line. Every malformed or oversized head is refused with the HTTP status that says why:
400 (malformed, no Host, a body), 431 (too large, too many fields), 505 (not HTTP/1.1).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

__all__ = ["MAX_FIELDS", "MAX_HEAD", "BadRequest", "RequestHead", "head_end", "parse_head"]

MAX_HEAD: Final = 16384
"""Bytes of request line and header fields accepted, blank line included."""
MAX_FIELDS: Final = 100
"""Header fields accepted in one request."""

# A blank line ends the head; like most servers we accept a bare LF as a line end (RFC 9112
# §2.2 allows it) and then ignore a CR before it.
_END: Final = re.compile(rb"\r?\n\r?\n")
_LINE: Final = re.compile(rb"\r?\n")
_TOKEN: Final = rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
# method SP request-target SP HTTP-version (§3); the target is visible ASCII only.
_REQUEST_LINE: Final = re.compile(rb"(" + _TOKEN + rb") ([\x21-\x7e]+) HTTP/([0-9])\.([0-9])")
# field-name ":" OWS field-value OWS (§5); no space before the colon (§5.1), no control
# characters but HTAB in the value (RFC 9110 §5.5).
_FIELD: Final = re.compile(rb"(" + _TOKEN + rb"):[ \t]*([\t\x20-\x7e\x80-\xff]*)")


class BadRequest(Exception):
    """The head is not an acceptable HTTP/1.1 request; `status` is the answer that says why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True)
class RequestHead:
    """A parsed request head.

    Attributes:
        method: e.g. b"GET" (case-sensitive, as sent).
        target: the request target, as sent (percent-encoded).
        headers: every header field in order, names lowercased, values without surrounding
            whitespace.
    """

    method: bytes
    target: bytes
    headers: list[tuple[bytes, bytes]]


def head_end(data: bytes) -> tuple[int, int] | None:
    """Where the blank line ending the head in `data` starts and ends, or None if it is not
    there yet. Looks only at the first `MAX_HEAD` bytes (and a few more, for a blank line at
    that edge): a longer head is refused anyway."""
    found = _END.search(data, 0, MAX_HEAD + 4)
    return None if found is None else found.span()


def parse_head(head: bytes) -> RequestHead:
    """Parse `head`: the request line and header lines, without the blank line after them.

    Raises:
        BadRequest: malformed (400), too large (431), not HTTP/1.1 (505), without exactly one
            Host field (400), or announcing a body (400).
    """
    if len(head) > MAX_HEAD:
        raise BadRequest(431, f"the request head is larger than {MAX_HEAD} bytes")
    request_line, *lines = _LINE.split(head)
    line = _REQUEST_LINE.fullmatch(request_line)
    if line is None:
        raise BadRequest(400, f"malformed request line: {_shown(request_line)}")
    method, target, major, minor = line.groups()
    if (major, minor) != (b"1", b"1"):
        raise BadRequest(505, "only HTTP/1.1 is supported")
    if len(lines) > MAX_FIELDS:
        raise BadRequest(431, f"more than {MAX_FIELDS} header fields")
    headers = [_field(text) for text in lines]
    _check_framing(headers)
    return RequestHead(method, target, headers)


def _field(text: bytes) -> tuple[bytes, bytes]:
    field = _FIELD.fullmatch(text)
    if field is None:
        if text[:1] in (b" ", b"\t"):
            raise BadRequest(400, "obsolete line folding in a header field")
        raise BadRequest(400, f"malformed header field: {_shown(text)}")
    name, value = field.groups()
    return name.lower(), value.rstrip(b" \t")


def _check_framing(headers: list[tuple[bytes, bytes]]) -> None:
    """Exactly one Host (RFC 9112 §3.2); no body, which an upgrade request never has and whose
    bytes would otherwise be taken for websocket frames."""
    if sum(1 for name, _ in headers if name == b"host") != 1:
        raise BadRequest(400, "exactly one Host header field is required")
    for name, value in headers:
        if name == b"transfer-encoding" or (name == b"content-length" and value != b"0"):
            raise BadRequest(400, "a websocket upgrade request has no body")


def _shown(text: bytes) -> str:
    """`text` for an error message: at most 80 bytes, non-ASCII escaped."""
    shown = repr(text[:80])[2:-1]
    return shown + "..." if len(text) > 80 else shown
