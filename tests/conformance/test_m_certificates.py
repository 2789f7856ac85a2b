"""Block M, certificate management: the Core test cases TC_M_xx_CSMS (catalogue section 1.M).

The tool's station keeps a trust store (`TrustStore`): it installs what InstallCertificate
sends, reports real hash data (RFC 6960 CertID fields of each certificate, computed with the
hash algorithm the case asks for) in GetInstalledCertificateIds, and deletes by exact hash data.
Its "configured" certificates are real CAs made for this module: a CSMS root and a
manufacturer root.

Tester actions: InstallCertificate and GetInstalledCertificateIds go through the operator
API's generic call (the operator supplies the certificate or the types); "request the CSMS to
delete a certificate" is the API's DELETE /stations/{id}/certificates/{serialNumber}, after
which the CSMS itself looks the certificate up and deletes it by the hash data the station
reported, as M04 and TC_M_20/21 describe.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import msgspec
import pytest
import trio
from conformance import states
from conformance.lab import Lab, open_lab
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509 import ocsp

from trio_csms.messages import (
    CertificateHashDataChainType,
    CertificateHashDataType,
    DeleteCertificateRequest,
    DeleteCertificateResponse,
    DeleteCertificateStatusEnumType,
    GetCertificateIdUseEnumType,
    GetInstalledCertificateIdsRequest,
    GetInstalledCertificateIdsResponse,
    GetInstalledCertificateStatusEnumType,
    HashAlgorithmEnumType,
    InstallCertificateRequest,
    InstallCertificateResponse,
    InstallCertificateStatusEnumType,
    InstallCertificateUseEnumType,
    Message,
)
from trio_csms.rpc.payloads import encode
from trio_csms.security.ca import CertificateAuthority
from trio_csms.sim import SimStation

TIMEOUT: Final = 10  # seconds for any single wait on the CSMS
HASHES: Final = {
    HashAlgorithmEnumType.SHA256: hashes.SHA256,
    HashAlgorithmEnumType.SHA384: hashes.SHA384,
    HashAlgorithmEnumType.SHA512: hashes.SHA512,
}
CSMS_ROOT: Final = GetCertificateIdUseEnumType.CSMSRootCertificate
MANUFACTURER_ROOT: Final = GetCertificateIdUseEnumType.ManufacturerRootCertificate


@dataclass(frozen=True)
class Configured:
    """The tool's configured certificates, by type, in PEM."""

    csms_root: str
    manufacturer_root: str

    def of(self, kind: GetCertificateIdUseEnumType) -> str:
        return {CSMS_ROOT: self.csms_root, MANUFACTURER_ROOT: self.manufacturer_root}[kind]


@pytest.fixture(scope="module")
def configured(tmp_path_factory: pytest.TempPathFactory) -> Configured:
    root = tmp_path_factory.mktemp("m-pki")
    csms = CertificateAuthority.create(root / "csms", "OCTT CSMS Root", organization="OCTT")
    maker = CertificateAuthority.create(
        root / "maker",
        "OCTT Manufacturer Root",
        "rsa",
        organization="OCTT Manufacturer",
    )
    return Configured(csms.certificate_pem, maker.certificate_pem)


def hash_data(pem: str, algorithm: HashAlgorithmEnumType) -> CertificateHashDataType:
    """The CertID fields of a self-signed (root) certificate, hashed with `algorithm`.

    The serial number is lower-case hex without leading zeros (Part 2 CertificateHashDataType).
    """
    certificate = x509.load_pem_x509_certificate(pem.encode("ascii"))
    request = (
        ocsp.OCSPRequestBuilder()
        .add_certificate(certificate, certificate, HASHES[algorithm]())
        .build()
    )
    return CertificateHashDataType(
        hash_algorithm=algorithm,
        issuer_name_hash=request.issuer_name_hash.hex(),
        issuer_key_hash=request.issuer_key_hash.hex(),
        serial_number=format(request.serial_number, "x"),
    )


def serial_of(pem: str) -> int:
    return x509.load_pem_x509_certificate(pem.encode("ascii")).serial_number


