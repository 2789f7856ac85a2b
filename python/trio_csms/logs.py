"""Structured logging: one JSON object per line, with the station and message id as fields.

The station connection sets `STATION` for its task tree and `MESSAGE_ID` while it handles a
CALL; Trio tasks inherit context variables, so every line logged on behalf of a station
(handlers included) carries them without each call site passing them. `extra={"station": ...}`
still works for lines logged elsewhere.
"""

from __future__ import annotations

import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime

import orjson

_FIELDS = ("station", "message_id", "action")

STATION: ContextVar[str | None] = ContextVar("trio_csms_station", default=None)
"""The station whose connection the current task serves."""
MESSAGE_ID: ContextVar[str | None] = ContextVar("trio_csms_message_id", default=None)
"""The MessageId of the station CALL being handled."""


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON line: ts, level, logger, msg, plus station/message_id."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        context = {"station": STATION.get(), "message_id": MESSAGE_ID.get()}
        for name in _FIELDS:
            value = record.__dict__.get(name) or context.get(name)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str).decode()


def configure(level: str) -> None:
    """Send trio-csms's logs to stderr as JSON lines at `level`."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # The JSON lines carry no thread or process fields: spare every record gathering them
    # (a few lines per station add up in a boot storm of thousands).
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
