"""The conformance oracle itself: it must catch what the test tool would catch."""

from __future__ import annotations

import json

from conformance.oracle import check_frames

from trio_csms.sim import FrameRecord


def frames(*pairs: tuple[str, object]) -> list[FrameRecord]:
    return [FrameRecord(direction, json.dumps(frame), 0.0, 0.0) for direction, frame in pairs]  # type: ignore[arg-type]


BOOT = {
    "chargingStation": {"model": "M", "vendorName": "V"},
    "reason": "PowerUp",
}


def test_valid_exchange_passes() -> None:
    log = frames(
        ("sent", [2, "1", "BootNotification", BOOT]),
        (
            "received",
            [
                3,
                "1",
                {"currentTime": "2026-01-01T00:00:00Z", "interval": 300, "status": "Accepted"},
            ],
        ),
        ("received", [2, "a", "Reset", {"type": "Immediate"}]),
        ("sent", [3, "a", {"status": "Accepted"}]),
    )
    assert check_frames(log) == []


def test_schema_violations_are_found() -> None:
    log = frames(
        ("sent", [2, "1", "BootNotification", BOOT]),
        ("received", [3, "1", {"currentTime": "yesterday", "status": "Accepted"}]),
        ("received", [2, "a", "Reset", {"type": "Soon"}]),
    )
    problems = "\n".join(check_frames(log))
    assert "'interval' is a required property" in problems
    assert "'yesterday' is not a 'date-time'" in problems
    assert "'Soon' is not one of" in problems


def test_framing_problems_are_found() -> None:
    log = frames(
        ("received", [3, "nobody-asked", {}]),
        ("received", [2, "b", "NoSuchAction", {}]),
        ("received", [4, "c", "Oops", "", {}]),
        ("received", {"not": "a frame"}),
    )
    problems = check_frames(log)
    assert len(problems) == 4, problems
    assert check_frames([FrameRecord("received", "{not json", 0.0, 0.0)]) == [
        "not JSON: '{not json'"
    ]
