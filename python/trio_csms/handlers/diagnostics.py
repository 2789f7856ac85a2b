"""Functional block N, Diagnostics: NotifyEvent, LogStatusNotification,
NotifyCustomerInformation, NotifyMonitoringReport.

NotifyEvent doubles as a connector-status report: Part 5 requires a CSMS to accept connector
state both as StatusNotification and as NotifyEvent on component Connector, variable
AvailabilityState.
"""

from __future__ import annotations

from ..messages import (
    EventDataType,
    LogStatusNotificationRequest,
    LogStatusNotificationResponse,
    NotifyCustomerInformationRequest,
    NotifyCustomerInformationResponse,
    NotifyEventRequest,
    NotifyEventResponse,
    NotifyMonitoringReportRequest,
    NotifyMonitoringReportResponse,
    UploadLogStatusEnumType,
)
from .availability import set_connector_status
from .context import StationContext
from .notifications import keep, keep_part, update_request
from .wire import given

_AVAILABILITY_STATES = {"Available", "Occupied", "Reserved", "Unavailable", "Faulted"}
# LogStatusNotification statuses after which no further one follows for the request (N01).
_LOG_FINAL = {
    UploadLogStatusEnumType.Uploaded,
    UploadLogStatusEnumType.UploadFailure,
    UploadLogStatusEnumType.BadMessage,
    UploadLogStatusEnumType.NotSupportedOperation,
    UploadLogStatusEnumType.PermissionDenied,
    UploadLogStatusEnumType.AcceptedCanceled,
}


async def notify_event(ctx: StationContext, req: NotifyEventRequest) -> NotifyEventResponse:
    """N07 (and G01 via AvailabilityState): store events; apply connector states."""
    for event in req.event_data:
        connector = connector_of(event)
        if connector is not None and event.actual_value in _AVAILABILITY_STATES:
            await set_connector_status(ctx, *connector, event.actual_value)
    await keep(ctx, "NotifyEvent", req, seq_no=req.seq_no)
    return NotifyEventResponse()


def connector_of(event: EventDataType) -> tuple[int, int] | None:
    """(evse id, connector id) when `event` reports a connector's AvailabilityState."""
    if event.component.name != "Connector" or event.variable.name != "AvailabilityState":
        return None
    evse = given(event.component.evse)
    connector_id = None if evse is None else given(evse.connector_id)
    if evse is None or connector_id is None:
        return None
    return evse.id, connector_id


async def log_status_notification(
    ctx: StationContext, req: LogStatusNotificationRequest
) -> LogStatusNotificationResponse:
    """N01: progress of a GetLog upload."""
    request_id = given(req.request_id)
    await keep(ctx, "LogStatusNotification", req, request_id=request_id)
    await update_request(
        ctx,
        "LogStatusNotification",
        request_id,
        req.status.value,
        complete=req.status in _LOG_FINAL,
    )
    return LogStatusNotificationResponse()


async def notify_customer_information(
    ctx: StationContext, req: NotifyCustomerInformationRequest
) -> NotifyCustomerInformationResponse:
    """N09/N10: one part of the customer data a CustomerInformation request asked for."""
    await keep_part(
        ctx,
        "NotifyCustomerInformation",
        req,
        request_id=req.request_id,
        tbc=req.tbc,
        seq_no=req.seq_no,
    )
    return NotifyCustomerInformationResponse()


async def notify_monitoring_report(
    ctx: StationContext, req: NotifyMonitoringReportRequest
) -> NotifyMonitoringReportResponse:
    """N02: one part of a monitoring report."""
    await keep_part(
        ctx,
        "NotifyMonitoringReport",
        req,
        request_id=req.request_id,
        tbc=req.tbc,
        seq_no=req.seq_no,
    )
    return NotifyMonitoringReportResponse()
