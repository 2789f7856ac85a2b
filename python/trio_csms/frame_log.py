"""The last few OCPP-J frames of each station, both directions, for debugging.

Bounded twice: at most `size` frames per station (`ocpp.frame_log_size`; 0 turns it off) and
only for stations the CSMS knows. A frame is kept as the object already in hand (the received
str, the sent bytes), so recording costs an append, not a copy.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True, slots=True)
class LoggedFrame:
    """One frame: when (UTC), which way ("in": from the station), and its text."""

    timestamp: datetime
    direction: str
    frame: str


class FrameLog:
    """A ring of one station's most recent frames."""

    def __init__(self, size: int) -> None:
        self._frames: deque[tuple[float, str, str | bytes]] = deque(maxlen=size)

    def record(self, direction: str, frame: str | bytes) -> None:
        self._frames.append((time.time(), direction, frame))

    def recent(self, limit: int) -> list[LoggedFrame]:
        """The last `limit` frames, oldest first."""
        frames = list(self._frames)[-limit:] if limit > 0 else []
        return [
            LoggedFrame(
                datetime.fromtimestamp(at, UTC),
                direction,
                frame.decode("utf-8", "replace") if isinstance(frame, bytes) else frame,
            )
            for at, direction, frame in frames
        ]
