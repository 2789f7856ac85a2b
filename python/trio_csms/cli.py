"""The `trio-csms` command line: `serve`, `stations add`, `stations import`, `ca init`, `check`,
`simulate`."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import trio

from . import __version__, logs, stations_import
from .config import Config, ConfigError, load_config
from .csms import Csms
from .errors import ListenFailed
from .messages import (
    BootNotificationRequest,
    BootNotificationResponse,
    BootReasonEnumType,
    ChargingStationType,
    RegistrationStatusEnumType,
)
from .rpc import CallReceived, CallResultReceived, Role, RpcSession, frames
from .security.ca import CertificateAuthority
from .security.passwords import generate_password, hash_password, is_valid_password
from .sim import command as sim_command
from .store import StationChanges, open_store
from .tuning import run_collecting_garbage

log = logging.getLogger("trio_csms")


def smoke_check() -> str:
    """Boot a station against a CSMS session in memory; returns a one-line report.

    Raises:
        RuntimeError: any step did not give what OCPP-J requires.
    """
    csms, station = RpcSession(Role.CSMS), RpcSession(Role.CHARGING_STATION)
    boot = BootNotificationRequest(
        charging_station=ChargingStationType(model="SmokeCheck", vendor_name="trio-csms"),
        reason=BootReasonEnumType.PowerUp,
    )
    call, frame = station.send_call(boot)
    event = csms.receive(frame)
    if not isinstance(event, CallReceived) or event.request != boot:
        raise RuntimeError(f"the CSMS did not receive the BootNotification: {event}")
    answer = BootNotificationResponse(
        current_time=datetime.now(UTC), interval=300, status=RegistrationStatusEnumType.Accepted
    )
    reply = station.receive(csms.send_result(event.message_id, answer))
    if not isinstance(reply, CallResultReceived) or reply.message_id != call.message_id:
        raise RuntimeError(f"the station did not receive the answer: {reply}")
    return f"ok: BootNotification round trip, {frames.IMPLEMENTATION} frame codec"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="trio-csms", description="An OCPP 2.0.1 CSMS on Trio.")
    parser.add_argument("--version", action="version", version=f"trio-csms {__version__}")
    parser.add_argument("--config", help="TOML configuration file")
    parser.add_argument("--db", help="store URL, e.g. sqlite:///trio-csms.db")
    parser.add_argument("--log-level", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the CSMS")
    serve.add_argument("--ocpp-host", help="address stations connect to (default 0.0.0.0)")
    serve.add_argument("--ocpp-port", type=int, help="ws:// port for stations (default 9000)")
    serve.add_argument("--api-host", help="operator API address (default 127.0.0.1)")
    serve.add_argument("--api-port", type=int, help="operator API port (default 8080)")
    stations = commands.add_parser("stations", help="manage registered stations")
    station_commands = stations.add_subparsers(dest="stations_command", required=True)
    add = station_commands.add_parser("add", help="register a station (or update it)")
    add.add_argument("station_id")
    add.add_argument(
        "--password",
        help="Basic-auth password (an OCPP passwordString, 16-40 characters); generated if absent",
    )
    add.add_argument("--security-profile", type=int, choices=[1, 2, 3], default=1)
    add.add_argument("--registration", choices=["Accepted", "Pending", "Rejected"])
    bulk = station_commands.add_parser(
        "import", help="create or update stations from a CSV or JSON-lines file (all or nothing)"
    )
    bulk.add_argument("file", help="CSV (stationId,password,securityProfile) or JSON lines")
    ca = commands.add_parser("ca", help="the certificate authority that signs station CSRs")
    ca_commands = ca.add_subparsers(dest="ca_command", required=True)
    init = ca_commands.add_parser("init", help="create a CA in [ca] directory (or --directory)")
    init.add_argument("--directory", help="where ca.pem and ca.key go (default: ./ca)")
    init.add_argument("--key-type", choices=["ec", "rsa"], default="ec")
    init.add_argument("--common-name", default="trio-csms CA")
    commands.add_parser("check", help="smoke-check the protocol core in memory")
    simulate = commands.add_parser(
        "simulate", help="connect a fleet of simulated stations to a CSMS and measure it"
    )
    sim_command.add_arguments(simulate)
    return parser


def _config(args: argparse.Namespace) -> Config:
    overrides: dict[str, dict[str, Any]] = {
        "store": {"url": args.db},
        "log": {"level": args.log_level},
    }
    if args.command == "serve":
        overrides["ocpp"] = {"host": args.ocpp_host, "port": args.ocpp_port}
        overrides["api"] = {"host": args.api_host, "port": args.api_port}
    return load_config(args.config, overrides=overrides)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "check":
        return _check()
    if args.command == "simulate":
        return _simulate(args)
    try:
        config = _config(args)
    except ConfigError as exc:
        print(f"trio-csms: {exc}", file=sys.stderr)
        return 2
    logs.configure(config.log.level)
    if args.command == "stations" and args.stations_command == "import":
        return trio.run(_import_stations, config, args.file)
    if args.command == "stations":
        return trio.run(_add_station, config, args)
    if args.command == "ca":
        return _init_ca(config, args)
    try:
        ca = _load_ca(config)
    except ConfigError as exc:
        print(f"trio-csms: {exc}", file=sys.stderr)
        return 2
    return _run_serve(config, ca)


def _run_serve(config: Config, ca: CertificateAuthority | None) -> int:
    """Serve until signalled; a port that cannot be opened is exit status 1 with one line per
    endpoint, not a traceback (the failure arrives wrapped in the nurseries' groups)."""
    try:
        trio.run(run_collecting_garbage, partial(_serve, config, ca))
    except BaseExceptionGroup as group:
        failed, rest = group.split(ListenFailed)
        if failed is None or rest is not None:
            raise
        for exc in _leaves(failed):
            print(f"trio-csms: {exc}", file=sys.stderr)
        return 1
    return 0


def _leaves(group: BaseExceptionGroup[BaseException]) -> Iterator[BaseException]:
    for exc in group.exceptions:
        if isinstance(exc, BaseExceptionGroup):
            yield from _leaves(exc)
        else:
            yield exc


def _simulate(args: argparse.Namespace) -> int:
    """The simulator needs no CSMS configuration; per-station passwords come in the file
    format `stations import` reads, so one file registers the fleet and drives it."""
    passwords: dict[str, str] | None = None
    if args.password_file:
        path = args.password_file
        try:
            data = Path(path).read_bytes()
            text = stations_import.decode_import(data)
            rows = stations_import.parse_import(text, filename=path)
        except OSError as exc:
            print(f"trio-csms: cannot read {path}: {exc.strerror or exc}", file=sys.stderr)
            return 2
        except stations_import.InvalidImport as exc:
            for line in stations_import.format_errors(exc):
                print(f"{path}: {line}", file=sys.stderr)
            return 2
        passwords = {row.station_id: row.password for row in rows if row.password is not None}
    return sim_command.run(args, passwords)


def _check() -> int:
    try:
        print(smoke_check())
    except RuntimeError as exc:
        print(f"trio-csms: smoke check failed: {exc}", file=sys.stderr)
        return 1
    return 0


def _init_ca(config: Config, args: argparse.Namespace) -> int:
    directory = args.directory or config.ca.directory or "ca"
    try:
        CertificateAuthority.create(directory, args.common_name, args.key_type)
    except (FileExistsError, OSError) as exc:
        print(f"trio-csms: {exc}", file=sys.stderr)
        return 1
    print(f"created a CA in {directory}; set [ca] directory = {directory!r} to sign CSRs")
    return 0


def _load_ca(config: Config) -> CertificateAuthority | None:
    if config.ca.directory is None:
        return None
    try:
        return CertificateAuthority.load(config.ca.directory)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot load the CA in {config.ca.directory}: {exc}") from None


async def _serve(config: Config, ca: CertificateAuthority | None) -> None:
    """Run until SIGINT or SIGTERM, then shut down gracefully (Csms.serve does the closing)."""
    csms = Csms(config, ca=ca)
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with trio.open_nursery() as nursery:
            await nursery.start(csms.serve)
            log.info(
                "trio-csms %s: stations on ws://%s:%d/ocpp/<stationId>, store %s",
                __version__,
                config.ocpp.host,
                csms.ports[0],
                config.store.url,
            )
            async for signum in signals:
                log.info("%s: shutting down", signal.Signals(signum).name)
                nursery.cancel_scope.cancel()
                break


async def _add_station(config: Config, args: argparse.Namespace) -> int:
    password = args.password
    if args.security_profile < 3 and password is None:
        password = generate_password()
    if password is not None and not is_valid_password(password, max_length=40):
        print("trio-csms: the password must be an OCPP passwordString of 16-40 characters")
        return 2
    store = open_store(config.store.url)
    await store.open()
    try:
        changes = StationChanges(
            security_profile=args.security_profile, registration_policy=args.registration
        )
        if password is not None:
            changes.password_hash = await trio.to_thread.run_sync(hash_password, password)
        created = await store.upsert_stations([(args.station_id, changes)], datetime.now(UTC))
    finally:
        await store.close()
    print(f"{'registered' if created else 'updated'} {args.station_id}", end="")
    print(f" with password {password}" if args.password is None and password else "")
    return 0


async def _import_stations(config: Config, path: str) -> int:
    try:
        data = await trio.Path(path).read_bytes()
    except OSError as exc:
        print(f"trio-csms: cannot read {path}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    try:
        rows = stations_import.parse_import(stations_import.decode_import(data), filename=path)
    except stations_import.InvalidImport as exc:
        for line in stations_import.format_errors(exc):
            print(f"{path}: {line}", file=sys.stderr)
        return 2
    store = open_store(config.store.url)
    await store.open()
    try:
        result = await stations_import.import_stations(store, rows)
    finally:
        await store.close()
    print(f"imported {result.total} stations ({result.created} created, {result.updated} updated)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
