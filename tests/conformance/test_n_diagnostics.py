"""Block N, diagnostics: the Core test cases TC_N_xx_CSMS (catalogue section 1.N).

Customer information (N09, N10): the tester's action is the operator API's call of
CustomerInformation (the operator chooses the requestId and the customer); the tool's station
answers and then sends its NotifyCustomerInformation parts; the CSMS must answer each, and the
API's GET /stations/{id}/customer-information/{requestId} must show the request, the station's
status and every part it received, in order.

Log retrieval (N01; TC_N_25, TC_N_34, TC_N_35, TC_N_36): the tester makes the CSMS send
GetLogRequest through the operator API; the tool's station answers and reports the upload with
LogStatusNotificationRequests carrying the request's requestId. Besides answering, the CSMS
must follow each upload by its requestId: the operator API shows it
(`/stations/{id}/log-uploads/{requestId}`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import msgspec
import trio
from conformance import states
from conformance.lab import Lab, open_lab

from trio_csms.messages import (
    CustomerInformationRequest,
    CustomerInformationResponse,
    CustomerInformationStatusEnumType,
    GetLogRequest,
    GetLogResponse,
    LogStatusEnumType,
    LogStatusNotificationRequest,
    LogStatusNotificationResponse,
    NotifyCustomerInformationRequest,
    NotifyCustomerInformationResponse,
    UploadLogStatusEnumType,
)
from trio_csms.sim import SimStation

TIMEOUT: Final = 10  # seconds for any single wait on the CSMS
CUSTOMER_IDENTIFIER: Final = "OpenChargeAlliance"  # TC_N_62's configured customerIdentifier
# What the tool's station holds on the customer, sent in two parts (tbc) to check the CSMS
# keeps and answers each part of a multi-part report.
CUSTOMER_DATA: Final = ("Transactions of 04A2B3C4D5E6: 2026-11-01 12.4 kWh", "cached: Accepted")


async def customer_information(
    lab: Lab,
    station: SimStation,
    payload: dict[str, Any],
    *,
    status: CustomerInformationStatusEnumType,
    parts: Sequence[str],
) -> tuple[CustomerInformationRequest, dict[str, Any]]:
    """Tester action, then the tool's side of N09/N10.

    The CSMS sends CustomerInformation (`payload`); the tool answers `status` and, when
    Accepted, sends one NotifyCustomerInformation per entry of `parts` (tbc on all but the
    last), each of which the CSMS must answer. Returns the request the tool received and the
    API's record of the request once all parts were answered.
    """
    done = trio.Event()

    def answer(request: CustomerInformationRequest) -> CustomerInformationResponse:
        async def notify() -> None:
            try:
                for seq_no, data in enumerate(parts):
                    response = await station.call(
                        NotifyCustomerInformationRequest(
                            data=data,
                            tbc=seq_no < len(parts) - 1,
                            seq_no=seq_no,
                            generated_at=datetime.now(UTC),
                            request_id=request.request_id,
                        )
                    )
                    assert isinstance(response, NotifyCustomerInformationResponse), response
            finally:  # a failure is kept in station.handler_errors, which the lab checks
                done.set()

        if status is CustomerInformationStatusEnumType.Accepted:
            station.after_reply(notify)
        else:
            done.set()
        return CustomerInformationResponse(status=status)

    station.handle(CustomerInformationRequest, answer)
    with trio.fail_after(TIMEOUT):
        answered = await lab.call_ok("CustomerInformation", payload)
        assert answered == {"status": status.value}
        received = await station.next_csms_call("CustomerInformation", timeout=TIMEOUT)
        await done.wait()
    assert isinstance(received.request, CustomerInformationRequest)
    record = await lab.get_json(
        f"/stations/{lab.station_id}/customer-information/{payload['requestId']}"
    )
    return received.request, record


def assert_for_valid_token(lab: Lab, request: CustomerInformationRequest) -> None:
    """Step 1: idToken is the configured valid_idtoken (value and type), no customerIdentifier
    or certificate."""
    token = request.id_token
    assert token is not msgspec.UNSET, request
    assert (token.id_token, token.type.value) == (lab.tokens.valid, lab.tokens.type)
    assert request.customer_identifier is msgspec.UNSET
    assert request.customer_certificate is msgspec.UNSET


def assert_record(
    record: dict[str, Any], payload: dict[str, Any], status: str, parts: Sequence[str]
) -> None:
    """The API's view of the request: kind, what was sent, the outcome and every part."""
    assert record["requestId"] == payload["requestId"]
    assert record["kind"] == "CustomerInformation"
    assert record["request"] == payload
    assert (record["status"], record["complete"]) == (status, True)
    assert [part["payload"]["data"] for part in record["parts"]] == list(parts)
    assert [part["payload"]["seqNo"] for part in record["parts"]] == list(range(len(parts)))


