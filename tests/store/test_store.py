"""The storage contract (`store.base.Store`), checked against every implementation, then the
SQLite specifics: group commit, backpressure, cancellation, durability, migrations.

Rules: no sleeps (only `wait_all_tasks_blocked`); every test runs under
`trio.fail_after(LIMIT)`; group commit is proven with `statistics()`, never with timing. To
make batching deterministic, `writer_blocked` holds SQLite's write lock from a second
connection: the store's writer then waits in BEGIN IMMEDIATE while writes queue up, and takes
them all in one batch once the lock is released.
"""

from __future__ import annotations

import contextlib
import importlib.resources
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta, timezone
from functools import partial
from pathlib import Path
from typing import Any

import msgspec
import pytest
import trio
import trio.testing

from trio_csms.store import (
    ConnectorRecord,
    IdTokenRecord,
    MeterValueRecord,
    NotificationRecord,
    RequestRecord,
    SqliteStore,
    StationChanges,
    StationRecord,
    Store,
    TransactionEventRecord,
    TransactionRecord,
    VariableRecord,
    open_store,
)

#: Seconds any one test may take; far above what each needs.
LIMIT = 10

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return NOW + timedelta(seconds=seconds)


def station(station_id: str = "CS-1", **changes: Any) -> StationRecord:
    changes.setdefault("created_at", NOW)
    return StationRecord(station_id=station_id, **changes)


def transaction(station_id: str, transaction_id: str, **changes: Any) -> TransactionRecord:
    return TransactionRecord(station_id=station_id, transaction_id=transaction_id, **changes)


def event(
    station_id: str, transaction_id: str, seq_no: int, **changes: Any
) -> TransactionEventRecord:
    fields: dict[str, Any] = {
        "event_type": "Updated",
        "trigger_reason": "MeterValuePeriodic",
        "timestamp": at(seq_no),
        "offline": False,
        "payload": {"seqNo": seq_no, "transactionInfo": {"transactionId": transaction_id}},
        "received_at": at(seq_no + 0.5),
    }
    fields.update(changes)
    return TransactionEventRecord(
        station_id=station_id, transaction_id=transaction_id, seq_no=seq_no, **fields
    )


def carrying(event: TransactionEventRecord, *values: MeterValueRecord) -> TransactionEventRecord:
    """`event` with `values` in its payload, as a TransactionEvent request carries them."""
    wire = [{"timestamp": v.timestamp.isoformat(), "sampledValue": v.sampled_value} for v in values]
    return msgspec.structs.replace(event, payload={**event.payload, "meterValue": wire})


def meter_value(
    station_id: str, transaction_id: str | None, seconds: float, wh: float
) -> MeterValueRecord:
    return MeterValueRecord(
        station_id=station_id,
        evse_id=1,
        transaction_id=transaction_id,
        timestamp=at(seconds),
        sampled_value=[{"value": wh, "measurand": "Energy.Active.Import.Register"}],
    )


def notification(
    number: int,
    station_id: str = "CS-1",
    action: str = "NotifyEvent",
    request_id: int | None = None,
) -> NotificationRecord:
    return NotificationRecord(
        station_id=station_id,
        action=action,
        payload={"number": number},
        received_at=at(number),
        request_id=request_id,
        seq_no=number,
    )


KINDS = ("GetBaseReport",)


def request(request_id: int, station_id: str = "CS-1", **changes: Any) -> RequestRecord:
    return RequestRecord(
        station_id=station_id,
        request_id=request_id,
        created_at=NOW,
        **({"kind": "GetBaseReport"} | changes),
    )


def variable(name: str, value: str, station_id: str = "CS-1") -> VariableRecord:
    return VariableRecord(
        station_id=station_id,
        component={"name": "EVSE", "evse": {"id": 1, "connectorId": 1}},
        variable={"name": name},
        variable_attribute=[{"type": "Actual", "value": value}],
    )


# --- fixtures --------------------------------------------------------------------------------

MakeStore = Callable[[], Store]


@pytest.fixture(params=["sqlite-file", "sqlite-memory"])
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> MakeStore:
    """A factory of unopened stores: one parameter per implementation of the contract."""
    if request.param == "sqlite-file":
        return lambda: SqliteStore(str(tmp_path / "store.db"))
    return lambda: open_store("sqlite://:memory:")


@pytest.fixture
async def store(make_store: MakeStore) -> AsyncIterator[Store]:
    store = make_store()
    with trio.fail_after(LIMIT):
        await store.open()
    yield store
    with trio.fail_after(LIMIT):
        await store.close()


@pytest.fixture
def db_path(tmp_path: Path) -> str:
    return str(tmp_path / "store.db")


@contextlib.asynccontextmanager
async def opened(path: str, **options: Any) -> AsyncIterator[SqliteStore]:
    store = SqliteStore(path, **options)
    await store.open()
    try:
        yield store
    finally:
        await store.close()


