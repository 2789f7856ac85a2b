"""`trio-csms simulate` against a real CSMS in this process: the command runs in a subprocess
with `--json`, the CSMS on 127.0.0.1 (tests/csms_harness.py), and the JSON counts are checked
against what the CSMS saw."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
import trio
from csms_harness import PASSWORD, RunningCsms, running_csms

from trio_csms.messages import (
    ResetEnumType,
    ResetRequest,
    ResetResponse,
    TriggerMessageRequest,
    TriggerMessageResponse,
)
from trio_csms.messages.enums import MessageTriggerEnumType

LAB = {"stations": {"allow_unknown": True}}


async def simulate(*args: str, check: bool = True) -> tuple[int, dict[str, Any], str]:
    """Run the command with `--json --quiet`; returns its exit status, JSON and stderr."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    result = await trio.run_process(
        [sys.executable, "-m", "trio_csms.cli", "simulate", "--json", "--quiet", *args],
        capture_stdout=True,
        capture_stderr=True,
        check=False,
        env=env,
    )
    stderr = result.stderr.decode()
    if check:
        assert result.returncode in (0, 1), stderr
    report = json.loads(result.stdout) if result.stdout.strip() else {}
    return result.returncode, report, stderr


def counts(report: dict[str, Any]) -> dict[str, int]:
    return {action: row["count"] for action, row in report["actions"].items()}


async def test_boot_scenario_boots_every_station_and_then_stays_idle(tmp_path: Path) -> None:
    with trio.fail_after(30):
        async with running_csms(tmp_path, **LAB) as csms:
            status, report, _ = await simulate(
                "--url", csms.url, "--count", "4", "--scenario", "boot", "--duration", "1.5"
            )
    assert status == 0, report
    assert report["connected"] == 4
    assert report["accepted"] == 4
    assert report["bootStatuses"] == {"Accepted": 4}
    assert report["bootStormSeconds"] is not None and report["bootStormSeconds"] < 1.5
    assert counts(report) == {"BootNotification": 4}
    assert report["actions"]["BootNotification"]["p50Ms"] > 0
    assert report["errors"] == 0
    assert (report["firstStation"], report["lastStation"]) == ("SIM00001", "SIM00004")


async def test_until_booted_ends_the_run_once_every_station_is_accepted(tmp_path: Path) -> None:
    with trio.fail_after(30):
        async with running_csms(tmp_path, **LAB) as csms:
            status, report, _ = await simulate(
                "--url", csms.url, "--count", "5", "--scenario", "boot", "--until-booted",
                "--duration", "20",
            )  # fmt: skip
    assert status == 0, report
    assert report["accepted"] == 5
    assert report["bootStormSeconds"] <= report["elapsedSeconds"] < 10
    assert report["actions"]["BootNotification"]["minMs"] > 0


async def test_heartbeat_scenario_sends_at_the_given_interval(tmp_path: Path) -> None:
    with trio.fail_after(30):
        async with running_csms(tmp_path, **LAB) as csms:
            status, report, _ = await simulate(
                "--url", csms.url, "--count", "3", "--scenario", "heartbeat",
                "--heartbeat-interval", "0.2", "--duration", "2", "--prefix", "HB", "--digits", "2",
            )  # fmt: skip
    assert status == 0, report
    heartbeats = counts(report)["Heartbeat"]
    # 3 stations, one heartbeat every 0.2 s for about 1.8 s after boot (first one staggered)
    assert 15 <= heartbeats <= 30, heartbeats
    assert report["firstStation"] == "HB01"


async def test_session_scenario_charges_and_the_csms_records_the_transactions(
    tmp_path: Path,
) -> None:
    with trio.fail_after(30):
        async with running_csms(tmp_path, **LAB) as csms:
            status, report, _ = await simulate(
                "--url", csms.url, "--count", "3", "--scenario", "session", "--duration", "2.5",
                "--meter-interval", "0.1", "--updates", "2", "--pause", "0.2", "--seed", "7",
            )  # fmt: skip
            transactions = await csms.csms.store.list_transactions()
    assert status == 0, report
    calls = counts(report)
    assert set(calls) == {
        "BootNotification",
        "StatusNotification",
        "Authorize",
        "TransactionEvent",
        "Heartbeat",
    }
    assert calls["Authorize"] >= 3
    # Started + 2 Updated + Ended per session; at least the first session of each finished
    assert calls["TransactionEvent"] >= 3 * 4
    assert sum(report["authorizeStatuses"].values()) == calls["Authorize"]
    ended = [t for t in transactions if not t.active]
    assert len({t.station_id for t in ended}) == 3
    assert all(t.energy_imported_wh and t.last_seq_no == 3 and not t.seq_no_gaps for t in ended)


