"""Suite-wide pytest hooks: the conformance report (`--conformance-report PATH`).

Here rather than in tests/conformance/ because with pytest-xdist only the controller sees
every item's outcome, and it loads just the top-level conftest.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conformance.report import Results, render


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--conformance-report",
        metavar="PATH",
        help="write the OCPP Core conformance report (CONFORMANCE.md) of this run to PATH",
    )


def pytest_configure(config: pytest.Config) -> None:
    path = config.getoption("--conformance-report")
    if path is not None and not hasattr(config, "workerinput"):
        config.pluginmanager.register(ConformanceReport(Path(path)), "conformance-report")


class ConformanceReport:
    """Collects every item's outcome (setup, call and teardown) and writes the report."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.results = Results()

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        # The call's outcome, plus any setup or teardown that did not pass.
        if report.when == "call" or report.outcome != "passed":
            self.results.add(report.nodeid.rsplit("::", 1)[-1], report.outcome)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        self.path.write_text(render(self.results), encoding="utf-8")
