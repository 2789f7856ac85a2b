"""`trio-csms simulate`: the command-line face of the station fleet (`sim.fleet`).

`add_arguments` declares the options on the `simulate` subparser; `run` turns them into
`FleetOptions`, raises the open-file limit, runs the fleet with a live progress line on
stderr, and prints the final table (or JSON) on stdout.

Exit status: 0 when every station connected, was Accepted and every CALL was answered
without error; 1 when anything went wrong (the report says what); 2 for bad options.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import resource
import ssl
import sys
from collections.abc import Callable, Mapping
from functools import partial
from typing import Final, TextIO

import trio

from ..messages import IdTokenEnumType
from ..tuning import run_collecting_garbage
from .fleet import Fleet, FleetOptions, FleetReport, Mode, Progress
from .scenarios import SCENARIOS, ScenarioOptions

__all__ = ["add_arguments", "format_report", "raise_open_file_limit", "run"]

DEFAULT_URL: Final = "ws://127.0.0.1:9000/ocpp"
_SPARE_FILES: Final = 64  # descriptors kept for the interpreter, logs and the event loop


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the options of `trio-csms simulate` on `parser`."""
    parser.add_argument(
        "--url", default=DEFAULT_URL, help=f"the CSMS's OCPP endpoint (default {DEFAULT_URL})"
    )
    fleet = parser.add_argument_group("stations")
    fleet.add_argument("--count", type=int, default=10, help="how many stations (default 10)")
    fleet.add_argument(
        "--first", type=int, default=1, help="number of the first station (default 1)"
    )
    fleet.add_argument("--prefix", default="SIM", help="station id prefix (default SIM)")
    fleet.add_argument(
        "--digits", type=int, default=5, help="zero-padded digits of the number (default 5)"
    )
    secret = fleet.add_mutually_exclusive_group()
    secret.add_argument("--password", help="the Basic-auth password of every station")
    secret.add_argument(
        "--password-file",
        help="per-station passwords: a CSV or JSON-lines file as `stations import` reads",
    )
    fleet.add_argument("--ca-file", help="CA bundle (PEM) to verify a wss:// CSMS with")
    fleet.add_argument(
        "--write-csv",
        metavar="FILE",
        help="write the fleet as a `stations import` CSV (needs --password) and exit",
    )
    load = parser.add_argument_group("load")
    load.add_argument("--scenario", choices=SCENARIOS, default="session")
    pace = load.add_mutually_exclusive_group()
    pace.add_argument(
        "--closed-loop",
        action="store_true",
        help="each station sends its next CALL as soon as the last is answered",
    )
    pace.add_argument(
        "--rate", type=float, help="open loop: this many CALLs per second across the fleet"
    )
    load.add_argument("--duration", type=float, default=10.0, help="seconds (default 10)")
    load.add_argument(
        "--connect-rate", type=float, default=0.0, help="connections per second (default: no cap)"
    )
    load.add_argument(
        "--connect-concurrency",
        type=int,
        default=1000,
        help="handshakes in progress at once (default 1000)",
    )
    load.add_argument(
        "--heartbeat-interval", type=float, help="seconds (default: the boot answer's interval)"
    )
    load.add_argument(
        "--meter-interval",
        type=float,
        default=5.0,
        help="seconds between a session's TransactionEvents (default 5)",
    )
    load.add_argument(
        "--updates", type=int, default=3, help="TransactionEvent Updated per session (default 3)"
    )
    load.add_argument(
        "--pause", type=float, default=30.0, help="seconds idle between sessions (default 30)"
    )
    load.add_argument(
        "--token-type",
        choices=[member.value for member in IdTokenEnumType],
        default=IdTokenEnumType.ISO14443.value,
        help="type of the stations' idTokens (default ISO14443)",
    )
    load.add_argument("--call-timeout", type=float, default=30.0, help="seconds (default 30)")
    load.add_argument("--connect-timeout", type=float, default=30.0, help="seconds (default 30)")
    load.add_argument("--seed", type=int, help="for reproducible pauses and meter readings")
    load.add_argument(
        "--until-booted",
        action="store_true",
        help="stop once every station is Accepted (a boot storm), at most after --duration",
    )
    load.add_argument(
        "--until-steady-for",
        type=float,
        metavar="SECONDS",
        help="stop this long after every station has booted, at most after --duration",
    )
    load.add_argument(
        "--windows",
        type=int,
        default=1,
        help="with --until-steady-for: that many windows of that length, each reported",
    )
    output = parser.add_argument_group("output")
    output.add_argument("--json", action="store_true", help="print the results as JSON")
    output.add_argument("--quiet", action="store_true", help="no progress line on stderr")


