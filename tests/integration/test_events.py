"""Domain events (`Hooks.events`): what an embedding application hears about a station."""

from __future__ import annotations

from pathlib import Path

import trio
from csms_harness import running_csms

from trio_csms.events import (
    ConnectorStatusChanged,
    DomainEvent,
    StationBooted,
    StationConnected,
    StationDisconnected,
    TransactionEnded,
    TransactionStarted,
    TransactionUpdated,
)
from trio_csms.handlers import Hooks


async def test_a_charging_session_tells_its_story_in_order(tmp_path: Path) -> None:
    events: list[DomainEvent] = []
    disconnected = trio.Event()

    def sink(event: DomainEvent) -> None:
        events.append(event)
        if isinstance(event, StationDisconnected):
            disconnected.set()

    with trio.fail_after(10):
        async with running_csms(tmp_path, hooks=Hooks(events=sink)) as running:
            await running.register("CS1")
            async with running.station("CS1") as sim:
                await sim.boot()
                await sim.status_notification(1, 1, "Occupied")
                await sim.transaction_event(
                    "Started", "CablePluggedIn", "T1", evse_id=1, connector_id=1
                )
                await sim.transaction_event(
                    "Updated", "ChargingStateChanged", "T1", charging_state="Charging"
                )
                # A retransmission (same seqNo) is answered again but is no new event.
                await sim.transaction_event(
                    "Updated", "ChargingStateChanged", "T1", seq_no=1, charging_state="Charging"
                )
                await sim.transaction_event(
                    "Ended", "EVCommunicationLost", "T1", seq_no=2, stopped_reason="EVDisconnected"
                )
            await disconnected.wait()
    kinds = [type(event) for event in events]
    assert kinds == [
        StationConnected,
        StationBooted,
        ConnectorStatusChanged,
        TransactionStarted,
        TransactionUpdated,
        TransactionEnded,
        StationDisconnected,
    ]
    assert events[1] == StationBooted("CS1", "Accepted", "PowerUp")
    assert events[2] == ConnectorStatusChanged("CS1", 1, 1, "Occupied")
    ended = events[5]
    assert isinstance(ended, TransactionEnded) and ended.stopped_reason == "EVDisconnected"
