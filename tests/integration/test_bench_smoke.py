"""`bench/run.py --smoke`: the benchmark suite runs end to end at tiny sizes and writes every
section of RESULTS.md. A check that the driver works, not a benchmark: no figure is compared
with a target here (the figures of a loaded CI machine mean nothing)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import trio

BENCH = Path(__file__).resolve().parents[2] / "bench" / "run.py"


async def test_the_suite_runs_and_writes_every_section(tmp_path: Path) -> None:
    output = tmp_path / "RESULTS.md"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    with trio.fail_after(300):
        result = await trio.run_process(
            [sys.executable, str(BENCH), "--smoke", "--repeats", "1", "--output", str(output)],
            capture_stdout=True,
            capture_stderr=True,
            check=False,
            env=env,
        )
    stderr = result.stderr.decode()
    assert result.returncode == 0, stderr
    text = output.read_text()
    for heading in (
        "## Machine",
        "## Targets (issue 6)",
        "## Throughput",
        "## Latency at fixed rates, 30 stations connected",
        "## The lab's table",
        "## Scale: 60 stations held connected",
        "## Boot storm: 40 stations at once",
    ):
        assert heading in text, heading
    for kind in ("trio-csms", "trio-csms, pure-Python codecs", "ocpp library"):
        assert f"| session | {kind} |" in text
    assert "trio-csms / `ocpp` library = **" in text
    assert "| stations connected / Accepted (simulators) | 60 / 60 |" in text
    assert "Accepted per run: 40 of 40" in text
    assert "| Authorize | " in text
    assert "Traceback" not in stderr
    # The report names the options it ran with, so the command it shows reproduces it.
    assert "Written by `.venv/bin/python bench/run.py --smoke --repeats 1` on " in text
    # Throughput: one warm-up window is run and left out of the figures.
    assert "runs 1 s unmeasured" in text
    assert "--closed-loop --connect-timeout 60 --until-steady-for 1.0 --windows 2 " in text
    session = next(line for line in text.splitlines() if line.startswith("| session | trio-csms |"))
    assert len(session.split(" | ")[3].split(", ")) == 1  # one measured window, not two
