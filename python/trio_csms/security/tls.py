"""TLS server configuration for security profiles 2 and 3, per OCPP 2.0.1 Part 2 block A.

`server_context` builds the `ssl.SSLContext` the wss:// listener wraps station sockets with;
`peer_common_name` reads the station identity out of a verified client certificate. Nothing
here opens sockets; the module knows only the standard library's `ssl`.

The rules it applies, paraphrased (requirement ids as listed in
``/work/shared/ocpp/protocol.md`` §4 and the Part 6 test cases TC_A_04/06/07/08_CSMS):

- The CSMS is the TLS server and presents its own certificate (A00.FR.306, A00.FR.409/410).
- Only TLS 1.2 and later are spoken; a station offering less is refused during the handshake
  (A00.FR.312, A00.FR.314/315, A00.FR.416-418; TC_A_06_CSMS).
- At least these suites are offered (A00.FR.318, A00.FR.421; checked by TC_A_04/07_CSMS):
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
  TLS_RSA_WITH_AES_128_GCM_SHA256, TLS_RSA_WITH_AES_256_GCM_SHA384. The first two need an
  ECDSA certificate and the last two an RSA one, so the CSMS loads one of each.
- No TLS compression (A00.FR.321).
- Profile 3: the station's certificate chain is verified against the operator's CA
  (A00.FR.407, TC_A_08_CSMS: unknown issuer and expired certificates end the handshake).

What this module cannot do: the CN check of profile 3 (the CN must be the station's identity,
A00.FR.405). The station id is only known from the URL of the HTTP upgrade, after the
handshake, so the websocket layer compares `peer_common_name` with it and refuses the upgrade
on a mismatch.

TLS 1.3 note for callers: in TLS 1.3 the client finishes its side of the handshake before the
server has checked the client certificate, so a refused station sees the failure (the
connection closing) on its first read rather than in ``do_handshake``. On the server side the
handshake itself fails either way. (`trio.SSLStream` does not flush the alert of a failed
handshake, so stations see a TCP close rather than a TLS alert, with any TLS version.)
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Mapping, Sequence
from typing import Final, Literal, Protocol, TypeAlias

__all__ = [
    "CIPHERS",
    "REQUIRED_CIPHERS",
    "StrPath",
    "peer_common_name",
    "server_context",
]

StrPath: TypeAlias = str | os.PathLike[str]

REQUIRED_CIPHERS: Final = (
    "ECDHE-ECDSA-AES128-GCM-SHA256",  # TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
    "ECDHE-ECDSA-AES256-GCM-SHA384",  # TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384
    "AES128-GCM-SHA256",  # TLS_RSA_WITH_AES_128_GCM_SHA256
    "AES256-GCM-SHA384",  # TLS_RSA_WITH_AES_256_GCM_SHA384
)
"""OpenSSL names of the four TLS 1.2 suites a CSMS must support (A00.FR.318/421)."""

CIPHERS: Final = ":".join(
    (
        # Forward-secret suites first; the server's order wins (OP_CIPHER_SERVER_PREFERENCE),
        # so a station that can do ECDHE gets ECDHE.
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        "ECDHE-RSA-AES128-GCM-SHA256",
        "ECDHE-RSA-AES256-GCM-SHA384",
        # Static-RSA key exchange: no forward secrecy, but Part 2 makes it mandatory, and
        # stations with RSA-only TLS stacks exist.
        "AES128-GCM-SHA256",
        "AES256-GCM-SHA384",
        # Pin OpenSSL security level 2 (keys of at least 112-bit strength, A00.FR.501). Level 2
        # still allows static-RSA suites (level 3 and up would drop them), and pinning it
        # keeps a stricter system-wide openssl.cnf from silently removing the mandatory
        # suites. `server_context` verifies the result either way.
        "@SECLEVEL=2",
    )
)
"""The TLS 1.2 cipher string; TLS 1.3 suites are OpenSSL's defaults (all AEAD)."""


class _PeerCertificateSource(Protocol):
    """Anything with ``getpeercert()``: `ssl.SSLObject`, `ssl.SSLSocket`, `trio.SSLStream`."""

    def getpeercert(self, binary_form: Literal[False] = False) -> Mapping[str, object] | None: ...


