"""How a simulated station answers the CSMS's CALLs that need no state of its own.

Shared by `SimStation` (one full station) and the fleet's lean stations (`sim.fleet`): Accepted
where a plain station would accept, the honest "nothing here" where it holds no such data.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

import msgspec

from ..messages import (
    CertificateSignedRequest,
    CertificateSignedResponse,
    CertificateSignedStatusEnumType,
    ChangeAvailabilityRequest,
    ChangeAvailabilityResponse,
    ChangeAvailabilityStatusEnumType,
    ClearCacheRequest,
    ClearCacheResponse,
    ClearCacheStatusEnumType,
    CustomerInformationRequest,
    CustomerInformationResponse,
    CustomerInformationStatusEnumType,
    DataTransferRequest,
    DataTransferResponse,
    DataTransferStatusEnumType,
    DeleteCertificateRequest,
    DeleteCertificateResponse,
    DeleteCertificateStatusEnumType,
    GetInstalledCertificateIdsRequest,
    GetInstalledCertificateIdsResponse,
    GetInstalledCertificateStatusEnumType,
    GetLocalListVersionRequest,
    GetLocalListVersionResponse,
    GetLogRequest,
    GetLogResponse,
    GetTransactionStatusRequest,
    GetTransactionStatusResponse,
    GetVariableResultType,
    GetVariablesRequest,
    GetVariablesResponse,
    GetVariableStatusEnumType,
    InstallCertificateRequest,
    InstallCertificateResponse,
    InstallCertificateStatusEnumType,
    LogStatusEnumType,
    Message,
    RequestStartStopStatusEnumType,
    RequestStartTransactionRequest,
    RequestStartTransactionResponse,
    RequestStopTransactionRequest,
    RequestStopTransactionResponse,
    ResetRequest,
    ResetResponse,
    ResetStatusEnumType,
    SendLocalListRequest,
    SendLocalListResponse,
    SendLocalListStatusEnumType,
    SetNetworkProfileRequest,
    SetNetworkProfileResponse,
    SetNetworkProfileStatusEnumType,
    SetVariableResultType,
    SetVariablesRequest,
    SetVariablesResponse,
    SetVariableStatusEnumType,
    UnlockConnectorRequest,
    UnlockConnectorResponse,
    UnlockStatusEnumType,
    UpdateFirmwareRequest,
    UpdateFirmwareResponse,
    UpdateFirmwareStatusEnumType,
)


def constant_answer(response: Message) -> Callable[[Message], Message]:
    """A handler answering every request with a copy of `response`."""

    def answer(_request: Message) -> Message:
        return msgspec.structs.replace(response)

    return answer


# Default answers that don't depend on the request: Accepted where a plain station would
# accept, the honest "nothing here" where it holds no such data.
CONSTANT_ANSWERS: Final[tuple[tuple[type[Message], Message], ...]] = (
    (ResetRequest, ResetResponse(status=ResetStatusEnumType.Accepted)),
    (
        ChangeAvailabilityRequest,
        ChangeAvailabilityResponse(status=ChangeAvailabilityStatusEnumType.Accepted),
    ),
    (ClearCacheRequest, ClearCacheResponse(status=ClearCacheStatusEnumType.Accepted)),
    (UnlockConnectorRequest, UnlockConnectorResponse(status=UnlockStatusEnumType.Unlocked)),
    (
        RequestStartTransactionRequest,
        RequestStartTransactionResponse(status=RequestStartStopStatusEnumType.Accepted),
    ),
    (
        RequestStopTransactionRequest,
        RequestStopTransactionResponse(status=RequestStartStopStatusEnumType.Accepted),
    ),
    (GetTransactionStatusRequest, GetTransactionStatusResponse(messages_in_queue=False)),
    (
        UpdateFirmwareRequest,
        UpdateFirmwareResponse(status=UpdateFirmwareStatusEnumType.Accepted),
    ),
    (GetLogRequest, GetLogResponse(status=LogStatusEnumType.Accepted)),
    (
        CustomerInformationRequest,
        CustomerInformationResponse(status=CustomerInformationStatusEnumType.Accepted),
    ),
    # TC_P_02-style: a vendor the station does not know is a business "no", not an error.
    (
        DataTransferRequest,
        DataTransferResponse(status=DataTransferStatusEnumType.UnknownVendorId),
    ),
    (
        CertificateSignedRequest,
        CertificateSignedResponse(status=CertificateSignedStatusEnumType.Accepted),
    ),
    (
        InstallCertificateRequest,
        InstallCertificateResponse(status=InstallCertificateStatusEnumType.Accepted),
    ),
    (
        DeleteCertificateRequest,
        DeleteCertificateResponse(status=DeleteCertificateStatusEnumType.NotFound),
    ),
    (
        GetInstalledCertificateIdsRequest,
        GetInstalledCertificateIdsResponse(status=GetInstalledCertificateStatusEnumType.NotFound),
    ),
    (
        SetNetworkProfileRequest,
        SetNetworkProfileResponse(status=SetNetworkProfileStatusEnumType.Accepted),
    ),
    (GetLocalListVersionRequest, GetLocalListVersionResponse(version_number=0)),
    (SendLocalListRequest, SendLocalListResponse(status=SendLocalListStatusEnumType.Accepted)),
)


def get_variables(request: GetVariablesRequest) -> GetVariablesResponse:
    """B06 with no device model: every component is unknown."""
    # The simulator has no device model: every component is unknown (B06).
    return GetVariablesResponse(
        get_variable_result=[
            GetVariableResultType(
                attribute_status=GetVariableStatusEnumType.UnknownComponent,
                attribute_type=data.attribute_type,
                component=data.component,
                variable=data.variable,
            )
            for data in request.get_variable_data
        ]
    )


def set_variables(request: SetVariablesRequest) -> SetVariablesResponse:
    """B05: every variable is accepted."""
    return SetVariablesResponse(
        set_variable_result=[
            SetVariableResultType(
                attribute_status=SetVariableStatusEnumType.Accepted,
                attribute_type=data.attribute_type,
                component=data.component,
                variable=data.variable,
            )
            for data in request.set_variable_data
        ]
    )
