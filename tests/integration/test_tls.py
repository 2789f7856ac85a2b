"""security.tls against real handshakes: a Trio TLS server on 127.0.0.1 with `server_context`.

Covers the TLS parts of TC_A_04_CSMS (TLS >= 1.2, the four mandatory suites, server
certificate), TC_A_06_CSMS (a TLS 1.1 handshake is terminated), TC_A_07_CSMS (a valid client
certificate is accepted) and TC_A_08_CSMS (unknown issuer, expired, missing client certificate
are refused; the CN comes out of `peer_common_name` for the identity check).

Rules: 127.0.0.1 and port 0 only; every test runs under `trio.fail_after(10)`; the server
reports each handshake's outcome on a memory channel, so refusals are asserted on the server
side (the side under test), with the OpenSSL reason, not only as "the client saw an error".
Certificates are made fresh by the built-in CA for this module.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import ssl
import warnings
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import trio
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from trio_csms.security.ca import CertificateAuthority
from trio_csms.security.tls import (
    CIPHERS,
    REQUIRED_CIPHERS,
    peer_common_name,
    server_context,
)

TIMEOUT = 10
STATION = "CS001"
HOSTNAME = "localhost"  # the server certificate also carries IP:127.0.0.1


@dataclass(frozen=True)
class Pki:
    """Files of one test CA, the CSMS server certificates and station certificates."""

    ca_file: Path
    rsa: tuple[Path, Path]  # (chain, key)
    ec: tuple[Path, Path]
    station: tuple[Path, Path]  # CN=CS001, signed by the CA
    station_rsa: tuple[Path, Path]
    expired_station: tuple[Path, Path]
    rogue_station: tuple[Path, Path]  # CN=CS001, signed by an unrelated CA


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    root = tmp_path_factory.mktemp("pki")
    ca = CertificateAuthority.create(root / "ca")
    rogue = CertificateAuthority.create(root / "rogue", common_name="Rogue CA")

    def save(name: str, pair: tuple[str, str]) -> tuple[Path, Path]:
        chain, key = root / f"{name}.pem", root / f"{name}.key"
        chain.write_text(pair[0])
        key.write_text(pair[1])
        key.chmod(0o600)
        return chain, key

    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=30)
    assert ca.certificate_file is not None
    return Pki(
        ca_file=ca.certificate_file,
        rsa=save("server-rsa", ca.issue_server_certificate(HOSTNAME, "rsa")),
        ec=save("server-ec", ca.issue_server_certificate(HOSTNAME, "ec")),
        station=save("station", ca.issue_client_certificate(STATION)),
        station_rsa=save("station-rsa", ca.issue_client_certificate(STATION, "rsa")),
        expired_station=save(
            "expired", ca.issue_client_certificate(STATION, days=1, not_before=long_ago)
        ),
        rogue_station=save("rogue-station", rogue.issue_client_certificate(STATION)),
    )


@dataclass(frozen=True)
class ServerOutcome:
    """What the server saw of one handshake: the session, or the OpenSSL error."""

    version: str | None = None
    cipher: str | None = None
    peer_cn: str | None = None
    error: ssl.SSLError | None = None


@dataclass(frozen=True)
class ClientOutcome:
    version: str
    cipher: str
    server_key: object  # the public key of the certificate the server presented


class Refused(Exception):
    """The client's handshake or first read failed (the server ended the connection)."""


@dataclass
class Server:
    port: int
    outcomes: trio.MemoryReceiveChannel[ServerOutcome]

    async def next_outcome(self) -> ServerOutcome:
        return await self.outcomes.receive()


