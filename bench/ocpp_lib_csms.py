"""The comparator: a CSMS built the ordinary way on the `ocpp` PyPI library and `websockets`.

This is what a Python developer would write from the library's documentation: one
`ocpp.v201.ChargePoint` per connection, an `@on` handler for each message the fleet simulator
sends (BootNotification, Heartbeat, StatusNotification, Authorize, TransactionEvent, and the
NotifyReport a triggered report brings), the library's default schema validation on. State is
kept in memory (a dict of transactions), which favours it against trio-csms, whose figures
include a durable SQLite write for every message.

    python bench/ocpp_lib_csms.py --port 9100     # stations connect to ws://127.0.0.1:9100/<id>

bench/run.py starts it (pinned to the server core) and drives it with `trio-csms simulate`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import resource
import signal
from datetime import UTC, datetime
from typing import Any

import websockets
from ocpp.routing import on
from ocpp.v201 import ChargePoint, call_result
from ocpp.v201.enums import AuthorizationStatusEnumType, RegistrationStatusEnumType

HEARTBEAT_INTERVAL = 300


def _now() -> str:
    return datetime.now(UTC).isoformat()


class Station(ChargePoint):  # type: ignore[misc]
    """One connected station; `transactions` is shared by all of them."""

    def __init__(self, station_id: str, connection: Any, transactions: dict[str, str]) -> None:
        super().__init__(station_id, connection)
        self.transactions = transactions

    @on("BootNotification")  # type: ignore[misc]
    async def on_boot_notification(self, **_: Any) -> call_result.BootNotification:
        return call_result.BootNotification(
            current_time=_now(),
            interval=HEARTBEAT_INTERVAL,
            status=RegistrationStatusEnumType.accepted,
        )

    @on("Heartbeat")  # type: ignore[misc]
    async def on_heartbeat(self, **_: Any) -> call_result.Heartbeat:
        return call_result.Heartbeat(current_time=_now())

    @on("StatusNotification")  # type: ignore[misc]
    async def on_status_notification(self, **_: Any) -> call_result.StatusNotification:
        return call_result.StatusNotification()

    @on("Authorize")  # type: ignore[misc]
    async def on_authorize(self, id_token: dict[str, Any], **_: Any) -> call_result.Authorize:
        return call_result.Authorize(id_token_info={"status": AuthorizationStatusEnumType.accepted})

    @on("TransactionEvent")  # type: ignore[misc]
    async def on_transaction_event(
        self, event_type: str, transaction_info: dict[str, Any], **_: Any
    ) -> call_result.TransactionEvent:
        transaction_id = transaction_info["transaction_id"]
        if event_type == "Ended":
            self.transactions.pop(transaction_id, None)
        else:
            self.transactions[transaction_id] = self.id
        return call_result.TransactionEvent()

    @on("NotifyReport")  # type: ignore[misc]
    async def on_notify_report(self, **_: Any) -> call_result.NotifyReport:
        return call_result.NotifyReport()


async def serve(host: str, port: int) -> None:
    transactions: dict[str, str] = {}

    async def on_connect(connection: Any) -> None:
        station_id = connection.request.path.rstrip("/").rsplit("/", 1)[-1]
        if connection.subprotocol != "ocpp2.0.1":
            await connection.close()
            return
        with contextlib.suppress(websockets.ConnectionClosed):
            await Station(station_id, connection, transactions).start()

    stop = asyncio.get_running_loop().create_future()
    for signum in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(signum, stop.set_result, None)
    async with websockets.serve(
        on_connect, host, port, subprotocols=["ocpp2.0.1"], ping_interval=60, max_queue=16
    ):
        print(f"ocpp library CSMS listening on ws://{host}:{port}", flush=True)
        await stop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9100)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    asyncio.run(serve(args.host, args.port))


if __name__ == "__main__":
    main()
