"""The benchmark suite: one command runs it and writes bench/RESULTS.md.

    .venv/bin/python bench/run.py                 # the full suite, about 15 minutes
    .venv/bin/python bench/run.py --smoke --output /tmp/RESULTS.md   # seconds; CI runs this

Every load comes from the product's own fleet simulator (`trio-csms simulate`, sim/fleet.py),
run as separate processes; every server is a real `trio-csms serve` (or, for the comparison,
bench/ocpp_lib_csms.py) on 127.0.0.1. Servers are pinned to the first CPU and simulators to
the second with `taskset`, so the two never compete for a core. Each figure is the median of
`--repeats` runs; the per-run values are kept in the report.

Sections (issue 6): throughput (closed loop, session and heartbeat mixes), latency per action
at fixed rates with 10,000 connected stations, the lab's response-time table, scale (stations
held connected with periodic heartbeats, RSS per station), the boot storm, and trio-csms
next to a CSMS built on the `ocpp` library. A process may hold at most about 20,000 open
files here (hard RLIMIT_NOFILE), so large fleets are split over several server and simulator
processes, each server with its own port and database.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import trio

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
SERVER_CPU = 0
SIMULATOR_CPU = 1
LAB = (0.34, 0.38, 1.33)  # the certified lab's published min/avg/max response time, seconds
TOKEN_TYPE = "ISO14443"
# File descriptors a server or simulator keeps for itself (database, listeners, logs).
SPARE_FILES = 500


@dataclass(frozen=True)
class Plan:
    """The sizes of one run of the suite."""

    repeats: int
    throughput_stations: int
    throughput_seconds: float
    # Measured windows start this long after the fleet booted: calls/s fall for the first
    # ~40 s while the database grows from empty (bench/README.md), then hold.
    throughput_warmup: float
    latency_stations: int
    latency_rates: tuple[float, ...]
    latency_seconds: float  # after every station is connected and booted
    scale_stations: int
    scale_hold: float  # seconds the whole fleet stays connected
    scale_heartbeat: float
    storm_stations: int
    storm_limit: float  # seconds a boot storm may take before it counts as failed
    per_process: int  # stations per server and per simulator process


FULL = Plan(
    repeats=3,
    throughput_stations=1000,
    throughput_seconds=10.0,
    throughput_warmup=40.0,
    latency_stations=10_000,
    latency_rates=(2000.0, 5000.0),
    latency_seconds=15.0,
    scale_stations=50_000,
    scale_hold=20.0,
    scale_heartbeat=60.0,
    storm_stations=20_000,
    storm_limit=60.0,
    per_process=17_000,
)
SMOKE = Plan(
    repeats=1,
    throughput_stations=20,
    throughput_seconds=1.0,
    throughput_warmup=1.0,  # one window run and dropped: the smoke test sees it done
    latency_stations=30,
    latency_rates=(50.0,),
    latency_seconds=1.0,
    scale_stations=60,
    scale_hold=1.0,
    scale_heartbeat=1.0,
    storm_stations=40,
    storm_limit=20.0,
    per_process=25,
)


# --- processes -------------------------------------------------------------------------------


def pinned(cpu: int) -> list[str]:
    """`taskset -c cpu` when the machine has that CPU and taskset exists, else nothing."""
    if shutil.which("taskset") and cpu in os.sched_getaffinity(0) and os.cpu_count() != 1:
        return ["taskset", "-c", str(cpu)]
    return []


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def rss_bytes(pid: int) -> int:
    """Resident set size of a process (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path, limit: float) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited ({process.returncode}); see {log}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.1)
    raise RuntimeError(f"no server on port {port} after {limit} s; see {log}")


@dataclass
class Server:
    """One running CSMS process."""

    name: str
    process: subprocess.Popen[bytes]
    port: int
    path: str  # the OCPP endpoint's path; station ids follow it
    api_port: int | None
    log: Path
    baseline_rss: int = 0

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}{self.path}"

    def rss(self) -> int:
        return rss_bytes(self.process.pid)

    def connected(self) -> int | None:
        """Stations the server says are connected (its /metrics), None if it cannot say."""
        if self.api_port is None:
            return None
        url = f"http://127.0.0.1:{self.api_port}/metrics"
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:
                text = answer.read().decode()
        except OSError:
            return None
        for line in text.splitlines():
            if line.startswith("trio_csms_stations_connected "):
                return int(float(line.split()[1]))
        return None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


SECTIONS = ("throughput", "latency", "lab table", "scale", "boot storm")
SERVER_KINDS = ("trio-csms", "trio-csms, pure-Python codecs", "ocpp library")


