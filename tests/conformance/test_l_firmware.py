"""Block L, Firmware management: the Core test cases TC_L_xx_CSMS (catalogue section 1.L).

Every case starts with the tester making the CSMS send UpdateFirmwareRequest (through the
operator API, with the tool's configured firmware: location, signing certificate, signature);
the tool's station then reports progress with FirmwareStatusNotificationRequests carrying the
request's requestId. Besides answering every message, the CSMS must follow the update: after
each notification the operator API shows it (`/stations/{id}/firmware-updates/{requestId}` and
the station's `firmwareStatus`). A reboot (InstallRebooting) is played as a station does it:
the websocket closes, a new one opens and BootNotification reason FirmwareUpdate follows.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any, Final

import trio
from conformance import states
from conformance.lab import Lab, open_lab
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from trio_csms.messages import (
    BootReasonEnumType,
    FirmwareStatusEnumType,
    FirmwareStatusNotificationRequest,
    FirmwareStatusNotificationResponse,
    RegistrationStatusEnumType,
    SecurityEventNotificationRequest,
    SecurityEventNotificationResponse,
    UpdateFirmwareRequest,
    UpdateFirmwareResponse,
    UpdateFirmwareStatusEnumType,
)
from trio_csms.sim import SimStation

TIMEOUT: Final = 10
LOCATION: Final = "https://firmware.octt.example/station-fw-2.1.0.bin"
# The firmware image the signature covers (the tool's configured firmware file).
_IMAGE: Final = b"OCTT station firmware 2.1.0\n" * 64
# One EVSE with one connector, as Part 6 §3.1; TC_L_13 adds a second, idle EVSE.
CONNECTORS: Final = ((states.EVSE_ID, states.CONNECTOR_ID),)
# The whole successful sequence of L01 before the reboot.
TO_REBOOT: Final = ("Downloading", "Downloaded", "SignatureVerified", "Installing")
# The statuses after which an update is over (L01): nothing more will be reported for it.
FINAL: Final = frozenset(
    {
        "Installed",
        "DownloadFailed",
        "InstallationFailed",
        "InstallVerificationFailed",
        "InvalidSignature",
    }
)


@cache
def signing() -> tuple[str, str]:
    """The tool's `<configured signingCertificate>` (PEM) and `<configured signature>`.

    A self-signed firmware-signing certificate and the base64 ECDSA/SHA-256 signature of the
    image, made once per run: realistic values of the schema's sizes (5500 and 800).
    """
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "OCTT Firmware Signer")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    pem = certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")
    signature = base64.b64encode(key.sign(_IMAGE, ec.ECDSA(hashes.SHA256()))).decode("ascii")
    return pem, signature


def firmware(**times: datetime) -> dict[str, Any]:
    """The tester's UpdateFirmware firmware: location, certificate, signature, and times.

    `retrieve` defaults to now (download at once); `install` is left out unless given.
    """
    pem, signature = signing()
    payload: dict[str, Any] = {
        "location": LOCATION,
        "retrieveDateTime": _iso(times.get("retrieve", datetime.now(UTC))),
        "signingCertificate": pem,
        "signature": signature,
    }
    if "install" in times:
        payload["installDateTime"] = _iso(times["install"])
    return payload


async def update_firmware(
    lab: Lab,
    station: SimStation,
    request_id: int,
    *,
    answer: str = "Accepted",
    fw: dict[str, Any] | None = None,
) -> tuple[UpdateFirmwareRequest, datetime]:
    """Tester: make the CSMS send UpdateFirmware; the station answers `answer`.

    Checks step 1 of every L case: the CSMS sent the configured firmware (location,
    signingCertificate, signature, requestId); and that it reports the station's answer.
    Returns the request as the station received it, and when it arrived.
    """
    fw = firmware() if fw is None else fw
    arrivals: list[datetime] = []

    def handler(_request: UpdateFirmwareRequest) -> UpdateFirmwareResponse:
        arrivals.append(datetime.now(UTC))
        return UpdateFirmwareResponse(status=UpdateFirmwareStatusEnumType(answer))

    station.handle(UpdateFirmwareRequest, handler)
    response = await lab.call_ok("UpdateFirmware", {"requestId": request_id, "firmware": fw})
    assert response["status"] == answer, response
    received = await station.next_csms_call("UpdateFirmware", timeout=TIMEOUT)
    request = received.request
    assert isinstance(request, UpdateFirmwareRequest), request
    pem, signature = signing()
    assert request.request_id == request_id, request
    assert request.firmware.location == LOCATION, request
    assert request.firmware.signing_certificate == pem, request
    assert request.firmware.signature == signature, request
    assert len(arrivals) == 1, arrivals
    return request, arrivals[0]


async def notify(lab: Lab, station: SimStation, request_id: int, status: str) -> None:
    """The station reports `status` for `request_id`; the CSMS answers and records it: the
    update is over after a final status, still open after any other."""
    request = FirmwareStatusNotificationRequest(
        status=FirmwareStatusEnumType(status), request_id=request_id
    )
    response = await station.call(request, FirmwareStatusNotificationResponse)
    assert response == FirmwareStatusNotificationResponse(), response
    update = await firmware_update(lab, request_id)
    assert update["status"] == status, update
    assert update["complete"] is (status in FINAL), update
    assert update["parts"][-1]["payload"] == {"status": status, "requestId": request_id}, update
    view = await lab.get_json(f"/stations/{lab.station_id}")
    assert view["firmwareStatus"] == status, view


async def progress(lab: Lab, station: SimStation, request_id: int, *statuses: str) -> None:
    """`notify` each of `statuses` in turn."""
    for status in statuses:
        await notify(lab, station, request_id, status)


async def firmware_update(lab: Lab, request_id: int) -> dict[str, Any]:
    """The operator's view of an UpdateFirmware request and its notifications."""
    update: dict[str, Any] = await lab.get_json(
        f"/stations/{lab.station_id}/firmware-updates/{request_id}"
    )
    assert update["kind"] == "UpdateFirmware" and update["requestId"] == request_id, update
    return update


