"""security.ca: the built-in CA (files, CSR checks for A02/A03, certificate properties).

The certificate properties checked here are the ones OCTT checks in TC_A_04_CSMS (key size,
PEM, serial number, CN = FQDN) and Part 2's A00.FR.501-512 list, paraphrased in the module.
"""

from __future__ import annotations

import datetime as dt
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from trio_csms.security.ca import CertificateAuthority, CsrRejectedError

STATION = "CS001"
CERTIFICATE_CHAIN_MAX = 10_000
"""CertificateSignedRequest.certificateChain maxLength (JSON schema)."""


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> CertificateAuthority:
    return CertificateAuthority.create(tmp_path_factory.mktemp("ca"), organization="Example CPO")


def make_csr(
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey,
    *attributes: x509.NameAttribute[str],
    algorithm: hashes.SHA256 | hashes.SHA384 | None = None,
    extensions: list[x509.ExtensionType] | None = None,
) -> str:
    builder = x509.CertificateSigningRequestBuilder().subject_name(x509.Name(list(attributes)))
    for extension in extensions or []:
        builder = builder.add_extension(extension, critical=False)
    if isinstance(key, ed25519.Ed25519PrivateKey):
        csr = builder.sign(key, None)
    else:
        csr = builder.sign(key, algorithm or hashes.SHA256())
    return csr.public_bytes(serialization.Encoding.PEM).decode("ascii")


def cn(value: str) -> x509.NameAttribute[str]:
    return x509.NameAttribute(NameOID.COMMON_NAME, value)


def org(value: str) -> x509.NameAttribute[str]:
    return x509.NameAttribute(NameOID.ORGANIZATION_NAME, value)


def split_chain(chain: str) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(chain.encode("ascii"))


def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


# -- the CA itself -----------------------------------------------------------------------


def test_create_writes_pem_files_with_private_key_mode_0600(tmp_path: Path) -> None:
    authority = CertificateAuthority.create(tmp_path / "new", common_name="Test Root")
    cert_file = tmp_path / "new" / "ca.pem"
    key_file = tmp_path / "new" / "ca.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(cert_file.stat().st_mode) == 0o644
    assert authority.certificate_file == cert_file
    assert cert_file.read_text().startswith("-----BEGIN CERTIFICATE-----")
    assert key_file.read_text().startswith("-----BEGIN PRIVATE KEY-----")


def test_ca_certificate_properties(ca: CertificateAuthority) -> None:
    certificate = ca.certificate
    assert certificate.subject == certificate.issuer
    certificate.verify_directly_issued_by(certificate)
    assert certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == (
        "trio-csms CA"
    )
    assert ca.organization == "Example CPO"
    constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical and constraints.value.ca and constraints.value.path_length == 0
    usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.key_cert_sign and usage.crl_sign and not usage.digital_signature
    assert certificate.serial_number > 0
    key = certificate.public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name == "secp256r1"
    assert isinstance(certificate.signature_hash_algorithm, hashes.SHA256)


def test_rsa_ca_uses_a_3072_bit_key(tmp_path: Path) -> None:
    authority = CertificateAuthority.create(tmp_path, key_type="rsa")
    key = authority.certificate.public_key()
    assert isinstance(key, rsa.RSAPublicKey) and key.key_size == 3072


def test_create_never_overwrites_an_existing_ca(tmp_path: Path) -> None:
    CertificateAuthority.create(tmp_path)
    before = (tmp_path / "ca.key").read_bytes()
    with pytest.raises(FileExistsError):
        CertificateAuthority.create(tmp_path)
    assert (tmp_path / "ca.key").read_bytes() == before