def start_server(kind: str, workdir: Path, tokens: int) -> Server:
    """Start a server of `kind` on free ports, its files in a fresh directory under `workdir`;
    trio-csms gets an Accepted id token for stations 1..`tokens` (the simulator's tokens)."""
    directory = Path(tempfile.mkdtemp(prefix="server-", dir=workdir))
    log = directory / "server.log"
    port = free_port()
    env = {**os.environ}
    if kind == "ocpp library":
        command = [PYTHON, str(ROOT / "bench" / "ocpp_lib_csms.py"), "--port", str(port)]
        api_port = None
        path = "/ocpp"
    else:
        api_port = free_port()
        config = directory / "config.toml"
        config.write_text(
            "[ocpp]\n"
            f'host = "127.0.0.1"\nport = {port}\n'
            "[api]\n"
            f'host = "127.0.0.1"\nport = {api_port}\ntoken = "bench-api-token-0123456789"\n'
            "[stations]\nallow_unknown = true\n"
            "[store]\n"
            f'url = "sqlite:///{directory / "csms.db"}"\n'
        )
        if tokens:
            trio.run(seed_tokens, f"sqlite:///{directory / 'csms.db'}", tokens)
        if kind == "trio-csms, pure-Python codecs":
            env["TRIO_CSMS_NATIVE"] = "0"
        command = [PYTHON, "-m", "trio_csms.cli", "--config", str(config), "serve"]
        path = "/ocpp"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [*pinned(SERVER_CPU), *command],
            cwd=directory,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    server = Server(kind, process, port, path, api_port, log)
    try:
        wait_for_port(port, process, log, 60)
    except BaseException:
        server.stop()
        raise
    time.sleep(0.5)  # let start-up allocations settle before the baseline
    server.baseline_rss = server.rss()
    return server


async def seed_tokens(url: str, count: int) -> None:
    """Register the id token each simulated station presents (its number, 8 hex digits)."""
    from trio_csms.store import open_store
    from trio_csms.store.base import IdTokenRecord

    store = open_store(url)
    await store.open()
    try:
        limit = trio.Semaphore(256)  # concurrent puts share the store's group commits

        async def put(number: int) -> None:
            async with limit:
                await store.put_id_token(IdTokenRecord(id_token=f"{number:08X}", type=TOKEN_TYPE))

        async with trio.open_nursery() as nursery:
            for number in range(1, count + 1):
                nursery.start_soon(put, number)
    finally:
        await store.close()


@contextlib.contextmanager
def servers(kind: str, workdir: Path, count: int, tokens: int) -> Iterator[list[Server]]:
    started: list[Server] = []
    try:
        for _ in range(count):
            started.append(start_server(kind, workdir, tokens))
        yield started
    finally:
        for server in started:
            server.stop()


def simulate_command(url: str, arguments: Sequence[str]) -> list[str]:
    return [
        PYTHON, "-m", "trio_csms.cli", "simulate", "--json", "--quiet", "--url", url,
        *arguments,
    ]  # fmt: skip


def shown(command: Sequence[str]) -> str:
    """A command as the report shows it: the interpreter as `python`, ports as given."""
    return " ".join("python" if part == PYTHON else part for part in command)


@dataclass
class SimRun:
    """The simulators of one measurement, and what the bench sampled while they ran."""

    reports: list[dict[str, Any]]
    peak_connected: int | None = None
    rss_at_peak: int = 0
    baseline_rss: int = 0
    simulator_rss: int = 0
    wall: float = 0.0  # seconds the simulators ran
    server_cpu: float = 0.0  # CPU seconds the servers used meanwhile
    simulator_cpu: float = 0.0  # CPU seconds the simulators used

    def busy(self) -> str:
        """How busy each side's CPU was: near 100% is the limit of that side."""
        if not self.wall:
            return "-"
        return f"{self.server_cpu / self.wall:.0%} / {self.simulator_cpu / self.wall:.0%}"


