"""The station server's websocket handshake against real sockets (functional block A, AQ-6).

A real `Csms` serves on 127.0.0.1 (port 0, a temporary SQLite store); simulated stations
(`trio_csms.sim`) connect the way a charging station does. Covered: HTTP Basic auth
(TC_A_01/02/03), the password change window (TC_A_09/10, storage side), unknown stations (AQ-6),
the station id in the URL, subprotocol negotiation, TLS security profiles 2 and 3
(TC_A_06/07/08, TC_A_19's refusal of a lower profile), a second connection for a station,
graceful shutdown (close code 1001) and the `trio-csms serve` command.

Every test runs under `trio.fail_after(10)`.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import ssl
import sys
import warnings
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import trio
from csms_harness import PASSWORD, RunningCsms, running_csms

import trio_csms
from trio_csms.config import load_config
from trio_csms.csms import Csms
from trio_csms.messages import (
    NetworkConnectionProfileType,
    OCPPInterfaceEnumType,
    OCPPTransportEnumType,
    OCPPVersionEnumType,
    RegistrationStatusEnumType,
    SetNetworkProfileRequest,
    SetNetworkProfileResponse,
    SetNetworkProfileStatusEnumType,
)
from trio_csms.security.ca import CertificateAuthority
from trio_csms.security.passwords import hash_password
from trio_csms.sim import (
    ConnectFailed,
    ConnectionClosed,
    HandshakeRefused,
    SimStation,
    open_station,
)
from trio_csms.store import StationRecord

TIMEOUT = 10
# Two cold `trio-csms` processes (imports, migrations) on a loaded 2-core machine take more
# than TIMEOUT; a bound, not a wait, so it costs nothing when the machine is quiet.
PROCESS_TIMEOUT = 30
OTHER_PASSWORD = "Another-Valid-Password-2"
NEW_PASSWORD = "Brand-New-Password-Number-3"


def refusals(running: RunningCsms, reason: str) -> float:
    """How many handshakes the CSMS refused for `reason` (its Prometheus counter)."""
    value = running.csms.metrics.registry.get_sample_value(
        "trio_csms_handshake_refusals_total", {"reason": reason}
    )
    return value or 0.0


def connected_gauge(csms: Csms) -> float:
    value = csms.metrics.registry.get_sample_value("trio_csms_stations_connected")
    assert value is not None
    return value


async def wait_until(condition: Callable[[], bool]) -> None:
    """Poll `condition` until it holds (the caller's fail_after bounds the wait).

    For state with no event to wait on (a Prometheus gauge, a task's cleanup).
    """
    while not condition():  # noqa: ASYNC110
        await trio.sleep(0.01)


async def assert_refused(running: RunningCsms, station_id: str, **options: Any) -> int:
    """Connect and expect the upgrade to be refused; returns the HTTP status."""
    with pytest.raises(HandshakeRefused) as refused:
        async with running.station(station_id, **options):
            pass  # pragma: no cover - the upgrade must not succeed
    return refused.value.status_code


async def boot_accepted(sim: SimStation) -> None:
    response = await sim.boot()
    assert response.status is RegistrationStatusEnumType.Accepted


# --- HTTP Basic auth (security profile 1) ---------------------------------------------------


async def test_valid_basic_auth_is_admitted_and_boots(tmp_path: Path) -> None:
    """TC_A_01: user = station id and the stored password: upgraded, then Accepted."""
    with trio.fail_after(TIMEOUT):
        async with running_csms(tmp_path) as running:
            await running.register("CS001")
            async with running.station("CS001") as sim:
                assert sim.subprotocol == "ocpp2.0.1"
                await boot_accepted(sim)
                await sim.report_connector(1, 1, "Available")
                assert running.csms.connected("CS001")


async def test_user_name_other_than_station_id_is_refused_with_401(tmp_path: Path) -> None:
    """TC_A_02: the Basic-auth user is `<id>Invalid` (password correct): 401."""
    with trio.fail_after(TIMEOUT):
        async with running_csms(tmp_path) as running:
            await running.register("CS001")
            status = await assert_refused(running, "CS001", username="CS001Invalid")
            assert status == 401
            assert refusals(running, "wrong_user") == 1
            assert not running.csms.connected("CS001")


async def test_wrong_password_is_refused_with_401(tmp_path: Path) -> None:
    """TC_A_03: the right user with a random valid-looking password: 401."""
    with trio.fail_after(TIMEOUT):
        async with running_csms(tmp_path) as running:
            await running.register("CS001")
            status = await assert_refused(running, "CS001", password=OTHER_PASSWORD)
            assert status == 401
            assert refusals(running, "wrong_password") == 1


async def test_missing_authorization_header_is_refused_with_401(tmp_path: Path) -> None:
    """Profile 1 requires Basic auth: no Authorization header at all gives 401."""
    with trio.fail_after(TIMEOUT):
        async with running_csms(tmp_path) as running:
            await running.register("CS001")
            status = await assert_refused(running, "CS001", password=None)
            assert status == 401
            assert refusals(running, "no_credentials") == 1


async def test_unknown_station_is_refused_with_404(tmp_path: Path) -> None:
    """AQ-6: a station the CSMS does not know is refused during the handshake (404)."""
    with trio.fail_after(TIMEOUT):
        async with running_csms(tmp_path) as running:
            status = await assert_refused(running, "NOBODY")
            assert status == 404
            assert refusals(running, "unknown_station") == 1
            assert await running.csms.store.get_station("NOBODY") is None


async def test_allow_unknown_admits_and_registers_a_new_station(tmp_path: Path) -> None:
    """`stations.allow_unknown`: an unknown station is admitted and registered (profile 1)."""
    with trio.fail_after(TIMEOUT):
        async with running_csms(tmp_path, stations={"allow_unknown": True}) as running:
            async with running.station("NEW01", password=None) as sim:
                await boot_accepted(sim)
            record = await running.csms.store.get_station("NEW01")
            assert record is not None
            assert record.security_profile == 1
            assert record.registration_status == "Accepted"


async def test_handshake_refusals_are_counted_by_reason(tmp_path: Path) -> None:
    """Every refusal increments `handshake_refusals` under its own reason label."""
    with trio.fail_after(TIMEOUT):
        async with running_csms(tmp_path) as running:
            await running.register("CS001")
            await assert_refused(running, "CS001", password=OTHER_PASSWORD)
            await assert_refused(running, "CS001", password=OTHER_PASSWORD)
            await assert_refused(running, "GHOST")
            await assert_refused(running, "CS001", subprotocols=["ocpp1.6"])
            assert refusals(running, "wrong_password") == 2
            assert refusals(running, "unknown_station") == 1
            assert refusals(running, "subprotocol") == 1
            assert refusals(running, "wrong_user") == 0


async def test_a_client_without_a_complete_request_is_dropped_and_counted(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """handshake_timeout bounds how long a socket may sit without a complete upgrade request:
    the CSMS closes it, counts a `timeout` refusal and says so in its log."""
    caplog.set_level(logging.INFO, logger="trio_csms.server")
    with trio.fail_after(TIMEOUT):
        async with running_csms(tmp_path, ocpp={"handshake_timeout": 0.3}) as running:
            stream = await trio.open_tcp_stream("127.0.0.1", running.csms.ports[0])
            async with stream:
                await stream.send_all(b"GET /ocpp/CS001 HTTP/1.1\r\nHost: x\r\n")  # no end
                assert await stream.receive_some(4096) == b""  # closed without an answer
            # Counted and logged before the socket was closed.
            assert refusals(running, "timeout") == 1
    assert "no complete websocket upgrade request within 0.3 s" in caplog.text


# --- the station id in the URL, and the subprotocol ------------------------------------------


async def test_station_id_is_percent_decoded_from_the_last_path_segment(tmp_path: Path) -> None:
    """Part 4 §3.1.1: `/ocpp/CS%20001` is station `CS 001`."""
    with trio.fail_after(TIMEOUT):
        async with running_csms(tmp_path) as running:
            await running.register("CS 001")
            async with running.station("CS 001") as sim:
                await boot_accepted(sim)
                assert running.csms.connected("CS 001")
            record = await running.csms.store.get_station("CS 001")
            assert record is not None and record.registration_status == "Accepted"


async def test_station_id_directly_under_the_root_is_accepted(tmp_path: Path) -> None:
    """Only the last segment counts: `ws://host:port/CS001` works as well as `/ocpp/CS001`."""
    with trio.fail_after(TIMEOUT):
        async with running_csms(tmp_path) as running:
            await running.register("CS001")
            root = running.url.removesuffix("/ocpp")
            async with open_station(root, "CS001", password=PASSWORD) as sim:
                await boot_accepted(sim)
                assert running.csms.connected("CS001")


@pytest.mark.parametrize("station_id", ["CS:001", "X" * 49], ids=["colon", "49-chars"])
async def test_identity_that_is_no_identifier_string_is_refused_with_404(
    tmp_path: Path, station_id: str
) -> None:
    """Part 4 §3.1.1: the identity has at most 48 characters and no ':'."""
    with trio.fail_after(TIMEOUT):
        async with running_csms(tmp_path, stations={"allow_unknown": True}) as running:
            assert await assert_refused(running, station_id) == 404
            assert refusals(running, "bad_identity") == 1


async def raw_upgrade(port: int, target: bytes) -> bytes:
    """Send a websocket upgrade request for `target` by hand; returns the status line.

    For request targets a well-behaved client library would not produce.
    """
    request = b"\r\n".join(
        [
            b"GET " + target + b" HTTP/1.1",
            b"Host: 127.0.0.1",
            b"Upgrade: websocket",
            b"Connection: Upgrade",
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
            b"Sec-WebSocket-Version: 13",
            b"Sec-WebSocket-Protocol: ocpp2.0.1",
            b"",
            b"",
        ]
    )
    async with await trio.open_tcp_stream("127.0.0.1", port) as stream:
        await stream.send_all(request)
        response = b""
        while b"\r\n" not in response:
            chunk = await stream.receive_some()
            assert chunk, "the CSMS closed the connection without an HTTP answer"
            response += chunk
    return response.split(b"\r\n", 1)[0]


async def test_identity_that_is_not_utf8_is_refused_and_the_server_keeps_running(
    tmp_path: Path,
) -> None:
    """`/ocpp/%FF` decodes to no UTF-8 string: refused with 404, other stations unaffected."""
    with trio.fail_after(TIMEOUT):
        async with running_csms(tmp_path) as running:
            await running.register("CS001")
            status_line = await raw_upgrade(running.csms.ports[0], b"/ocpp/%FF")
            assert status_line.startswith(b"HTTP/1.1 404")
            assert refusals(running, "bad_identity") == 1
            async with running.station("CS001") as sim:
                await boot_accepted(sim)


async def test_upgrade_without_ocpp201_subprotocol_is_refused_with_400(tmp_path: Path) -> None:
    """Part 4 §3.1.2: a client that does not offer `ocpp2.0.1` gets no websocket."""
    with trio.fail_after(TIMEOUT):
        async with running_csms(tmp_path) as running:
            await running.register("CS001")
            status = await assert_refused(running, "CS001", subprotocols=["ocpp1.6"])
            assert status == 400
            assert not running.csms.connected("CS001")


async def test_ocpp201_is_selected_among_several_offered_subprotocols(tmp_path: Path) -> None:
    """Offering `ocpp1.6, ocpp2.0.1`: the CSMS answers with `ocpp2.0.1`."""
    with trio.fail_after(TIMEOUT):
        async with running_csms(tmp_path) as running:
            await running.register("CS001")
            async with running.station("CS001", subprotocols=["ocpp1.6", "ocpp2.0.1"]) as sim:
                assert sim.subprotocol == "ocpp2.0.1"
                await boot_accepted(sim)


# --- password change (A01) -------------------------------------------------------------------


async def test_old_password_is_admitted_until_the_new_one_is_used(tmp_path: Path) -> None:
    """TC_A_09/TC_A_10 (storage side): after a password change both are admitted until the
    station logs in with the new one; from then on the old one is refused."""
    with trio.fail_after(TIMEOUT):
        async with running_csms(tmp_path) as running:
            await running.register(
                "CS001",
                password=NEW_PASSWORD,
                previous_password_hash=hash_password(PASSWORD),
            )
            # TC_A_10: the station rejected the change and comes back with the old password.
            async with running.station("CS001", password=PASSWORD) as sim:
                await boot_accepted(sim)
            async with running.station("CS001", password=PASSWORD) as sim:
                await sim.heartbeat()
            # TC_A_09: the station accepted the change and logs in with the new password.
            async with running.station("CS001", password=NEW_PASSWORD) as sim:
                await sim.heartbeat()
            record = await running.csms.store.get_station("CS001")
            assert record is not None and record.previous_password_hash is None
            status = await assert_refused(running, "CS001", password=PASSWORD)
            assert status == 401
            async with running.station("CS001", password=NEW_PASSWORD) as sim:
                await sim.heartbeat()


# --- TLS: security profiles 2 and 3 -------------------------------------------------------------


@dataclass(frozen=True)
class Pki:
    """The files of a test CA, the CSMS's server certificate and station certificates."""

    ca_file: Path
    server: tuple[Path, Path]  # (chain, key) for 127.0.0.1
    station: tuple[Path, Path]  # client certificate CN=CS301
    other_station: tuple[Path, Path]  # client certificate CN=CS399


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    root = tmp_path_factory.mktemp("pki")
    ca = CertificateAuthority.create(root / "ca")

    def save(name: str, pair: tuple[str, str]) -> tuple[Path, Path]:
        chain, key = root / f"{name}.pem", root / f"{name}.key"
        chain.write_text(pair[0])
        key.write_text(pair[1])
        key.chmod(0o600)
        return chain, key

    assert ca.certificate_file is not None
    return Pki(
        ca_file=ca.certificate_file,
        server=save("server", ca.issue_server_certificate("127.0.0.1")),
        station=save("cs301", ca.issue_client_certificate("CS301")),
        other_station=save("cs399", ca.issue_client_certificate("CS399")),
    )


def station_tls(pki: Pki, certificate: tuple[Path, Path] | None = None) -> ssl.SSLContext:
    """A station's TLS context: trusts the test CA; presents `certificate` if given."""
    context = ssl.create_default_context(cafile=pki.ca_file)
    if certificate is not None:
        context.load_cert_chain(*certificate)
    return context


def tls11_only(pki: Pki) -> ssl.SSLContext:
    """A station that speaks TLS 1.0/1.1 only (TC_A_06). OpenSSL 3 needs security level 0 for
    that; Python deprecates the old version constants, hence the silenced warning."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = ssl.TLSVersion.TLSv1
        context.maximum_version = ssl.TLSVersion.TLSv1_1
    context.set_ciphers("DEFAULT:@SECLEVEL=0")
    context.load_verify_locations(pki.ca_file)
    return context


@asynccontextmanager
async def tls_csms(tmp_path: Path, pki: Pki) -> AsyncIterator[RunningCsms]:
    """A CSMS with ws:// and wss:// listeners; client certificates are checked (profile 3)."""
    chain, key = pki.server
    ocpp = {
        "tls_port": 0,
        "tls_certificates": [(str(chain), str(key))],
        "tls_client_ca": str(pki.ca_file),
    }
    async with running_csms(tmp_path, ocpp=ocpp) as running:
        assert running.tls_url is not None, "the wss:// listener did not start"
        yield running


async def test_profile2_basic_auth_over_tls_is_admitted(tmp_path: Path, pki: Pki) -> None:
    """TC_A_04 (CSMS side): wss:// plus Basic auth admits a profile-2 station."""
    with trio.fail_after(TIMEOUT):
        async with tls_csms(tmp_path, pki) as running:
            assert running.tls_url is not None
            await running.register("CS201", security_profile=2)
            async with open_station(
                running.tls_url, "CS201", password=PASSWORD, ssl_context=station_tls(pki)
            ) as sim:
                await boot_accepted(sim)
                assert running.csms.connected("CS201")


async def test_profile2_station_over_plain_ws_is_refused_with_403(tmp_path: Path, pki: Pki) -> None:
    """TC_A_19: a station registered for profile 2 may not come back on profile 1 (ws://)."""
    with trio.fail_after(TIMEOUT):
        async with tls_csms(tmp_path, pki) as running:
            await running.register("CS201", security_profile=2)
            status = await assert_refused(running, "CS201")
            assert status == 403
            assert refusals(running, "profile_too_low") == 1


async def test_tls11_only_client_is_refused_in_the_tls_handshake(tmp_path: Path, pki: Pki) -> None:
    """TC_A_06: a TLS 1.1 handshake is terminated; a TLS >= 1.2 one afterwards is admitted."""
    with trio.fail_after(TIMEOUT):
        async with tls_csms(tmp_path, pki) as running:
            assert running.tls_url is not None
            await running.register("CS201", security_profile=2)
            # Terminated at once, not after the CSMS's handshake timeout (10 s by default).
            with trio.fail_after(2), pytest.raises(ConnectFailed) as failed:
                async with open_station(
                    running.tls_url, "CS201", password=PASSWORD, ssl_context=tls11_only(pki)
                ):
                    pass  # pragma: no cover - the TLS handshake must fail
            assert not isinstance(failed.value, HandshakeRefused)  # never reached HTTP
            async with open_station(
                running.tls_url, "CS201", password=PASSWORD, ssl_context=station_tls(pki)
            ) as sim:
                await boot_accepted(sim)


async def test_profile3_client_certificate_is_admitted_without_password(
    tmp_path: Path, pki: Pki
) -> None:
    """TC_A_07: a valid client certificate with CN = station id admits without Basic auth."""
    with trio.fail_after(TIMEOUT):
        async with tls_csms(tmp_path, pki) as running:
            assert running.tls_url is not None
            await running.register("CS301", security_profile=3, password=None)
            context = station_tls(pki, pki.station)
            async with open_station(running.tls_url, "CS301", ssl_context=context) as sim:
                await boot_accepted(sim)
                assert running.csms.connected("CS301")


async def test_profile3_certificate_for_another_station_is_refused_with_401(
    tmp_path: Path, pki: Pki
) -> None:
    """TC_A_08 (CN != station id): a certificate issued to CS399 cannot log in as CS301."""
    with trio.fail_after(TIMEOUT):
        async with tls_csms(tmp_path, pki) as running:
            assert running.tls_url is not None
            await running.register("CS301", security_profile=3, password=None)
            with pytest.raises(HandshakeRefused) as refused:
                async with open_station(
                    running.tls_url, "CS301", ssl_context=station_tls(pki, pki.other_station)
                ):
                    pass  # pragma: no cover - the upgrade must not succeed
            assert refused.value.status_code == 401
            assert refusals(running, "certificate") == 1
            assert not running.csms.connected("CS301")


async def test_profile3_station_with_basic_auth_only_is_refused_with_403(
    tmp_path: Path, pki: Pki
) -> None:
    """TC_A_19: a profile-3 station may not fall back to profile 2 (TLS without certificate)."""
    with trio.fail_after(TIMEOUT):
        async with tls_csms(tmp_path, pki) as running:
            assert running.tls_url is not None
            await running.register("CS301", security_profile=3)
            with pytest.raises(HandshakeRefused) as refused:
                async with open_station(
                    running.tls_url, "CS301", password=PASSWORD, ssl_context=station_tls(pki)
                ):
                    pass  # pragma: no cover - the upgrade must not succeed
            assert refused.value.status_code == 403


async def test_profile1_station_over_tls_is_admitted(tmp_path: Path, pki: Pki) -> None:
    """A connection on a higher profile than registered is fine (profile 1 station on wss)."""
    with trio.fail_after(TIMEOUT):
        async with tls_csms(tmp_path, pki) as running:
            assert running.tls_url is not None
            await running.register("CS101", security_profile=1)
            async with open_station(
                running.tls_url, "CS101", password=PASSWORD, ssl_context=station_tls(pki)
            ) as sim:
                await boot_accepted(sim)


# --- connection lifecycle ----------------------------------------------------------------------


async def test_second_connection_for_a_station_replaces_the_first(tmp_path: Path) -> None:
    """A reconnect while the old socket is still open: the new one wins, the old is closed,
    and the station is counted once."""
    with trio.fail_after(TIMEOUT):
        async with running_csms(tmp_path) as running:
            csms = running.csms
            await running.register("CS001")
            async with running.station("CS001") as first:
                await boot_accepted(first)
                old = csms.server.connections["CS001"]
                async with running.station("CS001") as second:
                    closed = await first.wait_closed()
                    assert isinstance(closed, ConnectionClosed)
                    with pytest.raises(ConnectionClosed):
                        await first.heartbeat()
                    await wait_until(old.closed.is_set)
                    await wait_until(lambda: connected_gauge(csms) == 1)
                    current = csms.server.connections["CS001"]
                    assert current is not old
                    assert len(csms.server.connections) == 1
                    await second.heartbeat()  # the new connection works
                    assert connected_gauge(csms) == 1
                    assert csms.server.connections["CS001"] is current


@asynccontextmanager
async def serving(tmp_path: Path) -> AsyncIterator[tuple[Csms, trio.CancelScope]]:
    """A CSMS whose `serve` can be cancelled by the test (the cancel scope it yields)."""
    config = load_config(
        environ={},
        overrides={
            "store": {"url": f"sqlite:///{tmp_path / 'csms.db'}"},
            "ocpp": {"host": "127.0.0.1", "port": 0},
            "api": {"host": "127.0.0.1", "port": 0},
        },
    )
    csms = Csms(config)
    scope = trio.CancelScope()

    async def serve(*, task_status: trio.TaskStatus[None]) -> None:
        with scope:
            await csms.serve(task_status=task_status)

    async with trio.open_nursery() as nursery:
        await nursery.start(serve)
        yield csms, scope
        scope.cancel()


async def test_shutdown_closes_station_sockets_with_going_away(tmp_path: Path) -> None:
    """Cancelling `Csms.serve` closes every station socket with 1001 (Going Away)."""
    with trio.fail_after(TIMEOUT):
        async with serving(tmp_path) as (csms, scope):
            for station_id in ("CS001", "CS002"):
                await csms.store.put_station(
                    StationRecord(station_id=station_id, password_hash=hash_password(PASSWORD))
                )
            url = f"ws://127.0.0.1:{csms.ports[0]}/ocpp"
            async with (
                open_station(url, "CS001", password=PASSWORD) as one,
                open_station(url, "CS002", password=PASSWORD) as two,
            ):
                await boot_accepted(one)
                await boot_accepted(two)
                scope.cancel()
                for sim in (one, two):
                    closed = await sim.wait_closed()
                    assert closed.code == 1001, sim.format_frames()
                await wait_until(lambda: not csms.server.connections)
        assert scope.cancelled_caught  # serve ended because it was cancelled, not by an error


# --- the command line --------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def cli(*args: str, db: str) -> list[str]:
    return [sys.executable, "-m", "trio_csms.cli", "--db", db, *args]


def cli_env() -> dict[str, str]:
    """The environment for a CLI subprocess: this checkout's package first on the path."""
    package_root = str(Path(trio_csms.__file__).resolve().parent.parent)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIO_CSMS_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
    return env


async def wait_for_listener(process: trio.Process, port: int) -> None:
    """Wait until the CSMS subprocess accepts TCP connections on `port`."""
    while True:
        assert process.returncode is None, f"serve exited with {process.returncode}"
        try:
            stream = await trio.open_tcp_stream("127.0.0.1", port)
        except OSError:
            await trio.sleep(0.05)
        else:
            await stream.aclose()
            return


async def test_cli_serve_admits_a_registered_station_and_exits_0_on_sigterm(
    tmp_path: Path,
) -> None:
    """`trio-csms stations add` then `trio-csms serve`: a station boots; SIGTERM shuts the
    server down gracefully (the station sees 1001) with exit status 0."""
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    port = free_port()
    env = cli_env()
    with trio.fail_after(PROCESS_TIMEOUT):
        added = await trio.run_process(
            cli("stations", "add", "CS9", "--password", PASSWORD, db=db),
            capture_stdout=True,
            env=env,
        )
        assert b"registered CS9" in added.stdout
        process = await trio.lowlevel.open_process(
            cli(
                "serve",
                *("--ocpp-host", "127.0.0.1", "--ocpp-port", str(port)),
                *("--api-host", "127.0.0.1", "--api-port", str(free_port())),
                db=db,
            ),
            env=env,
        )
        try:
            await wait_for_listener(process, port)
            url = f"ws://127.0.0.1:{port}/ocpp"
            async with open_station(url, "CS9", password=PASSWORD) as sim:
                await boot_accepted(sim)
                process.send_signal(signal.SIGTERM)
                closed = await sim.wait_closed()
                assert closed.code == 1001
            assert await process.wait() == 0
        finally:
            if process.returncode is None:
                process.kill()
                with trio.CancelScope(shield=True):
                    await process.wait()


# --- raising the security profile (A05) --------------------------------------------------------


async def test_accepted_set_network_profile_raises_the_profile_on_reconnect(
    tmp_path: Path, pki: Pki
) -> None:
    """TC_A_19: the CSMS moves a profile-1 station to profile 2 (SetNetworkProfile Accepted);
    until it reconnects on profile 2 it keeps profile 1, after that ws:// is refused."""
    with trio.fail_after(TIMEOUT):
        async with tls_csms(tmp_path, pki) as running:
            assert running.tls_url is not None
            await running.register("CS119", security_profile=1)
            async with running.station("CS119") as sim:
                await boot_accepted(sim)
                profile = NetworkConnectionProfileType(
                    ocpp_version=OCPPVersionEnumType.OCPP20,
                    ocpp_transport=OCPPTransportEnumType.JSON,
                    ocpp_csms_url=running.tls_url,
                    message_timeout=30,
                    security_profile=2,
                    ocpp_interface=OCPPInterfaceEnumType.Wired0,
                )
                answer = await running.csms.call(
                    "CS119", SetNetworkProfileRequest(configuration_slot=1, connection_data=profile)
                )
                assert isinstance(answer, SetNetworkProfileResponse)
                assert answer.status is SetNetworkProfileStatusEnumType.Accepted
            station = await running.csms.store.get_station("CS119")
            assert station is not None
            assert (station.security_profile, station.pending_security_profile) == (1, 2)
            async with running.station("CS119") as sim:  # still allowed before the switch
                await sim.heartbeat()
            async with open_station(
                running.tls_url, "CS119", password=PASSWORD, ssl_context=station_tls(pki)
            ) as sim:
                await sim.heartbeat()
            station = await running.csms.store.get_station("CS119")
            assert station is not None
            assert (station.security_profile, station.pending_security_profile) == (2, None)
            assert await assert_refused(running, "CS119") == 403


async def test_a_corrupt_stored_password_hash_refuses_that_station_only(tmp_path: Path) -> None:
    """Bad stored data is the CSMS's fault: 500 for that station, and the server keeps serving
    every other one (an exception escaping the handshake would stop the whole endpoint)."""
    with trio.fail_after(TIMEOUT):
        async with running_csms(tmp_path) as running:
            await running.register("BROKEN")
            station = await running.csms.store.get_station("BROKEN")
            assert station is not None
            station.password_hash = "scrypt$not-a-hash"
            await running.csms.store.put_station(station)
            assert await assert_refused(running, "BROKEN") == 500
            assert refusals(running, "internal_error") == 1
            await running.register("HEALTHY")
            async with running.station("HEALTHY") as sim:
                await boot_accepted(sim)


async def test_cli_serve_names_a_port_in_use_and_exits_1(tmp_path: Path) -> None:
    """A taken station port is one clear line on stderr and exit status 1, not a traceback."""
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with trio.fail_after(PROCESS_TIMEOUT):
            result = await trio.run_process(
                cli(
                    "serve",
                    *("--ocpp-host", "127.0.0.1", "--ocpp-port", str(port)),
                    *("--api-host", "127.0.0.1", "--api-port", str(free_port())),
                    db=db,
                ),
                capture_stderr=True,
                check=False,
                env=cli_env(),
            )
    stderr = result.stderr.decode()
    assert result.returncode == 1
    assert f"cannot listen for stations on 127.0.0.1:{port}: Address already in use" in stderr
    assert "Traceback" not in stderr
