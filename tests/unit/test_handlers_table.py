"""The HANDLERS table: one handler for every action a charging station may send, no more.

A conforming station must never get NotImplemented from the CSMS (Part 4 §4.2.3: a CSMS
answers every CALL of the actions it supports; the Core profile needs all station-to-CSMS
actions of OCPP 2.0.1). The table is checked against the message registry, so a new action in
the registry or a handler typed for the wrong messages fails here and not on the wire.
"""

from __future__ import annotations

import inspect
import typing

import pytest

from trio_csms.handlers import HANDLERS, StationContext
from trio_csms.messages import ACTION_BY_NAME, ACTIONS, ActionSpec

STATION_ACTIONS = sorted(spec.action for spec in ACTIONS if spec.direction.sent_by_station())


def test_station_actions_are_the_25_of_ocpp_201() -> None:
    """OCPP 2.0.1 has 25 actions a station may send (24 station-to-CSMS plus DataTransfer)."""
    assert len(STATION_ACTIONS) == 25
    assert "DataTransfer" in STATION_ACTIONS  # sent by either side


def test_handlers_cover_exactly_the_actions_a_station_may_send() -> None:
    """No station action is left without a handler, and no handler is registered for an
    action only the CSMS sends (which would let a station send CSMS-only CALLs)."""
    assert sorted(HANDLERS) == STATION_ACTIONS


def _signature(action: str) -> tuple[ActionSpec, dict[str, object], list[inspect.Parameter]]:
    handler = HANDLERS[action]
    hints = typing.get_type_hints(handler)
    parameters = list(inspect.signature(handler).parameters.values())
    return ACTION_BY_NAME[action], hints, parameters


@pytest.mark.parametrize("action", STATION_ACTIONS)
def test_handler_takes_the_context_and_the_registry_request_type(action: str) -> None:
    """`async def handler(ctx: StationContext, req: <Action>Request)`: the dispatcher passes
    the decoded request of the registry type, so the annotation must name that type."""
    spec, hints, parameters = _signature(action)
    assert inspect.iscoroutinefunction(HANDLERS[action])
    assert len(parameters) == 2, f"{action}: handler must take (ctx, request)"
    ctx, request = parameters
    assert hints[ctx.name] is StationContext
    assert hints[request.name] is spec.request


@pytest.mark.parametrize("action", STATION_ACTIONS)
def test_handler_returns_the_registry_response_type(action: str) -> None:
    """The answer is encoded as the CALLRESULT of `action`; the RPC session validates it
    against the response schema of that action, so the return type must match the registry."""
    spec, hints, _ = _signature(action)
    assert hints["return"] is spec.response
