"""Handlers for every CALL a charging station sends, one module per functional block.

A handler is `async def name(ctx: StationContext, request) -> response`. `HANDLERS` maps each
action to its handler; it covers every action a station may send (a test checks it), so a
conforming station never gets NotImplemented.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from ..messages import Message
from . import (
    authorization,
    availability,
    certificate_management,
    data_transfer,
    diagnostics,
    display_message,
    firmware_management,
    provisioning,
    reservation,
    security,
    smart_charging,
    transactions,
)
from .context import (
    Authorizer as Authorizer,
)
from .context import (
    CsrSigner as CsrSigner,
)
from .context import (
    Hooks as Hooks,
)
from .context import (
    Registration as Registration,
)
from .context import (
    StationContext as StationContext,
)
from .context import (
    VendorHandler as VendorHandler,
)

Handler = Callable[[StationContext, Any], Awaitable[Message]]

HANDLERS: dict[str, Handler] = {
    "Authorize": authorization.authorize,
    "BootNotification": provisioning.boot_notification,
    "ClearedChargingLimit": smart_charging.cleared_charging_limit,
    "DataTransfer": data_transfer.data_transfer,
    "FirmwareStatusNotification": firmware_management.firmware_status_notification,
    "Get15118EVCertificate": certificate_management.get_15118_ev_certificate,
    "GetCertificateStatus": certificate_management.get_certificate_status,
    "Heartbeat": availability.heartbeat,
    "LogStatusNotification": diagnostics.log_status_notification,
    "MeterValues": transactions.meter_values,
    "NotifyChargingLimit": smart_charging.notify_charging_limit,
    "NotifyCustomerInformation": diagnostics.notify_customer_information,
    "NotifyDisplayMessages": display_message.notify_display_messages,
    "NotifyEVChargingNeeds": smart_charging.notify_ev_charging_needs,
    "NotifyEVChargingSchedule": smart_charging.notify_ev_charging_schedule,
    "NotifyEvent": diagnostics.notify_event,
    "NotifyMonitoringReport": diagnostics.notify_monitoring_report,
    "NotifyReport": provisioning.notify_report,
    "PublishFirmwareStatusNotification": firmware_management.publish_firmware_status_notification,
    "ReportChargingProfiles": smart_charging.report_charging_profiles,
    "ReservationStatusUpdate": reservation.reservation_status_update,
    "SecurityEventNotification": security.security_event_notification,
    "SignCertificate": security.sign_certificate,
    "StatusNotification": availability.status_notification,
    "TransactionEvent": transactions.transaction_event,
}
