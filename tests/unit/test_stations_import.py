"""Bulk station import (`trio_csms.stations_import`, issue #4 "Bulk"): parsing, checking every
row (all or nothing), parallel hashing, create/update against a real SQLite store, the CLI."""

from __future__ import annotations

import threading
import time
from functools import partial
from pathlib import Path

import pytest
import trio

from trio_csms.cli import main
from trio_csms.security.passwords import hash_password, verify_password
from trio_csms.stations_import import (
    ImportRow,
    InvalidImport,
    decode_import,
    detect_format,
    import_stations,
    parse_import,
)
from trio_csms.store import StationRecord, open_store

PW = "Correct-Horse-Battery-1"
PW2 = "Another-Valid-Password-2"
CHEAP = partial(hash_password, n=2**4)  # the real cost is ~50 ms per hash; tests use a low one


def errors_of(text: str, **kwargs: str) -> list[tuple[int, str]]:
    with pytest.raises(InvalidImport) as caught:
        parse_import(text, **kwargs)  # type: ignore[arg-type]
    assert caught.value.message.endswith("nothing was imported")
    return [(row.line, row.message) for row in caught.value.rows]


def test_parses_csv_with_and_without_registration_status() -> None:
    rows = parse_import(
        f"stationId,password,securityProfile\nCS1,{PW},1\n\n CS2 , {PW2} ,2\nCS3,,3\n"
    )
    assert rows == [
        ImportRow(2, "CS1", PW, 1),
        ImportRow(4, "CS2", PW2, 2),
        ImportRow(5, "CS3", None, 3),
    ]
    rows = parse_import(
        f"securityProfile,registrationStatus,stationId,password\r\n1,Pending,CS1,{PW}\r\n3,,CS2,\r\n"
    )
    assert rows == [
        ImportRow(2, "CS1", PW, 1, "Pending", True),
        ImportRow(3, "CS2", None, 3, None, True),
    ]


def test_parses_json_lines() -> None:
    text = (
        f'{{"stationId": "CS1", "password": "{PW}", "securityProfile": 2}}\n'
        "\n"
        '{"stationId": "CS2", "password": null, "securityProfile": 3,'
        ' "registrationStatus": "Rejected"}\n'
        '{"stationId": "CS3", "securityProfile": 3}\n'
    )
    assert parse_import(text) == [
        ImportRow(1, "CS1", PW, 2),
        ImportRow(3, "CS2", None, 3, "Rejected", True),
        ImportRow(4, "CS3", None, 3),
    ]


def test_format_detection() -> None:
    assert detect_format('{"a": 1}') == "jsonl"
    assert detect_format("\n  stationId,password") == "csv"
    assert detect_format("{", filename="fleet.csv") == "csv"
    assert detect_format("a,b", filename="fleet.jsonl") == "jsonl"
    assert detect_format("a,b", filename="fleet.ndjson") == "jsonl"
    assert detect_format("{", content_type="text/csv; charset=utf-8") == "csv"
    assert detect_format("a", content_type="application/x-ndjson") == "jsonl"
    assert detect_format("{}", content_type="application/octet-stream") == "jsonl"


