"""The README's Operator API curl examples work as written, against a real `trio-csms serve`.

Each ```sh block of the "### Operator API" section runs with bash (in the server's working
directory, where `api-token` is written), `localhost:8080` rewritten to the chosen free port;
variables assigned in earlier blocks (`TOKEN=...`) carry over. Each `# -> EXPECTED` line states
the output: its parts between `...` must appear in order. A simulated station is connected and
booted before the Reset block. Needs `curl`; skipped (nothing installed) only if it is absent.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import trio

from trio_csms.sim import open_station

README = Path(__file__).resolve().parents[2] / "README.md"
PASSWORD = "Correct-Horse-Battery-1"  # the one the README registers CS001 with

pytestmark = pytest.mark.skipif(
    shutil.which("curl") is None, reason="curl is not installed; the README examples need it"
)


def operator_blocks() -> list[str]:
    text = README.read_text(encoding="utf-8")
    section = text.split("### Operator API", 1)[1].split("\n### ", 1)[0]
    return re.findall(r"```sh\n(.*?)```", section, re.DOTALL)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def expectations(block: str) -> list[str]:
    return [line.removeprefix("# -> ") for line in block.splitlines() if line.startswith("# -> ")]


def assert_output(output: str, expected: str) -> None:
    position = 0
    for part in expected.split("..."):
        found = output.find(part, position)
        assert found >= 0, f"{part!r} not in the output {output!r}"
        position = found + len(part)


def test_the_section_has_the_promised_examples() -> None:
    blocks = operator_blocks()
    text = "\n".join(blocks)
    assert "TOKEN=$(cat api-token)" in text
    assert "-X PUT http://localhost:8080/api/v1/stations/CS001" in text
    assert "curl -fsS http://localhost:8080/api/v1/stations " in text
    assert "/api/v1/stations:import" in text
    assert "/call/Reset" in text
    assert all(expectations(block) for block in blocks)


async def test_readme_curl_examples_work_as_written(tmp_path: Path) -> None:
    blocks = operator_blocks()
    api_port, ocpp_port = free_port(), free_port()
    env = {
        **os.environ,
        "TRIO_CSMS_API_PORT": str(api_port),
        "TRIO_CSMS_OCPP_PORT": str(ocpp_port),
        "TRIO_CSMS_OCPP_HOST": "127.0.0.1",
        "PYTHONPATH": os.pathsep.join(sys.path),
    }
    env.pop("TRIO_CSMS_API_TOKEN", None)
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        server = await trio.lowlevel.open_process(
            [sys.executable, "-m", "trio_csms.cli", "serve"],
            cwd=tmp_path,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        with trio.fail_after(60):
            while not (tmp_path / "api-token").exists() or not await _listening(api_port):
                assert server.poll() is None, log_path.read_text()
                await trio.sleep(0.05)
            assignments: list[str] = []
            for block in blocks:
                script = block.replace("localhost:8080", f"localhost:{api_port}")
                script = script.replace("localhost:9000", f"localhost:{ocpp_port}")
                if "/call/" in block:
                    url = f"ws://127.0.0.1:{ocpp_port}/ocpp"
                    async with open_station(url, "CS001", password=PASSWORD) as station:
                        assert (await station.boot()).status.value == "Accepted"
                        output = await _bash(assignments, script, tmp_path)
                else:
                    output = await _bash(assignments, script, tmp_path)
                for expected in expectations(block):
                    assert_output(output, expected)
                assignments += [line for line in block.splitlines() if re.match(r"^[A-Z_]+=", line)]
    finally:
        with trio.CancelScope(shield=True):
            server.send_signal(signal.SIGTERM)
            with trio.move_on_after(10):
                await server.wait()
            if server.poll() is None:
                server.kill()
                await server.wait()


async def _listening(port: int) -> bool:
    try:
        stream = await trio.open_tcp_stream("127.0.0.1", port)
    except OSError:
        return False
    await stream.aclose()
    return True


async def _bash(assignments: list[str], script: str, cwd: Path) -> str:
    source = "set -euo pipefail\n" + "\n".join(assignments) + "\n" + script
    result = await trio.run_process(
        ["bash", "-c", source], cwd=cwd, capture_stdout=True, capture_stderr=True, check=False
    )
    stdout: str = result.stdout.decode()
    assert result.returncode == 0, f"{script}\nfailed: {result.stderr.decode()}{stdout}"
    return stdout