def token_payload(lab: Lab, request_id: int, *, report: bool, clear: bool) -> dict[str, Any]:
    """The tester's CustomerInformation payload for the configured valid idToken."""
    return {
        "requestId": request_id,
        "report": report,
        "clear": clear,
        "idToken": lab.tokens.id_token("valid"),
    }


async def run_token_case(
    tmp_path: Path,
    request_id: int,
    *,
    report: bool,
    clear: bool,
    status: CustomerInformationStatusEnumType,
    parts: Sequence[str],
) -> None:
    """One N09/N10 case for the configured valid idToken, checked end to end."""
    async with open_lab(tmp_path) as lab, lab.station() as station:
        with trio.fail_after(TIMEOUT):
            await states.booted(station)
        payload = token_payload(lab, request_id, report=report, clear=clear)
        request, record = await customer_information(
            lab, station, payload, status=status, parts=parts
        )
        assert (request.report, request.clear, request.request_id) == (report, clear, request_id)
        assert_for_valid_token(lab, request)
        final = "Complete" if status is CustomerInformationStatusEnumType.Accepted else status.value
        assert_record(record, payload, final, parts)


# --- N09 Get customer information -------------------------------------------------------------


async def test_tc_n_27_csms(tmp_path: Path) -> None:
    """Get Customer Information - Accepted + data.

    Step 1: CustomerInformation with report true (clear false) and the configured valid idToken
    (value and type). The tool answers Accepted and reports the data in two parts; the CSMS
    answers each NotifyCustomerInformation, and the API shows both parts and Complete.
    """
    await run_token_case(
        tmp_path,
        2701,
        report=True,
        clear=False,
        status=CustomerInformationStatusEnumType.Accepted,
        parts=CUSTOMER_DATA,
    )


async def test_tc_n_28_csms(tmp_path: Path) -> None:
    """Get Customer Information - Accepted + no data.

    As TC_N_27, but the tool has nothing on the customer: one NotifyCustomerInformation with
    empty data, which the CSMS answers; the API shows that one empty part and Complete.
    """
    await run_token_case(
        tmp_path,
        2801,
        report=True,
        clear=False,
        status=CustomerInformationStatusEnumType.Accepted,
        parts=("",),
    )


async def test_tc_n_29_csms(tmp_path: Path) -> None:
    """Get Customer Information - Not Accepted.

    Step 1 as TC_N_27; the tool answers Rejected and sends nothing more. The CSMS handles it:
    the API relays Rejected, and its record of the request is complete with status Rejected
    and no parts (no notification will come).
    """
    await run_token_case(
        tmp_path,
        2901,
        report=True,
        clear=False,
        status=CustomerInformationStatusEnumType.Rejected,
        parts=(),
    )


# --- N10 Clear customer information -----------------------------------------------------------


async def test_tc_n_30_csms(tmp_path: Path) -> None:
    """Clear Customer Information - Clear and report + data.

    Step 1: CustomerInformation with report true, clear true and the configured valid idToken.
    The tool answers Accepted and reports the data (two parts) it cleared; the CSMS answers
    each part; the API shows them and Complete.
    """
    await run_token_case(
        tmp_path,
        3001,
        report=True,
        clear=True,
        status=CustomerInformationStatusEnumType.Accepted,
        parts=CUSTOMER_DATA,
    )


async def test_tc_n_31_csms(tmp_path: Path) -> None:
    """Clear Customer Information - Clear and report + no data: as TC_N_30, but one
    NotifyCustomerInformation with empty data."""
    await run_token_case(
        tmp_path,
        3101,
        report=True,
        clear=True,
        status=CustomerInformationStatusEnumType.Accepted,
        parts=("",),
    )