def test_every_bad_csv_row_is_reported_with_its_line() -> None:
    text = (
        "stationId,password,securityProfile\n"
        f"OK1,{PW},1\n"  # 2: fine
        f",{PW},1\n"  # 3
        f"{'X' * 49},{PW},1\n"  # 4
        f"A:B,{PW},1\n"  # 5
        "CS5,short,1\n"  # 6
        f"CS6,{PW}!,2\n"  # 7: '!' is not in passwordString
        f"CS7,{'a' * 41},2\n"  # 8
        "CS8,,1\n"  # 9
        "CS9,,2\n"  # 10
        f"CS10,{PW},4\n"  # 11
        f"CS11,{PW},x\n"  # 12
        f"CS12,{PW}\n"  # 13
        f"OK1,{PW},2\n"  # 14: duplicate
        f"{'Y' * 48},{PW},3\n"  # 15: fine (48 chars, profile 3 with a password)
    )
    errors = errors_of(text)
    assert [line for line, _ in errors] == list(range(3, 15))
    messages = dict(errors)
    assert "non-empty" in messages[3]
    assert "at most 48" in messages[4]
    assert "':'" in messages[5]
    for line in (6, 7, 8):
        assert "passwordString of 16 to 40" in messages[line]
    assert "required for security profiles 1 and 2" in messages[9]
    assert "required" in messages[10]
    assert "securityProfile must be 1, 2 or 3" in messages[11]
    assert "securityProfile" in messages[12]
    assert "expected 3 columns, found 2" in messages[13]
    assert messages[14] == "duplicate stationId 'OK1' (first on line 2)"


def test_bad_csv_header_and_registration_status() -> None:
    assert errors_of("stationId,pass,securityProfile\nCS1,x,1\n") == [
        (
            1,
            "the header must name stationId, securityProfile, password and/or passwordHash "
            "[, registrationStatus]: missing column(s) password or passwordHash; "
            "unknown column(s) pass",
        )
    ]
    text = f"stationId,password,securityProfile,registrationStatus\nCS1,{PW},1,Maybe\n"
    assert errors_of(text) == [
        (2, "registrationStatus must be Accepted, Pending, Rejected or empty")
    ]
    assert errors_of("") == [(1, "the file has no stations")]
    assert errors_of("stationId,password,securityProfile\n\n") == [(1, "the file has no stations")]


def test_every_bad_json_line_is_reported_with_its_line() -> None:
    text = (
        f'{{"stationId": "CS1", "password": "{PW}", "securityProfile": 1}}\n'  # 1 fine
        "not json\n"  # 2
        "[1, 2]\n"  # 3
        f'{{"stationId": "CS3", "password": "{PW}"}}\n'  # 4 missing profile
        f'{{"stationId": "CS4", "password": "{PW}", "securityProfile": 1, "x": 1}}\n'  # 5
        f'{{"stationId": 7, "password": "{PW}", "securityProfile": 1}}\n'  # 6
        f'{{"stationId": "CS6", "password": "{PW}", "securityProfile": true}}\n'  # 7
        '{"stationId": "CS7", "password": null, "securityProfile": 2}\n'  # 8
        f'{{"stationId": "CS1", "password": "{PW}", "securityProfile": 1}}\n'  # 9 duplicate
    )
    errors = dict(errors_of(text))
    assert sorted(errors) == [2, 3, 4, 5, 6, 7, 8, 9]
    assert errors[2].startswith("not valid JSON")
    assert errors[3] == "each line must be a JSON object"
    assert errors[4] == "missing field(s) securityProfile"
    assert errors[5] == "unknown field(s) x"
    assert "stationId must be a non-empty string" in errors[6]
    assert "securityProfile must be 1, 2 or 3" in errors[7]
    assert "password is required" in errors[8]
    assert "duplicate stationId 'CS1'" in errors[9]


def test_pre_hashed_passwords() -> None:
    hashed = CHEAP(PW)
    text = f"stationId,passwordHash,securityProfile\nCS1,{hashed},1\nCS2,,3\n"
    rows = parse_import(text)
    assert [(r.station_id, r.password, r.password_hash) for r in rows] == [
        ("CS1", None, hashed),
        ("CS2", None, None),
    ]
    jsonl = f'{{"stationId": "CS1", "passwordHash": "{hashed}", "securityProfile": 2}}\n'
    assert parse_import(jsonl)[0].password_hash == hashed
    bad = (
        "stationId,password,passwordHash,securityProfile\n"
        f"CS1,{PW},{hashed},1\n"  # both
        "CS2,,scrypt$3$8$1$AAAA$AAAA,1\n"  # n not a power of two
        f"CS3,,{PW},1\n"  # a clear password where the hash goes
        "CS4,,,2\n"  # neither
    )
    assert errors_of(bad) == [
        (2, "give password or passwordHash, not both"),
        (3, "passwordHash must be a trio-csms scrypt hash (scrypt$n$r$p$salt$hash)"),
        (4, "passwordHash must be a trio-csms scrypt hash (scrypt$n$r$p$salt$hash)"),
        (5, "a password is required for security profiles 1 and 2 (password or passwordHash)"),
    ]


