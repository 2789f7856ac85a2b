"""/metrics and /healthz on the API port, read over a real socket like Prometheus does."""

from __future__ import annotations

from pathlib import Path

import trio
from csms_harness import running_csms


async def http_get(port: int, path: str, method: str = "GET") -> tuple[int, str]:
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    async with stream:
        await stream.send_all(f"{method} {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        data = b""
        while chunk := await stream.receive_some(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body.decode()


async def test_metrics_show_connected_stations_and_boot_answers(tmp_path: Path) -> None:
    with trio.fail_after(10):
        async with running_csms(tmp_path) as running:
            await running.register("CS1")
            async with running.station("CS1") as sim:
                await sim.boot()
                await sim.heartbeat()
                assert running.csms.api is not None and running.csms.api.port is not None
                status, body = await http_get(running.csms.api.port, "/metrics")
    assert status == 200
    assert "trio_csms_stations_connected 1.0" in body
    assert 'trio_csms_messages_total{action="Heartbeat",direction="in",outcome="ok"} 1.0' in body
    assert 'trio_csms_handler_seconds_count{action="BootNotification"} 1.0' in body
    assert 'trio_csms_boot_answers_total{status="Accepted"} 1.0' in body
    assert "trio_csms_store_commits " in body


async def test_healthz_answers_and_unknown_paths_are_404(tmp_path: Path) -> None:
    with trio.fail_after(10):
        async with running_csms(tmp_path) as running:
            assert running.csms.api is not None and running.csms.api.port is not None
            port = running.csms.api.port
            assert await http_get(port, "/healthz") == (200, '{"status":"ok"}')
            status, body = await http_get(port, "/nope")
            assert status == 404 and '"NotFound"' in body
            status, _ = await http_get(port, "/metrics", method="POST")
            assert status == 405
