"""The station endpoint: websocket handshake (identity, security profile, credentials,
subprotocol), then one `StationConnection` per station.

The handshake decides everything before a socket is upgraded (Part 4 §3, Part 2 block A):
- the station id is the last path segment, percent-decoded (`/ocpp/CS%20001` -> `CS 001`);
- the client must offer the `ocpp2.0.1` subprotocol, or the upgrade is refused (400);
- an unknown station is refused (404, AQ-6) unless `stations.allow_unknown` admits it;
- the connection's security profile (1: ws://, 2: wss://, 3: wss:// with a client certificate)
  must not be lower than the station's registered one (403, TC_A_19);
- profile 1 and 2: HTTP Basic auth whose user name is the station id (TC_A_02) and whose
  password matches (TC_A_03); profile 3: the client certificate's CN is the station id.
A second connection for a station replaces the first, which is closed (no zombie sessions).

One Trio task per accepted socket runs the handshake (`trio_csms.ws.handshake`) and then the
station's connection on the same stream (`trio_csms.ws.connection`); frames are decoded by the
Rust frame reader, or the pure-Python one with `TRIO_CSMS_NATIVE=0`.
"""

from __future__ import annotations

import logging
import ssl
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import trio

from .config import Config
from .events import StationConnected, StationDisconnected
from .frame_log import FrameLog
from .handlers import Hooks, Registration, StationContext
from .handlers.context import CsrSigner
from .listen import DrainingListener, open_listeners
from .logs import STATION
from .metrics import Metrics
from .security.passwords import PasswordVerifier, parse_basic_auth
from .security.tls import peer_common_name
from .station import AnswerWatchdog, StationConnection
from .store.base import StationChanges, StationRecord, Store
from .ws.connection import WsConnection
from .ws.handshake import HandshakeFailed, HandshakeRequest, read_request

log = logging.getLogger(__name__)

