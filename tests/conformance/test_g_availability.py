"""Block G, Availability: the Core test cases TC_G_xx_CSMS (catalogue section 1.G).

The tester makes the CSMS send ChangeAvailability through the operator API (POST
/api/v1/stations/{id}/call/ChangeAvailability); the tool's station checks the request's
operationalStatus and evse/connectorId, answers (Accepted, or Scheduled while a transaction
runs there), and reports its connectors' new state. Each case checks the connector states the
CSMS then shows (GET /api/v1/stations/{id}). The station has more connectors than the one the
case is about (EVSE 1 with connectors 1 and 2, EVSE 2 with connector 1; the configured EVSE and
connector are 1 and 1), so a change that leaked to another EVSE or connector would show.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
from conformance import states
from conformance.lab import Lab, open_lab
from conformance.states import Transaction

from trio_csms.messages import (
    ChangeAvailabilityRequest,
    ChangeAvailabilityResponse,
    ChangeAvailabilityStatusEnumType,
    ComponentType,
    EventDataType,
    EventNotificationEnumType,
    EventTriggerEnumType,
    EVSEType,
    NotifyEventRequest,
    NotifyEventResponse,
    OperationalStatusEnumType,
    VariableType,
)
from trio_csms.sim import SimStation

WAIT = 5  # seconds the tool waits for a CALL of the CSMS
Connector = tuple[int, int]
CONNECTORS: tuple[Connector, ...] = ((1, 1), (1, 2), (2, 1))
SCHEDULED = ChangeAvailabilityStatusEnumType.Scheduled


# --- helpers -------------------------------------------------------------------------------


async def connector_statuses(lab: Lab) -> dict[Connector, str]:
    """The connector statuses the CSMS shows for the station, by (evse id, connector id)."""
    view = await lab.get_json(f"/stations/{lab.station_id}")
    return {
        (evse["evseId"], connector["connectorId"]): connector["status"]
        for evse in view["evses"]
        for connector in evse["connectors"]
    }


async def assert_statuses(lab: Lab, status: str, connectors: tuple[Connector, ...]) -> None:
    """The CSMS shows `status` for `connectors` and Available for every other one."""
    expected = {c: status if c in connectors else "Available" for c in CONNECTORS}
    assert await connector_statuses(lab) == expected


async def booted(station: SimStation) -> None:
    await states.booted(station, CONNECTORS)


def of_evse(evse_id: int) -> tuple[Connector, ...]:
    return tuple(connector for connector in CONNECTORS if connector[0] == evse_id)


async def change_availability(
    lab: Lab,
    station: SimStation,
    status: str,
    evse: dict[str, int] | None,
    *,
    answer: ChangeAvailabilityStatusEnumType = ChangeAvailabilityStatusEnumType.Accepted,
) -> None:
    """Tester: make the CSMS send ChangeAvailability; the station answers `answer`.

    Checks what the tool validates at step 1: operationalStatus, and evse.id and
    evse.connectorId exactly as asked (absent when not asked: station- or EVSE-wide).
    """
    response = ChangeAvailabilityResponse(status=answer)
    station.handle(ChangeAvailabilityRequest, lambda _: response)
    payload: dict[str, Any] = {"operationalStatus": status}
    if evse is not None:
        payload["evse"] = evse
    assert await lab.call_ok("ChangeAvailability", payload) == {"status": answer.value}
    received = await station.next_csms_call("ChangeAvailability", timeout=WAIT)
    request = received.request
    assert isinstance(request, ChangeAvailabilityRequest), received
    assert request.operational_status is OperationalStatusEnumType(status)
    if evse is None:
        assert request.evse is msgspec.UNSET, request
    else:
        assert isinstance(request.evse, EVSEType), request
        assert request.evse.id == evse["id"]
        assert request.evse.connector_id == evse.get("connectorId", msgspec.UNSET)


async def report(station: SimStation, connectors: tuple[Connector, ...], status: str) -> None:
    """The station reports each connector's state (StatusNotification and NotifyEvent)."""
    for evse_id, connector_id in connectors:
        await station.report_connector(evse_id, connector_id, status)


async def report_evse(station: SimStation, evse_id: int, status: str) -> None:
    """The EVSE-level AvailabilityState Part 6 lets the station add (component EVSE)."""
    now = datetime.now(UTC)
    event = EventDataType(
        event_id=900 + evse_id,
        timestamp=now,
        trigger=EventTriggerEnumType.Delta,
        actual_value=status,
        component=ComponentType(name="EVSE", evse=EVSEType(id=evse_id)),
        variable=VariableType(name="AvailabilityState"),
        event_notification_type=EventNotificationEnumType.HardWiredNotification,
    )
    request = NotifyEventRequest(generated_at=now, seq_no=0, event_data=[event])
    await station.call(request, NotifyEventResponse)


async def unavailable(lab: Lab, station: SimStation, evse: dict[str, int] | None) -> None:
    """Reusable state Unavailable (or its station/connector form): Inoperative, Accepted,
    then the affected connectors reported Unavailable."""
    await change_availability(lab, station, "Inoperative", evse)
    await report(station, affected(evse), "Unavailable")
    await assert_statuses(lab, "Unavailable", affected(evse))


