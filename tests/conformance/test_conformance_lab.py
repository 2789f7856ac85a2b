"""The lab itself: it must start its own server even when tests run side by side."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import pytest
import trio
from conformance import lab as lab_module
from conformance.lab import open_lab

_STRANGER = b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


async def _answer_401(stream: trio.SocketStream) -> None:
    """A stranger's API: any request gets 401 (it does not know the lab's token)."""
    async with stream:
        await stream.receive_some(65536)
        await stream.send_all(_STRANGER)


async def test_lab_retries_on_fresh_ports_when_another_server_took_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A port `_free_port` picked can be bound by another test's server before the lab's
    server binds it. The lab must not take that server for its own (it would get 401s or
    another test's state) but start its server again on fresh ports."""
    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(partial(trio.serve_tcp, _answer_401, 0, host="127.0.0.1"))
        taken: int = listeners[0].socket.getsockname()[1]
        picks = iter([None, taken])  # the OCPP port is free, the API port is the stranger's
        free_port = lab_module._free_port
        monkeypatch.setattr(lab_module, "_free_port", lambda: next(picks, None) or free_port())
        with trio.fail_after(30):
            async with open_lab(tmp_path) as lab:
                assert lab.api.port != taken
                view = await lab.get_json(f"/stations/{lab.station_id}")
                assert view["stationId"] == lab.station_id
        nursery.cancel_scope.cancel()