@contextlib.contextmanager
def writer_blocked(path: str) -> Iterator[None]:
    """Hold the database's write lock from another connection until the block ends."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        yield
        conn.execute("ROLLBACK")
    finally:
        conn.close()


async def run_blocked(path: str, writes: Sequence[Callable[[], Awaitable[object]]]) -> None:
    """Start `writes` while the writer is blocked, so that all of them are queued, then let
    the writer go and wait for them."""
    async with trio.open_nursery() as nursery:
        with writer_blocked(path):
            for write in writes:
                nursery.start_soon(write)
            await trio.testing.wait_all_tasks_blocked()


# --- the contract: every implementation ------------------------------------------------------


async def test_station_round_trip(store: Store) -> None:
    with trio.fail_after(LIMIT):
        full = station(
            "CS-2",
            security_profile=2,
            password_hash="hash",
            previous_password_hash="old",
            registration_policy="Pending",
            registration_status="Accepted",
            charging_station={"model": "M", "vendorName": "V", "modem": {"iccid": "1"}},
            last_boot_at=at(1),
            last_boot_reason="PowerUp",
            last_seen=at(2),
            firmware_status="Installed",
            onboarded=True,
        )
        assert await store.put_station(full) is True
        assert await store.put_station(station("CS-1")) is True
        assert await store.get_station("CS-2") == full
        assert await store.list_stations() == [station("CS-1"), full]
        assert await store.get_station("CS-3") is None
        # put replaces the whole record
        assert await store.put_station(station("CS-2")) is False
        assert await store.get_station("CS-2") == station("CS-2")


async def test_update_station_sets_only_the_given_fields(store: Store) -> None:
    with trio.fail_after(LIMIT):
        assert await store.update_station("CS-1", StationChanges(onboarded=True)) is False
        assert await store.get_station("CS-1") is None
        await store.put_station(station(password_hash="hash", registration_policy="Pending"))
        boot = StationChanges(
            registration_status="Accepted",
            charging_station={"model": "M", "vendorName": "V"},
            last_boot_at=at(1),
        )
        assert await store.update_station("CS-1", boot) is True
        # None is a value like any other: it clears the field; UNSET ones are kept.
        put = StationChanges(security_profile=2, registration_policy=None)
        assert await store.update_station("CS-1", put) is True
        assert await store.update_station("CS-1", StationChanges()) is True
        expected = station(
            password_hash="hash",
            security_profile=2,
            registration_status="Accepted",
            charging_station={"model": "M", "vendorName": "V"},
            last_boot_at=at(1),
        )
        assert await store.get_station("CS-1") == expected


async def test_concurrent_updates_of_different_fields_are_all_kept(store: Store) -> None:
    """A BootNotification and an operator's PUT of the same station, committed in one batch:
    neither loses the other's fields (with whole-record writes the last one would win)."""
    with trio.fail_after(LIMIT):
        await store.put_station(station())
        boot = StationChanges(registration_status="Accepted", last_boot_reason="PowerUp")
        put = StationChanges(security_profile=3, password_hash=None, registration_policy="Pending")
        async with trio.open_nursery() as nursery:
            nursery.start_soon(store.update_station, "CS-1", boot)
            nursery.start_soon(store.update_station, "CS-1", put)
        got = await store.get_station("CS-1")
        assert got == put.apply(boot.apply(station()))


async def test_upsert_stations_creates_and_updates_in_one_commit(store: Store) -> None:
    with trio.fail_after(LIMIT):
        await store.put_station(station("CS-1", registration_status="Accepted"))
        commits = store.statistics().commits
        changes = [
            ("CS-1", StationChanges(security_profile=2, password_hash="h1")),
            ("CS-2", StationChanges(password_hash="h2", registration_policy="Rejected")),
        ]
        assert await store.upsert_stations(changes, at(5)) == 1
        assert store.statistics().commits == commits + 1
        assert await store.list_stations() == [
            station("CS-1", registration_status="Accepted", security_profile=2, password_hash="h1"),
            station("CS-2", created_at=at(5), password_hash="h2", registration_policy="Rejected"),
        ]
        twice = [("CS-3", StationChanges()), ("CS-3", StationChanges(onboarded=True))]
        with pytest.raises(ValueError, match="more than once"):
            await store.upsert_stations(twice, at(6))
        assert await store.get_station("CS-3") is None


async def test_datetimes_come_back_as_the_same_instant_in_utc(store: Store) -> None:
    with trio.fail_after(LIMIT):
        paris = timezone(timedelta(hours=2))
        boot = datetime(2024, 5, 1, 14, 30, 0, 123456, tzinfo=paris)
        await store.put_station(station(last_boot_at=boot))
        got = await store.get_station("CS-1")
        assert got is not None and got.last_boot_at == boot
        assert got.last_boot_at.utcoffset() == timedelta(0)


async def test_naive_datetime_is_refused_and_nothing_stored(store: Store) -> None:
    with trio.fail_after(LIMIT):
        with pytest.raises(ValueError, match="naive"):
            await store.put_station(station(created_at=datetime(2024, 1, 1)))
        with pytest.raises(ValueError, match="naive"):
            await store.touch_station("CS-1", datetime(2024, 1, 1))
        assert await store.list_stations() == []


async def test_connector_status_is_kept_per_connector(store: Store) -> None:
    with trio.fail_after(LIMIT):
        await store.put_station(station())

        def status(evse_id: int, connector_id: int, value: str, seconds: float) -> ConnectorRecord:
            return ConnectorRecord(
                station_id="CS-1",
                evse_id=evse_id,
                connector_id=connector_id,
                status=value,
                updated_at=at(seconds),
            )

        await store.set_connector_status(status(2, 1, "Available", 0))
        await store.set_connector_status(status(1, 1, "Available", 0))
        await store.set_connector_status(status(1, 1, "Occupied", 5))
        assert await store.list_connectors("CS-1") == [
            status(1, 1, "Occupied", 5),
            status(2, 1, "Available", 0),
        ]
        assert await store.list_connectors("CS-2") == []


