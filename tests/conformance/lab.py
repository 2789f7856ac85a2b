"""The conformance lab: a real `trio-csms serve` process, its operator API, and a test station.

A lab does what a certification lab does with the OCA test tool: it runs the CSMS as a separate
process (SQLite under the test's `tmp_path`, 127.0.0.1 only), provisions it through the operator
HTTP API with the tool's configuration (station id, password, id tokens), performs every
"manual action" of the tester through that API, and plays the charging station over a real
websocket with the project's simulator. Nothing here reaches into the server's internals.

    async with open_lab(tmp_path) as lab:
        async with lab.station() as station:
            await states.booted(station)
            response = await lab.call_ok("Reset", {"type": "Immediate"})

When a station closes, every frame the CSMS sent it is checked by the `oracle` (framing and JSON
schema); when the lab closes, the server's log must hold no ERROR line and no traceback, and the
server must have stopped cleanly.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import ssl
import subprocess
import sys
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import trio
from api_client import Answer, ApiClient
from conformance.oracle import check_frames

from trio_csms.sim import SimStation, open_station

_START_ATTEMPTS: Final = 3  # fresh ports each time
STATION_ID: Final = "OCTT-CS-001"
PASSWORD: Final = "Octt-Station-Password-01"  # a valid passwordString (16-40 characters)
# Every idToken type of OCPP 2.0.1 (IdTokenEnumType); the CSMS declares support for all.
TOKEN_TYPES: Final = (
    "ISO14443",
    "ISO15693",
    "KeyCode",
    "Local",
    "MacAddress",
    "Central",
    "eMAID",
    "NoAuthorization",
)
_TOKEN_VALUES: Final = {
    "ISO14443": "04A2B3C4D5E6",
    "ISO15693": "E00401001234",
    "KeyCode": "918273",
    "Local": "LOCAL-0001",
    "MacAddress": "001A2B3C4D5E",
    "Central": "CENTRAL-0001",
    "eMAID": "NLTNMC00000A",
}


@dataclass(frozen=True)
class Tokens:
    """The tool's configured id tokens of one type (`<cfg valid_idtoken>` and friends).

    `valid` and `valid2` share `group`; `master_pass` belongs to the MasterPassGroupId group.
    `invalid` is provisioned with status Invalid, `unknown` is not provisioned at all. For
    NoAuthorization the only meaningful token is the empty one (`valid`).
    """

    type: str
    valid: str
    valid2: str
    group: str
    invalid: str
    unknown: str
    blocked: str
    expired: str
    master_pass: str

    def id_token(self, which: str = "valid") -> dict[str, str]:
        """The wire form `{"idToken": ..., "type": ...}` of one of these tokens."""
        return {"idToken": str(getattr(self, which)), "type": self.type}


def tokens_of(token_type: str) -> Tokens:
    """The tool's token set for `token_type` (values fit every type's idToken format)."""
    if token_type == "NoAuthorization":
        return Tokens(token_type, "", "", "", "", "", "", "", "")
    base = _TOKEN_VALUES[token_type]
    return Tokens(
        type=token_type,
        valid=base,
        valid2=base[:-1] + "2" if not base.endswith("2") else base[:-1] + "3",
        group="GROUP-" + token_type.upper(),
        invalid="INV" + base[3:],
        unknown="UNK" + base[3:],
        blocked="BLK" + base[3:],
        expired="EXP" + base[3:],
        master_pass="MST" + base[3:],
    )


@dataclass
class Lab:
    """A running CSMS under test, provisioned like the tool's configuration."""

    api: ApiClient
    ocpp_url: str
    tls_url: str | None
    directory: Path
    log_path: Path
    station_id: str = STATION_ID
    password: str = PASSWORD
    tokens: Tokens = field(default_factory=lambda: tokens_of("ISO14443"))
    expect_server_errors: bool = False

    # --- the tester's manual actions, through the operator API ----------------------------

    async def call(
        self,
        action: str,
        payload: Mapping[str, Any],
        *,
        station_id: str | None = None,
        wait: float | None = None,
    ) -> Answer:
        """Make the CSMS send `action` to the station (POST .../call/{action}).

        `wait` is the API's `timeout`: seconds the CSMS waits for the station's answer.
        """
        path = f"/api/v1/stations/{station_id or self.station_id}/call/{action}"
        if wait is not None:
            path += f"?timeout={wait}"
        return await self.api.post(path, dict(payload))

    async def call_ok(
        self, action: str, payload: Mapping[str, Any], *, station_id: str | None = None
    ) -> dict[str, Any]:
        """`call`, asserting the station answered (200); returns the CALLRESULT payload."""
        answer = await self.call(action, payload, station_id=station_id)
        assert answer.status == 200, f"{action}: {answer.status} {answer.body!r}"
        response: dict[str, Any] = answer.json["response"]
        return response

    async def get_json(self, path: str) -> Any:
        """GET an API path (under /api/v1), asserting 200; returns the JSON body."""
        answer = await self.api.get(f"/api/v1{path}")
        assert answer.status == 200, f"GET {path}: {answer.status} {answer.body!r}"
        return answer.json

    async def register_station(
        self,
        station_id: str | None = None,
        *,
        password: str | None = PASSWORD,
        security_profile: int = 1,
        registration_status: str | None = None,
    ) -> None:
        """Create or update a station (PUT /stations/{id})."""
        body = {
            "password": password,
            "securityProfile": security_profile,
            "registrationStatus": registration_status,
        }
        answer = await self.api.put(f"/api/v1/stations/{station_id or self.station_id}", body)
        assert answer.status in (200, 201), answer.body

    async def put_id_token(
        self, token_type: str, id_token: str, status: str, **fields: Any
    ) -> None:
        """Create or update an id token (PUT /id-tokens/{type}/{idToken})."""
        answer = await self.api.put(
            f"/api/v1/id-tokens/{token_type}/{id_token}", {"status": status, **fields}
        )
        assert answer.status in (200, 201), answer.body

    async def provision_tokens(self, token_type: str = "ISO14443") -> Tokens:
        """Load the tool's token set of `token_type` into the CSMS and make it `self.tokens`."""
        tokens = self.tokens = tokens_of(token_type)
        if token_type == "NoAuthorization":
            return tokens
        group = {"idToken": tokens.group, "type": "Central"}
        await self.put_id_token(token_type, tokens.valid, "Accepted", groupIdToken=group)
        await self.put_id_token(token_type, tokens.valid2, "Accepted", groupIdToken=group)
        await self.put_id_token(token_type, tokens.invalid, "Invalid")
        await self.put_id_token(token_type, tokens.blocked, "Blocked")
        await self.put_id_token(token_type, tokens.expired, "Expired")
        master = {"idToken": "MasterPassGroup", "type": "Central"}
        await self.put_id_token(token_type, tokens.master_pass, "Accepted", groupIdToken=master)
        return tokens

    # --- the tool's station -----------------------------------------------------------------

    @asynccontextmanager
    async def station(
        self,
        station_id: str | None = None,
        *,
        password: str | None = PASSWORD,
        tls: ssl.SSLContext | None = None,
        **options: Any,
    ) -> AsyncIterator[SimStation]:
        """Connect the tool's station; on a clean exit, check all the CSMS sent it."""
        url = self.ocpp_url
        if tls is not None:
            assert self.tls_url is not None, "this lab has no TLS endpoint"
            url = self.tls_url
        options.setdefault("frame_log_size", 100_000)
        options.setdefault("call_timeout", 15)
        async with open_station(
            url, station_id or self.station_id, password=password, ssl_context=tls, **options
        ) as station:
            yield station
            problems = check_frames(station.frames)
            assert not problems, "\n".join(problems) + "\n" + station.format_frames()
            assert not station.handler_errors, station.handler_errors

    def server_log(self) -> str:
        """The server's output so far (JSON log lines)."""
        return _read(self.log_path)