def run_simulators(
    jobs: Sequence[tuple[Server, list[str]]],
    *,
    sample: Sequence[Server] = (),
    timeout: float,
) -> SimRun:
    """Run one simulator process per (server, arguments), pinned to the simulator CPU, all at
    once; while they run, sample the servers in `sample` (connected count and RSS) each half
    second. Returns their JSON reports."""
    servers_used = list({id(server): server for server, _ in jobs}.values())
    server_cpu = sum(cpu_seconds(server.process.pid) for server in servers_used)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    processes = []
    for server, arguments in jobs:
        command = [*pinned(SIMULATOR_CPU), *simulate_command(server.url, arguments)]
        processes.append(subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE))
    run = SimRun(reports=[], baseline_rss=sum(s.baseline_rss for s in sample))
    deadline = time.monotonic() + timeout
    try:
        while any(p.poll() is None for p in processes):
            if time.monotonic() > deadline:
                raise RuntimeError(f"the simulators did not finish within {timeout:.0f} s")
            if sample:
                counts = [s.connected() for s in sample]
                if all(c is not None for c in counts):
                    connected = sum(c for c in counts if c is not None)
                    if run.peak_connected is None or connected > run.peak_connected:
                        run.peak_connected = connected
                        run.rss_at_peak = sum(s.rss() for s in sample)
                run.simulator_rss = max(run.simulator_rss, sum(rss_bytes(p.pid) for p in processes))
            time.sleep(0.5)
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
    for process in processes:
        stdout, stderr = process.communicate()
        if process.returncode not in (0, 1) or not stdout.strip():
            raise RuntimeError(
                f"the simulator failed ({process.returncode}): {stderr.decode()[-2000:]}"
            )
        run.reports.append(json.loads(stdout))
    run.wall = time.monotonic() - started
    run.server_cpu = sum(cpu_seconds(server.process.pid) for server in servers_used) - server_cpu
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    run.simulator_cpu = (after.ru_utime + after.ru_stime) - (children.ru_utime + children.ru_stime)
    return run


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a running process (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # After the command name: state is field 3, utime and stime are fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- figures ---------------------------------------------------------------------------------


def median(values: Sequence[float]) -> float:
    finite = [v for v in values if v is not None and not math.isnan(v)]
    return statistics.median(finite) if finite else math.nan


def per_run(values: Sequence[float], fmt: Callable[[float], str]) -> str:
    return ", ".join(fmt(v) for v in values)


def number(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:,.0f}"


def ms(value: float | None) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:.2f}"


def verdict(value: float, target: float, *, higher_is_better: bool, unit: str = "") -> str:
    """'met' or by how much the target is missed."""
    if math.isnan(value):
        return "**not measured**"
    met = value >= target if higher_is_better else value <= target
    if met:
        return "met"
    if higher_is_better:
        short = (1 - value / target) * 100
        return f"**missed by {target - value:,.0f}{unit} ({short:.0f}% short)**"
    return f"**missed by {value - target:,.2f}{unit} ({(value / target - 1) * 100:.0f}% over)**"


def seconds(value: float) -> str:
    return "not all within the limit" if not math.isfinite(value) else f"{value:.2f} s"


def fleet_errors(report: dict[str, Any]) -> int:
    return int(report["errors"])


@dataclass
class Section:
    title: str
    lines: list[str] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)

    def add(self, *lines: str) -> None:
        self.lines.extend(lines)


# --- the sections ----------------------------------------------------------------------------