async def test_tc_n_32_csms(tmp_path: Path) -> None:
    """Clear Customer Information - Clear and no report.

    Step 1: report false, clear true, the configured valid idToken. The tool answers Accepted
    and (Part 6 step 3) still sends a NotifyCustomerInformation, here with empty data as there
    is no report; the CSMS answers it and the API shows it and Complete.
    """
    await run_token_case(
        tmp_path,
        3201,
        report=False,
        clear=True,
        status=CustomerInformationStatusEnumType.Accepted,
        parts=("",),
    )


async def test_tc_n_62_csms(tmp_path: Path) -> None:
    """Clear Customer Information - Clear and report - customerIdentifier.

    Step 1: report true, clear true, customerIdentifier "OpenChargeAlliance" (and no idToken
    or certificate: N09.FR.03 allows exactly one). The tool answers Accepted and reports the
    cleared data; the CSMS answers each part; the API shows them and Complete.
    """
    payload = {
        "requestId": 6201,
        "report": True,
        "clear": True,
        "customerIdentifier": CUSTOMER_IDENTIFIER,
    }
    async with open_lab(tmp_path) as lab, lab.station() as station:
        with trio.fail_after(TIMEOUT):
            await states.booted(station)
        request, record = await customer_information(
            lab,
            station,
            payload,
            status=CustomerInformationStatusEnumType.Accepted,
            parts=CUSTOMER_DATA,
        )
        assert (request.report, request.clear) == (True, True)
        assert request.customer_identifier == CUSTOMER_IDENTIFIER
        assert request.id_token is msgspec.UNSET
        assert request.customer_certificate is msgspec.UNSET
        assert_record(record, payload, "Complete", CUSTOMER_DATA)


# --- N01 Retrieve log information ---------------------------------------------------------

# The tool's configured upload location (<cfg log location>).
LOG_LOCATION: Final = "https://logs.octt.example/upload"


def log_answer(status: str) -> Callable[[GetLogRequest], GetLogResponse]:
    """A station handler answering GetLog with `status` (and a file name when it uploads)."""

    def handler(request: GetLogRequest) -> GetLogResponse:
        response = GetLogResponse(status=LogStatusEnumType(status))
        if status != "Rejected":
            response.filename = f"{request.log_type.value}-{request.request_id}.log"
        return response

    return handler


async def get_log(
    lab: Lab, station: SimStation, request_id: int, log_type: str, *, answer: str = "Accepted"
) -> GetLogRequest:
    """Tester: make the CSMS send GetLog of `log_type`; the station answers `answer`.

    Checks step 1: the CSMS sent that logType, the configured remoteLocation and requestId;
    and that it reports the station's answer. Returns the request as the station received it.
    """
    station.handle(GetLogRequest, log_answer(answer))
    payload = {
        "requestId": request_id,
        "logType": log_type,
        "log": {"remoteLocation": LOG_LOCATION},
    }
    response = await lab.call_ok("GetLog", payload)
    assert response["status"] == answer, response
    received = await station.next_csms_call("GetLog", timeout=TIMEOUT)
    request = received.request
    assert isinstance(request, GetLogRequest), request
    assert request.log_type.value == log_type, request
    assert request.request_id == request_id, request
    assert request.log.remote_location == LOG_LOCATION, request
    return request


async def log_status(lab: Lab, station: SimStation, request_id: int, status: str) -> None:
    """The station reports `status` for upload `request_id`; the CSMS answers and records it."""
    request = LogStatusNotificationRequest(
        status=UploadLogStatusEnumType(status), request_id=request_id
    )
    response = await station.call(request, LogStatusNotificationResponse)
    assert response == LogStatusNotificationResponse(), response
    upload = await log_upload(lab, request_id)
    assert upload["status"] == status, upload
    assert upload["parts"][-1]["payload"] == {"status": status, "requestId": request_id}, upload


async def log_upload(lab: Lab, request_id: int) -> dict[str, Any]:
    """The operator's view of a GetLog request and its notifications."""
    upload: dict[str, Any] = await lab.get_json(
        f"/stations/{lab.station_id}/log-uploads/{request_id}"
    )
    assert upload["kind"] == "GetLog" and upload["requestId"] == request_id, upload
    return upload