@dataclass
class TrustStore:
    """The tool's station's certificate store and its answers to the CSMS's M requests.

    `algorithm` is the hash algorithm it reports with; `install_status` / `delete_status`
    script a failing station (TC_M_05, TC_M_21). What the CSMS sends is recorded by the
    station itself (`next_csms_call`).
    """

    certificates: dict[GetCertificateIdUseEnumType, list[str]] = field(default_factory=dict)
    algorithm: HashAlgorithmEnumType = HashAlgorithmEnumType.SHA256
    install_status: InstallCertificateStatusEnumType = InstallCertificateStatusEnumType.Accepted
    delete_status: DeleteCertificateStatusEnumType = DeleteCertificateStatusEnumType.Accepted
    reported: list[GetInstalledCertificateIdsResponse] = field(default_factory=list)

    def serve(self, station: SimStation) -> None:
        station.handle(InstallCertificateRequest, self.install)
        station.handle(GetInstalledCertificateIdsRequest, self.installed)
        station.handle(DeleteCertificateRequest, self.delete)

    def install(self, request: InstallCertificateRequest) -> InstallCertificateResponse:
        x509.load_pem_x509_certificate(request.certificate.encode("ascii"))  # a real PEM
        if self.install_status is InstallCertificateStatusEnumType.Accepted:
            kind = GetCertificateIdUseEnumType(request.certificate_type.value)
            self.certificates.setdefault(kind, []).append(request.certificate)
        return InstallCertificateResponse(status=self.install_status)

    def chain(self, kinds: list[GetCertificateIdUseEnumType]) -> list[CertificateHashDataChainType]:
        return [
            CertificateHashDataChainType(
                certificate_type=kind,
                certificate_hash_data=hash_data(pem, self.algorithm),
            )
            for kind, pems in self.certificates.items()
            if not kinds or kind in kinds
            for pem in pems
        ]

    def installed(
        self, request: GetInstalledCertificateIdsRequest
    ) -> GetInstalledCertificateIdsResponse:
        chain = self.chain(request.certificate_type or [])
        if chain:
            response = GetInstalledCertificateIdsResponse(
                status=GetInstalledCertificateStatusEnumType.Accepted,
                certificate_hash_data_chain=chain,
            )
        else:  # M03.FR.02: NotFound, and no hash data chain.
            response = GetInstalledCertificateIdsResponse(
                status=GetInstalledCertificateStatusEnumType.NotFound
            )
        self.reported.append(response)
        return response

    def delete(self, request: DeleteCertificateRequest) -> DeleteCertificateResponse:
        wanted = request.certificate_hash_data
        for pems in self.certificates.values():
            for pem in pems:
                if hash_data(pem, wanted.hash_algorithm) == wanted:
                    if self.delete_status is DeleteCertificateStatusEnumType.Accepted:
                        pems.remove(pem)
                    return DeleteCertificateResponse(status=self.delete_status)
        return DeleteCertificateResponse(status=DeleteCertificateStatusEnumType.NotFound)


def wire(message: Message) -> object:
    """A message as the JSON the operator API relays (wire names)."""
    return msgspec.json.decode(encode(message))


async def certificate_installed(
    lab: Lab, station: SimStation, kind: InstallCertificateUseEnumType, pem: str
) -> dict[str, object]:
    """Reusable state CertificateInstalled (Part 6 table 709), minus the status check.

    Tester action: the operator API makes the CSMS send InstallCertificate with the configured
    certificate. Step 1's checks: certificateType and certificate are exactly those. Returns the
    station's answer as the API relays it.
    """
    with trio.fail_after(TIMEOUT):
        answer = await lab.call_ok(
            "InstallCertificate", {"certificateType": kind, "certificate": pem}
        )
        received = await station.next_csms_call("InstallCertificate", timeout=TIMEOUT)
    assert isinstance(received.request, InstallCertificateRequest)
    assert received.request.certificate_type is kind
    assert received.request.certificate == pem
    return answer


async def get_installed(
    lab: Lab, station: SimStation, kinds: list[GetCertificateIdUseEnumType] | None
) -> tuple[GetInstalledCertificateIdsRequest, dict[str, object]]:
    """Tester action: the CSMS sends GetInstalledCertificateIds for `kinds` (None: no filter).

    Returns the request the station received and the answer the API relayed.
    """
    payload = {} if kinds is None else {"certificateType": [kind.value for kind in kinds]}
    with trio.fail_after(TIMEOUT):
        answer = await lab.call_ok("GetInstalledCertificateIds", payload)
        received = await station.next_csms_call("GetInstalledCertificateIds", timeout=TIMEOUT)
    assert isinstance(received.request, GetInstalledCertificateIdsRequest)
    return received.request, answer


