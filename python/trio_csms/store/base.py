"""The storage contract: what the CSMS keeps, as a Protocol with plain records.

Implementations: `store.sqlite.SqliteStore` (the embedded default), later PostgreSQL. Both pass
the one suite in tests/store/. Knows nothing about sockets or OCPP-J frames; records use wire
values (strings as OCPP spells them, JSON-ready dicts for nested OCPP data) so any storage
engine can hold them without knowing the msgspec types.

Durability rule: every method that changes state returns only after the change is committed
(the one exception is `touch_station`, see there). A handler awaits it before answering the
station, so an acknowledged message is never lost.
Implementations batch concurrent writes into one commit (group commit); they never make a
caller wait for another caller's slow write beyond one batch.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any, Protocol

import msgspec

JsonObject = dict[str, Any]


class StationRecord(msgspec.Struct, kw_only=True):
    """A charging station the CSMS knows.

    Attributes:
        station_id: the identity in the websocket URL (identifierString, at most 48 chars).
        security_profile: 1, 2 or 3; the station is never admitted on a lower one (TC_A_19).
        password_hash: salted slow hash of the Basic-auth password (see `security.passwords`),
            None for a profile 3 station.
        previous_password_hash: the password before the last accepted change; also admitted
            until the station first logs in with the new one (A01, TC_A_09/TC_A_10).
        registration_policy: the answer its BootNotification gets: "Accepted", "Pending",
            "Rejected", or None for the server's default.
        registration_status: what its last BootNotification was answered (None: never booted).
        charging_station: `chargingStation` of its last BootNotification (wire names).
        last_boot_at / last_boot_reason: time and `reason` of its last BootNotification.
        last_seen: when it last sent anything (updated lazily, at most every few seconds).
        firmware_status: the `status` of its last FirmwareStatusNotification.
        onboarded: its FullInventory report has been received (onboarding, AQ-2 / C-50.1).
        pending_security_profile: the profile an Accepted SetNetworkProfile moved it to (A05);
            it becomes `security_profile` when the station connects on it (TC_A_19).
        created_at: when it was registered.
    """

    station_id: str
    security_profile: int = 1
    password_hash: str | None = None
    previous_password_hash: str | None = None
    registration_policy: str | None = None
    registration_status: str | None = None
    charging_station: JsonObject | None = None
    last_boot_at: datetime | None = None
    last_boot_reason: str | None = None
    last_seen: datetime | None = None
    firmware_status: str | None = None
    onboarded: bool = False
    created_at: datetime | None = None
    pending_security_profile: int | None = None


class StationChanges(msgspec.Struct, kw_only=True):
    """Fields of a `StationRecord` to set, for `Store.update_station`: the others (UNSET) keep
    whatever is stored when the update commits. This is what lets a BootNotification and an
    operator's PUT of the same station both land: each writes only its own fields."""

    security_profile: int | msgspec.UnsetType = msgspec.UNSET
    password_hash: str | msgspec.UnsetType | None = msgspec.UNSET
    previous_password_hash: str | msgspec.UnsetType | None = msgspec.UNSET
    registration_policy: str | msgspec.UnsetType | None = msgspec.UNSET
    registration_status: str | msgspec.UnsetType | None = msgspec.UNSET
    charging_station: JsonObject | msgspec.UnsetType | None = msgspec.UNSET
    last_boot_at: datetime | msgspec.UnsetType | None = msgspec.UNSET
    last_boot_reason: str | msgspec.UnsetType | None = msgspec.UNSET
    last_seen: datetime | msgspec.UnsetType | None = msgspec.UNSET
    firmware_status: str | msgspec.UnsetType | None = msgspec.UNSET
    onboarded: bool | msgspec.UnsetType = msgspec.UNSET
    pending_security_profile: int | msgspec.UnsetType | None = msgspec.UNSET

    def fields(self) -> dict[str, object]:
        """The fields set, by `StationRecord` field name."""
        return {
            name: value
            for name in self.__struct_fields__
            if (value := getattr(self, name)) is not msgspec.UNSET
        }

    def apply(self, station: StationRecord) -> StationRecord:
        """`station` with these changes (a new record)."""
        return msgspec.structs.replace(station, **self.fields())


class ConnectorRecord(msgspec.Struct, kw_only=True):
    """The last known status of one connector (StatusNotification or NotifyEvent)."""

    station_id: str
    evse_id: int
    connector_id: int
    status: str
    updated_at: datetime


