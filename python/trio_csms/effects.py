"""Server-side effects of CSMS-to-station CALLs (`Csms.call` applies them, for the operator
API and embedding applications alike).

- Requests answered later by notifications (GetBaseReport, GetReport, GetLog, UpdateFirmware,
  CustomerInformation, GetMonitoringReport, GetDisplayMessages) are recorded by requestId
  before the CALL is sent, so their notifications can be matched (`store.put_request`). When
  the station refuses one (any status but Accepted and AcceptedCanceled: Rejected,
  InvalidCertificate, NotSupported, ...), no notification will follow: the record takes that
  status and is complete. An UpdateFirmware answered AcceptedCanceled (L01.FR.24) means the
  station cancelled the update it was running: that earlier request is complete with status
  "Canceled" (the station reports the cancellation only in this answer).
- SetVariables of SecurityCtrlr.BasicAuthPassword switches the stored password only when the
  station answers Accepted (A01, TC_A_09/TC_A_10); the old one stays admitted until the
  station first logs in with the new one (see `server.StationServer._check_password`).
- An Accepted SetNetworkProfile with a higher securityProfile makes it the station's pending
  profile; once the station connects on it, it becomes the registered one and lower profiles
  are refused from then on (A05, TC_A_19; see `server.StationServer._admit`).
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Final

import msgspec
import trio

from .messages import (
    ACTION_BY_REQUEST,
    AttributeEnumType,
    Message,
    SetNetworkProfileRequest,
    SetNetworkProfileResponse,
    SetNetworkProfileStatusEnumType,
    SetVariablesRequest,
    SetVariablesResponse,
    SetVariableStatusEnumType,
    UpdateFirmwareRequest,
    UpdateFirmwareResponse,
    UpdateFirmwareStatusEnumType,
)
from .rpc.errors import ErrorCode, OcppError
from .security.passwords import hash_password
from .store import RequestRecord, StationChanges, Store

TRACKED_ACTIONS = frozenset(
    {
        "GetBaseReport",
        "GetReport",
        "GetLog",
        "UpdateFirmware",
        "CustomerInformation",
        "GetMonitoringReport",
        "GetDisplayMessages",
    }
)


#: The requestIds a recorded request may have: what the store keeps (64-bit signed). OCPP
#: leaves `integer` unbounded; the operator API's OpenAPI document states this range.
REQUEST_ID_RANGE = range(-(2**63), 2**63)


async def before_call(store: Store, station_id: str, request: Message) -> None:
    """Record a request that notifications will answer, by its requestId.

    Raises:
        OcppError: PropertyConstraintViolation when its requestId is outside REQUEST_ID_RANGE
            (the CALL must then not be sent: its notifications could not be matched).
    """
    spec = ACTION_BY_REQUEST.get(type(request))
    request_id = getattr(request, "request_id", None)
    if spec is None or spec.action not in TRACKED_ACTIONS or not isinstance(request_id, int):
        return
    if request_id not in REQUEST_ID_RANGE:
        raise OcppError(
            ErrorCode.PropertyConstraintViolation,
            f"requestId {request_id} is outside the 64-bit range a recorded request can have",
        )
    await store.put_request(
        RequestRecord(
            station_id=station_id,
            request_id=request_id,
            kind=spec.action,
            created_at=datetime.now(UTC),
            request=msgspec.to_builtins(request),
        )
    )


def new_password(request: Message, response: Message) -> str | None:
    """The BasicAuthPassword a SetVariables set and the station Accepted, if any."""
    if not isinstance(request, SetVariablesRequest) or not isinstance(
        response, SetVariablesResponse
    ):
        return None
    target = ("SecurityCtrlr", "BasicAuthPassword")
    actual = (msgspec.UNSET, AttributeEnumType.Actual)
    accepted = any(
        (result.component.name, result.variable.name) == target
        and result.attribute_type in actual
        and result.attribute_status is SetVariableStatusEnumType.Accepted
        for result in response.set_variable_result
    )
    if not accepted:
        return None
    for data in request.set_variable_data:
        if (data.component.name, data.variable.name) == target and data.attribute_type in actual:
            return data.attribute_value
    return None


def new_security_profile(request: Message, response: Message) -> int | None:
    """The securityProfile an Accepted SetNetworkProfile moves the station to, if any."""
    if (
        isinstance(request, SetNetworkProfileRequest)
        and isinstance(response, SetNetworkProfileResponse)
        and response.status is SetNetworkProfileStatusEnumType.Accepted
    ):
        return request.connection_data.security_profile
    return None


# Answers to a tracked request after which the station reports on it with notifications.
_PROCEEDING: Final = frozenset({"Accepted", "AcceptedCanceled"})


async def record_refusal(
    store: Store, station_id: str, request: Message, response: Message
) -> None:
    """A tracked request the station refused is over: keep its answer as the final status."""
    spec = ACTION_BY_REQUEST.get(type(request))
    request_id = getattr(request, "request_id", None)
    status = getattr(response, "status", None)
    if spec is None or spec.action not in TRACKED_ACTIONS or not isinstance(request_id, int):
        return
    if not isinstance(status, enum.Enum) or status.value in _PROCEEDING:
        return
    record = await store.get_request(station_id, request_id, (spec.action,))
    if record is None:
        return
    record.status = str(status.value)
    record.complete = True
    await store.put_request(record)


# The status a firmware update takes when a newer one replaced it (not a FirmwareStatusEnum
# value: no station ever reports it).
CANCELED: Final = "Canceled"


async def record_firmware_cancel(
    store: Store, station_id: str, request: Message, response: Message
) -> None:
    """L01.FR.24: an AcceptedCanceled UpdateFirmware ends the update that was running."""
    if not isinstance(request, UpdateFirmwareRequest) or not isinstance(
        response, UpdateFirmwareResponse
    ):
        return
    if response.status is not UpdateFirmwareStatusEnumType.AcceptedCanceled:
        return
    for record in await store.list_open_requests(station_id, "UpdateFirmware"):
        if record.request_id != request.request_id:
            record.status = CANCELED
            record.complete = True
            await store.put_request(record)


async def after_call(store: Store, station_id: str, request: Message, response: Message) -> None:
    """Apply what an answered CALL changes on the CSMS side."""
    await record_refusal(store, station_id, request, response)
    await record_firmware_cancel(store, station_id, request, response)
    password = new_password(request, response)
    profile = new_security_profile(request, response)
    if password is None and profile is None:
        return
    station = await store.get_station(station_id)
    if station is None:
        return
    changes = StationChanges()
    if password is not None:
        changes.password_hash = await trio.to_thread.run_sync(hash_password, password)
        changes.previous_password_hash = station.password_hash
    if profile is not None and profile > station.security_profile:
        changes.pending_security_profile = profile
    await store.update_station(station_id, changes)
