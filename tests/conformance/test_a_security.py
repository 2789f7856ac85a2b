"""Block A, Security: the Core test cases TC_A_xx_CSMS (catalogue section 1.A).

The TLS cases run against real certificates made for this module by the project's built-in CA:
an RSA and an ECDSA server certificate for "localhost" (the host of `lab.tls_url`), served
together as A00.FR.318 needs (one key type cannot serve all four mandatory suites). The tool's
station trusts that CA, as the OCTT trusts the configured CSMS root.

The TLS checks are this module's own (names of suites, key sizes, certificate fields), not the
server's constants, so a wrong server configuration cannot pass by agreeing with itself.
"""

from __future__ import annotations

import re
import secrets
import ssl
import string
import urllib.parse
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import msgspec
import pytest
import trio
from conformance import states
from conformance.lab import Lab, open_lab
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from trio_csms.messages import (
    AttributeEnumType,
    OCPPInterfaceEnumType,
    OCPPTransportEnumType,
    OCPPVersionEnumType,
    ResetEnumType,
    ResetRequest,
    SetNetworkProfileRequest,
    SetVariableResultType,
    SetVariablesRequest,
    SetVariablesResponse,
    SetVariableStatusEnumType,
)
from trio_csms.security.ca import CertificateAuthority
from trio_csms.sim import HandshakeRefused, SimStation

# The four suites A00.FR.318 requires (IANA name -> OpenSSL name, as Python reports it).
REQUIRED_SUITES: Final = {
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256": "ECDHE-ECDSA-AES128-GCM-SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384": "ECDHE-ECDSA-AES256-GCM-SHA384",
    "TLS_RSA_WITH_AES_128_GCM_SHA256": "AES128-GCM-SHA256",
    "TLS_RSA_WITH_AES_256_GCM_SHA384": "AES256-GCM-SHA384",
}
MIN_RSA_BITS: Final = 2048  # A00.FR.312 / Part 6 TC_A_04: RSA or DSA keys
MIN_EC_BITS: Final = 224  # elliptic-curve keys
TLS_1_1: Final = b"\x03\x02"  # ProtocolVersion of TLS 1.1 on the wire
# Part 2 passwordString: 16-40 characters of a-z, A-Z, 0-9 and * - _ = : + | @ .
PASSWORD_STRING: Final = re.compile(r"[A-Za-z0-9*\-_=:+|@.]{16,40}")
TIMEOUT: Final = 10  # seconds for any single wait on the CSMS


@dataclass(frozen=True)
class Pki:
    """The test run's CA and the CSMS server certificates it issued."""

    ca_file: Path
    server_certificates: tuple[tuple[Path, Path], ...]  # (chain, key): RSA, then ECDSA


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    root = tmp_path_factory.mktemp("pki")
    ca = CertificateAuthority.create(root / "ca")
    assert ca.certificate_file is not None
    pairs: list[tuple[Path, Path]] = []
    for key_type in ("rsa", "ec"):
        chain_pem, key_pem = ca.issue_server_certificate("localhost", key_type)
        chain, key = root / f"server-{key_type}.pem", root / f"server-{key_type}.key"
        chain.write_text(chain_pem, encoding="ascii")
        key.write_text(key_pem, encoding="ascii")
        key.chmod(0o600)
        pairs.append((chain, key))
    return Pki(ca.certificate_file, tuple(pairs))


def tls_config(pki: Pki) -> dict[str, Any]:
    """The `ocpp` config section of a lab with a wss:// endpoint on a free port."""
    return {
        "tls_port": 0,
        "tls_certificates": [[str(chain), str(key)] for chain, key in pki.server_certificates],
    }


def station_tls(
    pki: Pki, *, maximum: ssl.TLSVersion | None = None, ciphers: str | None = None
) -> ssl.SSLContext:
    """The tool's client context: trusts the test CA and checks the host name."""
    context = ssl.create_default_context(cafile=str(pki.ca_file))
    if maximum is not None:
        context.maximum_version = maximum
    if ciphers is not None:
        context.set_ciphers(ciphers)
    return context


