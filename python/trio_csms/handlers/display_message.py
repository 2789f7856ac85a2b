"""Functional block O, Display Message: NotifyDisplayMessages (the answer to
GetDisplayMessages, O03)."""

from __future__ import annotations

from ..messages import NotifyDisplayMessagesRequest, NotifyDisplayMessagesResponse
from .context import StationContext
from .notifications import keep_part


async def notify_display_messages(
    ctx: StationContext, req: NotifyDisplayMessagesRequest
) -> NotifyDisplayMessagesResponse:
    await keep_part(ctx, "NotifyDisplayMessages", req, request_id=req.request_id, tbc=req.tbc)
    return NotifyDisplayMessagesResponse()
