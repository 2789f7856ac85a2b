"""A small built-in certificate authority for the Charging Station Operator hierarchy.

It signs station CSRs for SignCertificate/CertificateSigned (use cases A02/A03) and issues
CSMS server certificates and station client certificates for labs, demos and tests.

Part 2 lets the operator act as CA for its own hierarchy, but recommends that a CSMS hand
CSRs to a dedicated CA server rather than sign them itself (A02; the OCPP 1.6 security
white paper, from which block A derives, numbers this A02.FR.04). Use this class when
running a separate CA is not worth it; its key sits on the CSMS host, in ``ca.key`` (mode
0600, optionally encrypted with a password).

Certificate properties (Part 2 §"Certificate Properties", paraphrased). The Part 2 PDF is not
in ``/work/shared/ocpp/spec``: ids are those of ``protocol.md`` §4 and Part 6 TC_A_04_CSMS;
ids those sources lack (A00.FR.404, 509, 511, 512, 701) follow the OCPP 1.6 security white
paper that block A derives from, and may be numbered differently in 2.0.1:

- keys of at least 112-bit strength: RSA >= 2048 bits, EC >= 224 bits (A00.FR.501-503).
  New keys here are EC P-256 or RSA 2048 (RSA 3072 for the CA, which lives longer);
- signatures with SHA-256 (A00.FR.506). An EC CA signs with ECDSA as A00.FR.505 prefers; an
  RSA CA signs with PKCS#1 v1.5 rather than RSA-PSS, because station TLS stacks do not all
  verify PSS certificate signatures;
- PEM-encoded X.509 with a serial number (A00.FR.507/508); serials are 159 random bits;
- the owner's organization in the O RDN (A00.FR.509); the CSMS certificate's CN is its FQDN
  (A00.FR.510); a station certificate's CN is its serial number, i.e. its identity
  (A00.FR.405);
- the Key Usage extension limits what each key may do (A00.FR.512).

Everything here is blocking but quick (EC) to moderate (RSA key generation takes up to a
second or so); from Trio, call it through `trio.to_thread.run_sync`.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import os
from pathlib import Path
from typing import Final, Literal, TypeAlias

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = [
    "CA_CERTIFICATE_FILE",
    "CA_KEY_FILE",
    "CertificateAuthority",
    "CsrRejectedError",
    "KeyType",
]

log = logging.getLogger(__name__)

KeyType: TypeAlias = Literal["ec", "rsa"]
_PrivateKey: TypeAlias = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

CA_CERTIFICATE_FILE: Final = "ca.pem"
CA_KEY_FILE: Final = "ca.key"

_LEAF_RSA_BITS: Final = 2048  # A00.FR.502 minimum; what stations' TLS stacks all handle
_CA_RSA_BITS: Final = 3072  # the CA outlives its leaves, so it gets the 128-bit level
_MIN_RSA_BITS: Final = 2048  # A00.FR.502
_MIN_EC_BITS: Final = 224  # A00.FR.503
_CSR_HASHES: Final = (hashes.SHA256, hashes.SHA384, hashes.SHA512)
# Leaves start a little in the past: a station whose clock lags by a few minutes must not
# reject a certificate as "not yet valid" right after CertificateSigned.
_BACKDATE: Final = dt.timedelta(minutes=5)


class CsrRejectedError(ValueError):
    """A certificate signing request that this CA will not sign; the message says why.

    A SignCertificate handler answers it with SignCertificateResponse ``Rejected``.
    """


class CertificateAuthority:
    """The CSMS's CA: a self-signed root (or any CA certificate) and its private key.

    Build one with `create` (new CA, written to a directory) or `load` (existing files); the
    constructor is for keys that already live in memory.

    Args:
        certificate: the CA certificate; must have basicConstraints CA:TRUE.
        private_key: its RSA or EC private key.
        directory: where ``ca.pem``/``ca.key`` live, if they came from files.

    Raises:
        ValueError: the certificate is not a CA, or the key does not belong to it.
    """

    def __init__(
        self,
        certificate: x509.Certificate,
        private_key: _PrivateKey,
        *,
        directory: Path | None = None,
    ) -> None:
        _check_ca_pair(certificate, private_key)
        self._certificate = certificate
        self._key = private_key
        self._directory = directory

    # -- construction ------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        directory: str | os.PathLike[str],
        common_name: str = "trio-csms CA",
        key_type: KeyType = "ec",
        *,
        organization: str = "trio-csms",
        days: int = 3650,
        password: bytes | None = None,
    ) -> CertificateAuthority:
        """Generate a new self-signed CA and write it to `directory`.

        Writes ``ca.pem`` (mode 0644) and ``ca.key`` (PKCS#8, mode 0600, encrypted when
        `password` is given). Existing files are never overwritten: replacing a CA would
        orphan every station certificate it signed.

        Args:
            directory: created (mode 0700) if missing.
            common_name: the CA's subject CN.
            key_type: ``"ec"`` (P-256, default) or ``"rsa"`` (3072 bits).
            organization: the O RDN of the CA and, by default, of what it issues
                (A00.FR.509).
            days: validity of the CA certificate.
            password: encrypts ``ca.key`` when given.

        Returns:
            The new CA.

        Raises:
            FileExistsError: ``ca.pem`` or ``ca.key`` already exists.
            ValueError: unknown `key_type` or non-positive `days`.
            OSError: the files cannot be written.
        """
        if days <= 0:
            raise ValueError("days must be positive")
        path = Path(directory)
        cert_path, key_path = path / CA_CERTIFICATE_FILE, path / CA_KEY_FILE
        for existing in (cert_path, key_path):
            if existing.exists():
                raise FileExistsError(f"{existing} exists; refusing to replace a CA")
        key = _generate_key(key_type, rsa_bits=_CA_RSA_BITS)
        name = x509.Name(
            [
                x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
            ]
        )
        now = _now()
        ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - _BACKDATE)
            .not_valid_after(now + dt.timedelta(days=days))
            # pathlen 0: this CA signs leaves only, never sub-CAs.
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_key_usage(key_cert_sign=True, crl_sign=True), critical=True)
            .add_extension(ski, critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski),
                critical=False,
            )
            .sign(key, hashes.SHA256())
        )
        encryption: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(password)
            if password
            else serialization.NoEncryption()
        )
        key_pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
        )
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        # Key first: a crash in between leaves a key without certificate, which `load`
        # reports, never a certificate whose key is lost.
        _write_new_file(key_path, key_pem, 0o600)
        _write_new_file(cert_path, certificate.public_bytes(serialization.Encoding.PEM), 0o644)
        log.info("created CA %r in %s", common_name, path)
        return cls(certificate, key, directory=path)

    @classmethod
    def load(
        cls, directory: str | os.PathLike[str], *, password: bytes | None = None
    ) -> CertificateAuthority:
        """Load a CA written by `create` (or any ``ca.pem``/``ca.key`` pair in PEM).

        Args:
            directory: holds ``ca.pem`` and ``ca.key``.
            password: for an encrypted ``ca.key``.

        Returns:
            The CA.

        Raises:
            FileNotFoundError: a file is missing.
            ValueError: unreadable PEM, wrong or missing password, a key type other than
                RSA/EC, a certificate that is not a CA, or a key that does not match it.
        """
        path = Path(directory)
        key_path = path / CA_KEY_FILE
        certificate = x509.load_pem_x509_certificate((path / CA_CERTIFICATE_FILE).read_bytes())
        try:
            key = serialization.load_pem_private_key(key_path.read_bytes(), password=password)
        except TypeError as exc:  # password given for a clear key, or missing for an encrypted
            raise ValueError(f"{key_path}: {exc}") from None
        if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
            raise ValueError(f"{key_path}: only RSA and EC CA keys are supported")
        if key_path.stat().st_mode & 0o077:
            log.warning("%s is readable by group or others; chmod 600 it", key_path)
        return cls(certificate, key, directory=path)

    # -- what it is ----------------------------------------------------------------------

    @property
    def certificate(self) -> x509.Certificate:
        """The CA certificate."""
        return self._certificate

    @property
    def certificate_pem(self) -> str:
        """The CA certificate in PEM, e.g. for InstallCertificate(CSMSRootCertificate)."""
        return self._certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")

    @property
    def certificate_file(self) -> Path | None:
        """Path of ``ca.pem`` when loaded from or created in a directory, e.g. as the
        `client_ca_file` of `tls.server_context` for profile 3."""
        return None if self._directory is None else self._directory / CA_CERTIFICATE_FILE

    @property
    def organization(self) -> str | None:
        """The CA's O RDN; the default O of what it issues."""
        return _single_attribute(self._certificate.subject, NameOID.ORGANIZATION_NAME)

    # -- signing -------------------------------------------------------------------------

    def sign_csr(
        self,
        csr_pem: str,
        *,
        station_id: str,
        days: int = 365,
        organization: str | None = None,
    ) -> str:
        """Sign a station's CSR (SignCertificateRequest.csr) into a client certificate.

        What is checked, and why (Part 2 leaves the checks to the CA, A02 remarks):

        1. The CSR parses as PEM PKCS#10.
        2. The key is RSA >= 2048 bits or EC >= 224 bits (A00.FR.501-503); other key types
           (DSA, Ed25519, ...) are refused, since station TLS stacks cannot be assumed to
           handle them.
        3. The signature hash is SHA-256/384/512 (A00.FR.504/506: no SHA-1 or MD5), and the
           signature verifies with the CSR's own key, so the requester holds the private key.
        4. The subject has exactly one CN and it equals `station_id`, the identity of the
           connection the CSR came on (A00.FR.405: a station certificate's CN is its serial
           number). This stops one station from obtaining a certificate for another.
        5. With `organization`, the subject has exactly that O (A02: the station puts
           SecurityCtrlr.OrganizationName into O; the ownership check of A00.FR.404).

        What is taken from the CSR: the subject and the public key, nothing else. Requested
        extensions are ignored; the certificate gets its own: basicConstraints CA:FALSE,
        keyUsage digitalSignature + keyAgreement (EC) or + keyEncipherment (RSA),
        extendedKeyUsage clientAuth, subject/authority key identifiers. No subjectAltName:
        a station certificate identifies by CN (A00.FR.511 advises against SANs).

        Args:
            csr_pem: the PEM CSR as received.
            station_id: the station's identity from its connection URL.
            days: validity, capped at the CA's own expiry.
            organization: the O the subject must carry; None skips that check.

        Returns:
            The PEM chain for CertificateSignedRequest.certificateChain: the new certificate,
            then the CA certificate (well within the field's 10 000 characters).

        Raises:
            CsrRejectedError: (a ValueError) the CSR fails one of the checks above.
            ValueError: non-positive `days`.
            RuntimeError: the CA certificate has expired.
        """
        try:
            csr = x509.load_pem_x509_csr(csr_pem.encode("utf-8"))
        except (ValueError, UnicodeEncodeError):
            raise CsrRejectedError("not a PEM certificate signing request") from None
        try:
            public_key = csr.public_key()
        except (ValueError, UnsupportedAlgorithm):
            raise CsrRejectedError("the CSR's public key cannot be read") from None
        public_key = _checked_public_key(public_key)
        try:
            hash_algorithm = csr.signature_hash_algorithm
        except UnsupportedAlgorithm:
            hash_algorithm = None
        if not isinstance(hash_algorithm, _CSR_HASHES):
            raise CsrRejectedError("the CSR must be signed with SHA-256, SHA-384 or SHA-512")
        if not csr.is_signature_valid:
            raise CsrRejectedError("the CSR signature does not verify with its own key")
        common_names = csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        if len(common_names) != 1 or common_names[0].value != station_id:
            raise CsrRejectedError(
                "the CSR subject must have exactly one CN, equal to the station id"
            )
        if (
            organization is not None
            and _single_attribute(csr.subject, NameOID.ORGANIZATION_NAME) != organization
        ):
            raise CsrRejectedError(f"the CSR subject must have O={organization}")
        certificate = self._issue(
            csr.subject,
            public_key,
            days=days,
            not_before=None,
            extended_usage=ExtendedKeyUsageOID.CLIENT_AUTH,
            alternative_names=None,
        )
        return self._chain_pem(certificate)

    def issue_server_certificate(
        self, hostname: str, key_type: KeyType = "ec", *, days: int = 365
    ) -> tuple[str, str]:
        """A new key and CSMS server certificate for `hostname` (labs, demos, tests).

        The subject is CN=`hostname` (A00.FR.510: the CSMS's FQDN) plus the CA's O. A
        subjectAltName is added as well, although A00.FR.511 would rather not: modern TLS
        clients (Python's `ssl` among them) match host names against SANs only. It holds
        DNS:`hostname`, or IP:`hostname` for an address; ``localhost`` also gets
        IP:127.0.0.1 and IP:::1. keyUsage is digitalSignature, plus keyEncipherment for RSA
        (needed by the static-RSA suites TLS_RSA_WITH_AES_*_GCM_*); extendedKeyUsage
        serverAuth.

        Args:
            hostname: the name stations connect to (ASCII; IDNs in A-label form).
            key_type: ``"ec"`` (P-256, for the ECDHE_ECDSA suites) or ``"rsa"`` (2048 bits,
                for the TLS_RSA and ECDHE_RSA suites). Serve one of each (A00.FR.318).
            days: validity, capped at the CA's expiry. Part 2 suggests short-lived CSMS
                certificates (A00.FR.701), so renew often.

        Returns:
            ``(chain_pem, key_pem)``: the certificate followed by the CA certificate, ready
            for `ssl.SSLContext.load_cert_chain`, and the unencrypted PKCS#8 key. Write the
            key with mode 0600.

        Raises:
            ValueError: empty or non-ASCII `hostname`, unknown `key_type`, bad `days`.
            RuntimeError: the CA certificate has expired.
        """
        if not hostname or not hostname.isascii():
            raise ValueError("hostname must be a non-empty ASCII name or address")
        names: list[x509.GeneralName]
        try:
            address = ipaddress.ip_address(hostname)
        except ValueError:
            names = [x509.DNSName(hostname)]
            if hostname.lower() == "localhost":
                names += [
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                    x509.IPAddress(ipaddress.ip_address("::1")),
                ]
        else:
            names = [x509.IPAddress(address)]
        key = _generate_key(key_type, rsa_bits=_LEAF_RSA_BITS)
        certificate = self._issue(
            self._leaf_subject(hostname, None),
            key.public_key(),
            days=days,
            not_before=None,
            extended_usage=ExtendedKeyUsageOID.SERVER_AUTH,
            alternative_names=x509.SubjectAlternativeName(names),
        )
        return self._chain_pem(certificate), _key_pem(key)

    def issue_client_certificate(
        self,
        station_id: str,
        key_type: KeyType = "ec",
        *,
        days: int = 365,
        organization: str | None = None,
        not_before: dt.datetime | None = None,
    ) -> tuple[str, str]:
        """A new key and station client certificate for profile 3 (labs, tests).

        Goes through `sign_csr` (a CSR is built with the new key), so it gets exactly what a
        station would get through SignCertificate.

        Args:
            station_id: becomes the subject CN (A00.FR.405).
            key_type: ``"ec"`` (P-256) or ``"rsa"`` (2048 bits).
            days: validity from `not_before`, capped at the CA's expiry.
            organization: the subject's O; default the CA's O.
            not_before: start of validity; default now minus 5 minutes. A start far in the
                past with a short `days` gives an already expired certificate, as in
                TC_A_08_CSMS.

        Returns:
            ``(chain_pem, key_pem)`` as in `issue_server_certificate`.

        Raises:
            ValueError: unknown `key_type`, bad `days`, or a `station_id` no CSR can carry.
            RuntimeError: the CA certificate has expired.
        """
        key = _generate_key(key_type, rsa_bits=_LEAF_RSA_BITS)
        subject = self._leaf_subject(station_id, organization)
        if not_before is None:
            csr = (
                x509.CertificateSigningRequestBuilder()
                .subject_name(subject)
                .sign(key, hashes.SHA256())
            )
            return (
                self.sign_csr(
                    csr.public_bytes(serialization.Encoding.PEM).decode("ascii"),
                    station_id=station_id,
                    days=days,
                ),
                _key_pem(key),
            )
        certificate = self._issue(
            subject,
            key.public_key(),
            days=days,
            not_before=not_before,
            extended_usage=ExtendedKeyUsageOID.CLIENT_AUTH,
            alternative_names=None,
        )
        return self._chain_pem(certificate), _key_pem(key)

    # -- internals -----------------------------------------------------------------------

    def _leaf_subject(self, common_name: str, organization: str | None) -> x509.Name:
        attributes = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
        organization = organization if organization is not None else self.organization
        if organization:
            attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
        return x509.Name(attributes)

    def _issue(
        self,
        subject: x509.Name,
        public_key: rsa.RSAPublicKey | ec.EllipticCurvePublicKey,
        *,
        days: int,
        not_before: dt.datetime | None,
        extended_usage: x509.ObjectIdentifier,
        alternative_names: x509.SubjectAlternativeName | None,
    ) -> x509.Certificate:
        if days <= 0:
            raise ValueError("days must be positive")
        now = _now()
        ca_expiry = self._certificate.not_valid_after_utc
        if ca_expiry <= now:
            raise RuntimeError("the CA certificate has expired; create a new CA")
        start = not_before if not_before is not None else now - _BACKDATE
        end = min(start + dt.timedelta(days=days), ca_expiry)
        is_ec = isinstance(public_key, ec.EllipticCurvePublicKey)
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self._certificate.subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                _key_usage(
                    digital_signature=True,
                    key_agreement=is_ec,
                    key_encipherment=not is_ec,
                ),
                critical=True,
            )
            .add_extension(x509.ExtendedKeyUsage([extended_usage]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
            .add_extension(self._authority_key_identifier(), critical=False)
        )
        if alternative_names is not None:
            builder = builder.add_extension(alternative_names, critical=False)
        return builder.sign(self._key, hashes.SHA256())

    def _authority_key_identifier(self) -> x509.AuthorityKeyIdentifier:
        try:
            ski = self._certificate.extensions.get_extension_for_class(
                x509.SubjectKeyIdentifier
            ).value
        except x509.ExtensionNotFound:
            return x509.AuthorityKeyIdentifier.from_issuer_public_key(self._key.public_key())
        return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)

    def _chain_pem(self, certificate: x509.Certificate) -> str:
        leaf = certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")
        return leaf + self.certificate_pem


