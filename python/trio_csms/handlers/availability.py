"""Functional block G, Availability: Heartbeat and StatusNotification (G01, G02)."""

from __future__ import annotations

from ..events import ConnectorStatusChanged
from ..messages import (
    HeartbeatRequest,
    HeartbeatResponse,
    StatusNotificationRequest,
    StatusNotificationResponse,
)
from ..store.base import ConnectorRecord
from .context import StationContext


async def heartbeat(ctx: StationContext, req: HeartbeatRequest) -> HeartbeatResponse:
    """G02: the CSMS's time, which the station uses to set its clock."""
    return HeartbeatResponse(current_time=ctx.now())


async def status_notification(
    ctx: StationContext, req: StatusNotificationRequest
) -> StatusNotificationResponse:
    """G01: the new status of one connector."""
    await set_connector_status(ctx, req.evse_id, req.connector_id, req.connector_status.value)
    return StatusNotificationResponse()


async def set_connector_status(
    ctx: StationContext, evse_id: int, connector_id: int, status: str
) -> None:
    """Store a connector's status, from StatusNotification or NotifyEvent alike."""
    await ctx.store.set_connector_status(
        ConnectorRecord(
            station_id=ctx.station_id,
            evse_id=evse_id,
            connector_id=connector_id,
            status=status,
            updated_at=ctx.now(),
        )
    )
    ctx.emit(ConnectorStatusChanged(ctx.station_id, evse_id, connector_id, status))