async def test_id_token_round_trip(store: Store) -> None:
    with trio.fail_after(LIMIT):
        token = IdTokenRecord(
            id_token="04A2B3",
            type="ISO14443",
            status="Accepted",
            group_id_token={"idToken": "FLEET", "type": "Central"},
            cache_expiry_date_time=at(3600),
            evse_id=[1, 2],
            language1="de",
            personal_message={"format": "UTF8", "content": "Hallo"},
        )
        assert await store.put_id_token(token) is True
        assert await store.put_id_token(IdTokenRecord(id_token="04A2B3", type="Central")) is True
        assert await store.get_id_token("04A2B3", "ISO14443") == token
        assert await store.get_id_token("04A2B3", "eMAID") is None
        blocked = IdTokenRecord(id_token="04A2B3", type="ISO14443", status="Blocked")
        assert await store.put_id_token(blocked) is False
        assert await store.list_id_tokens() == [
            IdTokenRecord(id_token="04A2B3", type="Central"),
            blocked,
        ]
        assert await store.delete_id_token("04A2B3", "ISO14443") is True
        assert await store.delete_id_token("04A2B3", "ISO14443") is False
        assert await store.get_id_token("04A2B3", "ISO14443") is None


async def test_transaction_event_is_stored_with_its_transaction_and_meter_values(
    store: Store,
) -> None:
    with trio.fail_after(LIMIT):
        await store.put_station(station())
        tx = transaction(
            "CS-1",
            "T-1",
            evse_id=1,
            connector_id=1,
            id_token={"idToken": "04A2B3", "type": "ISO14443"},
            charging_state="Charging",
            started_at=at(0),
            remote_start_id=7,
            first_seq_no=0,
            last_seq_no=2,
            seq_no_gaps=[1],
            energy_imported_wh=12.5,
            updated_at=at(2),
        )
        values = [meter_value("CS-1", "T-1", 1, 10.0), meter_value("CS-1", "T-1", 0, 5.0)]
        first = carrying(event("CS-1", "T-1", 0, event_type="Started", offline=True), *values)
        assert await store.record_transaction_event(first, tx) is True
        assert await store.record_transaction_event(event("CS-1", "T-1", 2), tx) is True
        assert await store.get_transaction("CS-1", "T-1") == tx
        assert await store.get_transaction("CS-1", "T-2") is None
        assert await store.list_transaction_events("CS-1", "T-1") == [
            first,
            event("CS-1", "T-1", 2),
        ]
        assert await store.list_meter_values("CS-1", "T-1") == values[::-1]  # by timestamp


async def test_retransmitted_transaction_event_stores_nothing(store: Store) -> None:
    with trio.fail_after(LIMIT):
        await store.put_station(station())
        tx = transaction(
            "CS-1", "T-1", evse_id=1, charging_state="Charging", first_seq_no=0, last_seq_no=0
        )
        values = [meter_value("CS-1", "T-1", 0, 5.0)]
        original = carrying(event("CS-1", "T-1", 0), *values)
        assert await store.record_transaction_event(original, tx) is True
        again = carrying(
            event("CS-1", "T-1", 0, trigger_reason="Other", payload={"resent": True}),
            meter_value("CS-1", "T-1", 9, 99.0),
        )
        changed = transaction("CS-1", "T-1", charging_state="Idle", active=False)
        assert await store.record_transaction_event(again, changed) is False
        # Again, with a record holding only this seqNo, as a first event's does.
        alone = transaction("CS-1", "T-1", charging_state="Idle", first_seq_no=0, last_seq_no=0)
        assert await store.record_transaction_event(again, alone) is False
        assert await store.get_transaction("CS-1", "T-1") == tx
        assert await store.list_transaction_events("CS-1", "T-1") == [original]
        assert await store.list_meter_values("CS-1", "T-1") == values


async def test_an_event_whose_record_looks_like_a_first_one_joins_the_stored_transaction(
    store: Store,
) -> None:
    """A record holding only the event's seqNo is usually a new transaction's; when the
    transaction is stored after all, the event is added to it and its state replaced."""
    with trio.fail_after(LIMIT):
        await store.put_station(station())
        first = transaction("CS-1", "T-1", first_seq_no=0, last_seq_no=0)
        assert await store.record_transaction_event(event("CS-1", "T-1", 0), first) is True
        late = transaction("CS-1", "T-1", charging_state="Idle", first_seq_no=5, last_seq_no=5)
        assert await store.record_transaction_event(event("CS-1", "T-1", 5), late) is True
        assert await store.get_transaction("CS-1", "T-1") == late
        assert await store.list_transaction_events("CS-1", "T-1") == [
            event("CS-1", "T-1", 0),
            event("CS-1", "T-1", 5),
        ]


async def test_transaction_event_parts_must_share_the_key(store: Store) -> None:
    with trio.fail_after(LIMIT):
        await store.put_station(station())
        with pytest.raises(ValueError, match="must be the event's"):
            await store.record_transaction_event(
                event("CS-1", "T-1", 0), transaction("CS-1", "T-2")
            )
        with pytest.raises(ValueError, match="must be the event's"):
            await store.record_transaction_event(
                event("CS-1", "T-1", 0), transaction("CS-2", "T-1")
            )
        assert await store.list_transaction_events("CS-1", "T-1") == []