async def delete_certificate(
    lab: Lab,
    station: SimStation,
    store: TrustStore,
    serial: str,
    kind: GetCertificateIdUseEnumType,
) -> tuple[CertificateHashDataType, dict[str, object]]:
    """Tester action "request the CSMS to send a DeleteCertificateRequest", then the tool's
    checks: the CSMS first asks for the installed certificates (certificateType contains
    `kind` or is omitted), then deletes exactly the hash data the station reported.

    Returns the DeleteCertificate hash data and the API's answer.
    """
    path = f"/api/v1/stations/{lab.station_id}/certificates/{serial}?certificateType={kind}"
    with trio.fail_after(TIMEOUT):
        answer = await lab.api.delete(path)
        assert answer.status == 200, answer.body
        lookup = await station.next_csms_call("GetInstalledCertificateIds", timeout=TIMEOUT)
        deleted = await station.next_csms_call("DeleteCertificate", timeout=TIMEOUT)
    assert isinstance(lookup.request, GetInstalledCertificateIdsRequest)
    types = lookup.request.certificate_type
    assert types is msgspec.UNSET or kind in types, types
    reported = store.reported[-1].certificate_hash_data_chain
    assert isinstance(deleted.request, DeleteCertificateRequest)
    sent = deleted.request.certificate_hash_data
    assert [entry.certificate_hash_data for entry in reported or ()] == [sent]
    body: dict[str, object] = answer.json
    return sent, body


async def booted(station: SimStation) -> None:
    with trio.fail_after(TIMEOUT):
        await states.booted(station)


# --- M05 Install CA certificate ---------------------------------------------------------------


async def test_tc_m_01_csms(tmp_path: Path, configured: Configured) -> None:
    """Install CA certificate - CSMSRootCertificate.

    Reusable state CertificateInstalled: the CSMS sends InstallCertificate with certificateType
    CSMSRootCertificate and the configured certificate (exactly); the tool answers Accepted and
    the API relays it. The station's store then holds that certificate.
    """
    await install_accepted(
        tmp_path,
        configured,
        CSMS_ROOT,
        InstallCertificateUseEnumType.CSMSRootCertificate,
    )


async def test_tc_m_02_csms(tmp_path: Path, configured: Configured) -> None:
    """Install CA certificate - ManufacturerRootCertificate: as TC_M_01 with certificateType
    ManufacturerRootCertificate and the configured manufacturer root."""
    await install_accepted(
        tmp_path,
        configured,
        MANUFACTURER_ROOT,
        InstallCertificateUseEnumType.ManufacturerRootCertificate,
    )


async def install_accepted(
    tmp_path: Path,
    configured: Configured,
    kind: GetCertificateIdUseEnumType,
    use: InstallCertificateUseEnumType,
) -> None:
    store = TrustStore()
    async with open_lab(tmp_path) as lab, lab.station() as station:
        store.serve(station)
        await booted(station)
        answer = await certificate_installed(lab, station, use, configured.of(kind))
        assert answer == {"status": "Accepted"}
        assert store.certificates == {kind: [configured.of(kind)]}


async def test_tc_m_05_csms(tmp_path: Path, configured: Configured) -> None:
    """Install CA certificate - Failed.

    Tester action: install a CSMSRootCertificate. The CSMS sends InstallCertificate (checked
    as in CertificateInstalled); the tool answers Failed (M05.FR.03). The CSMS handles it: the
    API relays Failed, the connection stays up (a Heartbeat is still answered), and the server
    logs no error.
    """
    store = TrustStore(install_status=InstallCertificateStatusEnumType.Failed)
    async with open_lab(tmp_path) as lab, lab.station() as station:
        store.serve(station)
        await booted(station)
        answer = await certificate_installed(
            lab,
            station,
            InstallCertificateUseEnumType.CSMSRootCertificate,
            configured.csms_root,
        )
        assert answer == {"status": "Failed"}
        assert store.certificates == {}
        with trio.fail_after(TIMEOUT):
            await station.heartbeat()


# --- M03 Retrieve certificates ----------------------------------------------------------------


async def test_tc_m_13_csms(tmp_path: Path, configured: Configured) -> None:
    """Retrieve certificates from Charging Station - ManufacturerRootCertificate.

    Reusable state GetInstalledCertificates: the CSMS sends GetInstalledCertificateIds with
    certificateType exactly [ManufacturerRootCertificate]; the tool (which holds both
    configured roots) answers Accepted with the manufacturer root's hash data; the API relays
    that answer unchanged.
    """
    store = TrustStore(
        {
            CSMS_ROOT: [configured.csms_root],
            MANUFACTURER_ROOT: [configured.manufacturer_root],
        }
    )
    async with open_lab(tmp_path) as lab, lab.station() as station:
        store.serve(station)
        await booted(station)
        request, answer = await get_installed(lab, station, [MANUFACTURER_ROOT])
        assert request.certificate_type == [MANUFACTURER_ROOT]
        expected = hash_data(configured.manufacturer_root, HashAlgorithmEnumType.SHA256)
        assert answer == {
            "status": "Accepted",
            "certificateHashDataChain": [
                {
                    "certificateType": "ManufacturerRootCertificate",
                    "certificateHashData": wire(expected),
                }
            ],
        }


