"""Issue #4: the OpenAPI document is true. Schemathesis reads it from a running server
(`GET /api/v1/openapi.json`), generates valid and invalid requests for every operation and
checks each answer against it: status codes, response bodies, valid input accepted, invalid
input refused. Deterministic and bounded: settings in schemathesis.toml beside this file.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import trio
from conformance.lab import open_lab

HERE = Path(__file__).parent
#: The whole lab (server start, schemathesis, stop); the run itself takes 35-60 s on 2 cores.
SECONDS = 240


async def test_openapi_document_holds_under_schemathesis(tmp_path: Path) -> None:
    async with open_lab(tmp_path, seconds=SECONDS) as lab:
        command = [
            str(Path(sys.executable).with_name("schemathesis")),
            "--config-file",
            str(HERE / "schemathesis.toml"),
            "run",
            f"http://127.0.0.1:{lab.api.port}/api/v1/openapi.json",
            "--header",
            f"Authorization: Bearer {lab.api.token}",
            "--no-color",
        ]
        env = {**os.environ, "SCHEMATHESIS_HOOKS": str(HERE / "schemathesis_hooks.py")}
        result = await trio.run_process(
            command,
            cwd=tmp_path,
            env=env,
            check=False,
            capture_stdout=True,
            stderr=subprocess.STDOUT,
        )
        output = result.stdout.decode(errors="replace")
        assert result.returncode == 0, output
