"""The reusable states of Part 6 §3.18, played by the tool's station (catalogue section 0.3).

Each function drives the station into the state and checks what the CSMS must answer on the
way. The station keeps the transaction's seqNo itself (`SimStation.transaction_event`).
Defaults follow Part 6 §3.1: TxStartPoint "EVConnected,Authorized", TxStopPoint "EVConnected",
one EVSE (1) with one connector (1).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from conformance.lab import Tokens

from trio_csms.messages import (
    AuthorizationStatusEnumType,
    BootNotificationResponse,
    ChargingStateEnumType,
    IdTokenEnumType,
    IdTokenInfoType,
    IdTokenType,
    RegistrationStatusEnumType,
    TransactionEventResponse,
)
from trio_csms.sim import SimStation

EVSE_ID = 1
CONNECTOR_ID = 1


@dataclass
class Transaction:
    """The transaction the station runs in a test (its id, and what has happened so far)."""

    transaction_id: str
    evse_id: int = EVSE_ID
    connector_id: int = CONNECTOR_ID
    started: bool = False
    authorized: bool = False
    cable_plugged: bool = False
    responses: list[TransactionEventResponse] = field(default_factory=list)

    @property
    def event_type(self) -> str:
        """Started for the first TransactionEvent of the transaction, then Updated."""
        return "Updated" if self.started else "Started"


def id_token(tokens: Tokens, which: str = "valid") -> IdTokenType:
    """One of the tool's tokens as an IdTokenType."""
    return IdTokenType(id_token=getattr(tokens, which), type=IdTokenEnumType(tokens.type))


async def booted(
    station: SimStation, connectors: tuple[tuple[int, int], ...] = ((EVSE_ID, CONNECTOR_ID),)
) -> BootNotificationResponse:
    """Booted: BootNotification PowerUp answered Accepted, then every connector Available."""
    response = await station.boot()
    assert response.status is RegistrationStatusEnumType.Accepted, response
    for evse_id, connector_id in connectors:
        await station.report_connector(evse_id, connector_id, "Available")
    return response


async def send_event(
    station: SimStation, tx: Transaction, trigger_reason: str, **fields: Any
) -> TransactionEventResponse:
    """One TransactionEvent of `tx` (Started first, then Updated unless `event_type` given)."""
    event_type = fields.pop("event_type", tx.event_type)
    if not tx.started:
        fields.setdefault("evse_id", tx.evse_id)
        fields.setdefault("connector_id", tx.connector_id)
    response = await station.transaction_event(
        event_type, trigger_reason, tx.transaction_id, **fields
    )
    tx.started = True
    tx.responses.append(response)
    return response


async def ev_connected_pre_session(station: SimStation, tx: Transaction) -> None:
    """EVConnectedPreSession: connector Occupied, then TransactionEvent CablePluggedIn."""
    await station.report_connector(tx.evse_id, tx.connector_id, "Occupied")
    await send_event(
        station, tx, "CablePluggedIn", charging_state=ChargingStateEnumType.EVConnected
    )
    tx.cable_plugged = True


async def authorized(station: SimStation, tx: Transaction, tokens: Tokens) -> None:
    """Authorized: Authorize answered Accepted, then TransactionEvent Authorized, Accepted.

    With NoAuthorization there is no AuthorizeRequest (Part 6 §3.1), only the event with the
    empty idToken.
    """
    if tokens.type != IdTokenEnumType.NoAuthorization.value:
        authorize = await station.authorize(tokens.valid, tokens.type)
        assert authorize.id_token_info.status is AuthorizationStatusEnumType.Accepted, authorize
    response = await send_event(station, tx, "Authorized", id_token=id_token(tokens))
    assert_token_accepted(response)
    tx.authorized = True


async def energy_transfer_started(station: SimStation, tx: Transaction, tokens: Tokens) -> None:
    """EnergyTransferStarted: Authorized if needed, cable if needed, then Charging."""
    if not tx.authorized:
        await authorized(station, tx, tokens)
    if not tx.cable_plugged:
        await ev_connected_pre_session(station, tx)
    await send_event(
        station, tx, "ChargingStateChanged", charging_state=ChargingStateEnumType.Charging
    )


async def energy_transfer_suspended(station: SimStation, tx: Transaction) -> None:
    """EnergyTransferSuspended: TransactionEvent ChargingStateChanged, SuspendedEV."""
    await send_event(
        station, tx, "ChargingStateChanged", charging_state=ChargingStateEnumType.SuspendedEV
    )


async def stop_authorized(station: SimStation, tx: Transaction, tokens: Tokens) -> None:
    """StopAuthorized: TransactionEvent StopAuthorized (Updated), idTokenInfo Accepted."""
    response = await send_event(station, tx, "StopAuthorized", id_token=id_token(tokens))
    assert_token_accepted(response)


async def ev_connected_post_session(station: SimStation, tx: Transaction) -> None:
    """EVConnectedPostSession: TransactionEvent ChargingStateChanged, EVConnected."""
    await send_event(
        station, tx, "ChargingStateChanged", charging_state=ChargingStateEnumType.EVConnected
    )


async def ev_disconnected(station: SimStation, tx: Transaction) -> None:
    """EVDisconnected: connector Available, then TransactionEvent Ended, EVDisconnected."""
    await station.report_connector(tx.evse_id, tx.connector_id, "Available")
    await send_event(
        station,
        tx,
        "EVCommunicationLost",
        event_type="Ended",
        charging_state=ChargingStateEnumType.Idle,
        stopped_reason="EVDisconnected",
    )


def assert_token_accepted(response: TransactionEventResponse) -> None:
    """The CSMS's TransactionEventResponse carries idTokenInfo with status Accepted."""
    info = response.id_token_info
    assert isinstance(info, IdTokenInfoType), f"no idTokenInfo in {response}"
    assert info.status is AuthorizationStatusEnumType.Accepted, response