async def test_list_transactions_filters_and_pages(store: Store) -> None:
    with trio.fail_after(LIMIT):
        keys = [
            ("S1", "T/1", True),  # transaction ids may hold "/"; station ids cannot
            ("S1", "T2", False),
            ("S1", "T3", True),
            ("S2", "T1", True),
            ("S2", "T2", False),
        ]
        for station_id in ("S2", "S1"):
            await store.put_station(station(station_id))
        for seq_no, (station_id, transaction_id, active) in enumerate(reversed(keys)):
            record = transaction(station_id, transaction_id, active=active)
            await store.record_transaction_event(event(station_id, transaction_id, seq_no), record)

        def ids(records: list[TransactionRecord]) -> list[tuple[str, str]]:
            return [(r.station_id, r.transaction_id) for r in records]

        everything = [(s, t) for s, t, _ in keys]
        assert ids(await store.list_transactions()) == everything
        assert ids(await store.list_transactions(station_id="S1")) == everything[:3]
        assert ids(await store.list_transactions(active=True)) == [
            (s, t) for s, t, active in keys if active
        ]
        assert ids(await store.list_transactions(station_id="S2", active=False)) == [("S2", "T2")]
        assert await store.list_transactions(station_id="S3") == []

        async def pages(**filters: Any) -> list[list[tuple[str, str]]]:
            found: list[list[tuple[str, str]]] = []
            after: str | None = None
            while page := await store.list_transactions(limit=2, after=after, **filters):
                found.append(ids(page))
                after = f"{page[-1].station_id}/{page[-1].transaction_id}"
            return found

        assert await pages() == [everything[:2], everything[2:4], everything[4:]]
        assert await pages(active=True) == [[("S1", "T/1"), ("S1", "T3")], [("S2", "T1")]]
        assert await pages(station_id="S2") == [everything[3:]]
        with pytest.raises(ValueError, match="after"):
            await store.list_transactions(after="S1")
        with pytest.raises(ValueError, match="limit"):
            await store.list_transactions(limit=-1)


async def test_meter_values_outside_transactions_are_listed_apart(store: Store) -> None:
    with trio.fail_after(LIMIT):
        await store.put_station(station())
        outside = [meter_value("CS-1", None, 2, 3.0), meter_value("CS-1", None, 1, 2.0)]
        await store.add_meter_values(outside)
        await store.add_meter_values([])
        inside = [meter_value("CS-1", "T-1", 0, 1.0)]
        await store.add_meter_values(inside)
        assert await store.list_meter_values("CS-1", None) == outside[::-1]
        assert await store.list_meter_values("CS-1", "T-1") == inside
        assert await store.list_meter_values("CS-2", None) == []


async def test_a_transactions_meter_values_come_from_its_events_and_added_ones(
    store: Store,
) -> None:
    with trio.fail_after(LIMIT):
        await store.put_station(station())
        tx = transaction("CS-1", "T-1", evse_id=2, first_seq_no=0, last_seq_no=1)
        sent = [meter_value("CS-1", "T-1", second, float(second)) for second in (4, 1, 3)]
        # A station sends a reading in another offset: it is listed in UTC, like the others.
        offset = timezone(timedelta(hours=2))
        late = carrying(event("CS-1", "T-1", 1), sent[2])
        late.payload["meterValue"][0]["timestamp"] = at(3).astimezone(offset).isoformat()
        await store.record_transaction_event(carrying(event("CS-1", "T-1", 0), *sent[:2]), tx)
        await store.record_transaction_event(late, tx)
        added = meter_value("CS-1", "T-1", 2, 2.0)  # evse 1: kept as it was added
        await store.add_meter_values([added])
        from_events = [msgspec.structs.replace(value, evse_id=2) for value in sent]
        by_time = sorted([*from_events, added], key=lambda value: value.timestamp)
        listed = await store.list_meter_values("CS-1", "T-1")
        assert listed == by_time
        assert all(value.timestamp.tzinfo is UTC for value in listed)
        assert await store.list_meter_values("CS-1", "T-1", limit=3) == by_time[1:]
        assert await store.list_meter_values("CS-1", "T-1", limit=0) == []
        assert await store.list_meter_values("CS-1", "T-2") == []
        assert await store.list_meter_values("CS-1", None) == []
        with pytest.raises(ValueError, match="limit"):
            await store.list_meter_values("CS-1", "T-1", limit=-1)


async def test_meter_values_limit_keeps_the_latest_oldest_first(store: Store) -> None:
    with trio.fail_after(LIMIT):
        await store.put_station(station())
        values = [meter_value("CS-1", None, second, float(second)) for second in (3, 1, 4, 2)]
        await store.add_meter_values(values)
        by_time = sorted(values, key=lambda value: value.timestamp)
        assert await store.list_meter_values("CS-1", None, limit=2) == by_time[2:]
        assert await store.list_meter_values("CS-1", None, limit=10) == by_time
        assert await store.list_meter_values("CS-1", None, limit=0) == []
        with pytest.raises(ValueError, match="limit"):
            await store.list_meter_values("CS-1", None, limit=-1)


