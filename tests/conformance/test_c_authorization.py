"""Block C, Authorization: the Core test cases TC_C_xx_CSMS (catalogue section 1.C).

The authorization cases run once per idToken type the case means something for: the CSMS
declares every type (C-30..C-39), and a lab loads the tool's token set of that type. The
NoAuthorization type has a single, empty token, so it has no invalid, blocked, expired or
grouped variant; its acceptance without a lookup is checked by the E block (TC_E_10).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conformance import states
from conformance.lab import TOKEN_TYPES, Lab, Tokens, open_lab

from trio_csms.messages import (
    AuthorizationStatusEnumType,
    ClearCacheRequest,
    ClearCacheResponse,
    ClearCacheStatusEnumType,
    IdTokenInfoType,
    IdTokenType,
    TransactionEventResponse,
)
from trio_csms.sim import SimStation

# Types with a full token set (valid, valid2, invalid, blocked, expired, master pass).
AUTHORIZING_TYPES = [token_type for token_type in TOKEN_TYPES if token_type != "NoAuthorization"]
MASTER_PASS_GROUP = "MasterPassGroup"
EVSE_2 = 2

Status = AuthorizationStatusEnumType


async def authorize_status(station: SimStation, tokens: Tokens, which: str) -> IdTokenInfoType:
    """Authorize one of the tool's tokens; the CSMS's idTokenInfo."""
    response = await station.authorize(getattr(tokens, which), tokens.type)
    return response.id_token_info


def assert_group(info: IdTokenInfoType | Any, status: Status, group: str) -> None:
    """idTokenInfo has `status` and groupIdToken.idToken `group`."""
    assert isinstance(info, IdTokenInfoType), f"no idTokenInfo: {info!r}"
    assert info.status is status, info
    assert isinstance(info.group_id_token, IdTokenType), f"no groupIdToken in {info}"
    assert info.group_id_token.id_token == group, info


async def transaction_view(lab: Lab, tx: states.Transaction) -> dict[str, Any]:
    """The CSMS's record of `tx` (GET /transactions/{stationId}/{transactionId})."""
    view: dict[str, Any] = await lab.get_json(f"/transactions/{lab.station_id}/{tx.transaction_id}")
    return view


@pytest.mark.parametrize("token_type", AUTHORIZING_TYPES)
async def test_tc_c_02_csms(tmp_path: Path, token_type: str) -> None:
    """Local start transaction - Authorization Invalid/Unknown.

    The tool validates AuthorizeResponse idTokenInfo.status Invalid or Unknown for its
    invalid token. Checked stricter: the token provisioned Invalid is answered Invalid, and a
    token the CSMS has never seen is answered Unknown (both forms the case title names).
    """
    async with open_lab(tmp_path) as lab, lab.station() as station:
        tokens = await lab.provision_tokens(token_type)
        await states.booted(station)
        invalid = await authorize_status(station, tokens, "invalid")
        assert invalid.status in (Status.Invalid, Status.Unknown), invalid
        assert invalid.status is Status.Invalid, invalid
        unknown = await authorize_status(station, tokens, "unknown")
        assert unknown.status is Status.Unknown, unknown


@pytest.mark.parametrize("token_type", AUTHORIZING_TYPES)
async def test_tc_c_06_csms(tmp_path: Path, token_type: str) -> None:
    """Local start transaction - Authorization Blocked.

    The tool validates idTokenInfo.status Blocked or Invalid for the token blocked at the
    CSMS; the CSMS knows it is blocked, so it must say Blocked.
    """
    async with open_lab(tmp_path) as lab, lab.station() as station:
        tokens = await lab.provision_tokens(token_type)
        await states.booted(station)
        info = await authorize_status(station, tokens, "blocked")
        assert info.status in (Status.Blocked, Status.Invalid), info
        assert info.status is Status.Blocked, info