async def test_twenty_thousand_pre_hashed_rows_are_one_commit(tmp_path: Path) -> None:
    hashed = CHEAP(PW)
    lines = ["stationId,passwordHash,securityProfile"]
    lines += [f"CS{i:05d},{hashed},{1 + i % 2}" for i in range(20_000)]
    rows = parse_import("\n".join(lines))

    def no_hashing(password: str) -> str:
        raise AssertionError("a pre-hashed row must not be hashed again")

    with trio.fail_after(60):
        store = open_store(f"sqlite:///{tmp_path / 'x.db'}")
        await store.open()
        try:
            commits = store.statistics().commits
            result = await import_stations(store, rows, hasher=no_hashing)
            assert (result.created, result.updated) == (20_000, 0)
            assert store.statistics().commits == commits + 1
            station = await store.get_station("CS12345")
            assert station is not None and station.security_profile == 2
            assert verify_password(PW, station.password_hash or "")
        finally:
            await store.close()


def test_decode_rejects_non_utf8_with_its_line() -> None:
    assert decode_import("\ufeffa\n".encode()) == "a\n"
    with pytest.raises(InvalidImport) as caught:
        decode_import(b"stationId,password,securityProfile\nCS\xff,x,1\n")
    assert [(r.line, r.message) for r in caught.value.rows] == [(2, "not UTF-8 text")]


async def test_import_creates_then_updates_keeping_other_fields(tmp_path: Path) -> None:
    with trio.fail_after(30):
        store = open_store(f"sqlite:///{tmp_path / 'x.db'}")
        await store.open()
        try:
            existing = StationRecord(
                station_id="CS1",
                security_profile=1,
                password_hash=hash_password(PW),
                previous_password_hash=hash_password(PW2),
                registration_policy="Pending",
                registration_status="Accepted",
                charging_station={"model": "M", "vendorName": "V"},
                firmware_status="Installed",
                onboarded=True,
            )
            await store.put_station(existing)
            rows = parse_import(f"stationId,password,securityProfile\nCS1,{PW2},2\nCS2,{PW},1\n")
            result = await import_stations(store, rows)
            assert (result.created, result.updated) == (1, 1)
            cs1 = await store.get_station("CS1")
            assert cs1 is not None and cs1.password_hash is not None
            assert cs1.security_profile == 2
            assert verify_password(PW2, cs1.password_hash)
            assert cs1.previous_password_hash is None
            assert cs1.registration_policy == "Pending"  # no registrationStatus column: kept
            assert cs1.registration_status == "Accepted"
            assert cs1.charging_station == {"model": "M", "vendorName": "V"}
            assert cs1.firmware_status == "Installed" and cs1.onboarded
            cs2 = await store.get_station("CS2")
            assert cs2 is not None and cs2.password_hash is not None
            assert verify_password(PW, cs2.password_hash) and cs2.created_at is not None

            text = (
                "stationId,password,securityProfile,registrationStatus\nCS1,,3,\nCS2,,3,Rejected\n"
            )
            result = await import_stations(store, parse_import(text))
            assert (result.created, result.updated) == (0, 2)
            cs1 = await store.get_station("CS1")
            cs2 = await store.get_station("CS2")
            assert cs1 is not None and cs2 is not None
            assert (cs1.security_profile, cs1.password_hash, cs1.registration_policy) == (
                3,
                None,
                None,
            )
            assert cs1.charging_station == {"model": "M", "vendorName": "V"}
            assert cs2.registration_policy == "Rejected"
        finally:
            await store.close()