@pytest.mark.parametrize("bad", [{"key_type": "dsa"}, {"days": 0}])
def test_create_refuses_bad_arguments(tmp_path: Path, bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        CertificateAuthority.create(tmp_path, **bad)  # type: ignore[arg-type]
    assert not (tmp_path / "ca.key").exists()


def test_load_round_trips(tmp_path: Path) -> None:
    created = CertificateAuthority.create(tmp_path)
    loaded = CertificateAuthority.load(tmp_path)
    assert loaded.certificate == created.certificate
    chain = loaded.sign_csr(make_csr(ec_key(), cn(STATION)), station_id=STATION)
    split_chain(chain)[0].verify_directly_issued_by(created.certificate)


def test_load_encrypted_key_needs_the_password(tmp_path: Path) -> None:
    CertificateAuthority.create(tmp_path, password=b"ca passphrase")
    assert b"ENCRYPTED" in (tmp_path / "ca.key").read_bytes()
    CertificateAuthority.load(tmp_path, password=b"ca passphrase")
    with pytest.raises(ValueError):
        CertificateAuthority.load(tmp_path)
    with pytest.raises(ValueError):
        CertificateAuthority.load(tmp_path, password=b"wrong")


def test_load_refuses_a_key_that_is_not_the_cas(tmp_path: Path) -> None:
    CertificateAuthority.create(tmp_path / "a")
    CertificateAuthority.create(tmp_path / "b")
    (tmp_path / "a" / "ca.key").write_bytes((tmp_path / "b" / "ca.key").read_bytes())
    with pytest.raises(ValueError, match="does not belong"):
        CertificateAuthority.load(tmp_path / "a")


def test_load_refuses_a_leaf_certificate(tmp_path: Path, ca: CertificateAuthority) -> None:
    chain, key = ca.issue_server_certificate("localhost")
    (tmp_path / "ca.pem").write_text(chain)  # the first certificate is the leaf
    (tmp_path / "ca.key").write_text(key)
    with pytest.raises(ValueError, match="not a CA"):
        CertificateAuthority.load(tmp_path)


def test_load_missing_files(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        CertificateAuthority.load(tmp_path)


# -- sign_csr (A02/A03) ------------------------------------------------------------------


@pytest.mark.parametrize("key_type", ["ec", "rsa"])
def test_signs_a_station_csr_into_a_client_certificate(
    ca: CertificateAuthority, key_type: str
) -> None:
    key = ec_key() if key_type == "ec" else rsa.generate_private_key(65537, 2048)
    chain = ca.sign_csr(make_csr(key, cn(STATION), org("Example CPO")), station_id=STATION)
    assert len(chain) < CERTIFICATE_CHAIN_MAX
    leaf, root = split_chain(chain)
    assert root == ca.certificate
    leaf.verify_directly_issued_by(ca.certificate)
    assert leaf.subject == x509.Name([cn(STATION), org("Example CPO")])
    assert leaf.public_key() == key.public_key()
    assert leaf.serial_number > 0
    extensions = leaf.extensions
    constraints = extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical and not constraints.value.ca
    usage = extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.digital_signature and not usage.value.key_cert_sign
    assert usage.value.key_agreement == (key_type == "ec")
    assert usage.value.key_encipherment == (key_type == "rsa")
    eku = extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    with pytest.raises(x509.ExtensionNotFound):
        extensions.get_extension_for_class(x509.SubjectAlternativeName)
    aki = extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    ski = ca.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert aki.key_identifier == ski.digest
    lifetime = leaf.not_valid_after_utc - leaf.not_valid_before_utc
    assert dt.timedelta(days=365) <= lifetime <= dt.timedelta(days=365, minutes=6)
    assert leaf.not_valid_before_utc <= dt.datetime.now(dt.UTC)


def test_serial_numbers_are_random(ca: CertificateAuthority) -> None:
    csr = make_csr(ec_key(), cn(STATION))
    serials = {split_chain(ca.sign_csr(csr, station_id=STATION))[0].serial_number for _ in "ab"}
    assert len(serials) == 2 and all(s.bit_length() > 64 for s in serials)


def test_requested_extensions_are_ignored(ca: CertificateAuthority) -> None:
    csr = make_csr(
        ec_key(),
        cn(STATION),
        extensions=[
            x509.BasicConstraints(ca=True, path_length=None),
            x509.SubjectAlternativeName([x509.DNSName("csms.example.com")]),
        ],
    )
    leaf = split_chain(ca.sign_csr(csr, station_id=STATION))[0]
    assert not leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    with pytest.raises(x509.ExtensionNotFound):
        leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName)


def test_refuses_a_csr_for_another_station(ca: CertificateAuthority) -> None:
    with pytest.raises(CsrRejectedError, match="CN"):
        ca.sign_csr(make_csr(ec_key(), cn("CS002")), station_id=STATION)


@pytest.mark.parametrize(
    "attributes",
    [(), (org("Example CPO"),), (cn(STATION), cn(STATION)), (cn(STATION.lower()),)],
    ids=["empty", "no-cn", "two-cns", "case-differs"],
)
def test_refuses_a_csr_without_exactly_the_station_cn(
    ca: CertificateAuthority, attributes: tuple[x509.NameAttribute[str], ...]
) -> None:
    with pytest.raises(CsrRejectedError, match="CN"):
        ca.sign_csr(make_csr(ec_key(), *attributes), station_id=STATION)


def test_refuses_a_csr_whose_signature_does_not_verify(ca: CertificateAuthority) -> None:
    pem = make_csr(ec_key(), cn(STATION))
    der = bytearray(x509.load_pem_x509_csr(pem.encode()).public_bytes(serialization.Encoding.DER))
    der[-1] ^= 0x01  # last byte of the ECDSA signature's s value
    tampered = x509.load_der_x509_csr(bytes(der)).public_bytes(serialization.Encoding.PEM)
    with pytest.raises(CsrRejectedError, match="signature"):
        ca.sign_csr(tampered.decode(), station_id=STATION)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not a csr",
        "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n",
        "bad\ud800",
    ],
)
def test_refuses_garbage(ca: CertificateAuthority, text: str) -> None:
    with pytest.raises(CsrRejectedError, match="PEM"):
        ca.sign_csr(text, station_id=STATION)