def throughput(plan: Plan, workdir: Path, summary: dict[str, Any]) -> Section:
    section = Section("Throughput: closed loop, 1 server core")
    stations = plan.throughput_stations
    seconds = plan.throughput_seconds
    warmup = math.ceil(plan.throughput_warmup / seconds)  # windows run but not counted
    windows_run = warmup + plan.repeats
    rows: dict[tuple[str, str], list[float]] = {}
    errors: dict[tuple[str, str], int] = {}
    busy: dict[tuple[str, str], str] = {}
    for mix in ("session", "heartbeat"):
        kinds = SERVER_KINDS if mix == "session" else ("trio-csms", "ocpp library")
        for kind in kinds:
            arguments = [
                "--count", str(stations), "--scenario", mix, "--closed-loop",
                "--connect-timeout", "60", "--until-steady-for", str(seconds),
                "--windows", str(windows_run), "--duration", str(seconds * windows_run + 120),
            ]  # fmt: skip
            with servers(kind, workdir, 1, stations) as (server,):
                run = run_simulators([(server, arguments)], timeout=seconds * windows_run + 240)
            (report,) = run.reports
            windows = report["windows"][warmup:] or [report]
            rows[(mix, kind)] = [float(window["callsPerSecond"]) for window in windows]
            errors[(mix, kind)] = fleet_errors(report)
            busy[(mix, kind)] = run.busy()
            if kind == "trio-csms":
                section.commands.append(shown(simulate_command(server.url, arguments)))
    section.add(
        f"{stations:,} stations, each sending its next CALL as soon as the last is answered."
        " Per server, the fleet connects and boots once,"
        + (
            f" runs {warmup * seconds:g} s unmeasured (trio-csms's rate falls while its database"
            " grows from empty, then holds),"
            if warmup
            else ""
        )
        + f" then {plan.repeats} consecutive windows of {seconds:g} s are measured (calls"
        " answered per second in each window).",
        "Session mix: StatusNotification, Authorize, TransactionEvent Started, 3 x Updated"
        " (10 or 8 sampled values), Ended, StatusNotification, Heartbeat. trio-csms validates"
        " every message and commits it to SQLite before answering; the `ocpp`-library CSMS"
        " validates (its default) and keeps state in memory.",
        "CPU busy: CPU time of the server and of the simulator over the simulator's whole run"
        " (connecting included), per wall-clock second; near 100% marks the side that limits.",
        "",
        "| mix | server | calls/s (median) | windows | errors | CPU busy: server / simulator |",
        "|---|---|---:|---|---:|---:|",
    )
    for (mix, kind), values in rows.items():
        section.add(
            f"| {mix} | {kind} | {number(median(values))} | {per_run(values, number)}"
            f" | {errors[(mix, kind)]} | {busy[(mix, kind)]} |"
        )
    section.add("")
    for mix in ("session", "heartbeat"):
        ours = median(rows[(mix, "trio-csms")])
        theirs = median(rows[(mix, "ocpp library")])
        ratio = ours / theirs if theirs else math.nan
        summary[f"ratio_{mix}"] = ratio
        summary[f"throughput_{mix}"] = ours
        section.add(f"- {mix} mix: trio-csms / `ocpp` library = **{ratio:.1f}x**")
    python_only = median(rows[("session", "trio-csms, pure-Python codecs")])
    summary["throughput_python"] = python_only
    ours = summary["throughput_session"]
    section.add(
        f"- Rust codecs / pure-Python codecs in the server (TRIO_CSMS_NATIVE=0), session mix:"
        f" **{ours / python_only:.2f}x**"
        if python_only
        else "- pure-Python codecs: not measured"
    )
    return section


def latency(plan: Plan, workdir: Path, summary: dict[str, Any]) -> Section:
    stations = plan.latency_stations
    section = Section(f"Latency at fixed rates, {stations:,} stations connected")
    processes = math.ceil(stations / plan.per_process)
    share = math.ceil(stations / processes)
    results: dict[float, list[dict[str, Any]]] = {}
    boots: dict[float, dict[str, Any]] = {}
    connect_allowance = 300.0  # seconds the fleet may take to connect and boot
    with servers("trio-csms", workdir, 1, stations) as (server,):
        for rate in plan.latency_rates:
            jobs = []
            for index in range(processes):
                count = min(share, stations - index * share)
                arguments = [
                    "--count", str(count), "--first", str(1 + index * share),
                    "--scenario", "session", "--rate", str(rate / processes),
                    "--connect-timeout", "120", "--until-steady-for", str(plan.latency_seconds),
                    "--windows", str(plan.repeats), "--duration",
                    str(plan.latency_seconds * plan.repeats + connect_allowance),
                ]  # fmt: skip
                jobs.append((server, arguments))
            run = run_simulators(
                jobs, timeout=plan.latency_seconds * plan.repeats + connect_allowance + 120
            )
            if not section.commands:
                section.commands.append(shown(simulate_command(server.url, jobs[0][1])))
            whole = merge_reports(run.reports)
            whole["busy"] = run.busy()
            boots[rate] = whole
            windows = [report["windows"] or [report] for report in run.reports]
            results[rate] = [
                merge_reports([per_process[i] for per_process in windows])
                for i in range(min(len(w) for w in windows))
            ]
            if not results[rate]:
                results[rate] = [whole]
    section.add(
        f"Session mix sent at a fixed total rate to {stations:,} connected stations (open loop:"
        " latency counts from each CALL's scheduled time, so falling behind shows). For each"
        f" rate the fleet connects once, then {plan.repeats} consecutive windows of"
        f" {plan.latency_seconds:g} s are measured; each figure is the median over the windows."
        " Milliseconds.",
        "",
    )
    for rate, runs in results.items():
        achieved = per_run([r["callsPerSecond"] for r in runs], number)
        whole = boots[rate]
        boot = whole["actions"].get("BootNotification")
        boot_line = (
            f"BootNotification while the {stations:,} connected: p50 {ms(boot['p50Ms'])},"
            f" p99 {ms(boot['p99Ms'])}, max {ms(boot['maxMs'])} ms; all booted after"
            f" {whole['bootStormSeconds']} s."
            if boot
            else ""
        )
        section.add(
            f"**{rate:,.0f} calls/s** (achieved per window: {achieved} calls/s; errors in the"
            f" whole run {whole['errors']}, scheduled calls missed {whole['missedCalls']};"
            f" CPU busy server / simulator {whole['busy']})",
            "",
            boot_line,
            "",
            "| action | count | p50 | p90 | p99 | p99.9 | max |",
            "|---|---:|---:|---:|---:|---:|---:|",
        )
        actions = sorted({a for r in runs for a in r["actions"]})
        for action in actions:
            rows = [r["actions"][action] for r in runs if action in r["actions"]]
            cells = [ms(median([row[key] for row in rows])) for key in
                     ("p50Ms", "p90Ms", "p99Ms", "p99.9Ms", "maxMs")]  # fmt: skip
            calls = number(median([row["count"] for row in rows]))
            note = " (during the connect phase)" if action == "BootNotification" else ""
            section.add(f"| {action}{note} | {calls} | {' | '.join(cells)} |")
        steady = [steady_percentile(r, "p99Ms") for r in runs]
        section.add("", f"p99 of the worst steady-phase action: {per_run(steady, ms)} ms", "")
        summary.setdefault("latency", {})[rate] = runs
    target_rate = 2000.0 if 2000.0 in results else plan.latency_rates[0]
    p99 = median([steady_percentile(r, "p99Ms") for r in results[target_rate]])
    summary["p99_at_2000"] = p99
    summary["latency_rate"] = target_rate
    return section


