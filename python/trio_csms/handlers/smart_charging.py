"""Functional block K, Smart Charging, the messages a station sends: NotifyChargingLimit,
ClearedChargingLimit, NotifyEVChargingNeeds, NotifyEVChargingSchedule, ReportChargingProfiles.

This CSMS does not compute charging schedules yet, so it keeps what stations report and says
so where the answer has a status: NotifyEVChargingNeeds is Rejected (the CSMS will not send a
schedule; K15.FR), NotifyEVChargingSchedule is Accepted (the EV's schedule is noted).
"""

from __future__ import annotations

from ..messages import (
    ClearedChargingLimitRequest,
    ClearedChargingLimitResponse,
    GenericStatusEnumType,
    NotifyChargingLimitRequest,
    NotifyChargingLimitResponse,
    NotifyEVChargingNeedsRequest,
    NotifyEVChargingNeedsResponse,
    NotifyEVChargingNeedsStatusEnumType,
    NotifyEVChargingScheduleRequest,
    NotifyEVChargingScheduleResponse,
    ReportChargingProfilesRequest,
    ReportChargingProfilesResponse,
    StatusInfoType,
)
from .context import StationContext
from .notifications import keep, keep_part


async def notify_charging_limit(
    ctx: StationContext, req: NotifyChargingLimitRequest
) -> NotifyChargingLimitResponse:
    """K12: an external limit now applies at the station."""
    await keep(ctx, "NotifyChargingLimit", req)
    return NotifyChargingLimitResponse()


async def cleared_charging_limit(
    ctx: StationContext, req: ClearedChargingLimitRequest
) -> ClearedChargingLimitResponse:
    """K13: an external limit was lifted."""
    await keep(ctx, "ClearedChargingLimit", req)
    return ClearedChargingLimitResponse()


async def notify_ev_charging_needs(
    ctx: StationContext, req: NotifyEVChargingNeedsRequest
) -> NotifyEVChargingNeedsResponse:
    """K15: the EV's needs are kept; no schedule will follow."""
    await keep(ctx, "NotifyEVChargingNeeds", req)
    return NotifyEVChargingNeedsResponse(
        status=NotifyEVChargingNeedsStatusEnumType.Rejected,
        status_info=StatusInfoType(
            reason_code="NoSchedule", additional_info="this CSMS does not provide schedules"
        ),
    )


async def notify_ev_charging_schedule(
    ctx: StationContext, req: NotifyEVChargingScheduleRequest
) -> NotifyEVChargingScheduleResponse:
    """K17: the schedule the EV negotiated is kept."""
    await keep(ctx, "NotifyEVChargingSchedule", req)
    return NotifyEVChargingScheduleResponse(status=GenericStatusEnumType.Accepted)


async def report_charging_profiles(
    ctx: StationContext, req: ReportChargingProfilesRequest
) -> ReportChargingProfilesResponse:
    """K09: one part of the answer to a GetChargingProfiles request."""
    await keep_part(ctx, "ReportChargingProfiles", req, request_id=req.request_id, tbc=req.tbc)
    return ReportChargingProfilesResponse()
