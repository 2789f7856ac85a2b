"""Bulk station import (issue #4, "Bulk"): a CSV or JSON-lines file of stations, all or nothing.

CSV: a header row naming `stationId`, `securityProfile`, `password` and/or `passwordHash`,
and optionally `registrationStatus`, then one station per row. JSON lines: one object per line
with the same keys (`password`, `passwordHash` and `registrationStatus` may be null). Blank
lines are ignored in both. A row gives its password in clear (`password`) or already hashed
(`passwordHash`, as `security.passwords.hash_password` makes it), or neither for profile 3.

Every row is checked before anything is written; `parse_import` raises `InvalidImport` with
*all* the bad rows (by line number) and then nothing is imported. Clear passwords are then
hashed (scrypt, ~50 ms of one core each) in worker threads, in batches, one thread per CPU:
about 40 stations a second per core, which is what makes pre-hashed files the way to import
tens of thousands of stations in seconds. Finally every station is created or updated in ONE
commit (`Store.upsert_stations`): on update only its security profile, password hash and,
when the file gives one, registration policy change; everything else it has is kept.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

import orjson
import trio

from .security.passwords import hash_password, is_password_hash, is_valid_password
from .store import StationChanges, Store

Format = Literal["csv", "jsonl"]

MAX_STATION_ID = 48
MAX_PASSWORD = 40  # passwordString: 16-40 characters, as `PUT /api/v1/stations/{id}` takes
SECURITY_PROFILES = (1, 2, 3)
REGISTRATION_STATUSES = ("Accepted", "Pending", "Rejected")
REQUIRED_FIELDS = ("stationId", "securityProfile")
PASSWORD_FIELDS = ("password", "passwordHash")  # at least one of them as a CSV column
OPTIONAL_FIELDS = (*PASSWORD_FIELDS, "registrationStatus")
#: The largest import body `POST /api/v1/stations:import` takes: ~250,000 stations with
#: pre-hashed passwords (~130 bytes a row).
MAX_IMPORT_BODY = 32 * 1024 * 1024
HASH_BATCH = 16  # passwords hashed per worker-thread call


@dataclass(frozen=True)
class ImportRow:
    """One valid row: `password` (clear) or `password_hash` (pre-hashed), at most one of them;
    neither means no password (profile 3 only). `registration_policy` (None: the server
    default) applies only if `sets_registration`, i.e. the file has a registrationStatus for
    the row; otherwise the stored one is kept."""

    line: int
    station_id: str
    password: str | None
    security_profile: int
    registration_policy: str | None = None
    sets_registration: bool = False
    password_hash: str | None = None


@dataclass(frozen=True)
class RowError:
    line: int
    message: str


class InvalidImport(Exception):
    """The file has bad rows (all of them are in `rows`); nothing was imported."""

    def __init__(self, rows: Sequence[RowError]) -> None:
        self.rows = list(rows)
        super().__init__(self.message)

    @property
    def message(self) -> str:
        count = len(self.rows)
        return f"{count} invalid row{'s' if count != 1 else ''}; nothing was imported"


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int

    @property
    def total(self) -> int:
        return self.created + self.updated


def decode_import(data: bytes) -> str:
    """The file's text (UTF-8, an optional BOM dropped).

    Raises:
        InvalidImport: it is not UTF-8 (the line of the first bad byte).
    """
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InvalidImport([RowError(line, "not UTF-8 text")]) from None


def detect_format(
    text: str, *, filename: str | None = None, content_type: str | None = None
) -> Format:
    """CSV or JSON lines: by content type, else by file suffix, else by the first non-blank
    line (`{` starts JSON lines)."""
    if content_type:
        media = content_type.split(";", 1)[0].strip().lower()
        if media in ("text/csv", "application/csv"):
            return "csv"
        if media in ("application/x-ndjson", "application/ndjson", "application/jsonl"):
            return "jsonl"
    if filename:
        suffix = os.path.splitext(filename)[1].lower()
        if suffix == ".csv":
            return "csv"
        if suffix in (".jsonl", ".ndjson", ".json"):
            return "jsonl"
    for line in text.splitlines():
        if line.strip():
            return "jsonl" if line.lstrip().startswith("{") else "csv"
    return "csv"


def parse_import(
    text: str,
    *,
    format: Format | None = None,
    filename: str | None = None,
    content_type: str | None = None,
) -> list[ImportRow]:
    """Parse and check every row.

    Raises:
        InvalidImport: with every bad row (line numbers from 1; the CSV header is line 1).
    """
    text = text.removeprefix("\ufeff")
    kind = format or detect_format(text, filename=filename, content_type=content_type)
    errors: list[RowError] = []
    raw = _csv_rows(text, errors) if kind == "csv" else _jsonl_rows(text, errors)
    rows: list[ImportRow] = []
    first_line: dict[str, int] = {}
    for line, fields in raw:
        row = _check_row(line, fields, errors)
        if row is None:
            continue
        if row.station_id in first_line:
            errors.append(
                RowError(
                    line,
                    f"duplicate stationId {row.station_id!r} (first on line "
                    f"{first_line[row.station_id]})",
                )
            )
            continue
        first_line[row.station_id] = line
        rows.append(row)
    if not raw and not errors:
        errors.append(RowError(1, "the file has no stations"))
    if errors:
        raise InvalidImport(sorted(errors, key=lambda error: error.line))
    return rows


def _csv_rows(text: str, errors: list[RowError]) -> list[tuple[int, dict[str, object]]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    rows: list[tuple[int, dict[str, object]]] = []
    try:
        for record in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in record):
                continue
            cells = [cell.strip() for cell in record]
            if header is None:
                header = cells
                problems = _header_problems(header)
                if problems:
                    errors.append(RowError(line, problems))
                    return []
                continue
            if len(cells) != len(header):
                errors.append(RowError(line, f"expected {len(header)} columns, found {len(cells)}"))
                continue
            rows.append((line, dict(zip(header, cells, strict=True))))
    except csv.Error as exc:
        errors.append(RowError(reader.line_num, f"not valid CSV: {exc}"))
    return rows


def _header_problems(header: list[str]) -> str:
    known = REQUIRED_FIELDS + OPTIONAL_FIELDS
    missing = [name for name in REQUIRED_FIELDS if name not in header]
    if not any(name in header for name in PASSWORD_FIELDS):
        missing.append(" or ".join(PASSWORD_FIELDS))
    unknown = [name for name in header if name not in known]
    repeated = sorted({name for name in header if header.count(name) > 1})
    problems = []
    if missing:
        problems.append(f"missing column(s) {', '.join(missing)}")
    if unknown:
        problems.append(f"unknown column(s) {', '.join(unknown)}")
    if repeated:
        problems.append(f"repeated column(s) {', '.join(repeated)}")
    if not problems:
        return ""
    return (
        "the header must name stationId, securityProfile, password and/or passwordHash "
        "[, registrationStatus]: " + "; ".join(problems)
    )


def _jsonl_rows(text: str, errors: list[RowError]) -> list[tuple[int, dict[str, object]]]:
    rows: list[tuple[int, dict[str, object]]] = []
    known = REQUIRED_FIELDS + OPTIONAL_FIELDS
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            errors.append(RowError(number, f"not valid JSON: {exc}"))
            continue
        if not isinstance(value, dict):
            errors.append(RowError(number, "each line must be a JSON object"))
            continue
        unknown = sorted(set(value) - set(known))
        missing = [name for name in ("stationId", "securityProfile") if name not in value]
        if unknown or missing:
            parts = []
            if missing:
                parts.append(f"missing field(s) {', '.join(missing)}")
            if unknown:
                parts.append(f"unknown field(s) {', '.join(unknown)}")
            errors.append(RowError(number, "; ".join(parts)))
            continue
        rows.append((number, value))
    return rows


def _check_row(line: int, fields: dict[str, object], errors: list[RowError]) -> ImportRow | None:
    problems: list[str] = []
    station_id = fields.get("stationId")
    if not isinstance(station_id, str) or not station_id:
        problems.append("stationId must be a non-empty string")
    elif len(station_id) > MAX_STATION_ID:
        problems.append(f"stationId must be at most {MAX_STATION_ID} characters")
    elif ":" in station_id or "/" in station_id:
        problems.append("stationId must not contain ':' or '/'")
    profile = fields.get("securityProfile")
    if isinstance(profile, str) and profile in ("1", "2", "3"):
        profile = int(profile)
    if type(profile) is not int or profile not in SECURITY_PROFILES:
        problems.append("securityProfile must be 1, 2 or 3")
        profile = None
    password = fields.get("password") or None
    password_hash = fields.get("passwordHash") or None
    if password is not None and password_hash is not None:
        problems.append("give password or passwordHash, not both")
    elif password is None and password_hash is None:
        if profile is not None and profile != 3:
            problems.append(
                "a password is required for security profiles 1 and 2 (password or passwordHash)"
            )
    elif password is not None and not is_valid_password(password, max_length=MAX_PASSWORD):
        problems.append(
            "password must be an OCPP passwordString of 16 to 40 characters "
            "(a-z A-Z 0-9 * - _ = : + | @ .), or empty for security profile 3"
        )
    elif password_hash is not None and not is_password_hash(password_hash):
        problems.append("passwordHash must be a trio-csms scrypt hash (scrypt$n$r$p$salt$hash)")
    policy = fields.get("registrationStatus") or None
    if policy is not None and policy not in REGISTRATION_STATUSES:
        problems.append("registrationStatus must be Accepted, Pending, Rejected or empty")
    if problems:
        errors.append(RowError(line, "; ".join(problems)))
        return None
    assert isinstance(station_id, str) and isinstance(profile, int)
    assert password is None or isinstance(password, str)
    assert password_hash is None or isinstance(password_hash, str)
    assert policy is None or isinstance(policy, str)
    sets_registration = "registrationStatus" in fields
    return ImportRow(line, station_id, password, profile, policy, sets_registration, password_hash)


async def hash_passwords(
    passwords: Sequence[str | None],
    *,
    hasher: Callable[[str], str] = hash_password,
    threads: int | None = None,
) -> list[str | None]:
    """The hashes of `passwords` (None stays None), computed in worker threads in parallel
    batches of `HASH_BATCH`, at most `threads` (default: one per CPU) at a time."""
    hashes: list[str | None] = [None] * len(passwords)
    limiter = trio.CapacityLimiter(threads or os.cpu_count() or 1)
    todo = [(index, password) for index, password in enumerate(passwords) if password is not None]

    def work(batch: list[tuple[int, str]]) -> list[str]:
        return [hasher(password) for _, password in batch]

    async def run(batch: list[tuple[int, str]]) -> None:
        results = await trio.to_thread.run_sync(work, batch, limiter=limiter)
        for (index, _), hashed in zip(batch, results, strict=True):
            hashes[index] = hashed

    async with trio.open_nursery() as nursery:
        for start in range(0, len(todo), HASH_BATCH):
            nursery.start_soon(run, todo[start : start + HASH_BATCH])
    return hashes


async def import_stations(
    store: Store,
    rows: Sequence[ImportRow],
    *,
    hasher: Callable[[str], str] = hash_password,
    threads: int | None = None,
) -> ImportResult:
    """Hash the passwords (in parallel threads), then create or update every station in one
    commit (all or nothing). An existing station keeps every field the file does not set."""
    hashes = await hash_passwords([row.password for row in rows], hasher=hasher, threads=threads)
    changes = [
        (row.station_id, _changes(row, row.password_hash or password_hash))
        for row, password_hash in zip(rows, hashes, strict=True)
    ]
    created = await store.upsert_stations(changes, datetime.now(UTC))
    return ImportResult(created=created, updated=len(rows) - created)


def _changes(row: ImportRow, password_hash: str | None) -> StationChanges:
    changes = StationChanges(
        security_profile=row.security_profile,
        password_hash=password_hash,
        previous_password_hash=None,
    )
    if row.sets_registration:
        changes.registration_policy = row.registration_policy
    return changes


def format_errors(error: InvalidImport) -> Iterable[str]:
    """One line per bad row, then the verdict."""
    for row in error.rows:
        yield f"line {row.line}: {row.message}"
    yield error.message