async def assert_open(lab: Lab, request_id: int, statuses: tuple[str, ...]) -> None:
    """The update is still running and its notifications were kept in order."""
    update = await firmware_update(lab, request_id)
    assert update["complete"] is False, update
    assert [part["payload"]["status"] for part in update["parts"]] == list(statuses), update


async def assert_over(lab: Lab, request_id: int, status: str, parts: int) -> None:
    """The update is over with `status`, after `parts` notifications."""
    update = await firmware_update(lab, request_id)
    assert update["complete"] is True and update["status"] == status, update
    assert len(update["parts"]) == parts, update


async def after_reboot(
    lab: Lab,
    request_id: int,
    final: str,
    connectors: tuple[tuple[int, int], ...] = CONNECTORS,
) -> None:
    """The station comes back: a new websocket, BootNotification reason FirmwareUpdate
    (the CSMS must answer Accepted), every connector reported Available, then the update's
    final FirmwareStatusNotification `final` (Installed or InstallationFailed)."""
    async with lab.station() as station:
        response = await station.boot(BootReasonEnumType.FirmwareUpdate)
        assert response.status is RegistrationStatusEnumType.Accepted, response
        for evse_id, connector_id in connectors:
            await station.report_connector(evse_id, connector_id, "Available")
        await notify(lab, station, request_id, final)
    view = await lab.get_json(f"/stations/{lab.station_id}")
    assert view["lastBootReason"] == "FirmwareUpdate", view
    for evse in view["evses"]:
        for connector in evse["connectors"]:
            assert connector["status"] == "Available", view


async def security_event(station: SimStation, event_type: str) -> None:
    """The station reports a security event; the CSMS answers it."""
    request = SecurityEventNotificationRequest(type=event_type, timestamp=datetime.now(UTC))
    response = await station.call(request, SecurityEventNotificationResponse)
    assert response == SecurityEventNotificationResponse(), response