@contextlib.asynccontextmanager
async def open_server(context: ssl.SSLContext) -> AsyncIterator[Server]:
    send, receive = trio.open_memory_channel[ServerOutcome](10)

    async def handler(stream: trio.SSLStream[trio.SocketStream]) -> None:
        try:
            await stream.do_handshake()
        except trio.BrokenResourceError as exc:
            cause = exc.__cause__
            assert isinstance(cause, ssl.SSLError), repr(cause)
            await send.send(ServerOutcome(error=cause))
            return
        cipher = stream.cipher()
        await send.send(
            ServerOutcome(
                version=stream.version(),
                cipher=cipher[0] if cipher else None,
                peer_cn=peer_common_name(stream),
            )
        )
        with contextlib.suppress(trio.BrokenResourceError, trio.ClosedResourceError):
            await stream.send_all(b"ok\n")
            await stream.aclose()

    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(
            functools.partial(trio.serve_ssl_over_tcp, handler, 0, context, host="127.0.0.1")
        )
        port = listeners[0].transport_listener.socket.getsockname()[1]
        yield Server(port, receive)
        nursery.cancel_scope.cancel()


async def connect(port: int, context: ssl.SSLContext) -> ClientOutcome:
    """Handshake and read the server's greeting; `Refused` if either fails."""
    tcp = await trio.open_tcp_stream("127.0.0.1", port)
    stream = trio.SSLStream(tcp, context, server_hostname=HOSTNAME)
    try:
        try:
            await stream.do_handshake()
            # In TLS 1.3 a refused client certificate shows up here, not in the handshake.
            greeting = await stream.receive_some(16)
        except trio.BrokenResourceError as exc:
            raise Refused(str(exc.__cause__)) from exc
        if greeting != b"ok\n":
            raise Refused(f"connection closed, got {greeting!r}")
        cipher = stream.cipher()
        version = stream.version()
        der = stream.getpeercert(binary_form=True)
        assert cipher is not None and version is not None and der is not None
        return ClientOutcome(version, cipher[0], x509.load_der_x509_certificate(der).public_key())
    finally:
        with contextlib.suppress(trio.BrokenResourceError):
            await stream.aclose()


def client_context(
    pki: Pki,
    *,
    maximum: ssl.TLSVersion | None = None,
    ciphers: str | None = None,
    certificate: tuple[Path, Path] | None = None,
) -> ssl.SSLContext:
    """A station's context: trusts the test CA, checks the host name."""
    context = ssl.create_default_context(cafile=pki.ca_file)
    if maximum is not None:
        context.maximum_version = maximum
    if ciphers is not None:
        context.set_ciphers(ciphers)
    if certificate is not None:
        context.load_cert_chain(*certificate)
    return context


