"""The README's "Simulated stations" demo works as written, against a real `trio-csms serve`.

Its ```sh block runs with bash in the server's working directory, with the ports rewritten to
free ones, `.venv/bin/trio-csms` to this interpreter, and the 15 s session run cut to 4 s.
Needs `curl`; skipped only if it is absent.
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

README = Path(__file__).resolve().parents[2] / "README.md"

pytestmark = pytest.mark.skipif(
    shutil.which("curl") is None, reason="curl is not installed; the README demo needs it"
)


def demo_block() -> str:
    text = README.read_text(encoding="utf-8")
    section = text.split("### Simulated stations", 1)[1].split("\n### ", 1)[0]
    (block,) = re.findall(r"```sh\n(.*?)```", section, re.DOTALL)
    return str(block)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def listening(port: int) -> bool:
    try:
        stream = await trio.open_tcp_stream("127.0.0.1", port)
    except OSError:
        return False
    await stream.aclose()
    return True


async def test_the_simulate_demo_charges_three_stations(tmp_path: Path) -> None:
    api_port, ocpp_port = free_port(), free_port()
    env = {
        **os.environ,
        "TRIO_CSMS_API_PORT": str(api_port),
        "TRIO_CSMS_OCPP_PORT": str(ocpp_port),
        "TRIO_CSMS_OCPP_HOST": "127.0.0.1",
        "PYTHONPATH": os.pathsep.join(sys.path),
    }
    env.pop("TRIO_CSMS_API_TOKEN", None)
    script = demo_block()
    assert "--duration 15" in script
    script = (
        script.replace("localhost:8080", f"localhost:{api_port}")
        .replace("localhost:9000", f"127.0.0.1:{ocpp_port}")
        .replace(".venv/bin/trio-csms", f"{sys.executable} -m trio_csms.cli")
        .replace("--duration 15", "--duration 4")
    )
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
        with trio.fail_after(90):
            while not (tmp_path / "api-token").exists() or not await listening(api_port):
                assert server.poll() is None, log_path.read_text()
                await trio.sleep(0.05)
            result = await trio.run_process(
                ["bash", "-c", "set -euo pipefail\n" + script],
                cwd=tmp_path,
                env=env,
                capture_stdout=True,
                capture_stderr=True,
                check=False,
            )
    finally:
        with trio.CancelScope(shield=True):
            server.send_signal(signal.SIGTERM)
            with trio.move_on_after(10):
                await server.wait()
            if server.poll() is None:
                server.kill()
                await server.wait()
    output = result.stdout.decode()
    assert result.returncode == 0, result.stderr.decode() + output
    assert "3 stations (SIM00001..SIM00003), scenario session" in output
    assert "boot storm: all 3 Accepted" in output
    assert re.search(r"Authorize answers: Accepted \d+\n", output), output
    assert "errors 0" in output
    assert '"transactions":[{"transactionId"' in output
