"""Block P, DataTransfer: the Core test cases TC_P_xx_CSMS (catalogue section 1.P)."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from conformance import states
from conformance.lab import open_lab

from trio_csms.messages import DataTransferRequest, DataTransferResponse
from trio_csms.sim import SimStation

# The OCTT's configured vendor extension (<cfg vendorId>, <cfg messageId>): nothing a CSMS
# without vendor extensions can know.
VENDOR_ID = "org.openchargealliance.octt"
MESSAGE_ID = "OcttTestMessage"
# P02.FR.06/07, and Part 6's note that Rejected is allowed for CSMSs without extensions.
ALLOWED = {"UnknownVendorId", "UnknownMessageId", "Rejected"}

_message_ids = itertools.count(1)


@pytest.mark.parametrize(
    "request_fields",
    [
        {"message_id": MESSAGE_ID, "data": {"question": "anything supported?", "n": [1, 2]}},
        {"message_id": MESSAGE_ID},
        {"data": "just a string"},
        {},
    ],
    ids=["messageId+data", "messageId", "data", "vendorId-only"],
)
async def test_tc_p_02_csms(tmp_path: Path, request_fields: dict[str, Any]) -> None:
    """Data Transfer to the CSMS - Rejected / Unknown VendorId / Unknown MessageId.

    The tool sends DataTransferRequest with its configured vendorId and messageId; the CSMS
    must answer with a DataTransferResponse (never a CALLERROR) whose status is
    UnknownVendorId, UnknownMessageId or Rejected. Also played without messageId and data,
    which the schema allows. The station must stay usable afterwards (a Heartbeat is
    answered).
    """
    async with open_lab(tmp_path) as lab, lab.station() as station:
        await states.booted(station)
        request = DataTransferRequest(vendor_id=VENDOR_ID, **request_fields)
        response = await station.call(request, DataTransferResponse)
        assert response.status.value in ALLOWED, response
        await station.heartbeat()


async def test_tc_p_03_csms(tmp_path: Path) -> None:
    """CustomData - Receive custom data.

    The tool sends a StatusNotificationRequest with a top-level customData, then a
    TransactionEventRequest with customData at the top level and in transactionInfo. Each
    customData holds its vendorId plus vendor properties the CSMS does not know (customData
    is the one open object of the schemas). The CSMS must answer both with a normal
    CALLRESULT, and process them as usual: the connector status and the transaction are
    recorded as if the customData were not there. The frames are sent as raw JSON, so the
    vendor properties reach the CSMS exactly as a vendor's station would send them.
    """
    custom = {
        "vendorId": VENDOR_ID,
        "firmwareBuild": "2024.05-rc1",
        "cableTemperature": 31.5,
        "flags": {"nested": [True, None, 3]},
    }
    now = _now()
    async with open_lab(tmp_path) as lab, lab.station() as station:
        await states.booted(station)
        status = {
            "timestamp": now,
            "connectorStatus": "Occupied",
            "evseId": 1,
            "connectorId": 1,
            "customData": custom,
        }
        answer = await _raw_call(station, "StatusNotification", status)
        assert answer == {}, answer  # StatusNotificationResponse has no required field

        tokens = lab.tokens
        event = {
            "eventType": "Started",
            "timestamp": now,
            "triggerReason": "Authorized",
            "seqNo": 0,
            "transactionInfo": {
                "transactionId": "P03-TX-1",
                "chargingState": "EVConnected",
                "customData": {**custom, "sessionHint": "vendor-specific"},
            },
            "evse": {"id": 1, "connectorId": 1},
            "idToken": tokens.id_token("valid"),
            "customData": custom,
        }
        answer = await _raw_call(station, "TransactionEvent", event)
        assert answer["idTokenInfo"]["status"] == "Accepted", answer

        view = await lab.get_json(f"/stations/{lab.station_id}")
        connectors = {
            (evse["evseId"], c["connectorId"]): c["status"]
            for evse in view["evses"]
            for c in evse["connectors"]
        }
        assert connectors[(1, 1)] == "Occupied", view
        tx = await lab.get_json(f"/transactions/{lab.station_id}/P03-TX-1")
        assert tx["active"] is True and tx["evseId"] == 1, tx
        assert tx["chargingState"] == "EVConnected", tx


async def _raw_call(station: SimStation, action: str, payload: dict[str, Any]) -> Any:
    """Send one CALL as raw JSON; return the CALLRESULT's payload (fail on anything else)."""
    message_id = f"p03-{next(_message_ids)}"
    frame = json.dumps([2, message_id, action, payload])
    text = await station.call_raw(frame, timeout=10)
    assert text is not None, f"{action}: no answer"
    answer = json.loads(text)
    assert answer[:2] == [3, message_id], f"{action}: not a CALLRESULT: {text}"
    return answer[2]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
