"""Keeping notifications as received, and matching them to the request that caused them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

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


#: The CSMS requests each notification reports on. A requestId is matched only against
#: requests of these kinds: the CSMS numbers each kind on its own, so a FirmwareStatusNotification
#: must not move a GetLog that happens to have the same requestId.
ANSWERS: Final[Mapping[str, frozenset[str]]] = {
    "NotifyReport": frozenset({"GetBaseReport", "GetReport"}),
    "NotifyCustomerInformation": frozenset({"CustomerInformation"}),
    "NotifyMonitoringReport": frozenset({"GetMonitoringReport"}),
    "NotifyDisplayMessages": frozenset({"GetDisplayMessages"}),
    "ReportChargingProfiles": frozenset({"GetChargingProfiles"}),
    "LogStatusNotification": frozenset({"GetLog"}),
    "FirmwareStatusNotification": frozenset({"UpdateFirmware"}),
    "PublishFirmwareStatusNotification": frozenset({"PublishFirmware"}),
}


async def update_request(
    ctx: StationContext, action: str, request_id: int | None, status: str, *, complete: bool
) -> None:
    """Record the latest status of the CSMS request `request_id`, if it was ours and of a kind
    the notification `action` reports on (`ANSWERS`)."""
    if request_id is None:
        return
    request = await ctx.store.get_request(
        ctx.station_id, request_id, ANSWERS.get(action, frozenset())
    )
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
    await update_request(ctx, action, request_id, "Complete" if last else "Partial", complete=last)
