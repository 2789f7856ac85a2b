"""SQLite storage: the embedded default `Store`.

Knows nothing about OCPP messages or sockets: it keeps the records of `store.base` as rows.

Theory of operation
-------------------
- One writer thread owns the write connection. A write method turns its record into a row on
  the calling Trio thread (so a bad value raises there, at once), wraps the SQL in a small
  `_Write`, puts it on the writer's queue and sleeps. The writer takes everything queued (up
  to `max_batch`), runs it in ONE transaction, commits, and wakes every waiter of the batch
  with ONE `TrioToken.run_sync_soon`. While it waits for the disk, the next batch queues up:
  the busier the store, the more writes share one fsync.
- A write that fails (a constraint) must not take its batch down with it. Failures are rare,
  so a batch first runs without savepoints (each costs two statements, and every statement is
  a round trip for the GIL); when a write raises, the batch is rolled back and run again with
  a SAVEPOINT per write, so that the failed write is undone alone and its caller gets the
  exception while the others commit.
- The queue is bounded by a `trio.Semaphore` of `max_queue` slots, taken before a write is
  queued and given back when its batch is handed back: a full queue makes writers wait
  (backpressure); nothing is ever dropped.
- Reads run synchronously on the calling Trio thread through a second, read-only connection.
  In WAL mode readers and the writer never block each other, and every read is a key lookup
  or a scan bounded by one station (or by `limit`): a read costs about 10 us, a
  `trio.to_thread` round trip 50-100 us before the read even starts. A read sees every write
  whose method returned before the read started (each read is its own WAL snapshot: results
  are always fetched whole, so no statement keeps an old snapshot open).
- `touch_station` only records the time in a dict; the writer folds the dict into a batch at
  most once every `touch_interval` (and when the store closes), so the stations' last_seen
  times cost one UPDATE per station per interval, not one per message nor one per batch.
"""

from __future__ import annotations

import contextlib
import copy
import enum
import importlib.resources
import logging
import os
import queue
import re
import shutil
import sqlite3
import tempfile
import threading
import time
import types
import typing
from collections.abc import Callable, Collection, Sequence
from datetime import UTC, datetime
from functools import partial
from typing import Any, Generic, TypeVar, cast

import msgspec
import trio

from .base import (
    ConnectorRecord,
    IdTokenRecord,
    MeterValueRecord,
    NotificationRecord,
    RequestRecord,
    StationChanges,
    StationRecord,
    StoreStatistics,
    TransactionEventRecord,
    TransactionRecord,
    VariableRecord,
)

log = logging.getLogger(__name__)

T = TypeVar("T")
#: A row as SQLite takes it (parameters) or gives it (columns), in column order.
Row = Sequence[object]
R = TypeVar("R", bound=msgspec.Struct)

#: The levels `PRAGMA synchronous` accepts. FULL fsyncs the WAL on every commit, so an
#: acknowledged write survives power loss; NORMAL may lose the last commits on power loss
#: (never on a process crash).
SYNCHRONOUS_LEVELS = ("OFF", "NORMAL", "FULL", "EXTRA")

#: STRICT tables (3.37) make SQLite refuse a wrongly typed value instead of storing it.
_MIN_SQLITE = (3, 37, 0)

#: Seconds a connection waits for a lock held by another connection (a checkpoint, or another
#: process that opened the file) before the statement fails with "database is locked".
_BUSY_TIMEOUT = 5.0

#: JSON columns: sorted keys, so equal objects give equal text (the variables table keys on it).
_JSON = msgspec.json.Encoder(order="sorted")

#: Default seconds between commits of the stations' last_seen times. Each commit rewrites the
#: touched stations' rows; once per batch, at a thousand batches a second, that was 3-5% of
#: the server's CPU for a time nobody reads to the millisecond.
TOUCH_INTERVAL = 1.0

_MIGRATION_NAME = re.compile(r"(\d{4})_\w+\.sql")


# --- values and rows ---------------------------------------------------------------------


def _utc_text(value: datetime) -> str:
    """ISO 8601 UTC with microseconds: fixed width, so text order is time order."""
    if value.tzinfo is not UTC:  # most datetimes already are UTC: skip the conversion
        if value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: the store needs timezone-aware datetimes")
        value = value.astimezone(UTC)
    return value.isoformat(timespec="microseconds")


def _utc_column(value: datetime | None) -> str | None:
    return None if value is None else _utc_text(value)


def _json_text(value: object) -> str | None:
    return None if value is None else _JSON.encode(value).decode()


def _json_value(text: str | None) -> object:
    return None if text is None else msgspec.json.decode(text)


def _to_bool(value: int | None) -> bool | None:
    return None if value is None else bool(value)


