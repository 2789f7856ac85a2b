"""Functional block A, Security: SecurityEventNotification and SignCertificate."""

from __future__ import annotations

import functools
import logging

import trio

from ..messages import (
    CertificateSignedRequest,
    CertificateSigningUseEnumType,
    GenericStatusEnumType,
    SecurityEventNotificationRequest,
    SecurityEventNotificationResponse,
    SignCertificateRequest,
    SignCertificateResponse,
    StatusInfoType,
)
from .context import StationContext
from .notifications import keep
from .wire import given

log = logging.getLogger(__name__)


async def security_event_notification(
    ctx: StationContext, req: SecurityEventNotificationRequest
) -> SecurityEventNotificationResponse:
    """A04: keep the security event (Part 2 appendix lists the types)."""
    log.info("%s security event %s", ctx.station_id, req.type)
    await keep(ctx, "SecurityEventNotification", req)
    return SecurityEventNotificationResponse()


async def sign_certificate(
    ctx: StationContext, req: SignCertificateRequest
) -> SignCertificateResponse:
    """A02/A03: accept a CSR we can sign, answer, then send the chain in CertificateSigned."""
    await keep(ctx, "SignCertificate", req)
    if ctx.ca is None:
        return _rejected("NoCA", "this CSMS has no certificate authority configured")
    sign = functools.partial(ctx.ca.sign_csr, req.csr, station_id=ctx.station_id)
    try:
        # An RSA signature takes milliseconds: off the event loop (a handshake-rate event).
        chain = await trio.to_thread.run_sync(sign)
    except ValueError as exc:
        log.warning("%s CSR refused: %s", ctx.station_id, exc)
        return _rejected("InvalidCSR", str(exc)[:512])
    except RuntimeError as exc:  # the CA itself cannot sign (e.g. it has expired)
        log.error("%s cannot sign CSR: %s", ctx.station_id, exc)
        return _rejected("CAUnavailable", str(exc)[:512])
    use = given(req.certificate_type) or CertificateSigningUseEnumType.ChargingStationCertificate

    signed = CertificateSignedRequest(certificate_chain=chain, certificate_type=use)
    await keep(ctx, "CertificateSigned", signed)  # the issued certificate, for the operator

    async def send_chain() -> None:
        try:
            await ctx.sender.call(signed)
        except Exception as exc:  # the station asks again (A02.FR.17); nothing else to do
            log.warning("%s CertificateSigned failed: %s", ctx.station_id, exc)

    ctx.after_answer(send_chain)
    return SignCertificateResponse(status=GenericStatusEnumType.Accepted)


def _rejected(reason: str, detail: str) -> SignCertificateResponse:
    return SignCertificateResponse(
        status=GenericStatusEnumType.Rejected,
        status_info=StatusInfoType(reason_code=reason, additional_info=detail),
    )