def legacy_tls(pki: Pki) -> ssl.SSLContext:
    """A client that offers TLS 1.0/1.1 only.

    OpenSSL 3 allows TLS < 1.2 only at security level 0, hence ``@SECLEVEL=0``; Python
    deprecates the TLSv1/TLSv1_1 enum members, hence the silenced DeprecationWarning.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = ssl.TLSVersion.TLSv1
        context.maximum_version = ssl.TLSVersion.TLSv1_1
    context.set_ciphers("DEFAULT:@SECLEVEL=0")
    context.load_verify_locations(cafile=str(pki.ca_file))
    return context


def client_hello_version(context: ssl.SSLContext) -> bytes:
    """The client_version of the ClientHello `context` sends (two bytes).

    Proves the legacy client can really speak TLS 1.1 here: were TLS 1.1 unavailable in this
    OpenSSL, no hello would be produced at all, and the CSMS's "refusal" would mean nothing.
    """
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = context.wrap_bio(incoming, outgoing, server_hostname="localhost")
    with pytest.raises(ssl.SSLWantReadError):
        tls.do_handshake()
    record = outgoing.read()
    # record: type 22 (handshake), version, length; handshake: type 1 (ClientHello), length.
    assert record[0] == 22 and record[5] == 1, record[:6]
    return record[9:11]


@dataclass(frozen=True)
class Handshake:
    """What the tool sees of one TLS handshake with the CSMS."""

    version: str
    cipher: str
    certificate: x509.Certificate


async def tls_handshake(url: str, context: ssl.SSLContext) -> Handshake:
    """A TLS handshake with the CSMS's wss:// endpoint (127.0.0.1, SNI = the URL's host)."""
    parts = urllib.parse.urlsplit(url)
    assert parts.hostname is not None and parts.port is not None, url
    tcp = await trio.open_tcp_stream("127.0.0.1", parts.port)
    stream = trio.SSLStream(tcp, context, server_hostname=parts.hostname, https_compatible=True)
    try:
        await stream.do_handshake()
        version, cipher = stream.version(), stream.cipher()
        der = stream.getpeercert(binary_form=True)
    finally:
        await trio.aclose_forcefully(stream)
    assert version is not None and cipher is not None and der is not None
    return Handshake(version, cipher[0], x509.load_der_x509_certificate(der))


def check_server_certificate(certificate: x509.Certificate, host: str) -> None:
    """TC_A_04 step 3's certificate checks (A00.FR.312, A00.FR.502-510).

    On the wire a certificate is DER; "X.509 encoded in PEM" amounts to a certificate that
    parses as X.509 (v3), which `load_der_x509_certificate` already established.
    """
    assert certificate.version is x509.Version.v3
    assert certificate.serial_number > 0, "the certificate must carry a serial number"
    names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    assert [name.value for name in names] == [host], certificate.subject
    key = certificate.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        assert key.key_size >= MIN_RSA_BITS, key.key_size
    else:
        assert isinstance(key, ec.EllipticCurvePublicKey), type(key)
        assert key.curve.key_size >= MIN_EC_BITS, key.curve.name


async def assert_refused(lab: Lab, status: int, **options: Any) -> None:
    """The tool's station (`lab.station(**options)`) is refused with HTTP `status`: the body
    never runs, so no websocket was opened, and the CSMS does not count it as connected."""
    with trio.fail_after(TIMEOUT), pytest.raises(HandshakeRefused) as refused:
        async with lab.station(**options):
            pytest.fail("the CSMS upgraded the connection")
    assert refused.value.status_code == status, refused.value
    view = await lab.get_json(f"/stations/{lab.station_id}")
    assert view["connected"] is False


async def booted(station: SimStation) -> None:
    """Reusable state Booted, bounded."""
    with trio.fail_after(TIMEOUT):
        await states.booted(station)


# --- Basic authentication ------------------------------------------------------------------


async def test_tc_a_01_csms(tmp_path: Path) -> None:
    """Basic Authentication - valid username/password: upgraded, Booted (Accepted)."""
    async with open_lab(tmp_path) as lab, lab.station() as station:
        await states.booted(station)


async def test_tc_a_02_csms(tmp_path: Path) -> None:
    """Basic Authentication - Username does not equal ChargingStationId.

    The tool sends `Basic base64(<stationId>Invalid:<password>)` to the station's URL; the CSMS
    must refuse the upgrade. Our design refuses with 401 (the credentials do not authenticate
    this identity), and no websocket opens. Control: the right user name is then accepted, so
    the refusal came from the user name, not from an unusable endpoint.
    """
    async with open_lab(tmp_path) as lab:
        await assert_refused(lab, 401, username=lab.station_id + "Invalid")
        async with lab.station() as station:
            await booted(station)


async def test_tc_a_03_csms(tmp_path: Path) -> None:
    """Basic Authentication - Invalid password.

    The tool sends its station id with a random 16-40 character identifierString as password;
    the CSMS must refuse the upgrade (401 by our design; no websocket opens). Control: the
    configured password is then accepted.
    """
    alphabet = string.ascii_letters + string.digits + "*-_=:+|@."
    async with open_lab(tmp_path) as lab:
        password = lab.password
        while password == lab.password:
            length = 16 + secrets.randbelow(25)
            password = "".join(secrets.choice(alphabet) for _ in range(length))
        await assert_refused(lab, 401, password=password)
        async with lab.station() as station:
            await booted(station)


# --- TLS server certificate ------------------------------------------------------------------


async def test_tc_a_04_csms(tmp_path: Path, pki: Pki) -> None:
    """TLS - server-side certificate - Valid certificate.

    Step 3, what the tool validates during the handshake: TLS >= 1.2; each of the four
    mandatory suites (A00.FR.318) is negotiated when the client offers only that suite (TLS
    1.2 at most, as they are TLS 1.2 suites), with a server key of the matching type; RSA keys
    >= 2048 bits, EC keys >= 224 bits; an X.509 certificate with a serial number whose subject
    CN is the FQDN the station connects to. Then steps 5-10 on security profile 2: upgrade
    with Basic auth over TLS, Booted (BootNotification Accepted, connectors reported).
    """
    async with open_lab(tmp_path, ocpp=tls_config(pki)) as lab:
        assert lab.tls_url is not None
        host = urllib.parse.urlsplit(lab.tls_url).hostname
        assert host == "localhost"
        with trio.fail_after(TIMEOUT):
            default = await tls_handshake(lab.tls_url, station_tls(pki))
            assert default.version in ("TLSv1.2", "TLSv1.3"), default.version
            check_server_certificate(default.certificate, host)
            for iana, openssl in REQUIRED_SUITES.items():
                context = station_tls(pki, maximum=ssl.TLSVersion.TLSv1_2, ciphers=openssl)
                handshake = await tls_handshake(lab.tls_url, context)
                assert (handshake.version, handshake.cipher) == ("TLSv1.2", openssl), iana
                check_server_certificate(handshake.certificate, host)
                key_type = ec.EllipticCurvePublicKey if "ECDSA" in iana else rsa.RSAPublicKey
                assert isinstance(handshake.certificate.public_key(), key_type), iana
        await lab.register_station(security_profile=2)
        async with lab.station(tls=station_tls(pki)) as station:
            await booted(station)


async def test_tc_a_06_csms(tmp_path: Path, pki: Pki) -> None:
    """TLS - server-side certificate - TLS version too low.

    Step 1-2: a ClientHello offering TLS 1.1 at most (checked on the hello itself, so the
    client really offers TLS 1.1) must be terminated by the CSMS: the handshake fails, and
    promptly (the CSMS drops the connection rather than waiting for a request). Steps 3-12:
    a TLS >= 1.2 handshake then succeeds, the upgrade with Basic auth (profile 2) is accepted,
    Booted.
    """
    legacy = legacy_tls(pki)
    assert client_hello_version(legacy) == TLS_1_1
    async with open_lab(tmp_path, ocpp=tls_config(pki)) as lab:
        assert lab.tls_url is not None
        # Well within the CSMS's 10 s handshake_timeout: it drops the connection, not waits.
        with trio.fail_after(TIMEOUT / 2), pytest.raises(trio.BrokenResourceError) as failed:
            await tls_handshake(lab.tls_url, legacy)
        assert isinstance(failed.value.__cause__, ssl.SSLError), repr(failed.value.__cause__)
        await lab.register_station(security_profile=2)
        async with lab.station(tls=station_tls(pki)) as station:
            await booted(station)


# --- Basic-auth password update (A01) ----------------------------------------------------------


def basic_auth_password_item(request: SetVariablesRequest) -> str:
    """The tool's step 1 checks: one item, SecurityCtrlr.BasicAuthPassword, a passwordString.

    Returns the new password.
    """
    assert len(request.set_variable_data) == 1, request
    (item,) = request.set_variable_data
    assert item.component.name == "SecurityCtrlr", item
    assert item.variable.name == "BasicAuthPassword", item
    # Absent means Actual: the password is the variable's actual value.
    assert item.attribute_type in (msgspec.UNSET, AttributeEnumType.Actual), item
    assert PASSWORD_STRING.fullmatch(item.attribute_value), "not a 16-40 passwordString"
    return item.attribute_value


async def rotate_password(lab: Lab, station: SimStation) -> tuple[str, dict[str, Any]]:
    """Tester action: POST /stations/{id}/password; returns the SetVariables password and
    the API's answer."""
    with trio.fail_after(TIMEOUT):
        answer = await lab.api.post(f"/api/v1/stations/{lab.station_id}/password", None)
        assert answer.status == 200, answer.body
        received = await station.next_csms_call("SetVariables", timeout=TIMEOUT)
    assert isinstance(received.request, SetVariablesRequest)
    body: dict[str, Any] = answer.json
    return basic_auth_password_item(received.request), body