async def test_tc_m_18_csms(tmp_path: Path, configured: Configured) -> None:
    """Retrieve certificates from Charging Station - All certificateTypes.

    Tester action: all installed certificates. The CSMS's GetInstalledCertificateIds must omit
    certificateType; the tool answers Accepted with every certificate of its store (both
    configured roots), and the API relays all of them.
    """
    store = TrustStore(
        {
            CSMS_ROOT: [configured.csms_root],
            MANUFACTURER_ROOT: [configured.manufacturer_root],
        }
    )
    async with open_lab(tmp_path) as lab, lab.station() as station:
        store.serve(station)
        await booted(station)
        request, answer = await get_installed(lab, station, None)
        assert request.certificate_type is msgspec.UNSET
        assert answer == {
            "status": "Accepted",
            "certificateHashDataChain": [wire(entry) for entry in store.chain([])],
        }
        assert len(answer["certificateHashDataChain"]) == 2  # type: ignore[arg-type]


async def test_tc_m_19_csms(tmp_path: Path, configured: Configured) -> None:
    """Retrieve certificates from Charging Station - No matching certificate found.

    The CSMS sends GetInstalledCertificateIds with certificateType [ManufacturerRootCertificate];
    the tool (holding only a CSMS root) answers NotFound without certificateHashDataChain
    (M03.FR.02); the CSMS handles it: the API relays exactly that, the connection stays up.
    """
    store = TrustStore({CSMS_ROOT: [configured.csms_root]})
    async with open_lab(tmp_path) as lab, lab.station() as station:
        store.serve(station)
        await booted(station)
        request, answer = await get_installed(lab, station, [MANUFACTURER_ROOT])
        assert request.certificate_type == [MANUFACTURER_ROOT]
        assert answer == {"status": "NotFound"}
        with trio.fail_after(TIMEOUT):
            await station.heartbeat()


# --- M04 Delete a certificate -----------------------------------------------------------------


async def test_tc_m_20_csms(tmp_path: Path, configured: Configured) -> None:
    """Delete a certificate from a Charging Station - Success.

    For each of SHA256, SHA384, SHA512: CertificateInstalled (CSMSRootCertificate); tester
    action: delete it (by its serial number, written upper-case as `openssl x509 -serial`
    prints it); the CSMS sends GetInstalledCertificateIds (certificateType contains
    CSMSRootCertificate or is omitted); the tool answers Accepted with the certificate's hash
    data in that algorithm; the CSMS sends DeleteCertificate with exactly that hash data; the
    tool answers Accepted and really removes it.
    """
    store = TrustStore()
    pem = configured.csms_root
    serial = format(serial_of(pem), "X")
    async with open_lab(tmp_path) as lab, lab.station() as station:
        store.serve(station)
        await booted(station)
        for algorithm in HASHES:
            store.algorithm = algorithm
            answer = await certificate_installed(
                lab, station, InstallCertificateUseEnumType.CSMSRootCertificate, pem
            )
            assert answer == {"status": "Accepted"}
            sent, body = await delete_certificate(lab, station, store, serial, CSMS_ROOT)
            assert sent == hash_data(pem, algorithm)
            assert body == {"status": "Accepted", "certificateHashData": wire(sent)}
            assert store.certificates == {CSMS_ROOT: []}, algorithm


async def test_tc_m_21_csms(tmp_path: Path, configured: Configured) -> None:
    """Delete a certificate from a Charging Station - Failed.

    Before: CertificateInstalled (CSMSRootCertificate). Tester action: delete it; the CSMS
    sends GetInstalledCertificateIds (CSMSRootCertificate or omitted), the tool answers
    Accepted with SHA256 hash data; the CSMS sends DeleteCertificate with exactly that hash
    data; the tool answers Failed. The CSMS handles it: the API relays Failed, the connection
    stays up.
    """
    store = TrustStore(delete_status=DeleteCertificateStatusEnumType.Failed)
    pem = configured.csms_root
    async with open_lab(tmp_path) as lab, lab.station() as station:
        store.serve(station)
        await booted(station)
        answer = await certificate_installed(
            lab, station, InstallCertificateUseEnumType.CSMSRootCertificate, pem
        )
        assert answer == {"status": "Accepted"}
        sent, body = await delete_certificate(
            lab, station, store, format(serial_of(pem), "x"), CSMS_ROOT
        )
        assert sent == hash_data(pem, HashAlgorithmEnumType.SHA256)
        assert body == {"status": "Failed", "certificateHashData": wire(sent)}
        assert store.certificates == {CSMS_ROOT: [pem]}
        with trio.fail_after(TIMEOUT):
            await station.heartbeat()
