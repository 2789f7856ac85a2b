"""Websocket pings from the CSMS and the dead-peer timeout (issue #3, item 2).

A live station answers pings (trio-websocket does it in its reader) and stays connected; a peer
that completed the handshake but never reads again gets no pong through, so the CSMS closes it
after `ocpp.dead_peer_timeout` and forgets the connection.
"""

from __future__ import annotations

import base64
from pathlib import Path

import trio
from csms_harness import PASSWORD, running_csms

from trio_csms.events import DomainEvent, StationConnected
from trio_csms.handlers import Hooks

FAST_PINGS = {"ping_interval": 0.2, "dead_peer_timeout": 0.3}


async def test_live_station_survives_many_ping_intervals(tmp_path: Path) -> None:
    with trio.fail_after(10):
        async with running_csms(tmp_path, ocpp=FAST_PINGS) as running:
            await running.register("LIVE")
            async with running.station("LIVE") as sim:
                await sim.boot()
                await trio.sleep(1.5)  # seven ping intervals
                await sim.heartbeat()
                assert "LIVE" in running.csms.server.connections


async def test_peer_that_stops_reading_is_closed_as_dead(tmp_path: Path) -> None:
    connected = trio.Event()

    def on_event(event: DomainEvent) -> None:
        if isinstance(event, StationConnected):
            connected.set()

    hooks = Hooks(events=on_event)
    with trio.fail_after(10):
        async with running_csms(tmp_path, hooks=hooks, ocpp=FAST_PINGS) as running:
            await running.register("MUTE")
            port = int(running.url.rsplit(":", 1)[1].split("/")[0])
            stream = await trio.open_tcp_stream("127.0.0.1", port)
            async with stream:
                credentials = base64.b64encode(f"MUTE:{PASSWORD}".encode()).decode()
                await stream.send_all(
                    (
                        "GET /ocpp/MUTE HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                        "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                        "Sec-WebSocket-Protocol: ocpp2.0.1\r\n"
                        f"Authorization: Basic {credentials}\r\n\r\n"
                    ).encode()
                )
                response = await stream.receive_some(4096)
                assert response.startswith(b"HTTP/1.1 101")
                await connected.wait()  # the 101 may arrive before the server's bookkeeping
                connection = running.csms.server.connections["MUTE"]
                # Read nothing from now on: the pings go unanswered.
                with trio.fail_after(2):
                    await connection.closed.wait()
                await trio.sleep(0.1)  # the server's bookkeeping after the close
                assert "MUTE" not in running.csms.server.connections