@asynccontextmanager
async def open_lab(
    tmp_path: Path,
    *,
    seconds: float = 60,
    provision: bool = True,
    **sections: Mapping[str, Any],
) -> AsyncIterator[Lab]:
    """Start `trio-csms serve` with `sections` as its config file, and provision it.

    Args:
        tmp_path: the server's working directory (database, config, log).
        seconds: how long the whole lab (start, test, stop) may take.
        provision: register the tool's station (profile 1, PASSWORD) and ISO14443 tokens.
        sections: config file sections, e.g. `stations={"default_registration": "Pending"}`.
    """
    with trio.fail_after(seconds):
        # The token is the lab's own: only its server accepts it, so a server of another test
        # on a reused port is never taken for this one (see `_start`).
        token = secrets.token_hex(16)
        config_path = tmp_path / "csms.toml"
        log_path = tmp_path / "server.log"
        for attempt in range(_START_ATTEMPTS):
            config = _config(tmp_path, token, sections)
            config_path.write_text(_toml(config), encoding="utf-8")
            try:
                process = await _start(config_path, log_path, config["api"]["port"], token)
                break
            except _PortTaken:
                if attempt + 1 == _START_ATTEMPTS:
                    raise
        tls_port = config["ocpp"].get("tls_port")
        lab = Lab(
            api=ApiClient(config["api"]["port"], token),
            ocpp_url=f"ws://127.0.0.1:{config['ocpp']['port']}/ocpp",
            tls_url=None if tls_port is None else f"wss://localhost:{tls_port}/ocpp",
            directory=tmp_path,
            log_path=log_path,
        )
        async with _server(process):
            if provision:
                await lab.register_station()
                await lab.provision_tokens()
            yield lab
        log = lab.server_log()
        if not lab.expect_server_errors:
            errors = [line for line in log.splitlines() if _is_error_line(line)]
            assert not errors, "the server logged errors:\n" + "\n".join(errors)


