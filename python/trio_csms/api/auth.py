"""The operator API's bearer token: configured, or generated once and kept beside the database.

Order: config `api.token` (which the config loader also fills from `TRIO_CSMS_API_TOKEN`);
else the file `api-token` in the directory of the SQLite database (`sqlite:///path/x.db` ->
`path/api-token`; the working directory for any other store URL), created on first start with
mode 0600 and reused afterwards. The token itself is never logged, only where it is.
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from ..config import Config

log = logging.getLogger(__name__)

TOKEN_FILE = "api-token"
_SQLITE_FILE = "sqlite:///"


def token_path(store_url: str) -> Path:
    """Where the generated token is kept for a store URL."""
    if store_url.startswith(_SQLITE_FILE) and len(store_url) > len(_SQLITE_FILE):
        return Path(store_url.removeprefix(_SQLITE_FILE)).parent / TOKEN_FILE
    return Path(TOKEN_FILE)


def resolve_token(config: Config) -> str:
    """The API token: configured, or read from / generated into the token file (blocking I/O)."""
    if config.api.token:
        return config.api.token
    path = token_path(config.store.url)
    try:
        token = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        token = ""
    if token:
        log.info("operator API token: read from %s", path)
        return token
    token = secrets.token_urlsafe(32)
    path.parent.mkdir(parents=True, exist_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as file:
        file.write(token + "\n")
    os.chmod(path, 0o600)
    log.warning("operator API token generated and written to %s", path.resolve())
    return token