async def until(moment: datetime) -> None:
    """Wait (bounded by the caller) until `moment` has passed, as the station does."""
    await trio.sleep(max(0.0, (moment - datetime.now(UTC)).total_seconds()) + 0.05)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# --- the test cases -------------------------------------------------------------------------


async def test_tc_l_01_csms(tmp_path: Path) -> None:
    """Secure Firmware Update - Installation successful.

    The tool validates step 1 (UpdateFirmwareRequest with the configured signingCertificate
    and signature) and step 14 (BootNotificationResponse Accepted after the reboot); every
    FirmwareStatusNotification (Downloading ... InstallRebooting, then Installed) must be
    answered. The CSMS keeps the update open until Installed, then shows it complete.
    """
    async with open_lab(tmp_path) as lab:
        async with lab.station() as station:
            await states.booted(station)
            await update_firmware(lab, station, 101)
            await assert_open(lab, 101, ())
            await progress(lab, station, 101, *TO_REBOOT, "InstallRebooting")
            await assert_open(lab, 101, (*TO_REBOOT, "InstallRebooting"))
        await after_reboot(lab, 101, "Installed")
        await assert_over(lab, 101, "Installed", parts=6)


async def test_tc_l_02_csms(tmp_path: Path) -> None:
    """Secure Firmware Update - InstallScheduled (C-15, declared).

    The tester schedules the installation: the tool validates step 1, firmware.installDateTime
    in the future; the station reports InstallScheduled after SignatureVerified, Installing
    once installDateTime has passed, reboots (BootNotificationResponse Accepted) and reports
    Installed. The CSMS answers every message and keeps the update open while scheduled.
    """
    async with open_lab(tmp_path) as lab:
        async with lab.station() as station:
            await states.booted(station)
            install = datetime.now(UTC) + timedelta(seconds=3)
            request, received_at = await update_firmware(
                lab, station, 102, fw=firmware(install=install)
            )
            scheduled = request.firmware.install_date_time
            assert isinstance(scheduled, datetime) and scheduled > received_at, request
            await progress(lab, station, 102, "Downloading", "Downloaded", "SignatureVerified")
            await progress(lab, station, 102, "InstallScheduled")
            await assert_open(
                lab, 102, ("Downloading", "Downloaded", "SignatureVerified", "InstallScheduled")
            )
            with trio.fail_after(TIMEOUT):
                await until(scheduled)
            await progress(lab, station, 102, "Installing", "InstallRebooting")
        await after_reboot(lab, 102, "Installed")
        await assert_over(lab, 102, "Installed", parts=7)


async def test_tc_l_03_csms(tmp_path: Path) -> None:
    """Secure Firmware Update - DownloadScheduled (C-15, declared).

    The tester schedules the download: the tool validates step 1, firmware.retrieveDateTime
    in the future; the station reports DownloadScheduled, then Downloading once
    retrieveDateTime has passed, ... InstallRebooting, reboots (BootNotificationResponse
    Accepted) and reports Installed.
    """
    async with open_lab(tmp_path) as lab:
        async with lab.station() as station:
            await states.booted(station)
            retrieve = datetime.now(UTC) + timedelta(seconds=3)
            request, received_at = await update_firmware(
                lab, station, 103, fw=firmware(retrieve=retrieve)
            )
            scheduled = request.firmware.retrieve_date_time
            assert scheduled > received_at, request
            await progress(lab, station, 103, "DownloadScheduled")
            await assert_open(lab, 103, ("DownloadScheduled",))
            with trio.fail_after(TIMEOUT):
                await until(scheduled)
            await progress(lab, station, 103, *TO_REBOOT, "InstallRebooting")
        await after_reboot(lab, 103, "Installed")
        await assert_over(lab, 103, "Installed", parts=7)