async def test_variables_are_replaced_by_component_and_variable(store: Store) -> None:
    with trio.fail_after(LIMIT):
        await store.put_station(station())
        await store.put_variables([variable("Power", "11000"), variable("Enabled", "true")])
        await store.put_variables([])
        # The same component with its keys in another order is the same key.
        changed = VariableRecord(
            station_id="CS-1",
            component={"evse": {"connectorId": 1, "id": 1}, "name": "EVSE"},
            variable={"name": "Power"},
            variable_attribute=[{"type": "Actual", "value": "7400"}],
            variable_characteristics={"dataType": "decimal", "supportsMonitoring": True},
        )
        await store.put_variables([changed])
        assert await store.list_variables("CS-1") == [variable("Enabled", "true"), changed]
        assert await store.list_variables("CS-2") == []


async def test_request_round_trip(store: Store) -> None:
    with trio.fail_after(LIMIT):
        await store.put_station(station())
        sent = request(42, request={"requestId": 42, "reportBase": "FullInventory"})
        await store.put_request(sent)
        assert await store.get_request("CS-1", 42, KINDS) == sent
        assert await store.get_request("CS-1", 43, KINDS) is None
        done = request(42, status="Accepted", complete=True)
        await store.put_request(done)
        assert await store.get_request("CS-1", 42, KINDS) == done


async def test_requests_of_different_kinds_keep_their_own_request_ids(store: Store) -> None:
    """A GetLog and an UpdateFirmware may both be requestId 7: neither replaces the other."""
    with trio.fail_after(LIMIT):
        await store.put_station(station())
        await store.put_request(request(7, kind="GetLog", status="Uploading"))
        await store.put_request(request(7, kind="UpdateFirmware", status="Downloading"))
        log = await store.get_request("CS-1", 7, ("GetLog",))
        firmware = await store.get_request("CS-1", 7, ("UpdateFirmware",))
        assert log is not None and (log.kind, log.status) == ("GetLog", "Uploading")
        assert firmware is not None and firmware.status == "Downloading"
        assert await store.get_request("CS-1", 7, ("GetReport",)) is None
        assert await store.get_request("CS-1", 7, ()) is None


async def test_notifications_filter_by_action_and_request_id(store: Store) -> None:
    with trio.fail_after(LIMIT):
        await store.put_station(station())
        await store.put_station(station("CS-2"))
        parts = [notification(n, action="NotifyReport", request_id=7) for n in (0, 1)]
        other = notification(0, action="NotifyReport", request_id=8)
        security = notification(5, action="SecurityEventNotification")
        for record in (parts[0], security, other, parts[1]):
            await store.add_notification(record)
        assert await store.list_notifications("CS-1", "NotifyReport") == [parts[0], other, parts[1]]
        assert await store.list_notifications("CS-1", "NotifyReport", request_id=7) == parts
        assert await store.list_notifications("CS-1", "SecurityEventNotification") == [security]
        assert await store.list_notifications("CS-2", "NotifyReport") == []


async def test_delete_station_removes_everything_stored_for_it(store: Store) -> None:
    with trio.fail_after(LIMIT):

        async def fill(station_id: str) -> None:
            await store.put_station(station(station_id))
            await store.set_connector_status(
                ConnectorRecord(
                    station_id=station_id,
                    evse_id=1,
                    connector_id=1,
                    status="Available",
                    updated_at=NOW,
                )
            )
            await store.record_transaction_event(
                carrying(event(station_id, "T-1", 0), meter_value(station_id, "T-1", 0, 1.0)),
                transaction(station_id, "T-1"),
            )
            await store.add_meter_values([meter_value(station_id, None, 0, 1.0)])
            await store.put_variables([variable("Power", "1", station_id)])
            await store.put_request(request(1, station_id))
            await store.add_notification(notification(1, station_id))

        async def everything(station_id: str) -> list[object]:
            return [
                await store.get_station(station_id),
                await store.list_connectors(station_id),
                await store.get_transaction(station_id, "T-1"),
                await store.list_transactions(station_id=station_id),
                await store.list_transaction_events(station_id, "T-1"),
                await store.list_meter_values(station_id, "T-1"),
                await store.list_meter_values(station_id, None),
                await store.list_variables(station_id),
                await store.get_request(station_id, 1, KINDS),
                await store.list_notifications(station_id, "NotifyEvent"),
            ]

        await fill("CS-1")
        await fill("CS-2")
        await store.put_id_token(IdTokenRecord(id_token="A", type="Central"))
        kept = await everything("CS-2")
        assert await store.delete_station("CS-1") is True
        assert await everything("CS-1") == [None, [], None, [], [], [], [], [], None, []]
        assert await everything("CS-2") == kept
        assert await store.list_id_tokens() == [IdTokenRecord(id_token="A", type="Central")]
        assert await store.delete_station("CS-1") is False


async def test_read_after_an_awaited_write_sees_it(store: Store) -> None:
    with trio.fail_after(LIMIT):
        await store.put_station(station())
        for number in range(50):
            await store.put_station(station(last_boot_reason=f"boot {number}"))
            got = await store.get_station("CS-1")
            assert got is not None and got.last_boot_reason == f"boot {number}"
            await store.add_notification(notification(number))
            assert len(await store.list_notifications("CS-1", "NotifyEvent")) == number + 1