async def assert_upload(
    lab: Lab, request_id: int, *, complete: bool, statuses: tuple[str, ...]
) -> None:
    """The upload is (or is not yet) over, its notifications kept in order."""
    upload = await log_upload(lab, request_id)
    assert upload["complete"] is complete, upload
    assert [part["payload"]["status"] for part in upload["parts"]] == list(statuses), upload


async def uploaded(lab: Lab, station: SimStation, request_id: int, log_type: str) -> None:
    """N01 success: GetLog Accepted, then Uploading and Uploaded for its requestId."""
    await get_log(lab, station, request_id, log_type)
    await assert_upload(lab, request_id, complete=False, statuses=())
    await log_status(lab, station, request_id, "Uploading")
    await assert_upload(lab, request_id, complete=False, statuses=("Uploading",))
    await log_status(lab, station, request_id, "Uploaded")
    await assert_upload(lab, request_id, complete=True, statuses=("Uploading", "Uploaded"))


async def test_tc_n_25_csms(tmp_path: Path) -> None:
    """Retrieve Log Information - Diagnostics Log - Success.

    The tool validates step 1: GetLogRequest with logType DiagnosticsLog. The station answers
    Accepted and sends LogStatusNotification Uploading, then Uploaded, with the same
    requestId; the CSMS answers both and shows the upload complete after Uploaded.
    """
    async with open_lab(tmp_path) as lab, lab.station() as station:
        await states.booted(station)
        await uploaded(lab, station, 251, "DiagnosticsLog")


async def test_tc_n_34_csms(tmp_path: Path) -> None:
    """Retrieve Log Information - Rejected.

    The station answers GetLogResponse Rejected; the tool validates nothing more. The CSMS
    must cope: the request ends with that answer (no notification will come) and the station
    stays usable (a Heartbeat is answered).
    """
    async with open_lab(tmp_path) as lab, lab.station() as station:
        await states.booted(station)
        await get_log(lab, station, 341, "DiagnosticsLog", answer="Rejected")
        upload = await log_upload(lab, 341)
        assert upload["status"] == "Rejected" and upload["complete"] is True, upload
        assert upload["parts"] == [], upload
        await station.heartbeat()


async def test_tc_n_35_csms(tmp_path: Path) -> None:
    """Retrieve Log Information - Security Log - Success.

    As TC_N_25 with logType SecurityLog (validated at step 1). Part 6 step 6 reads "The OCTT
    responds with a LogStatusNotificationResponse", an evident slip for "The CSMS responds"
    (as step 4 and TC_N_25): the CSMS answers it.
    """
    async with open_lab(tmp_path) as lab, lab.station() as station:
        await states.booted(station)
        await uploaded(lab, station, 351, "SecurityLog")


async def test_tc_n_36_csms(tmp_path: Path) -> None:
    """Retrieve Log Information - Second Request.

    While a first upload is Uploading, the tester asks for a second log (a new requestId); the
    station answers AcceptedCanceled, reports AcceptedCanceled for the first requestId, then
    Uploading and Uploaded for the second. The CSMS answers everything and keeps the two
    apart: the first ends AcceptedCanceled, the second Uploaded.
    """
    async with open_lab(tmp_path) as lab, lab.station() as station:
        await states.booted(station)
        await get_log(lab, station, 361, "DiagnosticsLog")
        await log_status(lab, station, 361, "Uploading")
        await get_log(lab, station, 362, "DiagnosticsLog", answer="AcceptedCanceled")
        await assert_upload(lab, 362, complete=False, statuses=())
        await log_status(lab, station, 361, "AcceptedCanceled")
        await assert_upload(lab, 361, complete=True, statuses=("Uploading", "AcceptedCanceled"))
        await log_status(lab, station, 362, "Uploading")
        await log_status(lab, station, 362, "Uploaded")
        await assert_upload(lab, 362, complete=True, statuses=("Uploading", "Uploaded"))
        await assert_upload(lab, 361, complete=True, statuses=("Uploading", "AcceptedCanceled"))