def server_context(
    certificates: StrPath | Sequence[tuple[StrPath, StrPath]],
    key_file: StrPath | None = None,
    *,
    client_ca_file: StrPath | None = None,
    require_client_cert: bool = False,
) -> ssl.SSLContext:
    """A server-side `ssl.SSLContext` that meets OCPP 2.0.1 Part 2's TLS rules.

    To offer all four mandatory suites, give an RSA and an ECDSA certificate:
    ``server_context([("rsa.pem", "rsa.key"), ("ec.pem", "ec.key")])``. OpenSSL keeps one
    certificate per key type and picks, per handshake, the one that fits the negotiated suite;
    a later pair with the same key type replaces an earlier one. With one certificate only,
    the two suites of the other key type cannot be negotiated (TC_A_04_CSMS would flag that).

    Security profile: without `client_ca_file` the context serves profile 2 (no client
    certificate is requested). With `client_ca_file`, a client certificate is requested and,
    when presented, must chain to that CA and be within its validity period, otherwise the
    handshake fails (profile 3; A00.FR.407). `require_client_cert=True` also refuses
    clients that present none (a profile-3-only endpoint); without it, such clients are let
    through for profile 2, and the websocket layer tells the profiles apart by whether
    `peer_common_name` returns a name.

    Args:
        certificates: either the path of a PEM certificate chain (leaf first), with its key
            in `key_file`, or a sequence of (chain file, key file) pairs.
        key_file: the private key for a single `certificates` path; None when the key is in
            the chain file itself. Must be None when `certificates` is a sequence.
        client_ca_file: PEM file of the CA certificate(s) that sign station certificates. Only
            these are trusted for clients, never the system store: the operator's hierarchy
            alone vouches for stations.
        require_client_cert: refuse the handshake when the client presents no certificate.

    Returns:
        A new context. Each call builds a fresh one, so rotated certificate files are picked
        up by building a new context.

    Raises:
        ValueError: no certificate given, `key_file` combined with a sequence, or
            `require_client_cert` without `client_ca_file`.
        OSError: a file cannot be read.
        ssl.SSLError: a certificate or key is unusable (e.g. key does not match).
        RuntimeError: the local OpenSSL does not offer one of `REQUIRED_CIPHERS`.
    """
    pairs = _certificate_pairs(certificates, key_file)
    if require_client_cert and client_ca_file is None:
        raise ValueError("require_client_cert needs client_ca_file to verify clients against")

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    # A00.FR.312/314, A00.FR.416/418: nothing below TLS 1.2; OpenSSL then answers a lower
    # ClientHello with a protocol_version alert and the handshake ends.
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers(CIPHERS)
    # A00.FR.321: no TLS compression (CRIME). Python sets it by default; say so anyway.
    context.options |= ssl.OP_NO_COMPRESSION
    context.options |= ssl.OP_CIPHER_SERVER_PREFERENCE
    # Client-initiated renegotiation buys a station nothing and costs the server CPU.
    context.options |= ssl.OP_NO_RENEGOTIATION
    _check_required_ciphers(context)

    for cert_file, pair_key_file in pairs:
        context.load_cert_chain(cert_file, pair_key_file)

    if client_ca_file is not None:
        context.load_verify_locations(cafile=client_ca_file)
        context.verify_mode = ssl.CERT_REQUIRED if require_client_cert else ssl.CERT_OPTIONAL
    else:
        context.verify_mode = ssl.CERT_NONE
    return context


def peer_common_name(ssl_object: _PeerCertificateSource) -> str | None:
    """The subject commonName of the peer's certificate, if the certificate was verified.

    For a station on profile 3 this is its identity (A00.FR.405 requires CN = the station's
    serial number, which is the identity in the connection URL); compare it with the URL's
    station id before upgrading.

    Args:
        ssl_object: the connection after the handshake: `ssl.SSLObject`, `ssl.SSLSocket` or
            `trio.SSLStream` (anything with ``getpeercert()``).

    Returns:
        The CN, or None when the peer sent no certificate, the certificate was not verified
        (a context with ``CERT_NONE`` yields no parsed certificate at all, so an unverified
        name can never come out of here), or the subject has no CN or more than one
        (ambiguous, so treated as none).

    Raises:
        ValueError: the handshake has not completed yet (raised by `ssl`).
    """
    certificate = ssl_object.getpeercert()
    if not certificate:
        return None
    subject = certificate.get("subject", ())
    names: list[str] = []
    if isinstance(subject, tuple):
        for rdn in subject:
            for attribute in rdn:
                if (
                    isinstance(attribute, tuple)
                    and len(attribute) == 2
                    and attribute[0] == "commonName"
                    and isinstance(attribute[1], str)
                ):
                    names.append(attribute[1])
    return names[0] if len(names) == 1 else None


def _certificate_pairs(
    certificates: StrPath | Sequence[tuple[StrPath, StrPath]], key_file: StrPath | None
) -> list[tuple[StrPath, StrPath | None]]:
    if isinstance(certificates, str | os.PathLike):
        return [(certificates, key_file)]
    if key_file is not None:
        raise ValueError("key_file goes with a single certificate path, not with pairs")
    pairs: list[tuple[StrPath, StrPath | None]] = [(cert, key) for cert, key in certificates]
    if not pairs:
        raise ValueError("at least one (certificate, key) pair is needed")
    return pairs


def _check_required_ciphers(context: ssl.SSLContext) -> None:
    offered = {cipher["name"] for cipher in context.get_ciphers()}
    missing = [name for name in REQUIRED_CIPHERS if name not in offered]
    if missing:
        raise RuntimeError(
            f"{ssl.OPENSSL_VERSION} does not offer the OCPP-mandatory suites {missing}"
        )