async def test_touch_moves_last_seen_forward_only(db_path: str) -> None:
    with trio.fail_after(LIMIT):
        async with opened(db_path, touch_interval=0) as store:  # touches commit with every batch
            await store.put_station(station())
            await store.touch_station("CS-1", at(10))
            await store.touch_station("CS-1", at(5))  # late and older: ignored
            await store.touch_station("CS-unknown", at(10))  # not a station: ignored
            await store.put_request(request(1))  # committed no earlier than the touches before it
            got = await store.get_station("CS-1")
            assert got is not None and got.last_seen == at(10)
            await store.touch_station("CS-1", at(3))
            await store.put_request(request(2))
            got = await store.get_station("CS-1")
            assert got is not None and got.last_seen == at(10)
            assert await store.get_station("CS-unknown") is None


async def test_touches_commit_within_the_interval_without_any_write(store: Store) -> None:
    # The default interval (1 s): a write right after a touch need not carry it, but the
    # touch is committed on its own once the interval has passed.
    with trio.fail_after(LIMIT):
        await store.put_station(station())  # the batch that starts the interval
        await store.touch_station("CS-1", at(10))
        await store.put_request(request(1))
        got = await store.get_station("CS-1")
        assert got is not None and got.last_seen is None  # not yet: at most once a second
        started = trio.current_time()
        while got.last_seen is None:
            await trio.sleep(0.02)
            got = await store.get_station("CS-1")
            assert got is not None
        assert got.last_seen == at(10)
        assert 0.5 < trio.current_time() - started < 3.0  # the interval, give or take a busy CI


async def test_concurrent_writers_share_commits(store: Store) -> None:
    with trio.fail_after(LIMIT):
        await store.put_station(station())
        before = store.statistics()
        async with trio.open_nursery() as nursery:
            for number in range(200):
                nursery.start_soon(store.add_notification, notification(number))
        after = store.statistics()
        assert len(await store.list_notifications("CS-1", "NotifyEvent")) == 200
        assert after.writes - before.writes == 200
        # Without a lock holding the writer back the split is up to the scheduler; any real
        # group commit stays far below one commit per write (exactly: see the SQLite tests).
        assert after.commits - before.commits <= 200 // 4


async def test_write_cancelled_before_it_is_queued_writes_nothing(store: Store) -> None:
    with trio.fail_after(LIMIT):
        with trio.CancelScope() as scope:
            scope.cancel()
            await store.put_station(station("CS-cancelled"))
        assert scope.cancelled_caught
        await store.put_station(station())  # everything queued before this is committed
        assert await store.list_stations() == [station()]


async def test_statistics_count_commits_and_writes(store: Store) -> None:
    with trio.fail_after(LIMIT):
        before = store.statistics()
        await store.put_station(station())
        after = store.statistics()
        assert (after.commits - before.commits, after.writes - before.writes) == (1, 1)
        assert after.last_batch_size == 1
        assert after.last_commit_seconds >= 0


async def test_unopened_and_closed_stores_refuse_use(make_store: MakeStore) -> None:
    with trio.fail_after(LIMIT):
        store = make_store()
        with pytest.raises(RuntimeError, match="not open"):
            await store.get_station("CS-1")
        with pytest.raises(RuntimeError, match="not open"):
            await store.put_station(station())
        await store.open()
        with pytest.raises(RuntimeError, match="only once"):
            await store.open()
        await store.put_station(station())
        await store.close()
        await store.close()  # a second close is a no-op
        with pytest.raises(RuntimeError, match="closed"):
            await store.get_station("CS-1")
        with pytest.raises(RuntimeError, match="closed"):
            await store.put_station(station())
        with pytest.raises(RuntimeError, match="closed"):
            await store.touch_station("CS-1", NOW)
        with pytest.raises(RuntimeError, match="only once"):
            await store.open()
        assert store.statistics().writes == 1


# --- SQLite specifics --------------------------------------------------------------------------


async def test_group_commit_takes_everything_queued_in_one_transaction(db_path: str) -> None:
    with trio.fail_after(LIMIT):
        async with opened(db_path) as store:
            await store.put_station(station())
            before = store.statistics()
            writes = [partial(store.add_notification, notification(n)) for n in range(200)]
            await run_blocked(db_path, writes)
            after = store.statistics()
            assert after.writes - before.writes == 200
            assert after.commits - before.commits == 1
            assert after.last_batch_size == 200
            assert len(await store.list_notifications("CS-1", "NotifyEvent")) == 200


async def test_batches_are_capped_at_max_batch(db_path: str) -> None:
    with trio.fail_after(LIMIT):
        async with opened(db_path, max_batch=8) as store:
            await store.put_station(station())
            before = store.statistics()
            writes = [partial(store.add_notification, notification(n)) for n in range(40)]
            await run_blocked(db_path, writes)
            after = store.statistics()
            assert (after.writes - before.writes, after.commits - before.commits) == (40, 5)
            assert after.last_batch_size == 8


async def test_a_failing_write_does_not_fail_its_batch(db_path: str) -> None:
    with trio.fail_after(LIMIT):
        async with opened(db_path) as store:
            await store.put_station(station())
            before = store.statistics()

            async def orphan() -> None:  # its station does not exist: a foreign key violation
                with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
                    await store.add_notification(notification(99, station_id="CS-nobody"))

            writes = [partial(store.add_notification, notification(n)) for n in range(10)]
            await run_blocked(db_path, [*writes[:5], orphan, *writes[5:]])
            after = store.statistics()
            assert (after.commits - before.commits, after.last_batch_size) == (1, 11)
            assert after.writes - before.writes == 10
            numbers = [r.seq_no for r in await store.list_notifications("CS-1", "NotifyEvent")]
            assert sorted(n for n in numbers if n is not None) == list(range(10))