async def test_tc_a_09_csms(tmp_path: Path) -> None:
    """Update Charging Station Password for HTTP Basic Authentication - Accepted.

    Tester action: the operator API's password rotation. Step 1: the CSMS sends exactly one
    SetVariables item SecurityCtrlr.BasicAuthPassword whose value is a valid 16-40 character
    passwordString; the tool answers Accepted. Steps 3-8: the station reconnects with the new
    password, upgrade and Booted. Purpose "only accepts the new credentials": once the new
    password has been used, the old one is refused (401).
    """
    async with open_lab(tmp_path) as lab:
        async with lab.station() as station:
            await booted(station)
            new_password, answer = await rotate_password(lab, station)
        assert answer == {"status": "Accepted", "password": new_password}
        assert new_password != lab.password
        async with lab.station(password=new_password) as station:
            await booted(station)
        await assert_refused(lab, 401, password=lab.password)


async def test_tc_a_10_csms(tmp_path: Path) -> None:
    """Update Charging Station Password for HTTP Basic Authentication - Rejected.

    As TC_A_09, but the tool answers the SetVariables item Rejected (A01.FR.04/05): the CSMS
    keeps the old password, so the reconnect with the old password is upgraded and Booted,
    and the rejected new password is refused (401).
    """

    def reject(request: SetVariablesRequest) -> SetVariablesResponse:
        return SetVariablesResponse(
            set_variable_result=[
                SetVariableResultType(
                    attribute_status=SetVariableStatusEnumType.Rejected,
                    attribute_type=item.attribute_type,
                    component=item.component,
                    variable=item.variable,
                )
                for item in request.set_variable_data
            ]
        )

    async with open_lab(tmp_path) as lab:
        async with lab.station() as station:
            await booted(station)
            station.handle(SetVariablesRequest, reject)
            new_password, answer = await rotate_password(lab, station)
        assert answer == {"status": "Rejected", "password": None}
        async with lab.station(password=lab.password) as station:
            await booted(station)
        await assert_refused(lab, 401, password=new_password)