async def test_closed_loop_keeps_every_station_busy(tmp_path: Path) -> None:
    with trio.fail_after(30):
        async with running_csms(tmp_path, **LAB) as csms:
            status, report, _ = await simulate(
                "--url", csms.url, "--count", "5", "--scenario", "heartbeat", "--closed-loop",
                "--duration", "1.5",
            )  # fmt: skip
    assert status == 0, report
    assert report["mode"] == "closed"
    # a paced heartbeat would wait the boot answer's 300 s interval: none would be sent
    assert counts(report)["Heartbeat"] > 50
    assert report["callsPerSecond"] > 0


async def test_until_steady_for_measures_a_fixed_time_after_the_boots(tmp_path: Path) -> None:
    with trio.fail_after(30):
        async with running_csms(tmp_path, **LAB) as csms:
            status, report, _ = await simulate(
                "--url", csms.url, "--count", "4", "--scenario", "heartbeat", "--closed-loop",
                "--until-steady-for", "1", "--duration", "20",
            )  # fmt: skip
    assert status == 0, report
    steady = report["elapsedSeconds"] - report["steadyFromSeconds"]
    # 1 s (both ends are rounded to the millisecond), and a loaded machine's scheduling delay
    assert 0.998 <= steady < 3, steady
    assert report["callsPerSecond"] > 0


async def test_windows_are_reported_one_by_one(tmp_path: Path) -> None:
    with trio.fail_after(30):
        async with running_csms(tmp_path, **LAB) as csms:
            status, report, _ = await simulate(
                "--url", csms.url, "--count", "3", "--scenario", "heartbeat", "--rate", "40",
                "--until-steady-for", "0.6", "--windows", "3", "--duration", "20",
            )  # fmt: skip
    assert status == 0, report
    windows = report["windows"]
    assert len(windows) == 3
    for window in windows:
        assert 0.6 <= window["seconds"] < 2
        assert window["actions"]["Heartbeat"]["count"] == window["calls"] > 0
        assert "BootNotification" not in window["actions"]
    # the run's own figures cover every window (and the boots before them)
    heartbeats = counts(report)["Heartbeat"]
    assert heartbeats >= sum(window["calls"] for window in windows)
    assert windows[1]["startSeconds"] >= windows[0]["startSeconds"] + 0.6


async def test_fixed_rate_spreads_the_calls_over_the_stations(tmp_path: Path) -> None:
    with trio.fail_after(30):
        async with running_csms(tmp_path, **LAB) as csms:
            status, report, _ = await simulate(
                "--url", csms.url, "--count", "10", "--scenario", "session", "--rate", "50",
                "--duration", "2",
            )  # fmt: skip
    assert status == 0, json.dumps(report, indent=1)
    assert report["missedCalls"] == 0
    steady = report["elapsedSeconds"] - report["steadyFromSeconds"]
    sent = sum(counts(report).values()) - counts(report)["BootNotification"]
    # every scheduled CALL is sent (late ones wait for a free station) and answered
    assert 50 * steady - 2 <= sent <= 50 * steady + 2, (sent, steady)


async def test_unknown_and_wrongly_authenticated_stations_are_reported(tmp_path: Path) -> None:
    with trio.fail_after(30):
        async with running_csms(tmp_path) as csms:
            await csms.register("SIM00001")
            await csms.register("SIM00002", password="Another-Valid-Password-2")
            status, report, stderr = await simulate(
                "--url", csms.url, "--count", "3", "--password", PASSWORD, "--scenario", "boot",
                "--duration", "1",
            )  # fmt: skip
    assert status == 1, stderr
    assert report["connected"] == 1
    assert report["accepted"] == 1
    failures = report["connectFailures"]
    assert failures["HTTP 401"] == {"count": 1, "example": "SIM00002"}
    assert failures["HTTP 404"] == {"count": 1, "example": "SIM00003"}
    assert report["errors"] == 2
    assert "Traceback" not in stderr


