"""Functional block M, certificate management requests a station sends: Get15118EVCertificate
and GetCertificateStatus (ISO 15118 profile).

Both need services outside this CSMS (a contract-certificate pool, an OCSP responder). Without
them the honest answer is Failed with a reason, which the schema allows and a station handles;
the requests are kept so an operator can see them.
"""

from __future__ import annotations

from ..messages import (
    Get15118EVCertificateRequest,
    Get15118EVCertificateResponse,
    GetCertificateStatusEnumType,
    GetCertificateStatusRequest,
    GetCertificateStatusResponse,
    Iso15118EVCertificateStatusEnumType,
    StatusInfoType,
)
from .context import StationContext
from .notifications import keep


async def get_15118_ev_certificate(
    ctx: StationContext, req: Get15118EVCertificateRequest
) -> Get15118EVCertificateResponse:
    """M02/M03: no contract-certificate service is configured: Failed."""
    await keep(ctx, "Get15118EVCertificate", req)
    return Get15118EVCertificateResponse(
        status=Iso15118EVCertificateStatusEnumType.Failed,
        exi_response="",
        status_info=StatusInfoType(
            reason_code="NoService", additional_info="no contract certificate service configured"
        ),
    )


async def get_certificate_status(
    ctx: StationContext, req: GetCertificateStatusRequest
) -> GetCertificateStatusResponse:
    """M06: no OCSP responder is configured: Failed."""
    await keep(ctx, "GetCertificateStatus", req)
    return GetCertificateStatusResponse(
        status=GetCertificateStatusEnumType.Failed,
        status_info=StatusInfoType(
            reason_code="NoService", additional_info="no OCSP responder configured"
        ),
    )
