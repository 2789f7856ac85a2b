"""The request-head parser of the websocket handshake: what it accepts, and the status with
which it refuses each kind of malformed or oversized head."""

from __future__ import annotations

import pytest

from trio_csms.ws.http_head import (
    MAX_FIELDS,
    MAX_HEAD,
    BadRequest,
    head_end,
    parse_head,
)

UPGRADE = (
    b"GET /ocpp/CS%20001?x=1 HTTP/1.1\r\nHost: csms.example:9000\r\nUpgrade: websocket\r\n"
    b"Connection: keep-alive, Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ocpp1.6, ocpp2.0.1\r\n"
)


def refused(head: bytes) -> BadRequest:
    with pytest.raises(BadRequest) as caught:
        parse_head(head)
    return caught.value


def test_a_websocket_upgrade_is_parsed() -> None:
    head = parse_head(UPGRADE.removesuffix(b"\r\n"))
    assert head.method == b"GET"
    assert head.target == b"/ocpp/CS%20001?x=1"
    assert head.headers == [
        (b"host", b"csms.example:9000"),
        (b"upgrade", b"websocket"),
        (b"connection", b"keep-alive, Upgrade"),
        (b"sec-websocket-key", b"dGhlIHNhbXBsZSBub25jZQ=="),
        (b"sec-websocket-version", b"13"),
        (b"sec-websocket-protocol", b"ocpp1.6, ocpp2.0.1"),
    ]


def test_field_values_lose_surrounding_whitespace_and_keep_inner_and_non_ascii() -> None:
    head = parse_head(b"GET / HTTP/1.1\r\nHost:\t a \t\r\nX-Name:  caf\xe9  au lait ")
    assert head.headers == [(b"host", b"a"), (b"x-name", b"caf\xe9  au lait")]
    assert parse_head(b"GET / HTTP/1.1\r\nHost: a\r\nX-Empty:").headers[1] == (b"x-empty", b"")


def test_head_end_finds_the_blank_line_with_crlf_or_bare_lf() -> None:
    data = UPGRADE + b"\r\n\x81\x85rest"
    assert head_end(data) == (len(UPGRADE) - 2, len(UPGRADE) + 2)
    assert head_end(b"GET / HTTP/1.1\nHost: a\n\nafter") == (22, 24)
    assert head_end(UPGRADE) is None  # the blank line has not arrived yet
    assert head_end(b"GET / HTTP/1.1\r\nHost: a\r\n\r") is None


def test_bare_lf_lines_are_accepted() -> None:
    head = parse_head(b"GET /x HTTP/1.1\nHost: a\nUpgrade: websocket")
    assert head.headers == [(b"host", b"a"), (b"upgrade", b"websocket")]


@pytest.mark.parametrize(
    "request_line",
    [
        b"NOT HTTP",
        b"GET /x",
        b"GET  /x HTTP/1.1",  # two spaces
        b"GET /x HTTP/1.1 ",
        b"G(T /x HTTP/1.1",  # not a token
        b"GET /a b HTTP/1.1",
        b"GET /caf\xe9 HTTP/1.1",  # the target is ASCII
        b"GET /x HTTP/11",
        b"GET /x http/1.1",
        b"",  # an empty line first
    ],
)
def test_malformed_request_lines_are_refused_with_400(request_line: bytes) -> None:
    bad = refused(request_line + b"\r\nHost: a")
    assert bad.status == 400
    assert "request line" in str(bad)


@pytest.mark.parametrize("version", [b"1.0", b"2.0", b"0.9"])
def test_other_http_versions_are_refused_with_505(version: bytes) -> None:
    bad = refused(b"GET /x HTTP/" + version + b"\r\nHost: a")
    assert (bad.status, str(bad)) == (505, "only HTTP/1.1 is supported")


@pytest.mark.parametrize(
    "field",
    [
        b"Host : a",  # whitespace before the colon (RFC 9112 §5.1)
        b"No colon here",
        b": value",
        b"Bad\x00Name: a",
        b"X-Ctl: a\x01b",
        b"X-Ctl: a\x7fb",
        b"X-Cr: a\rb",
        b"X-Del\x7f: a",
    ],
)
def test_malformed_header_fields_are_refused_with_400(field: bytes) -> None:
    bad = refused(b"GET /x HTTP/1.1\r\nHost: a\r\n" + field)
    assert bad.status == 400
    assert "malformed header field" in str(bad)


def test_obsolete_line_folding_is_refused_with_400() -> None:
    bad = refused(b"GET /x HTTP/1.1\r\nHost: a\r\nX-Long: one\r\n two")
    assert (bad.status, str(bad)) == (400, "obsolete line folding in a header field")


@pytest.mark.parametrize("hosts", [b"", b"Host: a\r\nHost: b\r\n"])
def test_exactly_one_host_is_required(hosts: bytes) -> None:
    bad = refused(b"GET /x HTTP/1.1\r\n" + hosts + b"Upgrade: websocket")
    assert (bad.status, str(bad)) == (400, "exactly one Host header field is required")


@pytest.mark.parametrize(
    "field", [b"Content-Length: 5", b"Content-Length: x", b"Transfer-Encoding: chunked"]
)
def test_a_request_announcing_a_body_is_refused_with_400(field: bytes) -> None:
    bad = refused(b"GET /x HTTP/1.1\r\nHost: a\r\n" + field)
    assert (bad.status, str(bad)) == (400, "a websocket upgrade request has no body")


def test_an_empty_content_length_is_no_body() -> None:
    assert parse_head(b"GET /x HTTP/1.1\r\nHost: a\r\nContent-Length: 0").method == b"GET"


def test_too_many_fields_are_refused_with_431() -> None:
    fields = b"".join(b"\r\nX-%d: v" % number for number in range(MAX_FIELDS))
    assert parse_head(b"GET /x HTTP/1.1" + fields[: fields.rindex(b"\r\n")] + b"\r\nHost: a")
    bad = refused(b"GET /x HTTP/1.1\r\nHost: a" + fields)
    assert (bad.status, str(bad)) == (431, f"more than {MAX_FIELDS} header fields")


def test_a_head_over_the_limit_is_refused_with_431() -> None:
    start = b"GET /x HTTP/1.1\r\nHost: a\r\nX-Pad: "
    fits = start + b"v" * (MAX_HEAD - len(start))
    assert len(fits) == MAX_HEAD and parse_head(fits).headers[1] == (b"x-pad", fits[len(start) :])
    bad = refused(fits + b"v")
    assert bad.status == 431


def test_head_end_looks_no_further_than_the_limit() -> None:
    assert head_end(b"GET /x HTTP/1.1\r\nX: " + b"v" * MAX_HEAD + b"\r\n\r\n") is None


def test_error_messages_show_a_bounded_escaped_excerpt() -> None:
    bad = refused(b"\xff" * 200 + b"\r\nHost: a")
    assert str(bad) == "malformed request line: " + "\\xff" * 80 + "..."
