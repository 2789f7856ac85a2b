"""Functional block H, Reservation: ReservationStatusUpdate (H05)."""

from __future__ import annotations

from ..messages import ReservationStatusUpdateRequest, ReservationStatusUpdateResponse
from .context import StationContext
from .notifications import keep


async def reservation_status_update(
    ctx: StationContext, req: ReservationStatusUpdateRequest
) -> ReservationStatusUpdateResponse:
    """A reservation expired or was removed at the station."""
    await keep(ctx, "ReservationStatusUpdate", req)
    return ReservationStatusUpdateResponse()