def raise_open_file_limit() -> int:
    """Raise this process's soft open-file limit to the hard one; returns the new limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        return hard
    return soft if hard == resource.RLIM_INFINITY else hard


def run(args: argparse.Namespace, passwords: Mapping[str, str] | None = None) -> int:
    """Run `trio-csms simulate` with parsed `args`; `passwords` come from --password-file."""
    try:
        options = _options(args, passwords)
    except (ValueError, OSError, ssl.SSLError) as exc:
        print(f"trio-csms simulate: {exc}", file=sys.stderr)
        return 2
    if args.write_csv:
        return _write_csv(args, options)
    limit = raise_open_file_limit()
    if options.count > limit - _SPARE_FILES:
        print(
            f"trio-csms simulate: this process may open at most {limit} files, too few for"
            f" {options.count} stations; run several processes with --first and --count",
            file=sys.stderr,
        )
        return 2
    progress = None if args.quiet else _progress_printer(sys.stderr)
    report = trio.run(run_collecting_garbage, partial(Fleet(options).run, progress))
    if progress is not None and sys.stderr.isatty():
        print(file=sys.stderr)  # end the progress line
    print(format_report(report, as_json=args.json))
    return 0 if report.ok else 1


def _options(args: argparse.Namespace, passwords: Mapping[str, str] | None) -> FleetOptions:
    mode: Mode = "rate" if args.rate is not None else "closed" if args.closed_loop else "paced"
    scenario = ScenarioOptions(
        name=args.scenario,
        heartbeat_interval=args.heartbeat_interval,
        meter_interval=args.meter_interval,
        updates=args.updates,
        pause=args.pause,
        token_type=IdTokenEnumType(args.token_type),
    )
    context = None
    if args.ca_file:
        context = ssl.create_default_context(cafile=args.ca_file)
    return FleetOptions(
        url=args.url,
        count=args.count,
        first=args.first,
        prefix=args.prefix,
        digits=args.digits,
        password=args.password,
        passwords=passwords,
        ssl_context=context,
        scenario=scenario,
        mode=mode,
        rate=args.rate or 0.0,
        duration=args.duration,
        connect_rate=args.connect_rate,
        connect_concurrency=args.connect_concurrency,
        connect_timeout=args.connect_timeout,
        call_timeout=args.call_timeout,
        seed=args.seed,
        until_booted=args.until_booted,
        steady_seconds=args.until_steady_for,
        windows=args.windows,
    )


def _write_csv(args: argparse.Namespace, options: FleetOptions) -> int:
    if args.password is None:
        print("trio-csms simulate: --write-csv needs --password", file=sys.stderr)
        return 2
    profile = 2 if options.url.startswith("wss:") else 1
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["stationId", "password", "securityProfile"])
    writer.writerows([station_id, args.password, profile] for station_id in options.station_ids)
    try:
        with open(args.write_csv, "w", encoding="utf-8") as out:
            out.write(text.getvalue())
    except OSError as exc:
        print(f"trio-csms simulate: cannot write {args.write_csv}: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {options.count} stations to {args.write_csv}", file=sys.stderr)
    return 0


def _progress_printer(stream: TextIO) -> Callable[[Progress], None]:
    end = "\r" if stream.isatty() else "\n"

    def show(progress: Progress) -> None:
        print(progress.line(), end=end, file=stream, flush=True)

    return show


def format_report(report: FleetReport, *, as_json: bool) -> str:
    """The report as printed by the command."""
    return json.dumps(report.to_json(), indent=2) if as_json else report.format_table()