def test_refuses_a_certificate_instead_of_a_csr(ca: CertificateAuthority) -> None:
    with pytest.raises(CsrRejectedError):
        ca.sign_csr(ca.certificate_pem, station_id=STATION)


def test_refuses_weak_rsa_keys(ca: CertificateAuthority) -> None:
    weak = rsa.generate_private_key(65537, 1024)
    with pytest.raises(CsrRejectedError, match="2048"):
        ca.sign_csr(make_csr(weak, cn(STATION)), station_id=STATION)


def test_refuses_key_types_outside_rsa_and_ec(ca: CertificateAuthority) -> None:
    with pytest.raises(CsrRejectedError, match="RSA and EC"):
        ca.sign_csr(make_csr(ed25519.Ed25519PrivateKey.generate(), cn(STATION)), station_id=STATION)


def der(tag: int, body: bytes) -> bytes:
    size = len(body)
    if size < 0x80:
        return bytes([tag, size]) + body
    octets = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(octets)]) + octets + body


def test_refuses_sha1_signed_csr(ca: CertificateAuthority) -> None:
    # cryptography no longer signs CSRs with SHA-1, so assemble one: the request info of a
    # normal CSR, an ECDSA/SHA-1 signature over it, and the ecdsa-with-SHA1 algorithm id.
    key = ec_key()
    info = x509.load_pem_x509_csr(make_csr(key, cn(STATION)).encode()).tbs_certrequest_bytes
    signature = key.sign(info, ec.ECDSA(hashes.SHA1()))
    ecdsa_with_sha1 = der(0x30, bytes.fromhex("06072a8648ce3d0401"))  # OID 1.2.840.10045.4.1
    request = der(0x30, info + ecdsa_with_sha1 + der(0x03, b"\x00" + signature))
    pem = x509.load_der_x509_csr(request).public_bytes(serialization.Encoding.PEM).decode()
    with pytest.raises(CsrRejectedError, match="SHA-256"):
        ca.sign_csr(pem, station_id=STATION)


def test_accepts_a_sha384_signed_p384_csr(ca: CertificateAuthority) -> None:
    key = ec.generate_private_key(ec.SECP384R1())
    chain = ca.sign_csr(make_csr(key, cn(STATION), algorithm=hashes.SHA384()), station_id=STATION)
    assert split_chain(chain)[0].public_key() == key.public_key()