def steady_percentile(report: dict[str, Any], key: str) -> float:
    """The worst `key` over the actions of the steady phase (all but the boots)."""
    values = [row[key] for action, row in report["actions"].items() if action != "BootNotification"]
    return max((v for v in values if v is not None), default=math.nan)


def merge_reports(reports: list[dict[str, Any]]) -> dict[str, Any]:
    """One report for several simulator processes: counts add up, percentiles take the worst
    process (a conservative merge; the histograms themselves are not in the JSON)."""
    if len(reports) == 1:
        return reports[0]
    merged: dict[str, Any] = {
        key: sum(r.get(key, 0) for r in reports)
        for key in ("callsPerSecond", "errors", "missedCalls", "accepted", "connected")
    }
    done = [r.get("bootStormSeconds") for r in reports]
    merged["bootStormSeconds"] = None if None in done else max(d for d in done if d is not None)
    merged["actions"] = {}
    for action in {a for r in reports for a in r["actions"]}:
        rows = [r["actions"][action] for r in reports if action in r["actions"]]
        count = sum(row["count"] for row in rows)
        row: dict[str, Any] = {"count": count}
        for key in ("p50Ms", "p90Ms", "p99Ms", "p99.9Ms", "maxMs"):
            row[key] = max((x[key] for x in rows if x[key] is not None), default=None)
        row["minMs"] = min((x["minMs"] for x in rows if x["minMs"] is not None), default=None)
        row["meanMs"] = (
            sum(x["meanMs"] * x["count"] for x in rows if x["meanMs"] is not None) / count
            if count
            else None
        )
        merged["actions"][action] = row
    return merged


def lab_table(summary: dict[str, Any]) -> Section:
    rate = summary["latency_rate"]
    runs = summary["latency"][rate]
    section = Section("The lab's table: response times")
    section.add(
        "In the format of the performance section of an OCA test report: response time of the"
        f" CSMS, from the fixed-rate runs at {rate:,.0f} calls/s with the latency section's"
        " stations connected (all steady-phase messages; the boots of the connect phase are in"
        " the latency table). Seconds; medians over the runs.",
        "",
        "| messages | min | avg | max | lab (published) min / avg / max |",
        "|---|---:|---:|---:|---|",
    )
    for title, actions in (("all messages", None), ("Authorize", {"Authorize"})):
        mins, avgs, maxes = [], [], []
        for report in runs:
            rows = [
                row for action, row in report["actions"].items()
                if action != "BootNotification" and (actions is None or action in actions)
            ]  # fmt: skip
            count = sum(row["count"] for row in rows)
            if not count:
                continue
            mins.append(min(row["minMs"] for row in rows) / 1000)
            avgs.append(sum(row["meanMs"] * row["count"] for row in rows) / count / 1000)
            maxes.append(max(row["maxMs"] for row in rows) / 1000)
        lab = f"{LAB[0]:.2f} / {LAB[1]:.2f} / {LAB[2]:.2f}"
        section.add(
            f"| {title} | {median(mins):.5f} | {median(avgs):.5f} | {median(maxes):.5f} | {lab} |"
        )
        if title == "all messages":
            summary["lab_avg"] = median(avgs)
            summary["lab_max"] = median(maxes)
    return section


