"""The `trio-csms` command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import UTC, datetime

from . import __version__
from .messages import (
    BootNotificationRequest,
    BootNotificationResponse,
    BootReasonEnumType,
    ChargingStationType,
    RegistrationStatusEnumType,
)
from .rpc import CallReceived, CallResultReceived, Role, RpcSession, frames


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


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="trio-csms", description="An OCPP 2.0.1 CSMS on Trio.")
    parser.add_argument("--version", action="version", version=f"trio-csms {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "serve", help="run the CSMS (for now the protocol core's smoke check; see README)"
    )
    commands.add_parser("check", help="smoke-check the protocol core in memory")
    args = parser.parse_args(argv)
    if args.command == "serve":
        print("trio-csms: the station server is not built yet; running the smoke check")
    try:
        print(smoke_check())
    except RuntimeError as exc:
        print(f"trio-csms: smoke check failed: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