def _members(annotation: object) -> tuple[object, ...]:
    """The alternatives of a `X | None` annotation, or the annotation itself."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return typing.get_args(annotation)
    return (annotation,)


_Codec = tuple[Callable[[Any], object], Callable[[Any], object]]


def _codec(annotation: object) -> _Codec | None:
    """(to column, from column) for a field that needs converting: datetimes to UTC text (back:
    `msgspec.convert` parses it), dicts and lists to JSON text, bools back from 0/1. None for
    the fields SQLite holds as they are."""
    for member in _members(annotation):
        origin = typing.get_origin(member) or member
        if origin is datetime:
            return _utc_column, _same
        if origin in (dict, list):
            return _json_text, _json_value
        if origin is bool:
            return _same, _to_bool
    return None


def _same(value: object) -> object:
    return value


class _Table(Generic[R]):
    """How one record type is stored: one column per field, named and ordered as the fields.

    Attributes:
        record: the record type; rows convert to it with `msgspec.convert`.
        columns: the record's columns, in field order (`parents` not included).
        select: "SELECT <the record's columns> FROM <table>"; callers append WHERE/ORDER BY.
        insert: insert one row: the `parents` columns' values, then `row(record)`.
        insert_new: the same, doing nothing when a row with the same key exists.
        upsert: insert, or update every non-key column of the row with the same key. (Never
            INSERT OR REPLACE: it deletes the old row first, which cascades to its children.)
        exists: select 1 by key.
        (The last three exist only for tables with a key: rows of the others, meter values and
        notifications, are only ever inserted.)
        parents: columns before the record's own that are not part of the record: keys of
            the parent row, which the caller looks up (an event's transaction_key).
    """

    insert_new: str
    upsert: str
    exists: str

    def __init__(
        self,
        table: str,
        record: type[R],
        key: tuple[str, ...] = (),
        parents: tuple[str, ...] = (),
    ) -> None:
        fields = msgspec.structs.fields(record)
        self.record = record
        self.table = table
        self.columns = tuple(field.name for field in fields)
        codecs = [(field.name, index, _codec(field.type)) for index, field in enumerate(fields)]
        # Only the columns that need converting: the others are passed through untouched.
        self._encoders = [(index, codec[0]) for _, index, codec in codecs if codec]
        self._encoder_of = {name: codec[0] for name, _, codec in codecs if codec}
        self._decoders = [(name, codec[1]) for name, _, codec in codecs if codec]
        stored = (*parents, *self.columns)
        marks = ", ".join("?" for _ in stored)
        self.select = f"SELECT {', '.join(self.columns)} FROM {table}"
        self.insert = f"INSERT INTO {table} ({', '.join(stored)}) VALUES ({marks})"
        self._key = tuple(stored.index(column) for column in key)  # in an inserted row
        self._values = tuple(i for i, column in enumerate(self.columns) if column not in key)
        if key:
            conflict = f"ON CONFLICT ({', '.join(key)})"
            updates = ", ".join(f"{c} = excluded.{c}" for c in self.columns if c not in key)
            self.insert_new = f"{self.insert} {conflict} DO NOTHING"
            self.upsert = f"{self.insert} {conflict} DO UPDATE SET {updates}"
            self.exists = f"SELECT 1 FROM {table} WHERE " + " AND ".join(f"{c} = ?" for c in key)

    def update(self, where: str) -> str:
        """UPDATE every non-key column (`values` gives them) of the rows `where` selects."""
        columns = ", ".join(f"{self.columns[i]} = ?" for i in self._values)
        return f"UPDATE {self.table} SET {columns} {where}"

    def values(self, row: Row) -> list[object]:
        """The non-key columns of `row`, in the order `update` sets them."""
        return [row[i] for i in self._values]

    def row(self, record: R) -> list[object]:
        values = list(msgspec.structs.astuple(record))
        for index, encode in self._encoders:
            values[index] = encode(values[index])
        return values

    def assignments(self, fields: dict[str, object]) -> tuple[str, list[object]]:
        """`col = ?, ...` for the named fields, and their column values, for an UPDATE that
        sets only those columns."""
        unknown = set(fields) - set(self.columns)
        if unknown:
            raise ValueError(f"no such column(s): {', '.join(sorted(unknown))}")
        values = [
            self._encoder_of[name](value) if name in self._encoder_of else value
            for name, value in fields.items()
        ]
        return ", ".join(f"{name} = ?" for name in fields), values

    def from_row(self, row: Row) -> R:
        fields = dict(zip(self.columns, row, strict=True))
        for name, decode in self._decoders:
            fields[name] = decode(fields[name])
        return msgspec.convert(fields, self.record)

    def put(self, row: Row, conn: sqlite3.Connection) -> bool:
        """Upsert `row` (as `insert` takes it; writer thread); True when it was created."""
        existed = conn.execute(self.exists, [row[i] for i in self._key]).fetchone() is not None
        conn.execute(self.upsert, row)
        return not existed


_STATIONS = _Table("stations", StationRecord, ("station_id",))
_CONNECTORS = _Table("connectors", ConnectorRecord, ("station_id", "evse_id", "connector_id"))
_ID_TOKENS = _Table("id_tokens", IdTokenRecord, ("id_token", "type"))
_TRANSACTIONS = _Table("transactions", TransactionRecord, ("station_id", "transaction_id"))
_EVENTS = _Table(
    "transaction_events",
    TransactionEventRecord,
    ("transaction_key", "seq_no"),
    parents=("transaction_key",),
)
_METER_VALUES = _Table("meter_values", MeterValueRecord)
_VARIABLES = _Table("variables", VariableRecord, ("station_id", "component", "variable"))
_REQUESTS = _Table("requests", RequestRecord, ("station_id", "kind", "request_id"))
_NOTIFICATIONS = _Table("notifications", NotificationRecord)

# A transaction's rows are addressed by its transaction_key (migration 0004 says why).
_BY_ID = "WHERE station_id = ? AND transaction_id = ?"
_TRANSACTION_KEY = f"SELECT transaction_key FROM transactions {_BY_ID}"
_TRANSACTION_UPDATE = _TRANSACTIONS.update(_BY_ID)
# An event of a stored transaction in one statement, its key looked up in place. (A SELECT
# feeding an upsert needs a WHERE to parse, which this one has.)
_EVENT_OF_STORED = (
    f"INSERT INTO transaction_events ({', '.join(('transaction_key', *_EVENTS.columns))})"
    f" SELECT transaction_key, {', '.join('?' for _ in _EVENTS.columns)}"
    f" FROM transactions {_BY_ID} ON CONFLICT (transaction_key, seq_no) DO NOTHING"
)

# A TransactionEvent's meter values are read from its payload (the request as received).
_EVENT_METER_VALUES = (
    "SELECT t.evse_id, e.payload FROM transactions AS t"
    " JOIN transaction_events AS e USING (transaction_key)"
    " WHERE t.station_id = ? AND t.transaction_id = ? ORDER BY e.rowid"
)


class _MeterValueWire(msgspec.Struct, rename="camel"):
    timestamp: datetime
    sampled_value: list[dict[str, Any]]


class _EventMeterValues(msgspec.Struct, rename="camel"):
    meter_value: list[_MeterValueWire] = []


_EVENT_METER_VALUES_DECODER = msgspec.json.Decoder(_EventMeterValues)

# Touches only move last_seen forward: a late touch must not undo a newer one.
_TOUCH = (
    "UPDATE stations SET last_seen = ?1 WHERE station_id = ?2"
    " AND (last_seen IS NULL OR last_seen < ?1)"
)


# --- write operations (run on the writer thread, inside the batch transaction) -------------


def _changed(sql: str, params: Row, conn: sqlite3.Connection) -> bool:
    return conn.execute(sql, params).rowcount > 0


def _execute(sql: str, params: Row, conn: sqlite3.Connection) -> None:
    conn.execute(sql, params)


def _execute_many(sql: str, rows: Sequence[Row], conn: sqlite3.Connection) -> None:
    conn.executemany(sql, rows)


class _StationUpsert(msgspec.Struct, frozen=True):
    """One station of `upsert_stations`, as SQL: update its set columns, or insert `row`."""

    station_id: str
    assignments: str
    values: list[object]
    row: list[object]


def _update_station(
    station_id: str, assignments: str, values: Row, conn: sqlite3.Connection
) -> bool:
    """Set only the given columns of one station; False when it does not exist."""
    if not assignments:
        return conn.execute(_STATIONS.exists, (station_id,)).fetchone() is not None
    sql = f"UPDATE stations SET {assignments} WHERE station_id = ?"
    return conn.execute(sql, [*values, station_id]).rowcount > 0


def _upsert_stations(stations: Sequence[_StationUpsert], conn: sqlite3.Connection) -> int:
    created = 0
    for station in stations:
        if not _update_station(station.station_id, station.assignments, station.values, conn):
            conn.execute(_STATIONS.insert, station.row)
            created += 1
    return created


def _record_event(
    key: tuple[str, str], event: Row, transaction: Row, first: bool, conn: sqlite3.Connection
) -> bool:
    """Store one event and its transaction's new state; False for a retransmission (nothing
    is written). `first` guesses whether the transaction is new and picks which of the two
    ways is tried first; each takes two statements when right, and a wrong guess costs one
    more and changes nothing."""
    if first and _insert_transaction(event, transaction, conn):
        return True
    if conn.execute(_EVENT_OF_STORED, (*event, *key)).rowcount:  # the transaction is stored
        conn.execute(_TRANSACTION_UPDATE, (*_TRANSACTIONS.values(transaction), *key))
        return True
    # Not stored after all (a wrong guess), or else a retransmission: the first copy stored
    # all of it.
    return not first and _insert_transaction(event, transaction, conn)


def _insert_transaction(event: Row, transaction: Row, conn: sqlite3.Connection) -> bool:
    """Insert a new transaction with its first event; False if the transaction is stored."""
    inserted = conn.execute(_TRANSACTIONS.insert_new, transaction)
    if not inserted.rowcount:
        return False
    conn.execute(_EVENTS.insert, (inserted.lastrowid, *event))
    return True


# --- schema ------------------------------------------------------------------------------


def _migrations() -> list[tuple[int, str]]:
    """The scripts in migrations/sqlite/ as (version, sql), ordered; numbered 0001, 0002, ..."""
    folder = importlib.resources.files("trio_csms.store") / "migrations" / "sqlite"
    found = []
    for entry in folder.iterdir():
        match = _MIGRATION_NAME.fullmatch(entry.name)
        if match:
            found.append((int(match[1]), entry.read_text(encoding="utf-8")))
    found.sort()
    if [version for version, _ in found] != list(range(1, len(found) + 1)):
        raise RuntimeError(
            f"SQLite migrations must be numbered 0001, 0002, ... without gaps: {folder}"
        )
    return found


def _migrate(conn: sqlite3.Connection, path: str) -> None:
    """Apply the migrations newer than the file's `user_version`, each in its own transaction
    that also records its number, so a failed migration leaves the previous version intact."""
    migrations = _migrations()
    current = conn.execute("PRAGMA user_version").fetchone()[0]
    if current > len(migrations):
        raise RuntimeError(
            f"{path} has schema version {current}, newer than this trio-csms knows "
            f"({len(migrations)}); upgrade trio-csms to open it"
        )
    for version, sql in migrations[current:]:
        try:
            conn.executescript(
                f"BEGIN IMMEDIATE;\n{sql}\nPRAGMA user_version = {version};\nCOMMIT;"
            )
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        log.info("%s: schema migrated to version %d", path, version)


def _connect(path: str) -> sqlite3.Connection:
    # isolation_level=None: we issue BEGIN/COMMIT ourselves. check_same_thread=False: the
    # connection is made in a worker thread and then used by exactly one other thread.
    return sqlite3.connect(
        path, timeout=_BUSY_TIMEOUT, isolation_level=None, check_same_thread=False
    )


def _open_writer(path: str, synchronous: str) -> sqlite3.Connection:
    conn = _connect(path)
    try:
        conn.execute(f"PRAGMA synchronous = {synchronous}")  # first: it governs the next one
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode != "wal":
            raise RuntimeError(f"{path}: SQLite refused WAL mode (journal_mode is {mode})")
        conn.execute("PRAGMA foreign_keys = ON")
        _migrate(conn, path)
    except BaseException:
        conn.close()
        raise
    return conn


def _open_reader(path: str) -> sqlite3.Connection:
    conn = _connect(path)
    conn.execute("PRAGMA query_only = ON")
    return conn


# --- the writer thread -------------------------------------------------------------------


class _Write(Generic[T]):
    """One queued write.

    Attributes:
        apply: the SQL to run; called on the writer thread inside the batch's transaction.
        task: the Trio task waiting for it; None once that task was cancelled (the write still
            commits, nobody is woken).
        result, error: set by the writer thread before the batch is handed back to Trio; the
            Trio thread reads them only after that hand-off.
    """

    __slots__ = ("apply", "error", "result", "task")

    def __init__(self, apply: Callable[[sqlite3.Connection], T], task: trio.lowlevel.Task):
        self.apply = apply
        self.task: trio.lowlevel.Task | None = task
        self.result: T | None = None
        self.error: BaseException | None = None


class _Signal(enum.Enum):
    WAKE = enum.auto()  # touches are waiting: wait for them to come due even if no write does
    STOP = enum.auto()  # leave the loop and close the connection


class _Writer:
    """The thread that owns the write connection and commits queued writes in batches.

    Attributes:
        queue: writes (and signals) from the Trio thread. Unbounded here: the store bounds it
            with a semaphore taken on the Trio side, where waiting for room can be a Trio wait.
        stats: replaced (never mutated) after each commit, so reading it from another thread
            always sees one consistent record.
    """

    def __init__(
        self,
        conn: sqlite3.Connection,
        max_batch: int,
        touch_interval: float,
        hand_back: Callable[[list[_Write[Any]]], None],
    ) -> None:
        self.queue: queue.SimpleQueue[_Write[Any] | _Signal] = queue.SimpleQueue()
        self.stats = StoreStatistics(
            commits=0, writes=0, last_batch_size=0, last_commit_seconds=0.0
        )
        self._conn = conn
        self._max_batch = max_batch
        self._token = trio.lowlevel.current_trio_token()
        self._hand_back = hand_back
        # station_id -> latest last_seen text; swapped out whole by the writer.
        self._touches: dict[str, str] = {}
        self._touches_lock = threading.Lock()
        self._touch_interval = touch_interval
        self._touches_due = time.monotonic()  # when the pending touches are committed
        self._thread = threading.Thread(target=self._run, name="trio-csms-sqlite-writer")
        # Daemon: a store never closed must not keep the process alive. Its unconfirmed writes
        # were never acknowledged to anyone, so losing them breaks no promise.
        self._thread.daemon = True
        self._thread.start()

    def touch(self, station_id: str, at: str) -> None:
        """Record a last_seen time (Trio thread); it is committed with the first batch after
        the touches come due (at most `touch_interval` after the last flush)."""
        with self._touches_lock:
            wake = not self._touches
            if at > self._touches.get(station_id, ""):
                self._touches[station_id] = at
        if wake:  # otherwise a WAKE (or a batch that will take the dict) is already on its way
            self.queue.put(_Signal.WAKE)

    def stop(self) -> None:
        self.queue.put(_Signal.STOP)

    def join(self) -> None:
        self._thread.join()

    def _run(self) -> None:
        try:
            while self._step():
                pass
        except trio.RunFinishedError:
            log.error("SQLite writer: the Trio run ended before the store was closed")
        finally:
            self._conn.close()

    def _step(self) -> bool:
        """Wait for work, commit one batch, hand it back to Trio; False once told to stop."""
        try:
            first = self.queue.get(timeout=self._until_touches_due())
        except queue.Empty:  # touches came due and no write came first
            first = _Signal.WAKE
        ops: list[_Write[Any]] = [first] if isinstance(first, _Write) else []
        stop = first is _Signal.STOP
        if ops or stop or self._until_touches_due() == 0.0:
            # On STOP too: the last batch commits the touches still pending.
            stop = self._commit(ops, final=stop) or stop
        if ops:
            self._token.run_sync_soon(self._hand_back, ops)
        return not stop

    def _until_touches_due(self) -> float | None:
        """Seconds until the pending touches are due (0.0: now); None when there are none."""
        if not self._touches:  # read without the lock: a touch racing this sends a WAKE
            return None
        return max(0.0, self._touches_due - time.monotonic())

    def _commit(self, ops: list[_Write[Any]], *, final: bool = False) -> bool:
        """Run `ops`, plus whatever else is queued, in one transaction, with the touches if they
        are due (always when `final`); True if STOP was seen."""
        started = time.perf_counter()
        stop = False
        try:
            self._conn.execute("BEGIN IMMEDIATE")
            # Drain only now: writes queued while BEGIN waited for the lock join this batch.
            stop = self._drain(ops)
            succeeded = self._apply(ops)
            touched = self._flush_touches() if final or stop or self._touches_due_now() else 0
            self._conn.execute("COMMIT")
        except Exception as exc:  # the disk, or a bug: every write of the batch gets it
            self._fail(ops, exc)
            return stop
        if ops or touched:  # a WAKE whose touches an earlier batch took commits nothing
            self.stats = StoreStatistics(
                commits=self.stats.commits + 1,
                writes=self.stats.writes + succeeded + touched,
                last_batch_size=len(ops) + touched,
                last_commit_seconds=time.perf_counter() - started,
            )
        return stop

    def _drain(self, ops: list[_Write[Any]]) -> bool:
        """Append queued writes to `ops` up to max_batch; True if STOP was among them."""
        while len(ops) < self._max_batch:
            try:
                item = self.queue.get_nowait()
            except queue.Empty:
                return False
            if item is _Signal.STOP:
                return True
            if isinstance(item, _Write):
                ops.append(item)
        return False

    def _apply(self, ops: list[_Write[Any]]) -> int:
        """Run the writes (see the module docstring); returns how many succeeded."""
        try:
            for op in ops:
                op.result = op.apply(self._conn)
        except Exception:  # one of them failed: start over, each write in its own savepoint
            self._conn.execute("ROLLBACK")
            self._conn.execute("BEGIN IMMEDIATE")
            return self._apply_each(ops)
        return len(ops)

    def _apply_each(self, ops: list[_Write[Any]]) -> int:
        """Run each write in its own savepoint; returns how many succeeded."""
        succeeded = 0
        for op in ops:
            self._conn.execute("SAVEPOINT write")
            try:
                op.result = op.apply(self._conn)
                succeeded += 1
            except Exception as exc:  # e.g. a constraint: this write alone is undone
                op.error = exc
                self._conn.execute("ROLLBACK TO write")
            self._conn.execute("RELEASE write")
        return succeeded

    def _touches_due_now(self) -> bool:
        return time.monotonic() >= self._touches_due

    def _flush_touches(self) -> int:
        with self._touches_lock:
            touches, self._touches = self._touches, {}
        self._touches_due = time.monotonic() + self._touch_interval
        self._conn.executemany(_TOUCH, [(at, station_id) for station_id, at in touches.items()])
        return len(touches)

    def _fail(self, ops: list[_Write[Any]], exc: Exception) -> None:
        log.error("SQLite writer: a batch of %d writes was rolled back: %r", len(ops), exc)
        with contextlib.suppress(sqlite3.Error):
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
        for op in ops:
            op.result = None
            op.error = copy.copy(exc)  # one object per waiter: each raise extends its traceback


# --- the store ---------------------------------------------------------------------------


class _State(enum.Enum):
    NEW = enum.auto()
    OPENING = enum.auto()
    OPEN = enum.auto()
    CLOSED = enum.auto()


class SqliteStore:
    """The `Store` in one SQLite file, in WAL mode: the embedded default.

    Args:
        path: the database file, created when missing. ":memory:" gives a private database
            deleted on close; it lives in a temporary file with synchronous=OFF, because two
            connections to a SQLite in-memory database lock each other out instead of one
            reading while the other writes.
        synchronous: `PRAGMA synchronous`, one of OFF, NORMAL, FULL, EXTRA. FULL (the
            default) fsyncs every commit, so a write whose method returned survives power
            loss; NORMAL survives a crash of the process but may lose the last commits on power
            loss.
        max_batch: most writes committed together in one transaction.
        max_queue: most writes queued or being committed at once; further writers wait.
        touch_interval: seconds between commits of the stations' `last_seen` times
            (`touch_station`); 0 commits them with every batch.

    Raises:
        ValueError: an argument is out of range.

    Error handling: a write that SQLite refuses (e.g. `sqlite3.IntegrityError` for a row of an
    unknown station) raises in its caller alone; the rest of its batch commits. When the commit
    itself fails (disk full, I/O error), every write of the batch raises that error and none
    is stored. A value the store cannot hold (a naive datetime) raises ValueError before
    anything is queued.

    Cancellation: a write method cancelled while it waits for room in the queue writes
    nothing. Once its write is queued, the write is committed even if the caller is cancelled;
    the caller raises Cancelled at once, without learning the outcome (it is simply not
    woken). Reads and `touch_station` never wait and are not checkpoints.
    """

    def __init__(
        self,
        path: str,
        *,
        synchronous: str = "FULL",
        max_batch: int = 256,
        max_queue: int = 10_000,
        touch_interval: float = TOUCH_INTERVAL,
    ) -> None:
        synchronous = synchronous.upper()
        if synchronous not in SYNCHRONOUS_LEVELS:
            raise ValueError(f"synchronous must be one of {', '.join(SYNCHRONOUS_LEVELS)}")
        if max_batch < 1 or max_queue < 1:
            raise ValueError("max_batch and max_queue must be at least 1")
        if not touch_interval >= 0:
            raise ValueError(f"touch_interval must be 0 or more seconds, got {touch_interval}")
        self._touch_interval = touch_interval
        self._path = path
        # A temporary database is discarded on close: syncing it would buy nothing.
        self._synchronous = "OFF" if path == ":memory:" else synchronous
        self._max_batch = max_batch
        self._state = _State.NEW
        # Slots in the writer's queue: taken before a write is queued, given back when its
        # batch is handed back. Waiting for a slot is the backpressure.
        self._room = trio.Semaphore(max_queue, max_value=max_queue)
        self._writer: _Writer | None = None
        self._reader: sqlite3.Connection | None = None  # used on the Trio thread only
        self._temporary: str | None = None  # the directory holding a ":memory:" database

    def __repr__(self) -> str:
        return f"SqliteStore({self._path!r}, {self._state.name.lower()})"

    # --- life cycle ----------------------------------------------------------------------

    async def open(self) -> None:
        """Create or migrate the schema, open both connections, start the writer thread.

        Raises:
            RuntimeError: open() was already called; the file's schema is newer than this
                code knows; SQLite is older than 3.37.
            sqlite3.Error: the file cannot be opened or migrated.
        """
        if self._state is not _State.NEW:
            raise RuntimeError(f"{self!r}: open() can be called only once")
        self._state = _State.OPENING
        try:
            writer, reader = await trio.to_thread.run_sync(self._connect)
        except BaseException:
            self._state = _State.CLOSED
            self._remove_temporary()
            raise
        self._reader = reader
        self._writer = _Writer(writer, self._max_batch, self._touch_interval, self._hand_back)
        self._state = _State.OPEN

    async def close(self) -> None:
        """Commit everything queued (pending touches too), stop the writer thread, close both
        connections. Writes called after close() started raise RuntimeError; writes called
        before it (even those still waiting for room) are committed. A second close() returns
        at once.

        Cancellation: shielded, so that it works in the `finally` of a cancelled task: it
        always waits until the queued writes are committed.
        """
        if self._state is _State.OPENING:
            raise RuntimeError(f"{self!r}: close() called while open() is running")
        if self._state is _State.CLOSED:
            return
        self._state = _State.CLOSED
        writer, reader, self._reader = self._writer, self._reader, None
        if writer is None or reader is None:
            return
        with trio.CancelScope(shield=True):
            # The semaphore is FIFO: once close() has a slot, every write that was waiting for
            # room is queued, and STOP goes in after all of them.
            await self._room.acquire()
            writer.stop()
            await trio.to_thread.run_sync(self._release, writer, reader)

    def statistics(self) -> StoreStatistics:
        """Commits, writes committed (a batch's coalesced touches count one per station), and
        the last batch's size (writes attempted) and time (BEGIN to COMMIT, lock wait included).
        """
        if self._writer is None:
            return StoreStatistics(commits=0, writes=0, last_batch_size=0, last_commit_seconds=0.0)
        return self._writer.stats

    def _connect(self) -> tuple[sqlite3.Connection, sqlite3.Connection]:
        """Worker thread: open both connections, migrating the schema, off the event loop."""
        if sqlite3.sqlite_version_info < _MIN_SQLITE:
            raise RuntimeError(f"trio-csms needs SQLite >= 3.37, found {sqlite3.sqlite_version}")
        path = self._path
        if path == ":memory:":
            self._temporary = tempfile.mkdtemp(prefix="trio-csms-")
            path = os.path.join(self._temporary, "store.db")
        writer = _open_writer(path, self._synchronous)
        try:
            reader = _open_reader(path)
        except BaseException:
            writer.close()
            raise
        return writer, reader

    def _release(self, writer: _Writer, reader: sqlite3.Connection) -> None:
        """Worker thread: wait for the writer thread to finish, close what is left."""
        writer.join()
        reader.close()
        self._remove_temporary()

    def _remove_temporary(self) -> None:
        if self._temporary is not None:
            shutil.rmtree(self._temporary, ignore_errors=True)

    def _closed_error(self) -> RuntimeError:
        if self._state is _State.CLOSED:
            return RuntimeError(f"{self!r} is closed")
        return RuntimeError(f"{self!r} is not open: call open() first")

    # --- plumbing ------------------------------------------------------------------------

    async def _write(self, apply: Callable[[sqlite3.Connection], T]) -> T:
        """Queue `apply` for the writer thread; return its result once its batch committed."""
        if self._state is not _State.OPEN or self._writer is None:
            raise self._closed_error()
        return await self._submit(self._writer, apply)

    async def _submit(self, writer: _Writer, apply: Callable[[sqlite3.Connection], T]) -> T:
        await trio.lowlevel.checkpoint_if_cancelled()
        try:
            self._room.acquire_nowait()
        except trio.WouldBlock:
            await self._room.acquire()  # the queue is full: wait for a batch to finish
        op = _Write(apply, trio.lowlevel.current_task())
        writer.queue.put(op)

        def abort(raise_cancel: trio.lowlevel.RaiseCancelT) -> trio.lowlevel.Abort:
            op.task = None  # the write stays queued and commits; nobody waits for it
            return trio.lowlevel.Abort.SUCCEEDED

        await trio.lowlevel.wait_task_rescheduled(abort)
        if op.error is not None:
            error, op.error = op.error, None  # no cycle: error -> traceback -> frame -> op
            raise error
        return cast(T, op.result)

    def _hand_back(self, ops: list[_Write[Any]]) -> None:
        """Trio thread, once per batch: free the batch's queue slots and wake its waiters."""
        for op in ops:
            self._room.release()
            if op.task is not None:
                trio.lowlevel.reschedule(op.task)

    def _rows(self, sql: str, params: Row) -> list[Any]:
        """Run a read on the calling thread (see the module docstring for why)."""
        if self._reader is None:
            raise self._closed_error()
        return self._reader.execute(sql, params).fetchall()

    def _select(self, table: _Table[R], where: str, params: Row) -> list[R]:
        return [table.from_row(row) for row in self._rows(f"{table.select} {where}", params)]

    def _select_one(self, table: _Table[R], where: str, params: Row) -> R | None:
        records = self._select(table, where, params)
        return records[0] if records else None

    # --- stations ------------------------------------------------------------------------

    async def get_station(self, station_id: str) -> StationRecord | None:
        return self._select_one(_STATIONS, "WHERE station_id = ?", (station_id,))

    async def list_stations(self) -> list[StationRecord]:
        return self._select(_STATIONS, "ORDER BY station_id", ())

    async def put_station(self, station: StationRecord) -> bool:
        return await self._write(partial(_STATIONS.put, _STATIONS.row(station)))

    async def update_station(self, station_id: str, changes: StationChanges) -> bool:
        assignments, values = _STATIONS.assignments(changes.fields())
        return await self._write(partial(_update_station, station_id, assignments, values))

    async def upsert_stations(
        self, changes: Sequence[tuple[str, StationChanges]], created_at: datetime
    ) -> int:
        work: list[_StationUpsert] = []
        seen: set[str] = set()
        for station_id, change in changes:
            if station_id in seen:
                raise ValueError(f"station {station_id!r} appears more than once")
            seen.add(station_id)
            fields = change.fields()
            new = change.apply(StationRecord(station_id=station_id, created_at=created_at))
            assignments, values = _STATIONS.assignments(fields)
            work.append(_StationUpsert(station_id, assignments, values, _STATIONS.row(new)))
        return await self._write(partial(_upsert_stations, work))

    async def delete_station(self, station_id: str) -> bool:
        # Every other table references stations ON DELETE CASCADE.
        delete = "DELETE FROM stations WHERE station_id = ?"
        return await self._write(partial(_changed, delete, (station_id,)))

    async def touch_station(self, station_id: str, at: datetime) -> None:
        """Record `last_seen`, without waiting for the commit: last_seen is advisory, and a
        station sends many messages. The latest time per station is kept and committed within
        `touch_interval` (and by close()); an older time never replaces a newer one; an unknown
        station is ignored.
        """
        if self._state is not _State.OPEN or self._writer is None:
            raise self._closed_error()
        self._writer.touch(station_id, _utc_text(at))

    # --- connectors ----------------------------------------------------------------------

    async def set_connector_status(self, record: ConnectorRecord) -> None:
        await self._write(partial(_execute, _CONNECTORS.upsert, _CONNECTORS.row(record)))

    async def list_connectors(self, station_id: str) -> list[ConnectorRecord]:
        where = "WHERE station_id = ? ORDER BY evse_id, connector_id"
        return self._select(_CONNECTORS, where, (station_id,))

    # --- id tokens -----------------------------------------------------------------------

    async def get_id_token(self, id_token: str, type: str) -> IdTokenRecord | None:
        return self._select_one(_ID_TOKENS, "WHERE id_token = ? AND type = ?", (id_token, type))

    async def list_id_tokens(self) -> list[IdTokenRecord]:
        return self._select(_ID_TOKENS, "ORDER BY id_token, type", ())

    async def put_id_token(self, token: IdTokenRecord) -> bool:
        return await self._write(partial(_ID_TOKENS.put, _ID_TOKENS.row(token)))

    async def delete_id_token(self, id_token: str, type: str) -> bool:
        delete = "DELETE FROM id_tokens WHERE id_token = ? AND type = ?"
        return await self._write(partial(_changed, delete, (id_token, type)))

    # --- transactions --------------------------------------------------------------------

    async def record_transaction_event(
        self, event: TransactionEventRecord, transaction: TransactionRecord
    ) -> bool:
        """See `Store.record_transaction_event`.

        Raises:
            ValueError: the transaction belongs to another station or transaction than the
                event.
        """
        key = (event.station_id, event.transaction_id)
        if (transaction.station_id, transaction.transaction_id) != key:
            raise ValueError(
                f"record_transaction_event: the transaction must be the event's {key}, got "
                f"{(transaction.station_id, transaction.transaction_id)}"
            )
        # Its only seqNo is this event's: the transaction's first event (or that event again).
        first = transaction.first_seq_no == transaction.last_seq_no == event.seq_no
        row = _TRANSACTIONS.row(transaction)
        return await self._write(partial(_record_event, key, _EVENTS.row(event), row, first))

    async def get_transaction(
        self, station_id: str, transaction_id: str
    ) -> TransactionRecord | None:
        where = "WHERE station_id = ? AND transaction_id = ?"
        return self._select_one(_TRANSACTIONS, where, (station_id, transaction_id))

    async def list_transactions(
        self,
        *,
        station_id: str | None = None,
        active: bool | None = None,
        limit: int = 100,
        after: str | None = None,
    ) -> list[TransactionRecord]:
        """See `Store.list_transactions`.

        Raises:
            ValueError: `limit` is negative, or `after` is not "station/transaction".
        """
        where, params = _transaction_page(station_id, active, limit, after)
        return self._select(_TRANSACTIONS, where, params)

    async def list_transaction_events(
        self, station_id: str, transaction_id: str
    ) -> list[TransactionEventRecord]:
        where = f"WHERE transaction_key = ({_TRANSACTION_KEY}) ORDER BY seq_no"
        return self._select(_EVENTS, where, (station_id, transaction_id))

    async def list_meter_values(
        self, station_id: str, transaction_id: str | None, *, limit: int | None = None
    ) -> list[MeterValueRecord]:
        """See `Store.list_meter_values`.

        Raises:
            ValueError: `limit` is negative.
        """
        if limit is not None and limit < 0:
            raise ValueError(f"limit must not be negative, got {limit}")
        where = "WHERE station_id = ? AND transaction_id IS ?"
        if transaction_id is not None:
            values = self._event_meter_values(station_id, transaction_id)
            values += self._select(
                _METER_VALUES, f"{where} ORDER BY rowid", (station_id, transaction_id)
            )
            values.sort(key=lambda value: value.timestamp)  # stable: ties keep arrival order
            return values if limit is None else values[len(values) - limit :]
        if limit is None:
            ordered = f"{where} ORDER BY timestamp, rowid"
            return self._select(_METER_VALUES, ordered, (station_id, None))
        # The newest `limit` rows, read newest first and handed back oldest first.
        latest = f"{where} ORDER BY timestamp DESC, rowid DESC LIMIT ?"
        return self._select(_METER_VALUES, latest, (station_id, None, limit))[::-1]

    def _event_meter_values(self, station_id: str, transaction_id: str) -> list[MeterValueRecord]:
        """The meter values of a transaction's stored events, in the order they arrived."""
        rows = self._rows(_EVENT_METER_VALUES, (station_id, transaction_id))
        return [
            MeterValueRecord(
                station_id=station_id,
                evse_id=evse_id,
                transaction_id=transaction_id,
                timestamp=value.timestamp.astimezone(UTC),  # as the meter_values rows
                sampled_value=value.sampled_value,
            )
            for evse_id, payload in rows
            for value in _EVENT_METER_VALUES_DECODER.decode(payload).meter_value
        ]

    async def add_meter_values(self, values: list[MeterValueRecord]) -> None:
        if values:
            rows = [_METER_VALUES.row(value) for value in values]
            await self._write(partial(_execute_many, _METER_VALUES.insert, rows))

    # --- device model --------------------------------------------------------------------

    async def put_variables(self, variables: list[VariableRecord]) -> None:
        if variables:
            rows = [_VARIABLES.row(variable) for variable in variables]
            await self._write(partial(_execute_many, _VARIABLES.upsert, rows))

    async def list_variables(self, station_id: str) -> list[VariableRecord]:
        where = "WHERE station_id = ? ORDER BY component, variable"
        return self._select(_VARIABLES, where, (station_id,))

    # --- requests and notifications ------------------------------------------------------

    async def put_request(self, request: RequestRecord) -> None:
        await self._write(partial(_execute, _REQUESTS.upsert, _REQUESTS.row(request)))

    async def get_request(
        self, station_id: str, request_id: int, kinds: Collection[str]
    ) -> RequestRecord | None:
        if not kinds:
            return None
        marks = ", ".join("?" * len(kinds))
        where = (
            f"WHERE station_id = ? AND request_id = ? AND kind IN ({marks})"
            " ORDER BY created_at DESC LIMIT 1"
        )
        return self._select_one(_REQUESTS, where, (station_id, request_id, *kinds))

    async def list_open_requests(self, station_id: str, kind: str) -> list[RequestRecord]:
        where = "WHERE station_id = ? AND kind = ? AND NOT complete ORDER BY created_at, request_id"
        return self._select(_REQUESTS, where, (station_id, kind))

    async def add_notification(self, notification: NotificationRecord) -> None:
        row = _NOTIFICATIONS.row(notification)
        await self._write(partial(_execute, _NOTIFICATIONS.insert, row))

    async def list_notifications(
        self, station_id: str, action: str, request_id: int | None = None
    ) -> list[NotificationRecord]:
        if request_id is None:
            where = "WHERE station_id = ? AND action = ? ORDER BY rowid"
            return self._select(_NOTIFICATIONS, where, (station_id, action))
        where = "WHERE station_id = ? AND action = ? AND request_id = ? ORDER BY rowid"
        return self._select(_NOTIFICATIONS, where, (station_id, action, request_id))


def _transaction_page(
    station_id: str | None, active: bool | None, limit: int, after: str | None
) -> tuple[str, Row]:
    """WHERE/ORDER/LIMIT and parameters for one page of list_transactions."""
    if limit < 0:
        raise ValueError(f"limit must not be negative, got {limit}")
    clauses: list[str] = []
    params: list[object] = []
    if station_id is not None:
        clauses.append("station_id = ?")
        params.append(station_id)
    if active is not None:
        clauses.append("active = ?")
        params.append(active)
    if after is not None:
        # Station ids come from a URL path segment and hold no "/"; transaction ids may.
        after_station, slash, after_transaction = after.partition("/")
        if not slash:
            raise ValueError(f'after must be "station_id/transaction_id", got {after!r}')
        clauses.append("(station_id, transaction_id) > (?, ?)")
        params += (after_station, after_transaction)
    where = f"WHERE {' AND '.join(clauses)} " if clauses else ""
    return f"{where}ORDER BY station_id, transaction_id LIMIT ?", (*params, limit)
