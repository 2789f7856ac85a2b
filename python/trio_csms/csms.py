"""`Csms`: the whole CSMS as one object an application starts in its own nursery.

    csms = Csms(load_config("csms.toml"))
    async with trio.open_nursery() as nursery:
        await nursery.start(csms.serve)
        response = await csms.call("CS001", ResetRequest(type=ResetEnumType.Immediate))

`serve` opens the store, listens for stations and runs until cancelled; on the way out it
closes every station socket with 1001 (Going Away) and flushes the store.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

import trio
from prometheus_client import CONTENT_TYPE_LATEST

from . import effects
from .api.auth import resolve_token
from .api.http import HttpServer, Response, Router
from .api.operator import OperatorApi
from .config import Config, ConfigError
from .errors import StationNotConnected
from .handlers import Hooks
from .handlers.context import CsrSigner
from .messages import Message
from .metrics import Metrics
from .security.passwords import PasswordVerifier
from .security.tls import server_context
from .server import StationServer
from .store import Store, open_store

log = logging.getLogger(__name__)


class Csms:
    """A CSMS: station server, store, metrics and hooks.

    Args:
        config: the configuration (`config.load_config`).
        hooks: an embedding application's authorizer, DataTransfer vendors, event sink.
        store: a store to use instead of opening `config.store.url`.
        ca: signs station CSRs (SignCertificate); None answers them Rejected.
        clock: current time (UTC), for tests.
    """

    def __init__(
        self,
        config: Config,
        *,
        hooks: Hooks | None = None,
        store: Store | None = None,
        ca: CsrSigner | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.config = config
        self.hooks = hooks or Hooks()
        self.store = store if store is not None else open_store(config.store.url)
        self.metrics = Metrics()
        self.metrics.export_store(self.store.statistics)
        self.passwords = PasswordVerifier()
        self.api: HttpServer | None = None
        self.server = StationServer(
            config, self.store, self.hooks, self.metrics, self.passwords, ca=ca, clock=clock
        )

    @property
    def ports(self) -> list[int]:
        """The bound station ports (ws:// first), once `serve` has started."""
        return self.server.ports

    async def serve(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Open the store and serve stations until cancelled.

        Cancellation: on cancellation every station socket is closed with 1001 and the store
        is flushed and closed (shielded, bounded to 10 s), then the cancellation propagates.
        """
        await self.store.open()
        try:
            async with trio.open_nursery() as nursery:
                # The station sockets are shielded from our cancellation until they are
                # closed: their readers must still run to complete the closing handshake.
                stations = trio.CancelScope(shield=True)
                try:
                    await nursery.start(self._serve_stations, stations)
                    await nursery.start(self._serve_api)
                    task_status.started()
                    await trio.sleep_forever()
                finally:
                    with trio.CancelScope(shield=True), trio.move_on_after(10):
                        await self.server.close_all(1001, "CSMS shutting down")
                    stations.cancel()
        finally:
            with trio.CancelScope(shield=True), trio.move_on_after(10):
                await self.store.close()

    async def _serve_api(self, *, task_status: trio.TaskStatus[None]) -> None:
        token = await trio.to_thread.run_sync(resolve_token, self.config)
        router = Router(token)

        async def metrics(_: object) -> Response:
            return Response(200, self.metrics.render(), CONTENT_TYPE_LATEST.encode())

        async def healthz(_: object) -> Response:
            return Response(200, b'{"status":"ok"}')

        router.add("GET", "/metrics", metrics, authenticated=False)
        router.add("GET", "/healthz", healthz, authenticated=False)
        OperatorApi(self).install(router)
        self.api = HttpServer(router)
        await self.api.serve(self.config.api.host, self.config.api.port, task_status=task_status)

    async def _serve_stations(
        self, scope: trio.CancelScope, *, task_status: trio.TaskStatus[None]
    ) -> None:
        ocpp = self.config.ocpp
        context = None
        if ocpp.tls_port is not None and not ocpp.tls_certificates:
            raise ConfigError("ocpp.tls_port is set but ocpp.tls_certificates is empty")
        if ocpp.tls_port is not None:
            context = server_context(
                ocpp.tls_certificates,
                client_ca_file=ocpp.tls_client_ca,
            )
        with scope:
            await self.server.serve(ssl_context=context, task_status=task_status)

    def connected(self, station_id: str) -> bool:
        return station_id in self.server.connections

    # The timeout is the OCPP CALL's own (see StationConnection.call), hence the parameter.
    async def call(
        self,
        station_id: str,
        request: Message,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> Message:
        """Send a CALL to a connected station and return its typed answer.

        Server-side effects (`trio_csms.effects`) apply: report-style requests are recorded by
        requestId, an Accepted password change switches the stored password, an Accepted
        SetNetworkProfile to a higher security profile takes effect when the station reconnects
        on it.

        Raises:
            StationNotConnected: the station has no open connection.
            CallRefused, CallTimeout, CallError, ConnectionLost: see `StationConnection.call`.
            OcppError: the request cannot be recorded (`effects.before_call`); nothing is sent.
        """
        connection = self.server.connections.get(station_id)
        if connection is None:
            raise StationNotConnected(station_id)
        await effects.before_call(self.store, station_id, request)
        response = await connection.call(request, timeout)
        await effects.after_call(self.store, station_id, request, response)
        return response