def affected(evse: dict[str, int] | None) -> tuple[Connector, ...]:
    """The connectors a ChangeAvailability for `evse` (None: the station) is about."""
    if evse is None:
        return CONNECTORS
    if "connectorId" in evse:
        return ((evse["id"], evse["connectorId"]),)
    return of_evse(evse["id"])


async def operative_again(lab: Lab, station: SimStation, evse: dict[str, int] | None) -> None:
    """Operative, Accepted, the affected connectors reported Available: all Available."""
    await change_availability(lab, station, "Operative", evse)
    await report(station, affected(evse), "Available")
    await assert_statuses(lab, "Available", ())


async def while_charging(
    lab: Lab, station: SimStation, evse: dict[str, int] | None
) -> tuple[Transaction, tuple[Connector, ...]]:
    """Before: EnergyTransferStarted on (1, 1). Inoperative answered Scheduled; affected
    connectors of the other, idle EVSEs go Unavailable at once, while the busy EVSE keeps
    its state until the session ends (an EVSE changes as a whole)."""
    tx = Transaction("G-TX")
    await states.energy_transfer_started(station, tx, lab.tokens)
    await change_availability(lab, station, "Inoperative", evse, answer=SCHEDULED)
    idle = tuple(connector for connector in affected(evse) if connector[0] != tx.evse_id)
    await report(station, idle, "Unavailable")
    expected = {connector: "Available" for connector in CONNECTORS}
    expected.update({connector: "Unavailable" for connector in idle})
    expected[(tx.evse_id, tx.connector_id)] = "Occupied"
    assert await connector_statuses(lab) == expected
    return tx, idle


async def session_ends_then_unavailable(
    lab: Lab, station: SimStation, tx: Transaction, evse: dict[str, int] | None
) -> None:
    """After the transaction duration: StopAuthorized, EVConnectedPostSession,
    EVDisconnected; then the scheduled change happens and the connector is reported
    Unavailable. The CSMS answers all, shows the transaction ended and the connectors of
    the request Unavailable (post-scenario: a report was answered for every connector)."""
    await states.stop_authorized(station, tx, lab.tokens)
    await states.ev_connected_post_session(station, tx)
    await states.ev_disconnected(station, tx)
    scheduled = tuple(connector for connector in affected(evse) if connector[0] == tx.evse_id)
    await report(station, scheduled, "Unavailable")
    view = await lab.get_json(f"/transactions/{lab.station_id}/{tx.transaction_id}")
    assert view["active"] is False and view["stoppedReason"] == "EVDisconnected", view
    await assert_statuses(lab, "Unavailable", affected(evse))


# --- G03: EVSE -----------------------------------------------------------------------------


async def test_tc_g_03_csms(tmp_path: Path) -> None:
    """Change Availability EVSE - Operative to inoperative.

    Reusable state Unavailable for the configured EVSE: ChangeAvailabilityRequest
    operationalStatus Inoperative, evse.id = the EVSE, no connectorId; the station answers
    Accepted and reports the EVSE's connectors Unavailable. The CSMS shows exactly those
    connectors Unavailable.
    """
    async with open_lab(tmp_path) as lab, lab.station() as station:
        await booted(station)
        await unavailable(lab, station, {"id": 1})


async def test_tc_g_04_csms(tmp_path: Path) -> None:
    """Change Availability EVSE - Inoperative to operative.

    Memory state: the configured EVSE Unavailable (made so as in TC_G_03). The tool
    validates ChangeAvailabilityRequest operationalStatus Operative, evse.id = the EVSE, no
    connectorId; the station answers Accepted and reports the EVSE's connectors Available,
    and (Part 6 allows it) the EVSE itself with component EVSE. The CSMS answers all and
    shows every connector Available again.
    """
    async with open_lab(tmp_path) as lab, lab.station() as station:
        await booted(station)
        await unavailable(lab, station, {"id": 1})
        await change_availability(lab, station, "Operative", {"id": 1})
        await report(station, of_evse(1), "Available")
        await report_evse(station, 1, "Available")
        await assert_statuses(lab, "Available", ())


# --- G04: charging station -----------------------------------------------------------------


async def test_tc_g_05_csms(tmp_path: Path) -> None:
    """Change Availability Charging Station - Operative to inoperative.

    The tool validates ChangeAvailabilityRequest operationalStatus Inoperative with no evse
    at all; the station answers Accepted and reports all its connectors Unavailable, which
    the CSMS shows.
    """
    async with open_lab(tmp_path) as lab, lab.station() as station:
        await booted(station)
        await unavailable(lab, station, None)


async def test_tc_g_06_csms(tmp_path: Path) -> None:
    """Change Availability Charging Station - Inoperative to operative.

    Before: the station set Unavailable (as in TC_G_05). Part 6's manual action says
    "change the availability of the Charging Station to Inoperative", but its title, its
    flow (the station then reports Available) and its tool validation (operationalStatus
    Operative) all say Operative, and the errata 2025-01 do not touch this case; this test
    follows the validation: ChangeAvailabilityRequest Operative with no evse; the station
    answers Accepted and reports all connectors Available, which the CSMS shows.
    """
    async with open_lab(tmp_path) as lab, lab.station() as station:
        await booted(station)
        await unavailable(lab, station, None)
        await operative_again(lab, station, None)


