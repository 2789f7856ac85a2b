"""The `trio-csms` command line, called in-process."""

from __future__ import annotations

from pathlib import Path

import pytest

from trio_csms.cli import main


def test_ca_init_creates_a_ca_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    directory = tmp_path / "ca"
    assert main(["ca", "init", "--directory", str(directory)]) == 0
    assert (directory / "ca.pem").exists() and (directory / "ca.key").exists()
    assert main(["ca", "init", "--directory", str(directory)]) == 1  # never replaced
    assert "refusing to replace" in capsys.readouterr().err


def test_serve_refuses_a_missing_ca_with_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRIO_CSMS_CA_DIRECTORY", str(tmp_path / "nowhere"))
    assert main(["--db", f"sqlite:///{tmp_path / 'x.db'}", "serve", "--ocpp-port", "0"]) == 2
    assert "cannot load the CA" in capsys.readouterr().err


def test_unknown_config_key_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "csms.toml"
    config.write_text("[ocpp]\nprot = 9000\n")
    assert main(["--config", str(config), "serve"]) == 2
    assert "prot" in capsys.readouterr().err


def test_stations_add_registers_with_a_generated_password(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = f"sqlite:///{tmp_path / 'x.db'}"
    assert main(["--db", db, "stations", "add", "CS1"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("registered CS1 with password ")
    assert main(["--db", db, "stations", "add", "CS1", "--password", "short"]) == 2


def test_check_runs_the_smoke_check(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check"]) == 0
    assert capsys.readouterr().out.startswith("ok: BootNotification round trip")