async def test_tc_l_04_csms(tmp_path: Path) -> None:
    """Secure Firmware Update - RevokedCertificate.

    The station answers UpdateFirmwareResponse RevokedCertificate. The tool validates nothing
    more; the CSMS must cope: the request ends there with that status (no notification will
    come), and the station stays usable (a Heartbeat is answered).
    """
    async with open_lab(tmp_path) as lab, lab.station() as station:
        await states.booted(station)
        await update_firmware(lab, station, 104, answer="RevokedCertificate")
        await assert_over(lab, 104, "RevokedCertificate", parts=0)
        await station.heartbeat()


async def test_tc_l_05_csms(tmp_path: Path) -> None:
    """Secure Firmware Update - InvalidCertificate.

    The station answers InvalidCertificate, then sends SecurityEventNotification type
    InvalidFirmwareSigningCertificate (L01.FR.02); the CSMS answers it. The request ends with
    the station's answer.
    """
    async with open_lab(tmp_path) as lab, lab.station() as station:
        await states.booted(station)
        await update_firmware(lab, station, 105, answer="InvalidCertificate")
        await security_event(station, "InvalidFirmwareSigningCertificate")
        await assert_over(lab, 105, "InvalidCertificate", parts=0)


async def test_tc_l_06_csms(tmp_path: Path) -> None:
    """Secure Firmware Update - InvalidSignature.

    Accepted, Downloading, Downloaded, then InvalidSignature and SecurityEventNotification
    type InvalidFirmwareSignature (L01.FR.03); the CSMS answers all, and the update is over
    with InvalidSignature.
    """
    async with open_lab(tmp_path) as lab, lab.station() as station:
        await states.booted(station)
        await update_firmware(lab, station, 106)
        await progress(lab, station, 106, "Downloading", "Downloaded", "InvalidSignature")
        await security_event(station, "InvalidFirmwareSignature")
        await assert_over(lab, 106, "InvalidSignature", parts=3)


async def test_tc_l_07_csms(tmp_path: Path) -> None:
    """Secure Firmware Update - DownloadFailed: Downloading, then DownloadFailed; answered,
    and the update is over with DownloadFailed."""
    async with open_lab(tmp_path) as lab, lab.station() as station:
        await states.booted(station)
        await update_firmware(lab, station, 107)
        await progress(lab, station, 107, "Downloading", "DownloadFailed")
        await assert_over(lab, 107, "DownloadFailed", parts=2)


async def test_tc_l_08_csms(tmp_path: Path) -> None:
    """Secure Firmware Update - InstallVerificationFailed: ... Installing, then
    InstallVerificationFailed; answered, and the update is over with that status."""
    async with open_lab(tmp_path) as lab, lab.station() as station:
        await states.booted(station)
        await update_firmware(lab, station, 108)
        await progress(lab, station, 108, *TO_REBOOT, "InstallVerificationFailed")
        await assert_over(lab, 108, "InstallVerificationFailed", parts=5)


async def test_tc_l_09_csms(tmp_path: Path) -> None:
    """Secure Firmware Update - InstallationFailed.

    ... InstallRebooting, reboot (the tool validates BootNotificationResponse Accepted),
    connectors reported Available, then InstallationFailed; the update is over with it.
    """
    async with open_lab(tmp_path) as lab:
        async with lab.station() as station:
            await states.booted(station)
            await update_firmware(lab, station, 109)
            await progress(lab, station, 109, *TO_REBOOT, "InstallRebooting")
        await after_reboot(lab, 109, "InstallationFailed")
        await assert_over(lab, 109, "InstallationFailed", parts=6)