def scale(plan: Plan, workdir: Path, summary: dict[str, Any]) -> Section:
    stations = plan.scale_stations
    processes = math.ceil(stations / plan.per_process)
    share = math.ceil(stations / processes)
    section = Section(f"Scale: {stations:,} stations held connected")
    with servers("trio-csms", workdir, processes, 0) as group:
        jobs = []
        for index, server in enumerate(group):
            count = min(share, stations - index * share)
            arguments = [
                "--count", str(count), "--first", str(1 + index * share), "--scenario",
                "heartbeat", "--heartbeat-interval", str(plan.scale_heartbeat),
                "--connect-concurrency", "500", "--connect-timeout", "120",
                "--duration", str(plan.scale_hold + 150), "--until-steady-for",
                str(plan.scale_hold),
            ]  # fmt: skip
            jobs.append((server, arguments))
        run = run_simulators(jobs, sample=group, timeout=plan.scale_hold + 300)
        section.commands.append(shown(simulate_command(group[0].url, jobs[0][1])))
    connected = sum(r["connected"] for r in run.reports)
    accepted = sum(r["accepted"] for r in run.reports)
    heartbeats = sum(r["actions"].get("Heartbeat", {}).get("count", 0) for r in run.reports)
    errors = sum(r["errors"] for r in run.reports)
    peak = run.peak_connected or 0
    per_station = (run.rss_at_peak - run.baseline_rss) / peak if peak else math.nan
    summary["scale_peak"] = peak
    summary["scale_rss"] = run.rss_at_peak
    section.add(
        f"{processes} server processes (each its own port and database, all on the server CPU)"
        f" and {processes} simulator processes, {share:,} stations each; heartbeat scenario,"
        f" one Heartbeat per station every {plan.scale_heartbeat:g} s, held {plan.scale_hold:g} s"
        " once all were booted.",
        "",
        "| figure | value |",
        "|---|---:|",
        f"| stations connected at once (servers' own gauge, peak) | {peak:,} |",
        f"| stations connected / Accepted (simulators) | {connected:,} / {accepted:,} |",
        f"| Heartbeats answered while held | {heartbeats:,} |",
        f"| errors (simulators) | {errors} |",
        f"| server RSS in total at the peak | {run.rss_at_peak / 2**20:,.0f} MiB |",
        f"| server RSS before any station | {run.baseline_rss / 2**20:,.0f} MiB |",
        f"| server RSS per station | {per_station / 1024:,.1f} KiB |",
        f"| simulator RSS in total (peak) | {run.simulator_rss / 2**20:,.0f} MiB |",
        f"| all connected after (slowest simulator) | {slowest(run.reports)} |",
        f"| connect failures | {failure_counts(run.reports) or 'none'} |",
    )
    return section


def slowest(reports: list[dict[str, Any]]) -> str:
    done = [r.get("allConnectedSeconds") for r in reports]
    if any(d is None for d in done):
        return "not all connected"
    return f"{max(d for d in done if d is not None):.1f} s"


def failure_counts(reports: list[dict[str, Any]]) -> str:
    """Connection failures of all simulators, by reason, and disconnects."""
    counts: dict[str, int] = {}
    for report in reports:
        for kind in ("connectFailures", "disconnects"):
            for reason, failure in report[kind].items():
                counts[reason] = counts.get(reason, 0) + failure["count"]
    return "; ".join(f"{count:,} x {reason}" for reason, count in sorted(counts.items()))