def _config(
    tmp_path: Path, token: str, sections: Mapping[str, Mapping[str, Any]]
) -> dict[str, dict[str, Any]]:
    """The server's config: fresh free ports, the lab's token, then the test's `sections`."""
    config: dict[str, dict[str, Any]] = {
        "ocpp": {"host": "127.0.0.1", "port": _free_port()},
        "api": {"host": "127.0.0.1", "port": _free_port(), "token": token},
        "store": {"url": f"sqlite:///{tmp_path / 'csms.db'}"},
    }
    for name, values in sections.items():
        config.setdefault(name, {}).update(values)
    if config["ocpp"].get("tls_port") == 0:
        config["ocpp"]["tls_port"] = _free_port()
    return config


class _PortTaken(Exception):
    """Another process bound a port between `_free_port` and the server's start."""


async def _start(config_path: Path, log_path: Path, api_port: int, token: str) -> trio.Process:
    """Start the server and wait until its API answers the lab's token.

    Raises:
        _PortTaken: the server could not bind its ports (another test took one meanwhile).
    """
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    for name in [name for name in env if name.startswith("TRIO_CSMS_")]:
        if name != "TRIO_CSMS_NATIVE":
            del env[name]
    with log_path.open("wb") as log:
        process = await trio.lowlevel.open_process(
            [sys.executable, "-m", "trio_csms.cli", "--config", str(config_path), "serve"],
            cwd=config_path.parent,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        while not await _healthy(api_port, token):
            if process.poll() is not None:
                log = _read(log_path)
                if "Address already in use" in log:
                    raise _PortTaken(log)
                raise AssertionError("the server exited:\n" + log)
            await trio.sleep(0.05)
    except BaseException:
        with trio.CancelScope(shield=True):
            await _stop(process)
        raise
    return process


@asynccontextmanager
async def _server(process: trio.Process) -> AsyncIterator[None]:
    """Run the test against the started server; stop it cleanly (SIGTERM) afterwards."""
    try:
        yield
    finally:
        with trio.CancelScope(shield=True):
            stopped = await _stop(process)
    assert stopped, "the server did not stop within 10 s of SIGTERM"
    assert process.returncode == 0, f"the server exited with {process.returncode}"


async def _stop(process: trio.Process) -> bool:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    with trio.move_on_after(10):
        await process.wait()
        return True
    process.kill()
    await process.wait()
    return False


async def _healthy(port: int, token: str) -> bool:
    """True once the lab's own server answers on `port` (a stranger's answers 401)."""
    try:
        answer = await ApiClient(port, token).get("/api/v1/stations")
    except OSError:
        return False
    return answer.status == 200


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _is_error_line(line: str) -> bool:
    if "Traceback" in line:
        return True
    try:
        record = json.loads(line)
    except ValueError:
        return False
    return isinstance(record, dict) and record.get("level") in ("ERROR", "CRITICAL")


def _toml(config: Mapping[str, Mapping[str, Any]]) -> str:
    """The config as TOML: JSON's syntax for strings, numbers, booleans and arrays is TOML's."""
    lines: list[str] = []
    for section, values in config.items():
        lines.append(f"[{section}]")
        lines += [
            f"{key} = {json.dumps(value)}" for key, value in values.items() if value is not None
        ]
    return "\n".join(lines) + "\n"


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace")