async def test_a_cancelled_writer_is_not_woken_but_its_write_commits(db_path: str) -> None:
    with trio.fail_after(LIMIT):
        # One queue slot: a slot kept by the abandoned write would hang the next write.
        async with opened(db_path, max_queue=1) as store:
            finished = False

            async def put() -> None:
                nonlocal finished
                await store.put_station(station("CS-abandoned"))
                finished = True

            async with trio.open_nursery() as nursery:
                with writer_blocked(db_path):
                    nursery.start_soon(put)
                    await trio.testing.wait_all_tasks_blocked()
                    nursery.cancel_scope.cancel()
            assert not finished
            await store.put_station(station())  # queued after it, so committed after it
            assert await store.get_station("CS-abandoned") == station("CS-abandoned")


async def test_a_full_queue_makes_writers_wait(db_path: str) -> None:
    with trio.fail_after(LIMIT):
        async with opened(db_path, max_queue=4) as store:
            await store.put_station(station())
            before = store.statistics()
            writes = [partial(store.add_notification, notification(n)) for n in range(20)]
            await run_blocked(db_path, writes)
            after = store.statistics()
            # No more than 4 writes are ever queued, so no batch holds more than 4.
            assert after.writes - before.writes == 20
            assert after.commits - before.commits >= 5
            assert after.last_batch_size <= 4
            assert len(await store.list_notifications("CS-1", "NotifyEvent")) == 20


async def test_touches_coalesce_into_one_write_per_station(db_path: str) -> None:
    with trio.fail_after(LIMIT):
        async with opened(db_path, touch_interval=0) as store:
            await store.put_station(station("CS-1"))
            await store.put_station(station("CS-2"))
            before = store.statistics()

            async def touch_and_write() -> None:
                for second in range(100):
                    await store.touch_station("CS-1", at(second))
                    await store.touch_station("CS-2", at(second))
                await store.touch_station("CS-1", at(-5))
                await store.put_request(request(1))

            await run_blocked(db_path, [touch_and_write])
            after = store.statistics()
            # one batch: the request and one UPDATE per station
            assert (after.commits - before.commits, after.writes - before.writes) == (1, 3)
            for station_id in ("CS-1", "CS-2"):
                got = await store.get_station(station_id)
                assert got is not None and got.last_seen == at(99)


async def test_data_survives_close_and_reopen(db_path: str) -> None:
    with trio.fail_after(LIMIT):
        tx = transaction("CS-1", "T-1", first_seq_no=0, last_seq_no=0)
        first = carrying(event("CS-1", "T-1", 0), meter_value("CS-1", "T-1", 0, 1.0))
        async with opened(db_path) as store:
            await store.put_station(station())
            await store.record_transaction_event(first, tx)
            await store.put_id_token(IdTokenRecord(id_token="A", type="Central"))
            await store.touch_station("CS-1", at(60))  # not awaited: close() commits it
        async with opened(db_path) as store:
            assert await store.get_station("CS-1") == station(last_seen=at(60))
            assert await store.get_transaction("CS-1", "T-1") == tx
            assert await store.list_transaction_events("CS-1", "T-1") == [first]
            assert await store.get_id_token("A", "Central") is not None


async def test_close_commits_queued_writes_even_when_cancelled(db_path: str) -> None:
    with trio.fail_after(LIMIT):
        store = SqliteStore(db_path)
        await store.open()
        await store.put_station(station())
        await store.touch_station("CS-1", at(30))
        with trio.CancelScope() as scope:
            scope.cancel()
            await store.close()  # as in the `finally` of a cancelled task
        async with opened(db_path) as store:
            got = await store.get_station("CS-1")
            assert got is not None and got.last_seen == at(30)


async def test_migrations_are_recorded_in_user_version(db_path: str) -> None:
    with trio.fail_after(LIMIT):
        folder = importlib.resources.files("trio_csms.store") / "migrations" / "sqlite"
        known = len([entry for entry in folder.iterdir() if entry.name.endswith(".sql")])
        assert known >= 1
        for _ in range(2):  # the second open finds the schema current
            async with opened(db_path):
                pass
        with contextlib.closing(sqlite3.connect(db_path)) as conn:
            assert conn.execute("PRAGMA user_version").fetchone() == (known,)
            assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)


async def test_requests_survive_the_migration_that_keys_them_by_kind(db_path: str) -> None:
    """0003 rebuilds the requests table: the records of a version-2 file are all kept."""
    folder = importlib.resources.files("trio_csms.store") / "migrations" / "sqlite"
    with contextlib.closing(sqlite3.connect(db_path)) as conn:
        for name in ("0001_initial.sql", "0002_pending_security_profile.sql"):
            conn.executescript((folder / name).read_text())
        conn.execute(
            "INSERT INTO stations (station_id, security_profile, onboarded) VALUES ('CS-1', 1, 0)"
        )
        conn.execute(
            "INSERT INTO requests VALUES ('CS-1', 5, 'GetLog', ?, 'Uploaded', 1, NULL)",
            (NOW.isoformat(),),
        )
        conn.execute("PRAGMA user_version = 2")
        conn.commit()
    with trio.fail_after(LIMIT):
        async with opened(db_path) as store:
            kept = await store.get_request("CS-1", 5, ("GetLog",))
    assert kept is not None and (kept.status, kept.complete) == ("Uploaded", True)


