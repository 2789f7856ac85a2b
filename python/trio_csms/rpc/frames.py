"""The OCPP-J frame codec (Part 4 §4): parse one WebSocket text frame, build the three kinds.

Two implementations with identical behaviour sit behind this module: the Rust extension
`trio_csms._native` (the default) and the pure-Python `trio_csms.rpc._frames_py`, used when
the environment variable `TRIO_CSMS_NATIVE` is `0`. The choice is made once, at import. If the
extension is wanted but can't be imported this module fails to import rather than silently
running the slow path: build it with `maturin develop --release`, or opt out explicitly.

Knows nothing about message schemas, sockets or Trio: a payload is checked to be a
well-formed JSON object and handed back as a byte range for the caller to decode.

`parse_frame(data: bytes) -> FrameTuple` never raises for `bytes` input. It scans left to
right and the first fault decides the answer. The 6-tuple is one of:

- CALL (§4.2.1): `(2, message_id, action_index, payload_start, payload_end, None)`, where
  `action_index` indexes `ACTION_NAMES` (the order of `trio_csms.messages.ACTIONS`).
- CALLRESULT (§4.2.2): `(3, message_id, None, payload_start, payload_end, None)`.
- CALLERROR (§4.2.3): `(4, message_id, error_code, details_start, details_end,
  error_description)`; the code is passed through as sent.
- malformed: `(0, message_id, error_code, message_type, -1, description)`: the CALLERROR to
  answer with. `message_id` is `"-1"` when it could not be read (§4.2.3); `error_code` is an
  `ErrorCode` value; `message_type` is 2, 3 or 4 when the MessageTypeId was one of them, else 0.

Strings are unescaped. `start`/`end` are byte offsets into `data`: `data[start:end]` is the
payload (or errorDetails) object from its `{` to its `}`.

`build_call`, `build_result` and `build_error` write compact frames: strings escaped with the
short JSON escapes or `\\u00xx` for other control characters, everything else raw UTF-8; the
payload bytes are inserted as given. A string with a lone surrogate raises UnicodeEncodeError.
"""

from __future__ import annotations

from typing import Literal

from ..native import USE_PYTHON, not_built
from ._frames_py import FrameTuple

__all__ = [
    "ACTION_NAMES",
    "IMPLEMENTATION",
    "FrameTuple",
    "build_call",
    "build_error",
    "build_result",
    "parse_frame",
]

IMPLEMENTATION: Literal["rust", "python"]
"""Which implementation this process uses."""

if USE_PYTHON:
    from ._frames_py import ACTION_NAMES as ACTION_NAMES
    from ._frames_py import build_call as build_call
    from ._frames_py import build_error as build_error
    from ._frames_py import build_result as build_result
    from ._frames_py import parse_frame as parse_frame

    IMPLEMENTATION = "python"
else:
    try:
        from .._native import ACTIONS as ACTION_NAMES
        from .._native import build_call as build_call
        from .._native import build_error as build_error
        from .._native import build_result as build_result
        from .._native import parse_frame as parse_frame
    except ImportError as exc:
        raise not_built(exc) from exc

    IMPLEMENTATION = "rust"