def boot_storm(plan: Plan, workdir: Path, summary: dict[str, Any]) -> Section:
    stations = plan.storm_stations
    processes = math.ceil(stations / plan.per_process)
    share = math.ceil(stations / processes)
    section = Section(f"Boot storm: {stations:,} stations at once")
    times: list[float] = []
    accepted: list[int] = []
    details: list[str] = []
    for _ in range(plan.repeats):
        with servers("trio-csms", workdir, processes, 0) as group:
            jobs = []
            for index, server in enumerate(group):
                count = min(share, stations - index * share)
                arguments = [
                    "--count", str(count), "--first", str(1 + index * share), "--scenario",
                    "boot", "--connect-concurrency", str(count), "--connect-timeout",
                    str(plan.storm_limit), "--call-timeout", str(plan.storm_limit),
                    "--until-booted", "--duration", str(plan.storm_limit),
                ]  # fmt: skip
                jobs.append((server, arguments))
            run = run_simulators(jobs, timeout=plan.storm_limit + 120)
            if not section.commands:
                section.commands.append(shown(simulate_command(group[0].url, jobs[0][1])))
        done = [r["bootStormSeconds"] for r in run.reports]
        accepted.append(sum(r["accepted"] for r in run.reports))
        # A run in which not all were Accepted counts as the slowest (not dropped).
        times.append(max(done) if all(d is not None for d in done) else math.inf)
        details.append(storm_details(len(details) + 1, merge_reports(run.reports), run.reports))
    value = median(times)
    summary["storm"] = value
    summary["storm_accepted"] = median([float(a) for a in accepted])
    summary["storm_limit"] = plan.storm_limit
    section.add(
        f"Every station connects at the same moment ({processes} simulator processes, no"
        f" connect-rate cap, {processes} server processes of the current code with fresh"
        " databases: each station is registered on first connect), TCP + websocket handshake +"
        " BootNotification. Time from the simulators' start until the last station is"
        " Accepted (the slower simulator process counts).",
        "",
        f"- all Accepted after: **{seconds(value)}** (median; runs: {per_run(times, seconds)})",
        f"- Accepted per run: {', '.join(f'{a:,}' for a in accepted)} of {stations:,}"
        f" (a run ends when all are, or after {plan.storm_limit:g} s)",
        "",
        "| run | connected | Accepted | connect p50 / p99 (ms) | BootNotification p50 / p99 /"
        " max (ms) | connect failures |",
        "|---|---:|---:|---|---|---|",
        *details,
    )
    return section


def storm_details(number: int, merged: dict[str, Any], reports: list[dict[str, Any]]) -> str:
    """One row of the boot-storm table: how far the run got and what went wrong."""
    shown_failures = failure_counts(reports)
    connect = [r["connect"] for r in reports]
    connect_p50 = max((c["p50Ms"] for c in connect if c["p50Ms"] is not None), default=None)
    connect_p99 = max((c["p99Ms"] for c in connect if c["p99Ms"] is not None), default=None)
    boot = merged["actions"].get("BootNotification", {})
    return (
        f"| {number} | {merged['connected']:,} | {merged['accepted']:,}"
        f" | {ms(connect_p50)} / {ms(connect_p99)}"
        f" | {ms(boot.get('p50Ms'))} / {ms(boot.get('p99Ms'))} / {ms(boot.get('maxMs'))}"
        f" | {shown_failures or 'none'} |"
    )


# --- the report ------------------------------------------------------------------------------


def machine() -> list[str]:
    cpu = "unknown"
    with contextlib.suppress(OSError), open("/proc/cpuinfo", encoding="utf-8") as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    commit = git("rev-parse", "--short", "HEAD")
    changed = git("status", "--porcelain", "--untracked-files=no")
    dirty = " (with uncommitted changes)" if changed else ""
    versions = []
    for package in ("trio", "msgspec", "trio-websocket", "ocpp", "websockets"):
        with contextlib.suppress(Exception):
            from importlib.metadata import version

            versions.append(f"{package} {version(package)}")
    native = "unknown"
    with contextlib.suppress(ImportError):
        import trio_csms._native  # noqa: F401

        native = "built"
    return [
        f"- CPU: {cpu}, {os.cpu_count()} cores; memory {memory / 2**30:.1f} GiB",
        f"- OS: {platform.system()} {platform.release()}; open files per process: soft {soft},"
        f" hard {hard}",
        f"- Python {platform.python_version()}; {', '.join(versions)}; Rust extension {native}",
        f"- trio-csms commit {commit}{dirty}",
        f"- pinning: servers on CPU {SERVER_CPU}, simulators on CPU {SIMULATOR_CPU}"
        + ("" if pinned(SERVER_CPU) else " (NOT pinned: taskset or a second CPU is missing)"),
        "- loopback (127.0.0.1), no TLS; stations admitted without a password"
        " (`stations.allow_unknown`), id tokens registered Accepted; log level INFO",
    ]


