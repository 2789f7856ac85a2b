"""Functional block P, DataTransfer (P01): vendor-specific messages.

A vendorId with a registered handler (`Hooks.vendors`) is answered by it; any other gets
UnknownVendorId, the answer TC_P_02 expects (a status, not a CALLERROR).
"""

from __future__ import annotations

from ..messages import DataTransferRequest, DataTransferResponse, DataTransferStatusEnumType
from .context import StationContext
from .notifications import keep


async def data_transfer(ctx: StationContext, req: DataTransferRequest) -> DataTransferResponse:
    await keep(ctx, "DataTransfer", req)
    vendor = ctx.hooks.vendors.get(req.vendor_id)
    if vendor is None:
        return DataTransferResponse(status=DataTransferStatusEnumType.UnknownVendorId)
    return await vendor(ctx.station_id, req)
