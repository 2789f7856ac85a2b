"""Keeping notifications as received, and matching them to the request that caused them."""

from __future__ import annotations

import msgspec

from ..messages import Message
from ..store.base import NotificationRecord
from .context import StationContext
from .wire import to_wire


async def keep(
    ctx: StationContext,
    action: str,
    req: Message,
    *,
    request_id: int | None = None,
    seq_no: int | None = None,
) -> None:
    """Store `req` as received (committed before the caller answers)."""
    await ctx.store.add_notification(
        NotificationRecord(
            station_id=ctx.station_id,
            action=action,
            payload=to_wire(req),
            received_at=ctx.now(),
            request_id=request_id,
            seq_no=seq_no,
        )
    )


async def update_request(
    ctx: StationContext, request_id: int | None, status: str, *, complete: bool
) -> None:
    """Record the latest status of the CSMS request `request_id`, if it was ours."""
    if request_id is None:
        return
    request = await ctx.store.get_request(ctx.station_id, request_id)
    if request is None:
        return
    request.status = status
    request.complete = request.complete or complete
    await ctx.store.put_request(request)


async def keep_part(
    ctx: StationContext,
    action: str,
    req: Message,
    *,
    request_id: int,
    tbc: bool | msgspec.UnsetType,
    seq_no: int | None = None,
) -> None:
    """Store one part of a multi-part answer (tbc: "to be continued") and advance its request:
    Partial while parts follow, Complete with the last one."""
    await keep(ctx, action, req, request_id=request_id, seq_no=seq_no)
    last = tbc is not True
    await update_request(ctx, request_id, "Complete" if last else "Partial", complete=last)