class IdTokenRecord(msgspec.Struct, kw_only=True):
    """An id token the CSMS can authorize, keyed by (id_token, type).

    Attributes mirror OCPP's IdTokenInfoType: `status` is an AuthorizationStatusEnumType value,
    `group_id_token` an IdTokenType as a wire dict ({"idToken": ..., "type": ...}),
    `evse_id` the EVSEs it may be used on (None: all), `personal_message` a MessageContentType
    wire dict.
    """

    id_token: str
    type: str
    status: str = "Accepted"
    group_id_token: JsonObject | None = None
    cache_expiry_date_time: datetime | None = None
    evse_id: list[int] | None = None
    language1: str | None = None
    personal_message: JsonObject | None = None


class TransactionRecord(msgspec.Struct, kw_only=True):
    """One transaction, as built from its TransactionEvents.

    Attributes:
        seq_no_gaps: seqNo values never received between the lowest and highest seen.
        first_seq_no / last_seq_no: the lowest and highest seqNo received (-1: none yet).
        energy_imported_wh: the last Energy.Active.Import.Register reading, in Wh.
    """

    station_id: str
    transaction_id: str
    evse_id: int | None = None
    connector_id: int | None = None
    id_token: JsonObject | None = None
    active: bool = True
    charging_state: str | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    stopped_reason: str | None = None
    remote_start_id: int | None = None
    first_seq_no: int = -1
    last_seq_no: int = -1
    seq_no_gaps: list[int] = msgspec.field(default_factory=list)
    energy_imported_wh: float | None = None
    updated_at: datetime | None = None


class TransactionEventRecord(msgspec.Struct, kw_only=True):
    """One received TransactionEventRequest, stored as on the wire."""

    station_id: str
    transaction_id: str
    seq_no: int
    event_type: str
    trigger_reason: str
    timestamp: datetime
    offline: bool
    payload: JsonObject
    received_at: datetime


class MeterValueRecord(msgspec.Struct, kw_only=True):
    """One MeterValueType (timestamp + sampledValue wire list), from MeterValues or a
    TransactionEvent; `transaction_id` is None for MeterValues outside a transaction."""

    station_id: str
    evse_id: int | None
    transaction_id: str | None
    timestamp: datetime
    sampled_value: list[JsonObject]


class VariableRecord(msgspec.Struct, kw_only=True):
    """One component/variable of a station's device model, from NotifyReport (ReportDataType)."""

    station_id: str
    component: JsonObject
    variable: JsonObject
    variable_attribute: list[JsonObject]
    variable_characteristics: JsonObject | None = None


class RequestRecord(msgspec.Struct, kw_only=True):
    """A CSMS request answered later by notifications, matched by `kind` and `request_id`.

    `kind` is the action (GetBaseReport, GetReport, GetLog, UpdateFirmware, CustomerInformation,
    GetMonitoringReport, ...); `status` the last status reported for it; `complete` is set when
    the last part (tbc false) or a final status arrived.
    """

    station_id: str
    request_id: int
    kind: str
    created_at: datetime
    status: str | None = None
    complete: bool = False
    request: JsonObject | None = None


class NotificationRecord(msgspec.Struct, kw_only=True):
    """Any other station notification, kept as received: SecurityEventNotification,
    NotifyEvent, FirmwareStatusNotification, LogStatusNotification, NotifyCustomerInformation
    parts, NotifyReport parts, NotifyMonitoringReport, NotifyChargingLimit, ..."""

    station_id: str
    action: str
    payload: JsonObject
    received_at: datetime
    request_id: int | None = None
    seq_no: int | None = None