async def test_two_thousand_rows_hash_in_parallel_threads_off_the_event_loop(
    tmp_path: Path,
) -> None:
    lock = threading.Lock()
    running = 0
    most = 0
    threads: set[int] = set()

    def hasher(password: str) -> str:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
            threads.add(threading.get_ident())
        try:
            time.sleep(0.001)  # long enough for batches to overlap
            return CHEAP(password)
        finally:
            with lock:
                running -= 1

    lines = ["stationId,password,securityProfile"]
    lines += [f"CS{i:05d},{PW[:-1]}{i % 10},{1 + i % 3}" for i in range(2000)]
    rows = parse_import("\n".join(lines))
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await trio.sleep(0.005)

    with trio.fail_after(120):
        store = open_store(f"sqlite:///{tmp_path / 'x.db'}")
        await store.open()
        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(ticker)
                result = await import_stations(store, rows, hasher=hasher, threads=4)
                nursery.cancel_scope.cancel()
            assert (result.created, result.updated) == (2000, 0)
            stations = await store.list_stations()
            assert len(stations) == 2000
            assert all(s.password_hash is not None for s in stations)
            assert verify_password(f"{PW[:-1]}7", stations[1997].password_hash or "")
        finally:
            await store.close()
    assert most > 1 and len(threads) > 1  # batches ran at the same time, in several threads
    assert most <= 4  # ... but no more than the limiter allows
    assert ticks > 2  # the event loop kept running while hashing


async def test_real_cost_hashes_run_in_parallel(tmp_path: Path) -> None:
    rows = [ImportRow(i, f"CS{i}", PW, 1) for i in range(16)]
    with trio.fail_after(60):
        store = open_store(f"sqlite:///{tmp_path / 'x.db'}")
        await store.open()
        try:
            result = await import_stations(store, rows)
            assert result.created == 16
            station = await store.get_station("CS3")
            assert station is not None and verify_password(PW, station.password_hash or "")
        finally:
            await store.close()


def test_cli_imports_and_reports_counts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = f"sqlite:///{tmp_path / 'x.db'}"
    csv_file = tmp_path / "fleet.csv"
    csv_file.write_text(f"stationId,password,securityProfile\nCS1,{PW},1\nCS2,,3\n")
    assert main(["--db", db, "stations", "import", str(csv_file)]) == 0
    assert capsys.readouterr().out == "imported 2 stations (2 created, 0 updated)\n"
    jsonl = tmp_path / "more.jsonl"
    jsonl.write_text(
        f'{{"stationId": "CS2", "password": "{PW}", "securityProfile": 1}}\n'
        f'{{"stationId": "CS3", "password": "{PW}", "securityProfile": 2}}\n'
    )
    assert main(["--db", db, "stations", "import", str(jsonl)]) == 0
    assert capsys.readouterr().out == "imported 2 stations (1 created, 1 updated)\n"


def test_cli_lists_every_error_and_imports_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = f"sqlite:///{tmp_path / 'x.db'}"
    bad = tmp_path / "bad.csv"
    bad.write_text(f"stationId,password,securityProfile\nCS1,{PW},1\nCS2,short,1\nCS3,{PW},9\n")
    assert main(["--db", db, "stations", "import", str(bad)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    err = captured.err.splitlines()
    assert err[0].startswith(f"{bad}: line 3: password must be")
    assert err[1] == f"{bad}: line 4: securityProfile must be 1, 2 or 3"
    assert err[2] == f"{bad}: 2 invalid rows; nothing was imported"
    assert main(["--db", db, "stations", "import", str(tmp_path / "missing.csv")]) == 2
    assert "cannot read" in capsys.readouterr().err

    async def count() -> int:
        store = open_store(db)
        await store.open()
        try:
            return len(await store.list_stations())
        finally:
            await store.close()

    assert trio.run(count) == 0  # CS1 was valid, but nothing is imported