def test_organization_check_is_opt_in(ca: CertificateAuthority) -> None:
    pem = make_csr(ec_key(), cn(STATION), org("Other CPO"))
    ca.sign_csr(pem, station_id=STATION)
    with pytest.raises(CsrRejectedError, match="O=Example CPO"):
        ca.sign_csr(pem, station_id=STATION, organization="Example CPO")
    ca.sign_csr(pem, station_id=STATION, organization="Other CPO")


def test_validity_is_capped_at_the_cas_expiry(tmp_path: Path) -> None:
    short_lived = CertificateAuthority.create(tmp_path, days=10)
    leaf = split_chain(short_lived.sign_csr(make_csr(ec_key(), cn(STATION)), station_id=STATION))[0]
    assert leaf.not_valid_after_utc == short_lived.certificate.not_valid_after_utc


def test_refuses_non_positive_days(ca: CertificateAuthority) -> None:
    with pytest.raises(ValueError, match="days"):
        ca.sign_csr(make_csr(ec_key(), cn(STATION)), station_id=STATION, days=0)


# -- issued server and client certificates (TC_A_04_CSMS properties) ---------------------


def san(certificate: x509.Certificate) -> list[object]:
    value = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return [name.value for name in value]


@pytest.mark.parametrize("key_type", ["ec", "rsa"])
def test_server_certificate_meets_tc_a_04(ca: CertificateAuthority, key_type: str) -> None:
    chain_pem, key_pem = ca.issue_server_certificate("csms.example.com", key_type)  # type: ignore[arg-type]
    leaf, root = split_chain(chain_pem)
    assert root == ca.certificate
    leaf.verify_directly_issued_by(ca.certificate)
    key = serialization.load_pem_private_key(key_pem.encode(), password=None)
    assert leaf.public_key() == key.public_key()
    # A00.FR.510: CN = FQDN; A00.FR.509: O; A00.FR.508: serial number.
    assert leaf.subject == x509.Name([cn("csms.example.com"), org("Example CPO")])
    assert leaf.serial_number > 0
    public = leaf.public_key()
    if key_type == "ec":
        assert isinstance(public, ec.EllipticCurvePublicKey) and public.curve.key_size >= 224
    else:
        assert isinstance(public, rsa.RSAPublicKey) and public.key_size >= 2048
    assert san(leaf) == ["csms.example.com"]
    usage = leaf.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.key_encipherment == (key_type == "rsa")
    eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH]


def test_localhost_server_certificate_also_names_loopback_addresses(
    ca: CertificateAuthority,
) -> None:
    leaf = split_chain(ca.issue_server_certificate("localhost")[0])[0]
    assert [str(v) for v in san(leaf)] == ["localhost", "127.0.0.1", "::1"]


def test_ip_server_certificate_has_an_ip_san(ca: CertificateAuthority) -> None:
    leaf = split_chain(ca.issue_server_certificate("192.0.2.7")[0])[0]
    assert [str(v) for v in san(leaf)] == ["192.0.2.7"]
    assert leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "192.0.2.7"


@pytest.mark.parametrize("hostname", ["", "cśms.example.com"])
def test_server_certificate_refuses_bad_hostnames(ca: CertificateAuthority, hostname: str) -> None:
    with pytest.raises(ValueError, match="hostname"):
        ca.issue_server_certificate(hostname)


def test_client_certificate_goes_through_csr_rules(ca: CertificateAuthority) -> None:
    chain_pem, key_pem = ca.issue_client_certificate(STATION)
    leaf = split_chain(chain_pem)[0]
    assert leaf.subject == x509.Name([cn(STATION), org("Example CPO")])
    eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    assert key_pem.startswith("-----BEGIN PRIVATE KEY-----")


def test_client_certificate_can_be_issued_already_expired(ca: CertificateAuthority) -> None:
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=30)
    leaf = split_chain(ca.issue_client_certificate(STATION, "rsa", days=1, not_before=start)[0])[0]
    assert leaf.not_valid_after_utc < dt.datetime.now(dt.UTC)
    public = leaf.public_key()
    assert isinstance(public, rsa.RSAPublicKey) and public.key_size == 2048