def legacy_tls11_client(pki: Pki) -> ssl.SSLContext:
    """A client that offers TLS 1.0/1.1 only, as OCTT does in TC_A_06_CSMS.

    OpenSSL 3 allows TLS < 1.2 only at security level 0, hence ``@SECLEVEL=0``; Python
    deprecates the TLSv1/TLSv1_1 enum members, hence the silenced DeprecationWarning.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = ssl.TLSVersion.TLSv1
        context.maximum_version = ssl.TLSVersion.TLSv1_1
    context.set_ciphers("DEFAULT:@SECLEVEL=0")
    context.load_verify_locations(pki.ca_file)
    return context


def dual_certificate_context(pki: Pki, **kwargs: object) -> ssl.SSLContext:
    return server_context([pki.rsa, pki.ec], **kwargs)  # type: ignore[arg-type]


# -- the context, without sockets --------------------------------------------------------


def test_context_offers_the_four_mandatory_suites_and_no_legacy(pki: Pki) -> None:
    context = dual_certificate_context(pki)
    names = [c["name"] for c in context.get_ciphers()]
    assert set(REQUIRED_CIPHERS) <= set(names)
    tls12 = [c for c in context.get_ciphers() if c["protocol"] == "TLSv1.2"]
    assert all(c["aead"] for c in tls12)  # GCM only: no CBC, RC4, 3DES
    assert context.minimum_version == ssl.TLSVersion.TLSv1_2
    assert context.options & ssl.OP_NO_COMPRESSION
    assert context.options & ssl.OP_CIPHER_SERVER_PREFERENCE
    assert context.verify_mode == ssl.CERT_NONE
    assert CIPHERS.endswith("@SECLEVEL=2")


def test_context_client_certificate_modes(pki: Pki) -> None:
    optional = dual_certificate_context(pki, client_ca_file=pki.ca_file)
    assert optional.verify_mode == ssl.CERT_OPTIONAL
    required = dual_certificate_context(pki, client_ca_file=pki.ca_file, require_client_cert=True)
    assert required.verify_mode == ssl.CERT_REQUIRED


def test_context_accepts_a_single_certificate_path(pki: Pki) -> None:
    context = server_context(pki.ec[0], pki.ec[1])
    assert context.minimum_version == ssl.TLSVersion.TLSv1_2


def test_context_refuses_inconsistent_arguments(pki: Pki) -> None:
    with pytest.raises(ValueError, match="client_ca_file"):
        server_context([pki.ec], require_client_cert=True)
    with pytest.raises(ValueError, match="key_file"):
        server_context([pki.ec], pki.ec[1])
    with pytest.raises(ValueError, match="at least one"):
        server_context([])


def test_context_refuses_a_key_that_does_not_match(pki: Pki) -> None:
    with pytest.raises(ssl.SSLError):
        server_context([(pki.ec[0], pki.station[1])])


class FakePeer:
    def __init__(self, certificate: dict[str, object] | None) -> None:
        self.certificate = certificate

    def getpeercert(self, binary_form: bool = False) -> dict[str, object] | None:
        return self.certificate


@pytest.mark.parametrize(
    ("certificate", "expected"),
    [
        (None, None),
        ({}, None),  # what ssl gives for an unverified certificate
        ({"subject": ((("commonName", "CS001"),), (("organizationName", "CPO"),))}, "CS001"),
        ({"subject": ((("organizationName", "CPO"),),)}, None),
        ({"subject": ((("commonName", "CS001"),), (("commonName", "CS002"),))}, None),
        ({"subject": "garbage"}, None),
    ],
)
def test_peer_common_name_takes_exactly_one_cn(
    certificate: dict[str, object] | None, expected: str | None
) -> None:
    assert peer_common_name(FakePeer(certificate)) == expected


# -- profile 2: server certificates, versions and suites ---------------------------------


async def test_tls12_client_connects(pki: Pki) -> None:
    with trio.fail_after(TIMEOUT):
        async with open_server(dual_certificate_context(pki)) as server:
            client = await connect(server.port, client_context(pki, maximum=ssl.TLSVersion.TLSv1_2))
            outcome = await server.next_outcome()
    assert client.version == outcome.version == "TLSv1.2"
    assert outcome.cipher in CIPHERS.split(":")
    assert outcome.peer_cn is None  # profile 2: no client certificate requested


async def test_default_client_gets_tls13(pki: Pki) -> None:
    with trio.fail_after(TIMEOUT):
        async with open_server(dual_certificate_context(pki)) as server:
            client = await connect(server.port, client_context(pki))
            await server.next_outcome()
    assert client.version == "TLSv1.3"


@pytest.mark.parametrize(
    ("cipher", "key_class"),
    [
        ("ECDHE-ECDSA-AES128-GCM-SHA256", ec.EllipticCurvePublicKey),
        ("ECDHE-ECDSA-AES256-GCM-SHA384", ec.EllipticCurvePublicKey),
        ("AES128-GCM-SHA256", rsa.RSAPublicKey),
        ("AES256-GCM-SHA384", rsa.RSAPublicKey),
        ("ECDHE-RSA-AES128-GCM-SHA256", rsa.RSAPublicKey),
        ("ECDHE-RSA-AES256-GCM-SHA384", rsa.RSAPublicKey),
    ],
)
async def test_each_suite_is_negotiated_with_the_matching_certificate(
    pki: Pki, cipher: str, key_class: type
) -> None:
    """A00.FR.318/421, TC_A_04_CSMS: a client limited to one TLS 1.2 suite gets it."""
    context = client_context(pki, maximum=ssl.TLSVersion.TLSv1_2, ciphers=cipher)
    with trio.fail_after(TIMEOUT):
        async with open_server(dual_certificate_context(pki)) as server:
            client = await connect(server.port, context)
            outcome = await server.next_outcome()
    assert client.cipher == outcome.cipher == cipher
    assert isinstance(client.server_key, key_class)


async def test_rsa_suite_against_a_single_rsa_certificate(pki: Pki) -> None:
    context = client_context(pki, maximum=ssl.TLSVersion.TLSv1_2, ciphers="AES128-GCM-SHA256")
    with trio.fail_after(TIMEOUT):
        async with open_server(server_context(*pki.rsa)) as server:
            client = await connect(server.port, context)
            await server.next_outcome()
    assert client.cipher == "AES128-GCM-SHA256"
    assert isinstance(client.server_key, rsa.RSAPublicKey)


async def test_ecdsa_suite_against_a_single_ec_certificate(pki: Pki) -> None:
    context = client_context(
        pki, maximum=ssl.TLSVersion.TLSv1_2, ciphers="ECDHE-ECDSA-AES128-GCM-SHA256"
    )
    with trio.fail_after(TIMEOUT):
        async with open_server(server_context(*pki.ec)) as server:
            client = await connect(server.port, context)
            await server.next_outcome()
    assert isinstance(client.server_key, ec.EllipticCurvePublicKey)


async def test_ecdsa_only_client_fails_against_an_rsa_only_server(pki: Pki) -> None:
    """Why both certificates are needed: one key type cannot serve all four suites."""
    context = client_context(
        pki, maximum=ssl.TLSVersion.TLSv1_2, ciphers="ECDHE-ECDSA-AES128-GCM-SHA256"
    )
    with trio.fail_after(TIMEOUT):
        async with open_server(server_context(*pki.rsa)) as server:
            with pytest.raises(Refused):
                await connect(server.port, context)
            outcome = await server.next_outcome()
    assert outcome.error is not None and outcome.error.reason == "NO_SHARED_CIPHER"


async def test_legacy_client_can_speak_tls11_to_a_permissive_server(pki: Pki) -> None:
    """Control for the next test: the TLS 1.1 client really works where TLS 1.1 is allowed.

    So its refusal by `server_context` comes from the server's minimum version, not from a
    client that cannot handshake at all. (With an OpenSSL built without TLS 1.0/1.1, this
    control fails with "no protocols available"; the refusal test then only shows that the
    handshake fails, while its UNSUPPORTED_PROTOCOL reason still names the cause.)
    """
    permissive = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        permissive.minimum_version = ssl.TLSVersion.TLSv1
    permissive.set_ciphers("DEFAULT:@SECLEVEL=0")
    permissive.load_cert_chain(*pki.rsa)
    with trio.fail_after(TIMEOUT):
        async with open_server(permissive) as server:
            client = await connect(server.port, legacy_tls11_client(pki))
            await server.next_outcome()
    assert client.version == "TLSv1.1"


async def test_tls11_handshake_is_terminated(pki: Pki) -> None:
    """TC_A_06_CSMS, A00.FR.314/416-418: a ClientHello below TLS 1.2 ends the connection.

    The server fails the handshake with UNSUPPORTED_PROTOCOL. The client sees the TCP
    connection close (Trio does not flush the alert of a failed handshake), which is the
    "terminates the connection" the test case asks for.
    """
    with trio.fail_after(TIMEOUT):
        async with open_server(dual_certificate_context(pki)) as server:
            with pytest.raises(Refused):
                await connect(server.port, legacy_tls11_client(pki))
            outcome = await server.next_outcome()
            assert outcome.error is not None
            assert outcome.error.reason == "UNSUPPORTED_PROTOCOL"
            # TC_A_06's second step: the same server then accepts TLS >= 1.2.
            client = await connect(server.port, client_context(pki))
            await server.next_outcome()
    assert client.version == "TLSv1.3"


# -- profile 3: client certificates -------------------------------------------------------


@pytest.mark.parametrize(
    "maximum", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3], ids=["tls1.2", "tls1.3"]
)
@pytest.mark.parametrize("station", ["station", "station_rsa"])
async def test_station_certificate_from_the_ca_is_accepted(
    pki: Pki, maximum: ssl.TLSVersion, station: str
) -> None:
    """TC_A_07_CSMS: the CN comes out for the websocket layer's identity check."""
    context = client_context(pki, maximum=maximum, certificate=getattr(pki, station))
    server_ctx = dual_certificate_context(pki, client_ca_file=pki.ca_file, require_client_cert=True)
    with trio.fail_after(TIMEOUT):
        async with open_server(server_ctx) as server:
            await connect(server.port, context)
            outcome = await server.next_outcome()
    assert outcome.error is None
    assert outcome.peer_cn == STATION


