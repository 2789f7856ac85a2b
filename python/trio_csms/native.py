"""Whether this process uses the Rust codecs (`trio_csms._native`) or their pure-Python twins.

Both the OCPP-J frame codec (`rpc.frames`) and the websocket frame codec (`ws.frames`) come in
the two implementations; `TRIO_CSMS_NATIVE=0` picks Python for both, so the benchmarks can
compare the paths and a platform without a Rust build still runs.
"""

from __future__ import annotations

import os
from typing import Final

USE_PYTHON: Final = os.environ.get("TRIO_CSMS_NATIVE") == "0"


def not_built(exc: ImportError) -> ImportError:
    """The error for a missing or unloadable extension, saying how to build it or avoid it."""
    return ImportError(
        "trio_csms._native (the Rust codecs) is not built or cannot be loaded: "
        f"{exc}. Build it with `maturin develop --release` (or `pip install .`), "
        "or set TRIO_CSMS_NATIVE=0 to use the pure-Python implementation."
    )