@pytest.mark.parametrize("token_type", AUTHORIZING_TYPES)
async def test_tc_c_07_csms(tmp_path: Path, token_type: str) -> None:
    """Local start transaction - Authorization Expired.

    The tool validates idTokenInfo.status Expired or Invalid for the token expired at the
    CSMS; the CSMS knows it expired, so it must say Expired.
    """
    async with open_lab(tmp_path) as lab, lab.station() as station:
        tokens = await lab.provision_tokens(token_type)
        await states.booted(station)
        info = await authorize_status(station, tokens, "expired")
        assert info.status in (Status.Expired, Status.Invalid), info
        assert info.status is Status.Expired, info


async def cached_token_event(
    station: SimStation, tokens: Tokens, which: str
) -> tuple[TransactionEventResponse, states.Transaction]:
    """EVConnectedPreSession, then TransactionEvent Updated/Authorized with a cached token.

    The station authorizes from its cache: no AuthorizeRequest goes before the event.
    """
    await states.booted(station)
    tx = states.Transaction("tx-cache-1")
    await states.ev_connected_pre_session(station, tx)
    response = await states.send_event(
        station, tx, "Authorized", event_type="Updated", id_token=states.id_token(tokens, which)
    )
    return response, tx


@pytest.mark.parametrize("token_type", AUTHORIZING_TYPES)
async def test_tc_c_08_csms(tmp_path: Path, token_type: str) -> None:
    """Authorization through authorization cache - Accepted.

    Before EVConnectedPreSession; the tool sends TransactionEvent Updated, Authorized with a
    valid token from its cache (no Authorize) and validates idTokenInfo.status Accepted.
    Also checked: the CSMS records the token as the transaction's idToken.
    """
    async with open_lab(tmp_path) as lab, lab.station() as station:
        tokens = await lab.provision_tokens(token_type)
        response, tx = await cached_token_event(station, tokens, "valid")
        assert_group(response.id_token_info, Status.Accepted, tokens.group)
        view = await transaction_view(lab, tx)
        assert view["active"] is True, view
        assert view["idToken"] == tokens.id_token("valid"), view


@pytest.mark.parametrize("token_type", AUTHORIZING_TYPES)
async def test_tc_c_20_csms(tmp_path: Path, token_type: str) -> None:
    """Authorization through authorization cache - Invalid.

    As TC_C_08 with the tool's invalid token (valid in its stale cache); the tool validates
    idTokenInfo.status Invalid or Unknown. The CSMS knows the token, so it must say Invalid:
    that answer is what corrects the station's cache (C12.FR.03).
    """
    async with open_lab(tmp_path) as lab, lab.station() as station:
        tokens = await lab.provision_tokens(token_type)
        response, _tx = await cached_token_event(station, tokens, "invalid")
        info = response.id_token_info
        assert isinstance(info, IdTokenInfoType), response
        assert info.status in (Status.Invalid, Status.Unknown), info
        assert info.status is Status.Invalid, info


async def clear_cache(lab: Lab, station: SimStation, status: ClearCacheStatusEnumType) -> None:
    """The tester clears the station's cache through the API; the station answers `status`."""
    station.handle(ClearCacheRequest, lambda _request: ClearCacheResponse(status=status))
    await states.booted(station)
    answer = await lab.call_ok("ClearCache", {})
    assert answer == {"status": status.value}, answer
    request = await station.next_csms_call("ClearCache", timeout=5)
    assert isinstance(request.request, ClearCacheRequest), request
    # The connection stays usable after either answer.
    await station.heartbeat()


async def test_tc_c_37_csms(tmp_path: Path) -> None:
    """Clear Authorization Data in Authorization Cache - Accepted.

    No tool validation beyond the schema: the CSMS sends ClearCacheRequest (made by the tester
    through the API) and takes the station's Accepted, which the API reports back.
    """
    async with open_lab(tmp_path) as lab, lab.station() as station:
        await clear_cache(lab, station, ClearCacheStatusEnumType.Accepted)