def git(*arguments: str) -> str:
    try:
        result = subprocess.run(
            ["git", *arguments], cwd=ROOT, capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return result.stdout.strip()


def targets(summary: dict[str, Any], plan: Plan) -> list[str]:
    """The issue's targets next to the figures (a section left out shows as not measured)."""

    def get(key: str) -> float:
        return float(summary.get(key, math.nan))

    def line(name: str, shown_value: str, state: str) -> str:
        return f"| {name} | {shown_value} | {state} |"

    rate = summary.get("latency_rate", 2000.0)
    rss_mib = get("scale_rss") / 2**20
    return [
        "| target | measured | verdict |",
        "|---|---:|---|",
        line(
            f"session mix >= 15,000 calls/s ({plan.throughput_stations:,} stations, one server"
            " core)",
            f"{number(get('throughput_session'))} calls/s",
            verdict(get("throughput_session"), 15_000, higher_is_better=True, unit=" calls/s"),
        ),
        line(
            ">= 10x the `ocpp`-library CSMS (session mix)",
            f"{get('ratio_session'):.1f}x",
            verdict(get("ratio_session"), 10, higher_is_better=True, unit="x"),
        ),
        line(
            f"p99 < 5 ms at {rate:,.0f} calls/s, {plan.latency_stations:,} stations",
            f"{ms(get('p99_at_2000'))} ms",
            verdict(get("p99_at_2000"), 5.0, higher_is_better=False, unit=" ms"),
        ),
        line(
            f"{plan.scale_stations:,} stations connected at once",
            number(get("scale_peak")),
            verdict(get("scale_peak"), plan.scale_stations, higher_is_better=True),
        ),
        line(
            "... under 2 GiB server RSS in total",
            f"{number(rss_mib)} MiB",
            verdict(rss_mib, 2048, higher_is_better=False, unit=" MiB"),
        ),
        line(
            f"boot storm of {plan.storm_stations:,}: all Accepted within 20 s",
            seconds(get("storm")),
            storm_verdict(summary, plan),
        ),
    ]


def storm_verdict(summary: dict[str, Any], plan: Plan) -> str:
    value = float(summary.get("storm", math.nan))
    if "storm_accepted" in summary and not math.isfinite(value):
        return (
            f"**missed: {summary['storm_accepted']:,.0f} of {plan.storm_stations:,} Accepted"
            f" within the {summary['storm_limit']:g} s limit (median)**"
        )
    return verdict(value, 20, higher_is_better=False, unit=" s")


def write_report(
    output: Path, plan: Plan, sections: list[Section], summary: dict[str, Any], command: str,
    started: datetime, seconds: float,
) -> None:  # fmt: skip
    lines = [
        "# Benchmark results",
        "",
        f"Written by `{command}` on {started:%Y-%m-%d %H:%M} UTC in {seconds / 60:.1f} minutes."
        " Do not edit by hand: rerun the command.",
        "",
        "## Machine",
        "",
        *machine(),
        "",
        "## Targets (issue 6)",
        "",
        *targets(summary, plan),
        "",
        "Where a target is missed: the server's profiles, what they show and what was changed"
        " because of them are in bench/README.md.",
        "",
    ]
    for section in sections:
        lines += [f"## {section.title}", "", *section.lines, ""]
        if section.commands:
            lines += ["Simulator command (one process):", "", "```sh"]
            lines += [*section.commands, "```", ""]
    output.write_text("\n".join(lines))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "RESULTS.md")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: a check that it runs")
    parser.add_argument("--repeats", type=int, help="runs per figure (default 3)")
    parser.add_argument(
        "--only",
        action="append",
        choices=SECTIONS,
        help="run only this section (repeatable; the lab table needs latency)",
    )
    args = parser.parse_args(argv)
    plan = SMOKE if args.smoke else FULL
    if args.repeats:
        plan = Plan(**{**plan.__dict__, "repeats": args.repeats})
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if plan.per_process > hard - SPARE_FILES and not args.smoke:
        plan = Plan(**{**plan.__dict__, "per_process": hard - SPARE_FILES})
    command = " ".join(
        [
            ".venv/bin/python bench/run.py",
            *(["--smoke"] if args.smoke else []),
            *([f"--repeats {args.repeats}"] if args.repeats else []),
            *(f"--only '{section}'" for section in args.only or []),
        ]
    )  # the run's own options, so the report names the command that reproduces it
    started = datetime.now(UTC)
    clock = time.monotonic()
    summary: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="trio-csms-bench-") as tmp:
        workdir = Path(tmp)
        steps: list[tuple[str, Callable[[], Section]]] = [
            ("throughput", lambda: throughput(plan, workdir, summary)),
            ("latency", lambda: latency(plan, workdir, summary)),
            ("lab table", lambda: lab_table(summary)),
            ("scale", lambda: scale(plan, workdir, summary)),
            ("boot storm", lambda: boot_storm(plan, workdir, summary)),
        ]
        sections = []
        for name, step in steps:
            if args.only and name not in args.only:
                continue
            print(f"bench: {name} ...", file=sys.stderr, flush=True)
            sections.append(step())
    write_report(args.output, plan, sections, summary, command, started, time.monotonic() - clock)
    print(f"bench: wrote {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