# --- G03: connector ------------------------------------------------------------------------


async def test_tc_g_07_csms(tmp_path: Path) -> None:
    """Change Availability Connector - Operative to inoperative.

    The tool validates ChangeAvailabilityRequest operationalStatus Inoperative with evse.id
    and evse.connectorId = the configured ones; the station answers Accepted and reports
    that connector Unavailable. The CSMS shows only that connector Unavailable (the other
    connector of the same EVSE stays Available).
    """
    async with open_lab(tmp_path) as lab, lab.station() as station:
        await booted(station)
        await unavailable(lab, station, {"id": 1, "connectorId": 1})


async def test_tc_g_08_csms(tmp_path: Path) -> None:
    """Change Availability Connector - Inoperative to operative.

    Memory state: the configured connector Unavailable (as in TC_G_07). The tool validates
    ChangeAvailabilityRequest Operative with evse.id and evse.connectorId; the station
    answers Accepted and reports the connector Available, which the CSMS shows.
    """
    async with open_lab(tmp_path) as lab, lab.station() as station:
        await booted(station)
        await unavailable(lab, station, {"id": 1, "connectorId": 1})
        await operative_again(lab, station, {"id": 1, "connectorId": 1})


# --- with an ongoing transaction -----------------------------------------------------------


async def test_tc_g_11_csms(tmp_path: Path) -> None:
    """Change Availability EVSE - With ongoing transaction.

    Before: EnergyTransferStarted on the configured EVSE. The tool validates
    ChangeAvailabilityRequest Inoperative, evse.id, no connectorId; the station answers
    Scheduled, ends the session (StopAuthorized, EVConnectedPostSession, EVDisconnected)
    and then reports all the EVSE's connectors Unavailable. The CSMS answers everything and
    ends with the EVSE's connectors Unavailable and EVSE 2 Available.
    """
    async with open_lab(tmp_path) as lab, lab.station() as station:
        await booted(station)
        tx, idle = await while_charging(lab, station, {"id": 1})
        assert idle == ()
        await session_ends_then_unavailable(lab, station, tx, {"id": 1})


async def test_tc_g_14_csms(tmp_path: Path) -> None:
    """Change Availability Charging Station - With ongoing transaction.

    Before: EnergyTransferStarted. The tool validates ChangeAvailabilityRequest Inoperative
    with no evse; the station answers Scheduled, reports the connectors of its idle EVSE
    Unavailable at once, and those of the busy EVSE after the session has ended. The CSMS
    shows the staggered states: first the busy connector Occupied and the idle EVSE
    Unavailable, at the end every connector Unavailable.
    """
    async with open_lab(tmp_path) as lab, lab.station() as station:
        await booted(station)
        tx, idle = await while_charging(lab, station, None)
        assert idle == ((2, 1),)
        await session_ends_then_unavailable(lab, station, tx, None)


async def test_tc_g_17_csms(tmp_path: Path) -> None:
    """Change Availability Connector - With ongoing transaction.

    Before: EnergyTransferStarted on the configured connector. The tool validates
    ChangeAvailabilityRequest Inoperative with evse.id and evse.connectorId; the station
    answers Scheduled, ends the session and reports the connector Unavailable. The CSMS ends
    with only that connector Unavailable.
    """
    async with open_lab(tmp_path) as lab, lab.station() as station:
        await booted(station)
        tx, idle = await while_charging(lab, station, {"id": 1, "connectorId": 1})
        assert idle == ()
        await session_ends_then_unavailable(lab, station, tx, {"id": 1, "connectorId": 1})


# --- G05: lock failure ---------------------------------------------------------------------


async def test_tc_g_20_csms(tmp_path: Path) -> None:
    """Connector status Notification - Lock Failure.

    The station sends NotifyEventRequest: trigger Delta, component
    ConnectorPlugRetentionLock (of the configured connector), variable Problem, actualValue
    "true" (G05.FR.03). The CSMS must answer with a NotifyEventResponse, whose payload is
    empty; the event is no AvailabilityState, so the connector's state stays as it was.
    """
    async with open_lab(tmp_path) as lab, lab.station() as station:
        await booted(station)
        now = datetime.now(UTC)
        event = EventDataType(
            event_id=20,
            timestamp=now,
            trigger=EventTriggerEnumType.Delta,
            actual_value="true",
            component=ComponentType(
                name="ConnectorPlugRetentionLock", evse=EVSEType(id=1, connector_id=1)
            ),
            variable=VariableType(name="Problem"),
            event_notification_type=EventNotificationEnumType.HardWiredNotification,
        )
        request = NotifyEventRequest(generated_at=now, seq_no=0, event_data=[event])
        await station.call(request, NotifyEventResponse)
        answer = station.frames[-1]
        assert answer.direction == "received"
        assert msgspec.json.decode(answer.text)[2] == {}, answer.text
        await assert_statuses(lab, "Available", ())