async def test_tc_l_10_csms(tmp_path: Path) -> None:
    """Secure Firmware Update - AcceptedCanceled.

    While a first update is Downloading, the tester starts a second one (a new requestId);
    the station answers AcceptedCanceled (L01.FR.24: it cancelled the first) and runs the
    second to Installed, reboot included (the tool validates BootNotificationResponse
    Accepted). The CSMS follows the second requestId, and the first update is over: the
    station said it cancelled it (no notification will come for it).
    """
    async with open_lab(tmp_path) as lab:
        async with lab.station() as station:
            await states.booted(station)
            await update_firmware(lab, station, 110)
            await progress(lab, station, 110, "Downloading")
            await update_firmware(lab, station, 111, answer="AcceptedCanceled")
            await assert_over(lab, 110, "Canceled", parts=1)
            await assert_open(lab, 111, ())
            await progress(lab, station, 111, *TO_REBOOT, "InstallRebooting")
        await after_reboot(lab, 111, "Installed")
        await assert_over(lab, 111, "Installed", parts=6)
        await assert_over(lab, 110, "Canceled", parts=1)


async def test_tc_l_11_csms(tmp_path: Path) -> None:
    """Secure Firmware Update - Unable to cancel.

    While a first update is Downloading, the tester starts a second one; the station answers
    Rejected (L01.FR.27: it cannot cancel) and carries on with the first: Downloaded ...
    InstallRebooting, reboot (BootNotificationResponse Accepted), Installed. The CSMS records
    the second as refused and keeps following the first requestId to Installed.
    """
    async with open_lab(tmp_path) as lab:
        async with lab.station() as station:
            await states.booted(station)
            await update_firmware(lab, station, 112)
            await progress(lab, station, 112, "Downloading")
            await update_firmware(lab, station, 113, answer="Rejected")
            await assert_over(lab, 113, "Rejected", parts=0)
            await assert_open(lab, 112, ("Downloading",))
            await progress(
                lab,
                station,
                112,
                "Downloaded",
                "SignatureVerified",
                "Installing",
                "InstallRebooting",
            )
        await after_reboot(lab, 112, "Installed")
        await assert_over(lab, 112, "Installed", parts=6)
        await assert_over(lab, 113, "Rejected", parts=0)


async def test_tc_l_13_csms(tmp_path: Path) -> None:
    """Secure Firmware Update - with an ongoing transaction, AllowNewSessionsPendingFirmwareUpdate
    false.

    Before: EnergyTransferStarted on EVSE 1. The tester starts an update during the
    transaction (the tool validates step 1: the configured signingCertificate); the station
    answers Accepted, reports DownloadScheduled and sets its idle connector (EVSE 2, Part 6:
    "connectors that don't have a running transaction") Unavailable. The session ends
    (StopAuthorized, EVConnectedPostSession, EVDisconnected), then the update runs to
    Installed, reboot included (BootNotificationResponse Accepted). The CSMS answers
    everything, shows EVSE 2 Unavailable while pending, the transaction ended, and the
    update complete.
    """
    connectors = ((1, 1), (2, 1))
    async with open_lab(tmp_path) as lab:
        async with lab.station() as station:
            await states.booted(station, connectors)
            tx = states.Transaction("L13-TX-1")
            await states.energy_transfer_started(station, tx, lab.tokens)
            await update_firmware(lab, station, 114)
            await progress(lab, station, 114, "DownloadScheduled")
            await station.report_connector(2, 1, "Unavailable")
            assert await connector_states(lab) == {(1, 1): "Occupied", (2, 1): "Unavailable"}
            await states.stop_authorized(station, tx, lab.tokens)
            await states.ev_connected_post_session(station, tx)
            await states.ev_disconnected(station, tx)
            transaction = await lab.get_json(f"/transactions/{lab.station_id}/L13-TX-1")
            assert transaction["active"] is False, transaction
            await assert_open(lab, 114, ("DownloadScheduled",))
            await progress(lab, station, 114, *TO_REBOOT, "InstallRebooting")
        await after_reboot(lab, 114, "Installed", connectors)
        await assert_over(lab, 114, "Installed", parts=7)


async def connector_states(lab: Lab) -> dict[tuple[int, int], str]:
    """The connector states the CSMS holds for the tool's station."""
    view = await lab.get_json(f"/stations/{lab.station_id}")
    return {
        (evse["evseId"], connector["connectorId"]): connector["status"]
        for evse in view["evses"]
        for connector in evse["connectors"]
    }
