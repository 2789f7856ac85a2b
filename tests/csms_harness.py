"""A running CSMS for integration tests: real websockets on 127.0.0.1, a temporary SQLite store.

`running_csms(tmp_path, **settings)` starts a `Csms` in the test's nursery on port 0 and yields a
`RunningCsms` with helpers to register stations and connect simulated ones. Every test using it
must bound itself with `trio.fail_after`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import trio

from trio_csms.config import load_config
from trio_csms.csms import Csms
from trio_csms.handlers import Hooks
from trio_csms.handlers.context import CsrSigner
from trio_csms.security.passwords import hash_password
from trio_csms.sim import SimStation, open_station
from trio_csms.store import StationRecord

PASSWORD = "Correct-Horse-Battery-1"  # a valid OCPP passwordString (16-40 chars)


@dataclass
class RunningCsms:
    csms: Csms
    url: str
    tls_url: str | None

    async def register(
        self,
        station_id: str,
        *,
        password: str | None = PASSWORD,
        security_profile: int = 1,
        registration_policy: str | None = None,
        **fields: Any,
    ) -> StationRecord:
        station = StationRecord(
            station_id=station_id,
            security_profile=security_profile,
            password_hash=None if password is None else hash_password(password),
            registration_policy=registration_policy,
            **fields,
        )
        await self.csms.store.put_station(station)
        return station

    @asynccontextmanager
    async def station(
        self, station_id: str, *, password: str | None = PASSWORD, **options: Any
    ) -> AsyncIterator[SimStation]:
        async with open_station(self.url, station_id, password=password, **options) as sim:
            yield sim


@asynccontextmanager
async def running_csms(
    tmp_path: Path,
    *,
    hooks: Hooks | None = None,
    ca: CsrSigner | None = None,
    **sections: dict[str, Any],
) -> AsyncIterator[RunningCsms]:
    """A CSMS serving on 127.0.0.1 (ws:// on a free port; wss:// too when `ocpp.tls_*` is set)."""
    overrides: dict[str, dict[str, Any]] = {
        "store": {"url": f"sqlite:///{tmp_path / 'csms.db'}"},
    }
    for section, values in sections.items():
        overrides.setdefault(section, {}).update(values)
    overrides.setdefault("ocpp", {}).setdefault("host", "127.0.0.1")
    overrides["ocpp"].setdefault("port", 0)
    overrides.setdefault("api", {}).setdefault("host", "127.0.0.1")
    overrides["api"].setdefault("port", 0)
    config = load_config(environ={}, overrides=overrides)
    csms = Csms(config, hooks=hooks, ca=ca)
    async with trio.open_nursery() as nursery:
        await nursery.start(csms.serve)
        ports = csms.ports
        yield RunningCsms(
            csms,
            f"ws://127.0.0.1:{ports[0]}/ocpp",
            f"wss://127.0.0.1:{ports[1]}/ocpp" if len(ports) > 1 else None,
        )
        nursery.cancel_scope.cancel()
