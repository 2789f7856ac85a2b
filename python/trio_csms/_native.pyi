"""Type stub for `trio_csms._native` (rust/src/lib.rs): the Rust half of `trio_csms.rpc.frames`,
`trio_csms.ws.frames` and `trio_csms.ws.sysio`.

The pure-Python twins are `trio_csms.rpc._frames_py`, `trio_csms.ws._frames_py` and the `os`
functions in `trio_csms.ws.sysio`; each has these signatures and identical behaviour.
"""

from typing import Final, Literal

__all__ = [
    "ACTIONS",
    "FrameReader",
    "build_call",
    "build_error",
    "build_profile",
    "build_result",
    "parse_frame",
    "read_nonblocking",
    "write_nonblocking",
]

ACTIONS: Final[tuple[str, ...]]
"""The 64 OCPP 2.0.1 Action names in sorted order; a CALL's action is an index into it."""

build_profile: Final[Literal["release", "debug"]]
"""How the extension was compiled; benchmarks refuse to time a debug build."""

def parse_frame(data: bytes) -> tuple[int, str, int | str | None, int, int, str | None]: ...
def build_call(message_id: str, action: str, payload: bytes) -> bytes: ...
def build_result(message_id: str, payload: bytes) -> bytes: ...
def build_error(message_id: str, code: str, description: str, details: bytes) -> bytes: ...
def read_nonblocking(fd: int, size: int) -> bytes | None: ...
def write_nonblocking(fd: int, data: bytes, offset: int) -> int | None: ...

class FrameReader:
    """See `trio_csms.ws.frames`."""

    def __init__(self, max_message_size: int, masked: bool = True) -> None: ...
    def feed(self, data: bytes) -> list[tuple[int, bytes] | tuple[int, int | None, str]]: ...
    @property
    def finished(self) -> bool: ...