# --- Security profile upgrade (A05) ----------------------------------------------------------


async def test_tc_a_19_csms(tmp_path: Path, pki: Pki) -> None:
    """Upgrade Charging Station Security Profile - Accepted (profile 1 -> 2).

    The station runs profile 1 (ws://, Basic auth) and trusts the CSMS's CA (the prerequisite's
    installed certificate). Tester actions through the call API: SetNetworkProfile for slot 2
    with securityProfile 2 and the wss:// URL; SetVariables OCPPCommCtrlr.
    NetworkConfigurationPriority "2,1"; Reset. Checked as the tool does: connectionData
    messageTimeout, ocppInterface, ocppTransport JSON, ocppVersion OCPP20, securityProfile 2
    (errata 2024-09 dropped the ocppCsmsUrl check, so it is not asserted); the priority value
    contains the slot. Then the station reconnects on profile 2 (wss:// + Basic auth): accepted,
    Booted; then an attempt on profile 1 (ws:// + Basic auth) is refused (403 by our design:
    the credentials are right, the profile is not).
    """
    slot, message_timeout, interface = 2, 30, "Wired0"
    async with open_lab(tmp_path, ocpp=tls_config(pki)) as lab:
        assert lab.tls_url is not None
        async with lab.station() as station:
            await booted(station)
            connection_data = {
                "ocppVersion": "OCPP20",
                "ocppTransport": "JSON",
                "ocppCsmsUrl": lab.tls_url,
                "messageTimeout": message_timeout,
                "securityProfile": 2,
                "ocppInterface": interface,
            }
            profile = await lab.call_ok(
                "SetNetworkProfile", {"configurationSlot": slot, "connectionData": connection_data}
            )
            assert profile == {"status": "Accepted"}
            received = await station.next_csms_call("SetNetworkProfile", timeout=TIMEOUT)
            request = received.request
            assert isinstance(request, SetNetworkProfileRequest)
            data = request.connection_data
            assert request.configuration_slot == slot
            assert data.message_timeout == message_timeout
            assert data.ocpp_interface is OCPPInterfaceEnumType(interface)
            assert data.ocpp_transport is OCPPTransportEnumType.JSON
            assert data.ocpp_version is OCPPVersionEnumType.OCPP20
            assert data.security_profile == 2

            priority = {
                "component": {"name": "OCPPCommCtrlr"},
                "variable": {"name": "NetworkConfigurationPriority"},
                "attributeValue": f"{slot},1",
            }
            await lab.call_ok("SetVariables", {"setVariableData": [priority]})
            received = await station.next_csms_call("SetVariables", timeout=TIMEOUT)
            assert isinstance(received.request, SetVariablesRequest)
            (item,) = received.request.set_variable_data
            assert (item.component.name, item.variable.name) == (
                "OCPPCommCtrlr",
                "NetworkConfigurationPriority",
            )
            assert str(slot) in item.attribute_value.split(","), item.attribute_value

            reset = await lab.call_ok("Reset", {"type": "Immediate"})
            assert reset == {"status": "Accepted"}
            received = await station.next_csms_call("Reset", timeout=TIMEOUT)
            assert isinstance(received.request, ResetRequest)
            assert received.request.type is ResetEnumType.Immediate
        async with lab.station(tls=station_tls(pki)) as station:
            await booted(station)
        view = await lab.get_json(f"/stations/{lab.station_id}")
        assert view["securityProfile"] == 2
        await assert_refused(lab, 403)