SUBPROTOCOL = "ocpp2.0.1"
MAX_IDENTITY = 48
"""Part 4 §3.1.1: the identity is an identifierString of at most 48 characters, without ':'."""


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a handshake is refused: the HTTP status, a metric label and the body text."""

    status: int
    reason: str
    message: str


@dataclass(frozen=True, slots=True)
class Admission:
    """A station admitted by the handshake; `registered`: it was created on this connect
    (`stations.allow_unknown`)."""

    station: StationRecord
    registered: bool = False


def station_id_from_path(path: str) -> str | None:
    """The station identity in a request target, or None when there is no valid one."""
    target = path.split("?", 1)[0]
    try:
        identity = urllib.parse.unquote(target.rsplit("/", 1)[-1], errors="strict")
    except UnicodeDecodeError:  # e.g. `%FF`: not a UTF-8 identity
        return None
    if not identity or len(identity) > MAX_IDENTITY or ":" in identity:
        return None
    return identity


def _tls_stream(request: HandshakeRequest) -> trio.SSLStream[Any] | None:
    stream = request.stream
    return stream if isinstance(stream, trio.SSLStream) else None


def _peer_common_name(request: HandshakeRequest) -> str | None:
    """The subject CN of the verified client certificate, when there is one."""
    stream = _tls_stream(request)
    return None if stream is None else peer_common_name(stream)


class StationServer:
    """Accepts station websockets and keeps the open connections.

    Args:
        config: the CSMS configuration.
        store: persistent state.
        hooks: the embedding application's hooks.
        metrics: where observations go.
        passwords: checks Basic-auth passwords against stored hashes (cached).
        ca: signs station CSRs (SignCertificate), or None.
        clock: current time, for tests.
    """

    def __init__(
        self,
        config: Config,
        store: Store,
        hooks: Hooks,
        metrics: Metrics,
        passwords: PasswordVerifier,
        ca: CsrSigner | None = None,
        clock: Callable[[], Any] | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.hooks = hooks
        self.metrics = metrics
        self.passwords = passwords
        self.ca = ca
        self.clock = clock
        self.connections: dict[str, StationConnection] = {}
        # Recent frames per station, kept across reconnects; forgotten with the station.
        self.frame_logs: dict[str, FrameLog] = {}
        self.ports: list[int] = []
        # Checks often enough for the shortest deadline (tests use fractions of a second).
        shortest = min(config.ocpp.answer_deadline, config.ocpp.authorize_deadline)
        self.watchdog = AnswerWatchdog(resolution=min(0.5, max(0.01, shortest / 10)))

    async def serve(
        self, *, ssl_context: ssl.SSLContext | None = None, task_status: trio.TaskStatus[None]
    ) -> None:
        """Listen on the ws:// port, and on the wss:// port when `ssl_context` is given.

        Starts with `await nursery.start(server.serve)`; `self.ports` then holds the bound
        ports (useful with port 0). Runs until cancelled.
        """
        ocpp = self.config.ocpp
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self.watchdog.run)
            endpoints: list[tuple[int, ssl.SSLContext | None]] = [(ocpp.port, None)]
            if ssl_context is not None and ocpp.tls_port is not None:
                endpoints.append((ocpp.tls_port, ssl_context))
            for port, context in endpoints:
                self.ports.append(await nursery.start(self._listen, port, context))
            task_status.started()

    async def _listen(
        self, port: int, context: ssl.SSLContext | None, *, task_status: trio.TaskStatus[int]
    ) -> None:
        """Serve one endpoint; reports the bound port when listening."""
        ocpp = self.config.ocpp
        purpose = "stations" if context is None else "stations over TLS"
        sockets = await open_listeners(purpose, ocpp.host, port)
        bound = sockets[0].socket.getsockname()[1]
        # Batches of accepts: in a boot storm the kernel's accept queue must not overflow.
        draining = [DrainingListener(listener) for listener in sockets]
        listeners: list[trio.abc.Listener[Any]] = list(draining)
        if context is not None:
            listeners = [
                trio.SSLListener(listener, context, https_compatible=True) for listener in draining
            ]
        task_status.started(bound)
        await trio.serve_listeners(self._handle, listeners)

    async def _handle(self, stream: trio.abc.Stream) -> None:
        """One socket, from handshake to close. A failure here ends this connection only: an
        exception escaping to `serve_listeners` would stop the server for every station. The
        stream is closed at the end whatever happened (a failed TLS handshake drops the TCP
        connection at once, TC_A_06)."""
        request: HandshakeRequest | None = None
        timeout = self.config.ocpp.handshake_timeout
        try:
            with trio.move_on_after(timeout):
                request = await read_request(stream)
            if request is None:
                self.metrics.handshake_refusals.labels("timeout").inc()
                log.info("no complete websocket upgrade request within %g s; closed", timeout)
            else:
                await self._handle_connection(request)
        except HandshakeFailed as failed:
            log.info("bad websocket handshake (%s): %s", failed.status, failed)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass  # the client went away (or its TLS handshake failed)
        except Exception:
            log.exception("connection failed")
        finally:
            await trio.aclose_forcefully(stream)

    async def _handle_connection(self, request: HandshakeRequest) -> None:
        try:
            outcome = await self._admit(request)
        except Exception:  # a store failure, a malformed stored hash: refuse, don't crash
            log.exception("handshake for %s failed", request.path)
            outcome = Refusal(500, "internal_error", "the CSMS could not check this station")
        if isinstance(outcome, Refusal):
            self.metrics.handshake_refusals.labels(outcome.reason).inc()
            log.info("refused %s: %s (%s)", request.path, outcome.message, outcome.status)
            await request.reject(outcome.status, body=outcome.message.encode())
            return
        ocpp = self.config.ocpp
        ws = await request.accept(SUBPROTOCOL, max_message_size=ocpp.max_message_size)
        STATION.set(outcome.station.station_id)  # inherited by the connection's tasks (logs)
        await self._run(ws, outcome)

    async def _admit(self, request: HandshakeRequest) -> Admission | Refusal:
        station_id = station_id_from_path(request.path)
        if station_id is None:
            return Refusal(404, "bad_identity", "no valid station identity in the URL")
        if SUBPROTOCOL not in request.proposed_subprotocols:
            return Refusal(400, "subprotocol", f"the {SUBPROTOCOL} subprotocol is required")
        station = await self.store.get_station(station_id)
        registered = station is None
        if station is None:
            if not self.config.stations.allow_unknown:
                return Refusal(404, "unknown_station", f"unknown station {station_id}")
            now = datetime.now(UTC)
            station = StationRecord(station_id=station_id, created_at=now)
            # Creates it, or (a concurrent first connect made it) leaves it as it is. Logged
            # with the connection (one line per station, not two, in a boot storm).
            await self.store.upsert_stations([(station_id, StationChanges())], now)
        profile = self._profile_of(request)
        if profile < station.security_profile:
            return Refusal(
                403,
                "profile_too_low",
                f"security profile {profile} is below the registered {station.security_profile}",
            )
        if profile == 3:
            if _peer_common_name(request) != station_id:
                return Refusal(401, "certificate", "client certificate CN is not the station id")
            admitted: StationRecord | Refusal = station
        else:
            admitted = await self._check_password(request, station)
        if isinstance(admitted, Refusal):
            return admitted
        await self._apply_pending_profile(admitted, profile)
        return Admission(admitted, registered)

    async def _apply_pending_profile(self, station: StationRecord, profile: int) -> None:
        """A05 (TC_A_19): the station connected on the profile it was moved to, which is now
        its registered one; lower profiles are refused from here on."""
        pending = station.pending_security_profile
        if pending is not None and profile >= pending:
            station.security_profile = pending
            station.pending_security_profile = None
            raised = StationChanges(security_profile=pending, pending_security_profile=None)
            await self.store.update_station(station.station_id, raised)
            log.info("%s security profile raised to %d", station.station_id, pending)

    def _profile_of(self, request: HandshakeRequest) -> int:
        if _tls_stream(request) is None:
            return 1
        return 3 if _peer_common_name(request) is not None else 2

    async def _check_password(
        self, request: HandshakeRequest, station: StationRecord
    ) -> StationRecord | Refusal:
        if station.password_hash is None and self.config.stations.allow_unknown:
            return station  # lab/demo mode: the station has no password to check
        credentials = parse_basic_auth(request.header(b"authorization") or "")
        if credentials is None:
            return Refusal(401, "no_credentials", "HTTP Basic authentication required")
        user, password = credentials
        if user != station.station_id:
            return Refusal(401, "wrong_user", "user name is not the station id")
        if station.password_hash is not None and await self.passwords.verify_async(
            password, station.password_hash
        ):
            if station.previous_password_hash is not None:
                # A01: the new password works, so the old one is retired.
                station.previous_password_hash = None
                retired = StationChanges(previous_password_hash=None)
                await self.store.update_station(station.station_id, retired)
            return station
        if station.previous_password_hash is not None and await self.passwords.verify_async(
            password, station.previous_password_hash
        ):
            return station  # TC_A_10: until the new password is used, the old one stays valid
        return Refusal(401, "wrong_password", "wrong password")

    async def _run(self, ws: WsConnection, admission: Admission) -> None:
        station = admission.station
        ocpp = self.config.ocpp
        ctx = StationContext(
            station_id=station.station_id,
            store=self.store,
            config=self.config,
            hooks=self.hooks,
            registration=Registration(status=station.registration_status),
            ca=self.ca,
        )
        if self.clock is not None:
            ctx.clock = self.clock
        connection = StationConnection(
            ws,
            ctx,
            self.metrics,
            self.watchdog,
            call_timeout=ocpp.call_timeout,
            answer_deadline=ocpp.answer_deadline,
            authorize_deadline=ocpp.authorize_deadline,
            frame_log=self._frame_log(station.station_id),
        )
        previous = self.connections.get(station.station_id)
        self.connections[station.station_id] = connection
        if previous is not None:
            log.info("%s reconnected; closing its previous connection", station.station_id)
            await previous.close(1000, "replaced by a new connection")
        self.metrics.stations_connected.inc()
        if admission.registered:
            log.info(
                "%s connected; registered on first connect (allow_unknown)", station.station_id
            )
        else:
            log.info("%s connected", station.station_id)
        ctx.emit(StationConnected(station.station_id, station.security_profile))
        try:
            async with trio.open_nursery() as nursery:
                if ocpp.ping_interval > 0:
                    nursery.start_soon(self._keepalive, connection)
                await connection.run()
                nursery.cancel_scope.cancel()
        finally:
            self.metrics.stations_connected.dec()
            if self.connections.get(station.station_id) is connection:
                del self.connections[station.station_id]
            log.info("%s disconnected", station.station_id)
            ctx.emit(StationDisconnected(station.station_id))

    def _frame_log(self, station_id: str) -> FrameLog | None:
        size = self.config.ocpp.frame_log_size
        if size <= 0:
            return None
        log_ = self.frame_logs.get(station_id)
        if log_ is None:
            log_ = self.frame_logs[station_id] = FrameLog(size)
        return log_

    async def _keepalive(self, connection: StationConnection) -> None:
        """Ping every `ping_interval`; close the socket when a pong takes too long."""
        ocpp = self.config.ocpp
        while True:
            await trio.sleep(ocpp.ping_interval)
            with trio.move_on_after(ocpp.dead_peer_timeout) as scope:
                try:
                    await connection.ws.ping()
                except Exception:  # closed meanwhile: the reader ends the connection
                    return
            if scope.cancelled_caught:
                log.info(
                    "%s no pong within %g s; closing", connection.station_id, ocpp.dead_peer_timeout
                )
                await connection.close(1011, "no pong")
                return

    async def close_all(self, code: int = 1001, reason: str = "CSMS shutting down") -> None:
        """Close every station socket (1001 Going Away on shutdown)."""
        async with trio.open_nursery() as nursery:
            for connection in list(self.connections.values()):
                nursery.start_soon(connection.close, code, reason)
