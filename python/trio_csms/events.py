"""Domain events: what happened to a station, for an embedding application.

`Hooks.events` receives each one as it happens, on the station's task, so it must not block:
hand the event to a bounded channel (`trio.MemoryReceiveChannel`) and process it elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class StationConnected:
    station_id: str
    security_profile: int


@dataclass(frozen=True, slots=True)
class StationDisconnected:
    station_id: str


@dataclass(frozen=True, slots=True)
class StationBooted:
    """A BootNotification was answered; `status` is the answer (Accepted/Pending/Rejected)."""

    station_id: str
    status: str
    reason: str


@dataclass(frozen=True, slots=True)
class ConnectorStatusChanged:
    station_id: str
    evse_id: int
    connector_id: int
    status: str


@dataclass(frozen=True, slots=True)
class TransactionStarted:
    station_id: str
    transaction_id: str
    evse_id: int | None
    timestamp: datetime


@dataclass(frozen=True, slots=True)
class TransactionUpdated:
    station_id: str
    transaction_id: str
    charging_state: str | None
    energy_imported_wh: float | None


@dataclass(frozen=True, slots=True)
class TransactionEnded:
    station_id: str
    transaction_id: str
    stopped_reason: str | None
    energy_imported_wh: float | None
    timestamp: datetime


DomainEvent = (
    StationConnected
    | StationDisconnected
    | StationBooted
    | ConnectorStatusChanged
    | TransactionStarted
    | TransactionUpdated
    | TransactionEnded
)