def _now() -> dt.datetime:
    # Whole seconds: X.509 times carry no fractions, and equal values compare cleanly.
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def _generate_key(key_type: KeyType, *, rsa_bits: int) -> _PrivateKey:
    if key_type == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    if key_type == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=rsa_bits)
    raise ValueError(f"key_type must be 'ec' or 'rsa', got {key_type!r}")


def _key_pem(key: _PrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")


def _key_usage(
    *,
    digital_signature: bool = False,
    key_encipherment: bool = False,
    key_agreement: bool = False,
    key_cert_sign: bool = False,
    crl_sign: bool = False,
) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=False,
        key_encipherment=key_encipherment,
        data_encipherment=False,
        key_agreement=key_agreement,
        key_cert_sign=key_cert_sign,
        crl_sign=crl_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _checked_public_key(public_key: object) -> rsa.RSAPublicKey | ec.EllipticCurvePublicKey:
    if isinstance(public_key, rsa.RSAPublicKey):
        if public_key.key_size < _MIN_RSA_BITS:
            raise CsrRejectedError(f"RSA keys must have at least {_MIN_RSA_BITS} bits")
        return public_key
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        if public_key.curve.key_size < _MIN_EC_BITS:
            raise CsrRejectedError(f"EC keys must have at least {_MIN_EC_BITS} bits")
        return public_key
    raise CsrRejectedError("only RSA and EC keys are accepted")


def _single_attribute(name: x509.Name, oid: x509.ObjectIdentifier) -> str | None:
    values = name.get_attributes_for_oid(oid)
    if len(values) != 1 or not isinstance(values[0].value, str):
        return None
    return values[0].value


def _check_ca_pair(certificate: x509.Certificate, private_key: _PrivateKey) -> None:
    try:
        constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints)
    except x509.ExtensionNotFound:
        raise ValueError("the CA certificate has no basicConstraints extension") from None
    if not constraints.value.ca:
        raise ValueError("the certificate is not a CA certificate (basicConstraints CA:FALSE)")
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    der = serialization.Encoding.DER
    if certificate.public_key().public_bytes(der, spki) != private_key.public_key().public_bytes(
        der, spki
    ):
        raise ValueError("the private key does not belong to the CA certificate")


def _write_new_file(path: Path, data: bytes, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as file:
        os.fchmod(file.fileno(), mode)  # exact mode, whatever the umask
        file.write(data)