async def test_tc_c_38_csms(tmp_path: Path) -> None:
    """Clear Authorization Data in Authorization Cache - Rejected.

    As TC_C_37 with the station answering Rejected: the CSMS reports it, and neither errors
    nor drops the connection.
    """
    async with open_lab(tmp_path) as lab, lab.station() as station:
        await clear_cache(lab, station, ClearCacheStatusEnumType.Rejected)


@pytest.mark.parametrize("token_type", AUTHORIZING_TYPES)
async def test_tc_c_39_csms(tmp_path: Path, token_type: str) -> None:
    """Authorization by GroupId - Success.

    Before EVConnectedPreSession. Authorize valid token 2, TransactionEvent Authorized with
    valid token 1, EnergyTransferStarted, Authorize token 2, TransactionEvent StopAuthorized
    with token 2, EVConnectedPostSession, EVDisconnected. The tool validates status Accepted
    and groupIdToken.idToken = the configured group in both Authorize and both
    TransactionEvent answers. Also checked: the transaction ends recorded with the token that
    started it (token 1), stoppedReason EVDisconnected.
    """
    async with open_lab(tmp_path) as lab, lab.station() as station:
        tokens = await lab.provision_tokens(token_type)
        await states.booted(station)
        tx = states.Transaction("tx-group-1")
        await states.ev_connected_pre_session(station, tx)
        assert_group(
            await authorize_status(station, tokens, "valid2"), Status.Accepted, tokens.group
        )
        started = await states.send_event(
            station, tx, "Authorized", id_token=states.id_token(tokens, "valid")
        )
        assert_group(started.id_token_info, Status.Accepted, tokens.group)
        tx.authorized = True
        await states.energy_transfer_started(station, tx, tokens)
        assert_group(
            await authorize_status(station, tokens, "valid2"), Status.Accepted, tokens.group
        )
        stopped = await states.send_event(
            station, tx, "StopAuthorized", id_token=states.id_token(tokens, "valid2")
        )
        assert_group(stopped.id_token_info, Status.Accepted, tokens.group)
        await states.ev_connected_post_session(station, tx)
        await states.ev_disconnected(station, tx)
        view = await transaction_view(lab, tx)
        assert view["active"] is False, view
        assert view["stoppedReason"] == "EVDisconnected", view
        assert view["idToken"] == tokens.id_token("valid"), view
        assert view["seqNoGaps"] == [], view


async def two_charging_transactions(
    station: SimStation, tokens: Tokens
) -> tuple[states.Transaction, states.Transaction]:
    """Booted with two EVSEs, EnergyTransferStarted on EVSE 1 (valid) and EVSE 2 (valid2)."""
    await states.booted(station, ((states.EVSE_ID, states.CONNECTOR_ID), (EVSE_2, 1)))
    first = states.Transaction("tx-evse-1", evse_id=states.EVSE_ID)
    await states.energy_transfer_started(station, first, tokens)
    second = states.Transaction("tx-evse-2", evse_id=EVSE_2)
    await states.ev_connected_pre_session(station, second)
    authorize = await authorize_status(station, tokens, "valid2")
    assert authorize.status is Status.Accepted, authorize
    response = await states.send_event(
        station, second, "Authorized", id_token=states.id_token(tokens, "valid2")
    )
    states.assert_token_accepted(response)
    second.authorized = True
    await states.energy_transfer_started(station, second, tokens)
    return first, second


async def master_pass_stop(
    station: SimStation, tx: states.Transaction, tokens: Tokens, which: str
) -> TransactionEventResponse:
    """TransactionEvent Ended, StopAuthorized, stoppedReason MasterPass, with token `which`."""
    return await states.send_event(
        station,
        tx,
        "StopAuthorized",
        event_type="Ended",
        stopped_reason="MasterPass",
        id_token=states.id_token(tokens, which),
    )


