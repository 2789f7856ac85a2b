"""Configuration: a TOML file, then environment overrides, then command-line flags.

Every setting has a default that gives a working CSMS on SQLite with no file at all. The file
has one table per section (`[ocpp]`, `[stations]`, `[api]`, `[store]`, `[ca]`, `[log]`); an
environment variable `TRIO_CSMS_<SECTION>_<KEY>` (e.g. `TRIO_CSMS_OCPP_PORT=9100`) overrides
the file.
Unknown sections or keys are errors, so a misspelt setting never goes unnoticed.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec

RegistrationStatus = Literal["Accepted", "Pending", "Rejected"]


#: A duration that must be positive (a zero deadline would answer nothing and watch busily).
Seconds = Annotated[float, msgspec.Meta(gt=0)]


class OcppConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """The station-facing websocket endpoint.

    Attributes:
        host, port: where stations connect over ws:// (security profile 1).
        tls_port: where stations connect over wss:// (profiles 2 and 3); None: no TLS endpoint.
        tls_certificates: (certificate chain PEM file, key PEM file) pairs; give an RSA and an
            ECDSA pair to offer the cipher suites Part 2 requires for both (A00.FR.318).
        tls_client_ca: CA bundle that signs station certificates (security profile 3).
        call_timeout: seconds a CSMS-initiated CALL waits for its answer.
        answer_deadline: seconds within which every station CALL is answered.
        authorize_deadline: the same for Authorize, whose answer a driver waits for.
        ping_interval: seconds between websocket pings the CSMS sends; 0 disables them.
        dead_peer_timeout: seconds without a pong before the socket is closed as dead.
        max_message_size: largest websocket message accepted, in bytes (larger: close 1009).
        handshake_timeout: seconds a client has to complete the websocket handshake.
        frame_log_size: recent frames kept per station for the operator API's /messages
            (memory: about this many frames of each station); 0 keeps none.
    """

    host: str = "0.0.0.0"
    port: int = 9000
    tls_port: int | None = None
    tls_certificates: list[tuple[str, str]] = msgspec.field(default_factory=list)
    tls_client_ca: str | None = None
    call_timeout: Seconds = 180.0
    answer_deadline: Seconds = 180.0
    authorize_deadline: Seconds = 60.0
    ping_interval: float = 60.0
    dead_peer_timeout: Seconds = 30.0
    max_message_size: int = 1 << 20
    handshake_timeout: Seconds = 10.0
    frame_log_size: int = 16


class StationsConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """How stations are admitted and booted.

    Attributes:
        allow_unknown: admit stations that are not registered (registered on first connect,
            security profile 1, no password check); for labs and demos only. Off: unknown
            stations are refused during the handshake (AQ-6).
        default_registration: the BootNotification answer for stations without their own
            policy (AQ-1).
        heartbeat_interval: the `interval` an Accepted BootNotification gets, in seconds.
        pending_retry_interval: the `interval` a Pending or Rejected one gets.
        onboarding: hold new stations Pending until their FullInventory report has arrived
            (AQ-2, C-50.1).
    """

    allow_unknown: bool = False
    default_registration: RegistrationStatus = "Accepted"
    heartbeat_interval: int = 300
    pending_retry_interval: int = 30
    onboarding: bool = False


class ApiConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """The operator HTTP API (and /metrics)."""

    host: str = "127.0.0.1"
    port: int = 8080
    token: str | None = None


class StoreConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Where state is kept: `sqlite:///path` (default) or, later, `postgresql://...`."""

    url: str = "sqlite:///trio-csms.db"


class CaConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """The certificate authority that signs station CSRs (SignCertificate, A02/A03).

    Attributes:
        directory: holds `ca.pem` and `ca.key` (`trio-csms ca init` creates them; an external
            CA's certificate and key in PEM work too). None: CSRs are answered Rejected.
    """

    directory: str | None = None


class LogConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


class Config(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    ocpp: OcppConfig = msgspec.field(default_factory=OcppConfig)
    stations: StationsConfig = msgspec.field(default_factory=StationsConfig)
    api: ApiConfig = msgspec.field(default_factory=ApiConfig)
    store: StoreConfig = msgspec.field(default_factory=StoreConfig)
    ca: CaConfig = msgspec.field(default_factory=CaConfig)
    log: LogConfig = msgspec.field(default_factory=LogConfig)


class ConfigError(ValueError):
    """The configuration is invalid; the message says which setting and why."""


ENV_PREFIX = "TRIO_CSMS_"


def load_config(
    path: str | Path | None = None,
    *,
    environ: Mapping[str, str] = os.environ,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
) -> Config:
    """Build the configuration from a TOML file, the environment and explicit overrides.

    Args:
        path: a TOML file, or None for defaults only.
        environ: where `TRIO_CSMS_<SECTION>_<KEY>` variables are read from.
        overrides: {section: {key: value}} applied last (the command-line flags).

    Raises:
        ConfigError: unreadable file, unknown section or key, or a value of the wrong type.
    """
    raw: dict[str, dict[str, Any]] = {}
    if path is not None:
        try:
            raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"cannot read config file {path}: {exc}") from None
    sections = {f.encode_name: f.type for f in msgspec.structs.fields(Config)}
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or name == ENV_PREFIX + "NATIVE":
            continue
        section, _, key = name[len(ENV_PREFIX) :].lower().partition("_")
        if section not in sections or not key:
            continue  # other TRIO_CSMS_* variables (e.g. TRIO_CSMS_API_TOKEN) are read elsewhere
        raw.setdefault(section, {})[key] = _from_env(value)
    for section, values in (overrides or {}).items():
        raw.setdefault(section, {}).update({k: v for k, v in values.items() if v is not None})
    try:
        return msgspec.convert(raw, Config, strict=False)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"invalid configuration: {exc}") from None


def _from_env(value: str) -> Any:
    """Environment values are strings; TOML syntax lets them carry numbers, booleans, lists."""
    try:
        return tomllib.loads(f"v = {value}")["v"]
    except tomllib.TOMLDecodeError:
        return value