async def test_the_table_names_failures_for_people(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    with trio.fail_after(30):
        async with running_csms(tmp_path) as csms:
            result = await trio.run_process(
                [
                    sys.executable, "-m", "trio_csms.cli", "simulate", "--url", csms.url,
                    "--count", "2", "--scenario", "boot", "--duration", "1.6",
                ],
                capture_stdout=True, capture_stderr=True, check=False, env=env,
            )  # fmt: skip
    assert result.returncode == 1
    table = result.stdout.decode()
    assert "connect failures: 2 x HTTP 404 (e.g. SIM00001)" in table
    assert "0/2 Accepted" in table
    progress = result.stderr.decode()
    assert "connected 0/2" in progress  # the live line, once a second


async def test_passwords_from_an_import_file_and_the_csv_it_writes(tmp_path: Path) -> None:
    fleet = tmp_path / "fleet.csv"
    status, _, stderr = await simulate(
        "--count", "2", "--prefix", "PW", "--password", PASSWORD, "--write-csv", str(fleet)
    )
    assert status == 0, stderr
    assert fleet.read_text().splitlines() == [
        "stationId,password,securityProfile",
        f"PW00001,{PASSWORD},1",
        f"PW00002,{PASSWORD},1",
    ]
    with trio.fail_after(30):
        async with running_csms(tmp_path) as csms:
            await csms.register("PW00001")
            await csms.register("PW00002")
            status, report, stderr = await simulate(
                "--url", csms.url, "--count", "2", "--prefix", "PW", "--password-file", str(fleet),
                "--scenario", "boot", "--duration", "1",
            )  # fmt: skip
    assert status == 0, stderr
    assert report["accepted"] == 2


async def test_the_stations_answer_the_csms_calls(tmp_path: Path) -> None:
    with trio.fail_after(30):
        async with running_csms(tmp_path, **LAB) as csms, trio.open_nursery() as nursery:
            outcome: dict[str, Any] = {}

            async def run() -> None:
                # 8 s: room for a slow start on a loaded machine before the two CSMS calls
                outcome["result"] = await simulate(
                    "--url", csms.url, "--count", "1", "--scenario", "boot", "--duration", "8"
                )

            nursery.start_soon(run)
            answers = await call_when_booted(csms, "SIM00001")
        status, report, _ = outcome["result"]
    assert answers == [
        ResetResponse(status="Accepted"),
        TriggerMessageResponse(status="Accepted"),
    ]
    assert status == 0, report
    assert report["csmsCalls"] == {"Reset": 1, "TriggerMessage": 1}
    assert counts(report)["Heartbeat"] == 1  # the triggered one


async def call_when_booted(csms: RunningCsms, station_id: str) -> list[object]:
    while True:
        station = await csms.csms.store.get_station(station_id)
        if csms.csms.connected(station_id) and station is not None and station.last_boot_at:
            break
        await trio.sleep(0.05)
    return [
        await csms.csms.call(station_id, ResetRequest(type=ResetEnumType.OnIdle)),
        await csms.csms.call(
            station_id, TriggerMessageRequest(requested_message=MessageTriggerEnumType.Heartbeat)
        ),
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--url", "http://127.0.0.1:1/ocpp"], "not a ws:// or wss:// URL"),
        (["--rate", "0"], "rate mode needs a rate"),
        (["--count", "0"], "count must be at least 1"),
        (["--ca-file", "/nonexistent/ca.pem", "--url", "wss://127.0.0.1:1/ocpp"], "No such file"),
        (["--password-file", "/nonexistent/fleet.csv"], "cannot read /nonexistent/fleet.csv"),
        (["--count", "100000"], "run several processes with --first"),
        (["--until-steady-for", "0"], "steady phase's length must be positive"),
        (["--windows", "2"], "more than 1 needs steady_seconds"),
    ],
)
async def test_bad_options_are_refused_with_a_reason(args: list[str], message: str) -> None:
    with trio.fail_after(30):
        status, report, stderr = await simulate(*args, check=False)
    assert status == 2
    assert message in stderr
    assert report == {}
    assert "Traceback" not in stderr
