"""Functional block L, Firmware Management: FirmwareStatusNotification and
PublishFirmwareStatusNotification."""

from __future__ import annotations

from ..messages import (
    FirmwareStatusEnumType,
    FirmwareStatusNotificationRequest,
    FirmwareStatusNotificationResponse,
    PublishFirmwareStatusEnumType,
    PublishFirmwareStatusNotificationRequest,
    PublishFirmwareStatusNotificationResponse,
)
from ..store.base import StationChanges
from .context import StationContext
from .notifications import keep, update_request
from .wire import given

# Statuses after which an update is over (L01): installed, or failed for good.
_FIRMWARE_FINAL = {
    FirmwareStatusEnumType.Installed,
    FirmwareStatusEnumType.DownloadFailed,
    FirmwareStatusEnumType.InstallationFailed,
    FirmwareStatusEnumType.InstallVerificationFailed,
    FirmwareStatusEnumType.InvalidSignature,
}
# Statuses after which publishing is over (L05): published, or failed for good.
_PUBLISH_FINAL = {
    PublishFirmwareStatusEnumType.Published,
    PublishFirmwareStatusEnumType.DownloadFailed,
    PublishFirmwareStatusEnumType.InvalidChecksum,
    PublishFirmwareStatusEnumType.PublishFailed,
}


async def firmware_status_notification(
    ctx: StationContext, req: FirmwareStatusNotificationRequest
) -> FirmwareStatusNotificationResponse:
    """L01-L04: progress of a firmware update; the station's current firmware status."""
    request_id = given(req.request_id)
    await keep(ctx, "FirmwareStatusNotification", req, request_id=request_id)
    await ctx.store.update_station(ctx.station_id, StationChanges(firmware_status=req.status.value))
    final = req.status in _FIRMWARE_FINAL
    await update_request(
        ctx, "FirmwareStatusNotification", request_id, req.status.value, complete=final
    )
    return FirmwareStatusNotificationResponse()


async def publish_firmware_status_notification(
    ctx: StationContext, req: PublishFirmwareStatusNotificationRequest
) -> PublishFirmwareStatusNotificationResponse:
    """L05 (Local Controller): progress of publishing a firmware image."""
    request_id = given(req.request_id)
    await keep(ctx, "PublishFirmwareStatusNotification", req, request_id=request_id)
    final = req.status in _PUBLISH_FINAL
    await update_request(
        ctx, "PublishFirmwareStatusNotification", request_id, req.status.value, complete=final
    )
    return PublishFirmwareStatusNotificationResponse()
