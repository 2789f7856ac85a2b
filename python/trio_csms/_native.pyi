"""Type stub for `trio_csms._native`, the Rust half of `trio_csms.rpc.frames` (rust/src/lib.rs).

The pure-Python twin is `trio_csms.rpc._frames_py`; both have these signatures and identical
behaviour.
"""

from typing import Final, Literal

__all__ = ["ACTIONS", "build_call", "build_error", "build_profile", "build_result", "parse_frame"]

ACTIONS: Final[tuple[str, ...]]
"""The 64 OCPP 2.0.1 Action names in sorted order; a CALL's action is an index into it."""

build_profile: Final[Literal["release", "debug"]]
"""How the extension was compiled; benchmarks refuse to time a debug build."""

def parse_frame(data: bytes) -> tuple[int, str, int | str | None, int, int, str | None]: ...
def build_call(message_id: str, action: str, payload: bytes) -> bytes: ...
def build_result(message_id: str, payload: bytes) -> bytes: ...
def build_error(message_id: str, code: str, description: str, details: bytes) -> bytes: ...
