"""`last_seen`: any message from a station moves it, without a write per message."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import trio
from csms_harness import running_csms


async def test_messages_without_a_boot_update_last_seen(tmp_path: Path) -> None:
    """A known Accepted station reconnecting sends no BootNotification (protocol.md §6); its
    StatusNotification alone must refresh last_seen."""
    long_ago = datetime(2020, 1, 1, tzinfo=UTC)
    with trio.fail_after(10):
        async with running_csms(tmp_path) as running:
            await running.register(
                "CS1", registration_status="Accepted", last_seen=long_ago, created_at=long_ago
            )
            async with running.station("CS1") as sim:
                await sim.status_notification(1, 1, "Available")
            station = await running.csms.store.get_station("CS1")
            while station is not None and station.last_seen == long_ago:
                await trio.sleep(0.05)  # touches are committed within a second
                station = await running.csms.store.get_station("CS1")
    assert station is not None and station.last_seen is not None
    assert datetime.now(UTC) - station.last_seen < timedelta(minutes=1)
