"""The README's embedding example runs as written (ports and lab mode set from the environment)."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest
import trio

from trio_csms.messages import ResetRequest, ResetResponse, ResetStatusEnumType
from trio_csms.sim import open_station

README = Path(__file__).resolve().parents[2] / "README.md"


def embedding_example() -> str:
    text = README.read_text(encoding="utf-8")
    section = text.split("### Embedding", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match is not None, "the Embedding section has no python example"
    return match.group(1)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def test_embedding_example_resets_a_booted_station(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = embedding_example()
    assert code.rstrip().endswith("trio.run(main)")
    namespace: dict[str, object] = {}
    exec(compile(code.rstrip().removesuffix("trio.run(main)"), "README.md", "exec"), namespace)
    ocpp_port, api_port = free_port(), free_port()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TRIO_CSMS_OCPP_HOST", "127.0.0.1")
    monkeypatch.setenv("TRIO_CSMS_OCPP_PORT", str(ocpp_port))
    monkeypatch.setenv("TRIO_CSMS_API_PORT", str(api_port))
    monkeypatch.setenv("TRIO_CSMS_STATIONS_ALLOW_UNKNOWN", "true")
    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(namespace["main"])  # type: ignore[arg-type]
            for _ in range(200):  # until the example is listening
                try:
                    await (await trio.open_tcp_stream("127.0.0.1", ocpp_port)).aclose()
                    break
                except OSError:
                    await trio.sleep(0.02)
            url = f"ws://127.0.0.1:{ocpp_port}/ocpp"
            answered = trio.Event()

            async def mark_answered() -> None:
                answered.set()

            async def reset(request: ResetRequest) -> ResetResponse:
                station.after_reply(mark_answered)  # hang up only once the answer is out
                return ResetResponse(status=ResetStatusEnumType.Accepted)

            async with open_station(url, "README1") as station:
                station.handle(ResetRequest, reset)
                await station.boot()
                await answered.wait()
            nursery.cancel_scope.cancel()