async def test_transactions_survive_the_migration_that_keys_them(db_path: str) -> None:
    """0004 rebuilds the transaction tables and drops the copies of TransactionEvents' meter
    values: a version-3 file reads back the same, and its events still catch retransmissions.
    """
    folder = importlib.resources.files("trio_csms.store") / "migrations" / "sqlite"
    tx = transaction("CS-1", "T-1", evse_id=1, first_seq_no=0, last_seq_no=0, updated_at=at(0))
    values = [meter_value("CS-1", "T-1", 0, 1.0), meter_value("CS-1", "T-1", 1, 2.0)]
    first = carrying(event("CS-1", "T-1", 0), *values)
    outside = meter_value("CS-1", None, 5, 9.0)
    with contextlib.closing(sqlite3.connect(db_path)) as conn:
        for name in ("0001_initial.sql", "0002_pending_security_profile.sql"):
            conn.executescript((folder / name).read_text())
        conn.executescript((folder / "0003_requests_by_kind.sql").read_text())
        conn.execute(
            "INSERT INTO stations (station_id, security_profile, onboarded) VALUES ('CS-1', 1, 0)"
        )
        # Rows as version 3 stored them: the transaction, its event, and its meter values
        # copied into meter_values next to one sent outside any transaction.
        conn.execute(
            "INSERT INTO transactions (station_id, transaction_id, evse_id, active,"
            " first_seq_no, last_seq_no, seq_no_gaps, updated_at)"
            " VALUES ('CS-1', 'T-1', 1, 1, 0, 0, '[]', ?)",
            (at(0).isoformat(timespec="microseconds"),),
        )
        conn.execute(
            "INSERT INTO transaction_events VALUES ('CS-1', 'T-1', 0, 'Updated',"
            " 'MeterValuePeriodic', ?, 0, ?, ?)",
            (
                at(0).isoformat(timespec="microseconds"),
                msgspec.json.encode(first.payload).decode(),
                at(0.5).isoformat(timespec="microseconds"),
            ),
        )
        for value in [*values, outside]:
            conn.execute(
                "INSERT INTO meter_values VALUES (?, ?, ?, ?, ?)",
                (
                    value.station_id,
                    value.evse_id,
                    value.transaction_id,
                    value.timestamp.isoformat(timespec="microseconds"),
                    msgspec.json.encode(value.sampled_value).decode(),
                ),
            )
        conn.execute("PRAGMA user_version = 3")
        conn.commit()
    with trio.fail_after(LIMIT):
        async with opened(db_path) as store:
            assert await store.get_transaction("CS-1", "T-1") == tx
            assert await store.list_transaction_events("CS-1", "T-1") == [first]
            assert await store.list_meter_values("CS-1", "T-1") == values  # not twice
            assert await store.list_meter_values("CS-1", None) == [outside]
            assert await store.record_transaction_event(first, tx) is False
            assert await store.record_transaction_event(event("CS-1", "T-1", 1), tx) is True
            assert await store.delete_station("CS-1") is True
            assert await store.list_transaction_events("CS-1", "T-1") == []


async def test_a_newer_schema_is_refused(db_path: str) -> None:
    with trio.fail_after(LIMIT):
        with contextlib.closing(sqlite3.connect(db_path)) as conn:
            conn.execute("PRAGMA user_version = 999")
        store = SqliteStore(db_path)
        with pytest.raises(RuntimeError, match="schema version 999, newer"):
            await store.open()
        with pytest.raises(RuntimeError, match="only once"):
            await store.open()


async def test_memory_stores_are_private(tmp_path: Path) -> None:
    with trio.fail_after(LIMIT):
        first, second = open_store("sqlite://:memory:"), open_store("sqlite://:memory:")
        await first.open()
        await second.open()
        await first.put_station(station())
        assert await second.list_stations() == []
        await first.close()
        await second.close()


def test_open_store_maps_urls_to_stores() -> None:
    assert repr(open_store("sqlite:///relative.db")) == "SqliteStore('relative.db', new)"
    assert repr(open_store("sqlite:////var/lib/x.db")) == "SqliteStore('/var/lib/x.db', new)"
    assert repr(open_store("sqlite://:memory:")) == "SqliteStore(':memory:', new)"
    with pytest.raises(ValueError, match="postgresql:// is not supported yet"):
        open_store("postgresql://csms@localhost/csms")
    for url in ("sqlite://", "sqlite:///", "sqlite://host/x.db"):
        with pytest.raises(ValueError, match="invalid SQLite store URL"):
            open_store(url)
    with pytest.raises(ValueError, match="unsupported store URL"):
        open_store("mysql://localhost/csms")


def test_sqlite_store_checks_its_arguments() -> None:
    with pytest.raises(ValueError, match="synchronous"):
        SqliteStore("x.db", synchronous="sometimes")
    with pytest.raises(ValueError, match="at least 1"):
        SqliteStore("x.db", max_batch=0)
    with pytest.raises(ValueError, match="at least 1"):
        SqliteStore("x.db", max_queue=0)
    with pytest.raises(ValueError, match="touch_interval"):
        SqliteStore("x.db", touch_interval=-1)
