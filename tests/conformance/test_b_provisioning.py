"""Block B, Provisioning: the Core test cases TC_B_xx_CSMS (catalogue section 1.B)."""

from __future__ import annotations

from pathlib import Path

from conformance import states
from conformance.lab import open_lab

from trio_csms.messages import RegistrationStatusEnumType


async def test_tc_b_01_csms(tmp_path: Path) -> None:
    """Cold Boot - Accepted: Booted; the answer has currentTime and a positive interval."""
    async with open_lab(tmp_path) as lab, lab.station() as station:
        response = await states.booted(station)
        assert response.status is RegistrationStatusEnumType.Accepted
        assert response.interval > 0
        station_view = await lab.get_json(f"/stations/{lab.station_id}")
        assert station_view["registrationStatus"] == "Accepted"