async def assert_ended_by_master_pass(lab: Lab, tx: states.Transaction) -> None:
    view = await transaction_view(lab, tx)
    assert view["active"] is False, view
    assert view["stoppedReason"] == "MasterPass", view
    assert view["endedAt"] is not None, view


async def test_tc_c_47_csms(tmp_path: Path) -> None:
    """Stop Transaction with a Master Pass - With UI - All transactions.

    Before EnergyTransferStarted on EVSE 1 (valid token) and EVSE 2 (valid token 2). Authorize
    with the master pass token, then TransactionEvent Ended, stoppedReason MasterPass, idToken
    the master pass, for both EVSEs. Part 6 lists no tool validation (catalogue section 12);
    what C16 needs from the CSMS is checked: the master pass token is Accepted with
    groupIdToken = the MasterPassGroupId group (the station recognises a master pass by it),
    both Ended events are answered the same way, and both transactions end with MasterPass.
    """
    async with open_lab(tmp_path) as lab, lab.station() as station:
        tokens = lab.tokens
        first, second = await two_charging_transactions(station, tokens)
        info = await authorize_status(station, tokens, "master_pass")
        assert_group(info, Status.Accepted, MASTER_PASS_GROUP)
        for tx in (first, second):
            response = await master_pass_stop(station, tx, tokens, "master_pass")
            assert_group(response.id_token_info, Status.Accepted, MASTER_PASS_GROUP)
        for tx in (first, second):
            await assert_ended_by_master_pass(lab, tx)


async def test_tc_c_48_csms(tmp_path: Path) -> None:
    """Stop Transaction with a Master Pass - With UI - Specific transactions.

    Before EnergyTransferStarted on all EVSEs (two here). The tool validates AuthorizeResponse
    and TransactionEventResponse: status Accepted, groupIdToken.idToken = MasterPassGroupId.
    Part 6's step 1 shows the valid token in the AuthorizeRequest, but its validation asks for
    the master pass group, which only the master pass token has (and C16 has the master pass
    presented): the Authorize here carries the master pass token, as in TC_C_47/C_49. Only
    the selected transaction (EVSE 1) ends; the other stays active.
    """
    async with open_lab(tmp_path) as lab, lab.station() as station:
        tokens = lab.tokens
        first, second = await two_charging_transactions(station, tokens)
        info = await authorize_status(station, tokens, "master_pass")
        assert_group(info, Status.Accepted, MASTER_PASS_GROUP)
        response = await master_pass_stop(station, first, tokens, "master_pass")
        assert_group(response.id_token_info, Status.Accepted, MASTER_PASS_GROUP)
        await assert_ended_by_master_pass(lab, first)
        other = await transaction_view(lab, second)
        assert other["active"] is True, other
        assert other["chargingState"] == "Charging", other
        assert other["stoppedReason"] is None, other


async def test_tc_c_49_csms(tmp_path: Path) -> None:
    """Stop Transaction with a Master Pass - Without UI.

    Before EnergyTransferStarted on EVSE 1 (valid token) and EVSE 2 (valid token 2). Authorize
    with the master pass token, then TransactionEvent Ended, stoppedReason MasterPass for both
    EVSEs; Part 6 has these events carry the valid token (not the master pass), so they do
    here. No tool validation is listed (catalogue section 12); checked: the master pass is
    Accepted with the MasterPassGroupId group, each Ended event's token is answered with its
    own status (Accepted, its group), and both transactions end with MasterPass.
    """
    async with open_lab(tmp_path) as lab, lab.station() as station:
        tokens = lab.tokens
        first, second = await two_charging_transactions(station, tokens)
        info = await authorize_status(station, tokens, "master_pass")
        assert_group(info, Status.Accepted, MASTER_PASS_GROUP)
        for tx in (first, second):
            response = await master_pass_stop(station, tx, tokens, "valid")
            assert_group(response.id_token_info, Status.Accepted, tokens.group)
        for tx in (first, second):
            await assert_ended_by_master_pass(lab, tx)
