"""Block A, Security: the Core test cases TC_A_xx_CSMS (catalogue section 1.A)."""

from __future__ import annotations

from pathlib import Path

from conformance import states
from conformance.lab import open_lab


async def test_tc_a_01_csms(tmp_path: Path) -> None:
    """Basic Authentication - valid username/password: upgraded, Booted (Accepted)."""
    async with open_lab(tmp_path) as lab, lab.station() as station:
        await states.booted(station)
