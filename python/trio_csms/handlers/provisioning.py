"""Functional block B, Provisioning: BootNotification and NotifyReport.

Boot policy (B01-B03, AQ-1): a station's own `registration_policy`, else the server's
`stations.default_registration`. With onboarding on (AQ-2, C-50.1) a station whose FullInventory
has not been received is answered Pending and sent GetBaseReport FullInventory; once the last
NotifyReport part (tbc false) of that report is stored, its next BootNotification is Accepted.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

from ..events import StationBooted
from ..messages import (
    BootNotificationRequest,
    BootNotificationResponse,
    GenericDeviceModelStatusEnumType,
    GetBaseReportRequest,
    Message,
    NotifyReportRequest,
    NotifyReportResponse,
    RegistrationStatusEnumType,
    ReportBaseEnumType,
)
from ..store.base import RequestRecord, StationChanges, StationRecord, VariableRecord
from .context import StationContext
from .notifications import keep_part
from .wire import given, to_wire

log = logging.getLogger(__name__)


async def boot_notification(
    ctx: StationContext, req: BootNotificationRequest
) -> BootNotificationResponse:
    """B01-B03: answer with the station's registration policy; record the boot."""
    now = ctx.now()
    station = await ctx.store.get_station(ctx.station_id) or StationRecord(
        station_id=ctx.station_id, created_at=now
    )
    status = station.registration_policy or ctx.config.stations.default_registration
    onboard = status == "Accepted" and ctx.config.stations.onboarding and not station.onboarded
    if onboard:
        status = "Pending"  # held until the FullInventory report is in (C-50.1)
    boot = StationChanges(
        registration_status=status,
        charging_station=to_wire(req.charging_station),
        last_boot_at=now,
        last_boot_reason=req.reason.value,
        last_seen=now,
    )
    # Only the boot's own fields: an operator's concurrent PUT of the station keeps its own.
    await ctx.store.update_station(ctx.station_id, boot)
    ctx.registration.status = status
    ctx.registration.triggered.discard("BootNotification")
    if onboard and ctx.registration.report_request_id is None:
        ctx.after_answer(lambda: request_full_inventory(ctx))
    interval = (
        ctx.config.stations.heartbeat_interval
        if status == "Accepted"
        else ctx.config.stations.pending_retry_interval
    )
    log.info("%s boot %s (%s): %s", ctx.station_id, req.reason.value, _model(req), status)
    ctx.emit(StationBooted(ctx.station_id, status, req.reason.value))
    return BootNotificationResponse(
        current_time=now, interval=interval, status=RegistrationStatusEnumType(status)
    )


def _model(req: BootNotificationRequest) -> str:
    return f"{req.charging_station.vendor_name} {req.charging_station.model}"


async def request_full_inventory(ctx: StationContext) -> None:
    """Onboarding: ask a Pending station for its whole device model (B07, C-50.1)."""
    request_id = secrets.randbelow(1 << 31)
    ctx.registration.report_request_id = request_id
    await ctx.store.put_request(
        RequestRecord(
            station_id=ctx.station_id,
            request_id=request_id,
            kind="GetBaseReport",
            created_at=ctx.now(),
            request={"requestId": request_id, "reportBase": "FullInventory"},
        )
    )
    request = GetBaseReportRequest(
        request_id=request_id, report_base=ReportBaseEnumType.FullInventory
    )
    try:
        answer = await ctx.sender.call(request)
    except Exception as exc:  # the next BootNotification asks again
        ctx.registration.report_request_id = None
        log.warning("%s onboarding GetBaseReport failed: %s", ctx.station_id, exc)
        return
    status = getattr(answer, "status", None)
    if status is not GenericDeviceModelStatusEnumType.Accepted:
        ctx.registration.report_request_id = None  # the next BootNotification asks again
        log.warning("%s refused the onboarding GetBaseReport: %s", ctx.station_id, status)


async def notify_report(ctx: StationContext, req: NotifyReportRequest) -> NotifyReportResponse:
    """B07/B08: store one part of a report; complete the request on the last part."""
    variables = [
        VariableRecord(
            station_id=ctx.station_id,
            component=to_wire(item.component),
            variable=to_wire(item.variable),
            variable_attribute=[to_wire(a) for a in item.variable_attribute],
            variable_characteristics=_optional_wire(given(item.variable_characteristics)),
        )
        for item in given(req.report_data) or ()
    ]
    if variables:
        await ctx.store.put_variables(variables)
    await keep_part(
        ctx, "NotifyReport", req, request_id=req.request_id, tbc=req.tbc, seq_no=req.seq_no
    )
    if req.tbc is not True and await _is_full_inventory(ctx, req.request_id):
        await _finish_onboarding(ctx)
    return NotifyReportResponse()


def _optional_wire(value: Message | None) -> dict[str, Any] | None:
    return None if value is None else to_wire(value)


async def _is_full_inventory(ctx: StationContext, request_id: int) -> bool:
    """Whether `request_id` is a GetBaseReport FullInventory of ours (made on any connection)."""
    request = await ctx.store.get_request(ctx.station_id, request_id, ("GetBaseReport",))
    return request is not None and (request.request or {}).get("reportBase") == "FullInventory"


async def _finish_onboarding(ctx: StationContext) -> None:
    """A FullInventory report is complete: the station is onboarded (C-50.1)."""
    ctx.registration.report_request_id = None
    station = await ctx.store.get_station(ctx.station_id)
    if station is not None and not station.onboarded:
        await ctx.store.update_station(ctx.station_id, StationChanges(onboarded=True))
        log.info("%s onboarded: FullInventory report complete", ctx.station_id)