class Store(Protocol):
    """Everything the CSMS persists. All methods are async and safe to call concurrently."""

    async def open(self) -> None:
        """Create or migrate the schema, start the writer. Call once before anything else."""

    async def close(self) -> None:
        """Commit what is queued and release everything."""

    # stations
    async def get_station(self, station_id: str) -> StationRecord | None: ...
    async def list_stations(self) -> list[StationRecord]: ...
    async def put_station(self, station: StationRecord) -> bool:
        """Insert or replace the whole record; True when it was created. (Whole: a concurrent
        change of another field is overwritten; prefer `update_station`.)"""

    async def update_station(self, station_id: str, changes: StationChanges) -> bool:
        """Set the fields `changes` sets, and only those, in one commit: a concurrent update of
        other fields is never lost. False (nothing stored) when the station is unknown."""

    async def upsert_stations(
        self, changes: Sequence[tuple[str, StationChanges]], created_at: datetime
    ) -> int:
        """For each (station_id, changes): `update_station`, or, for an unknown station, create
        it with the defaults, `changes` and `created_at`. All in ONE commit (all or nothing).
        Returns how many were created. A station_id appears at most once (ValueError)."""

    async def delete_station(self, station_id: str) -> bool:
        """Remove a station and everything stored for it; False if it did not exist."""

    async def touch_station(self, station_id: str, at: datetime) -> None:
        """Record `last_seen`, without waiting for the commit (last_seen is advisory, and
        this runs for every message). Touches are coalesced: only the latest time per station
        is written, an older time never replaces a newer one, and it is committed within a
        bounded time (SqliteStore: `touch_interval`, 1 s by default) and by `close()`. An
        unknown station is ignored."""

    # connectors
    async def set_connector_status(self, record: ConnectorRecord) -> None: ...
    async def list_connectors(self, station_id: str) -> list[ConnectorRecord]: ...

    # id tokens
    async def get_id_token(self, id_token: str, type: str) -> IdTokenRecord | None: ...
    async def list_id_tokens(self) -> list[IdTokenRecord]: ...
    async def put_id_token(self, token: IdTokenRecord) -> bool:
        """Insert or replace; True when it was created."""

    async def delete_id_token(self, id_token: str, type: str) -> bool: ...

    # transactions
    async def record_transaction_event(
        self, event: TransactionEventRecord, transaction: TransactionRecord
    ) -> bool:
        """Store one TransactionEvent with the updated transaction, in one commit. Returns
        False (and stores nothing) when an event with the same (station_id, transaction_id,
        seq_no) is already stored: a retransmission. The event's meter values are its
        payload's `meterValue`: `list_meter_values` reads them from there."""

    async def get_transaction(
        self, station_id: str, transaction_id: str
    ) -> TransactionRecord | None: ...
    async def list_transactions(
        self,
        *,
        station_id: str | None = None,
        active: bool | None = None,
        limit: int = 100,
        after: str | None = None,
    ) -> list[TransactionRecord]:
        """Ordered by (station_id, transaction_id); `after` is the last "station/transaction"
        key of the previous page."""

    async def list_transaction_events(
        self, station_id: str, transaction_id: str
    ) -> list[TransactionEventRecord]: ...
    async def list_meter_values(
        self, station_id: str, transaction_id: str | None, *, limit: int | None = None
    ) -> list[MeterValueRecord]:
        """Ordered by timestamp; transaction_id None: those sent outside transactions.
        A transaction's are those of its events' payloads (with the transaction's evse_id)
        and any added for it with `add_meter_values`. With `limit`, only the latest
        `limit` of them (still oldest first)."""

    async def add_meter_values(self, values: list[MeterValueRecord]) -> None: ...

    # device model
    async def put_variables(self, variables: list[VariableRecord]) -> None:
        """Insert or replace by (station, component, variable)."""

    async def list_variables(self, station_id: str) -> list[VariableRecord]: ...

    # requests answered by notifications
    async def put_request(self, request: RequestRecord) -> None: ...
    async def get_request(
        self, station_id: str, request_id: int, kinds: Collection[str]
    ) -> RequestRecord | None:
        """The latest request `request_id` of one of `kinds` (GetBaseReport and GetReport share
        the numbering their NotifyReports answer in; other kinds each have their own)."""

    async def list_open_requests(self, station_id: str, kind: str) -> list[RequestRecord]:
        """The station's `kind` requests not yet complete, oldest first."""

    # notifications
    async def add_notification(self, notification: NotificationRecord) -> None: ...
    async def list_notifications(
        self, station_id: str, action: str, request_id: int | None = None
    ) -> list[NotificationRecord]:
        """In arrival order; request_id None: all of them, whatever their request_id."""

    def statistics(self) -> StoreStatistics: ...


class StoreStatistics(msgspec.Struct, frozen=True):
    """Counters for metrics: commits, writes committed, and the last batch's size and time."""

    commits: int
    writes: int
    last_batch_size: int
    last_commit_seconds: float