@pytest.mark.parametrize(
    "maximum", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3], ids=["tls1.2", "tls1.3"]
)
@pytest.mark.parametrize(
    ("certificate", "reason", "verify_message"),
    [
        (None, "PEER_DID_NOT_RETURN_A_CERTIFICATE", None),
        # The station sends its chain up to the rogue root, which is not trusted.
        (
            "rogue_station",
            "CERTIFICATE_VERIFY_FAILED",
            "self-signed certificate in certificate chain",
        ),
        ("expired_station", "CERTIFICATE_VERIFY_FAILED", "certificate has expired"),
    ],
    ids=["no-certificate", "other-ca", "expired"],
)
async def test_invalid_station_certificates_are_refused(
    pki: Pki,
    maximum: ssl.TLSVersion,
    certificate: str | None,
    reason: str,
    verify_message: str | None,
) -> None:
    """TC_A_08_CSMS, A00.FR.407: the handshake is terminated.

    With TLS 1.3 the client only learns of it on its first read (see `connect`).
    """
    context = client_context(
        pki,
        maximum=maximum,
        certificate=None if certificate is None else getattr(pki, certificate),
    )
    server_ctx = dual_certificate_context(pki, client_ca_file=pki.ca_file, require_client_cert=True)
    with trio.fail_after(TIMEOUT):
        async with open_server(server_ctx) as server:
            with pytest.raises(Refused):
                await connect(server.port, context)
            outcome = await server.next_outcome()
    assert outcome.error is not None
    assert outcome.error.reason == reason
    assert getattr(outcome.error, "verify_message", None) == verify_message


async def test_optional_client_certificate_serves_profiles_2_and_3(pki: Pki) -> None:
    """One wss:// port: no certificate is profile 2, a valid one is profile 3, a bad one
    is still refused."""
    server_ctx = dual_certificate_context(pki, client_ca_file=pki.ca_file)
    with trio.fail_after(TIMEOUT):
        async with open_server(server_ctx) as server:
            await connect(server.port, client_context(pki))
            assert (await server.next_outcome()).peer_cn is None
            await connect(server.port, client_context(pki, certificate=pki.station))
            assert (await server.next_outcome()).peer_cn == STATION
            with pytest.raises(Refused):
                await connect(server.port, client_context(pki, certificate=pki.rogue_station))
            assert (await server.next_outcome()).error is not None


async def test_profile_2_context_ignores_client_certificates(pki: Pki) -> None:
    """Without a client CA nothing is verified, so no (unverified) CN is ever reported."""
    with trio.fail_after(TIMEOUT):
        async with open_server(dual_certificate_context(pki)) as server:
            await connect(server.port, client_context(pki, certificate=pki.rogue_station))
            outcome = await server.next_outcome()
    assert outcome.error is None and outcome.peer_cn is None
