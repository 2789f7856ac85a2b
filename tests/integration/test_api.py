"""The operator HTTP API (issue #4) over real HTTP on 127.0.0.1, against real simulated stations.

Each test runs a `Csms` (SQLite under `tmp_path`), talks to its API port with a tiny HTTP/1.1
client (`ApiClient`, one request per connection) and, where a station is involved, connects
the project's simulator over a real websocket. Every test is bounded by `trio.fail_after`.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import orjson
import pytest
import trio
import trio.testing
from api_client import ApiClient
from csms_harness import PASSWORD, RunningCsms, running_csms

from trio_csms.api.cursor import encode_cursor
from trio_csms.messages import (
    CertificateHashDataChainType,
    CertificateHashDataType,
    CustomerInformationRequest,
    CustomerInformationResponse,
    CustomerInformationStatusEnumType,
    DeleteCertificateRequest,
    DeleteCertificateResponse,
    DeleteCertificateStatusEnumType,
    FirmwareStatusEnumType,
    FirmwareStatusNotificationRequest,
    GetCertificateIdUseEnumType,
    GetInstalledCertificateIdsRequest,
    GetInstalledCertificateIdsResponse,
    GetInstalledCertificateStatusEnumType,
    GetLogRequest,
    GetLogResponse,
    HashAlgorithmEnumType,
    LogStatusEnumType,
    LogStatusNotificationRequest,
    MeasurandEnumType,
    MeterValueType,
    NotifyCustomerInformationRequest,
    ResetRequest,
    ResetResponse,
    SampledValueType,
    SetNetworkProfileRequest,
    SetNetworkProfileResponse,
    SetNetworkProfileStatusEnumType,
    SetVariableResultType,
    SetVariablesRequest,
    SetVariablesResponse,
    SetVariableStatusEnumType,
    UpdateFirmwareRequest,
    UpdateFirmwareResponse,
    UpdateFirmwareStatusEnumType,
    UploadLogStatusEnumType,
)
from trio_csms.rpc.errors import ErrorCode, OcppError
from trio_csms.sim import ConnectionClosed, HandshakeRefused
from trio_csms.store import VariableRecord

TIMEOUT = 10
OTHER_PASSWORD = "Another-Valid-Password-2"
_NOW = "2024-05-06T12:00:00Z"


@asynccontextmanager
async def api_csms(
    tmp_path: Path, **sections: dict[str, Any]
) -> AsyncIterator[tuple[RunningCsms, ApiClient]]:
    async with running_csms(tmp_path, **sections) as running:
        assert running.csms.api is not None and running.csms.api.port is not None
        token = running.csms.config.api.token
        if token is None:
            token = (tmp_path / "api-token").read_text().strip()
        yield running, ApiClient(running.csms.api.port, token)


async def booted_station_via_api(api: ApiClient, station_id: str) -> None:
    answer = await api.put(f"/api/v1/stations/{station_id}", {"password": PASSWORD})
    assert answer.status == 201, answer.body


# --- auth ---------------------------------------------------------------------------------


async def test_generated_token_is_kept_beside_the_database_and_required(tmp_path: Path) -> None:
    with trio.fail_after(TIMEOUT):
        async with api_csms(tmp_path) as (_, api):
            token_file = tmp_path / "api-token"
            assert stat.S_IMODE(os.stat(token_file).st_mode) == 0o600
            assert api.token is not None and len(api.token) >= 32
            assert (await api.get("/api/v1/stations")).status == 200
            missing = await api.get("/api/v1/stations", token=None)
            assert missing.status == 401 and missing.error_code == "Unauthorized"
            assert missing.headers["www-authenticate"] == "Bearer"
            wrong = await api.get("/api/v1/stations", token="not-the-token")
            assert wrong.status == 401 and "message" in wrong.json["error"]
            assert (await api.put("/api/v1/stations/X", {}, token=None)).status == 401
            # /healthz and /metrics stay open.
            assert (await api.get("/healthz", token=None)).status == 200
            assert (await api.get("/metrics", token=None)).status == 200
            first = api.token
        async with api_csms(tmp_path) as (_, api):
            assert api.token == first  # reused on the next start


async def test_configured_token_is_used_and_no_file_is_written(tmp_path: Path) -> None:
    with trio.fail_after(TIMEOUT):
        async with api_csms(tmp_path, api={"token": "configured-token-123"}) as (_, api):
            assert api.token == "configured-token-123"
            assert (await api.get("/api/v1/stations")).status == 200
            assert (await api.get("/api/v1/stations", token="other")).status == 401
        assert not (tmp_path / "api-token").exists()


# --- HTTP framing -------------------------------------------------------------------------


async def test_http_errors_are_json(tmp_path: Path) -> None:
    with trio.fail_after(TIMEOUT):
        async with api_csms(tmp_path) as (_, api):
            nope = await api.get("/api/v1/nope")
            assert nope.status == 404 and nope.error_code == "NotFound"
            assert nope.headers["content-type"] == "application/json"
            wrong_method = await api.post("/api/v1/stations", {})
            assert wrong_method.status == 405 and wrong_method.error_code == "MethodNotAllowed"
            bad_json = await api.request("PUT", "/api/v1/stations/CS1", raw_body=b"{nope")
            assert bad_json.status == 400 and bad_json.error_code == "BadRequest"
            assert "JSON" in bad_json.json["error"]["message"]
            not_object = await api.put("/api/v1/stations/CS1", [1, 2])
            assert not_object.status == 400
            assert api.token is not None
            too_large = await api.raw(
                b"PUT /api/v1/stations/CS1 HTTP/1.1\r\nHost: x\r\n"
                + f"Authorization: Bearer {api.token}\r\n".encode()
                + f"Content-Length: {2 * 1024 * 1024}\r\n\r\n".encode()
            )
            assert too_large.status == 413 and too_large.error_code == "PayloadTooLarge"
            chunked = await api.raw(
                b"PUT /api/v1/stations/CS1 HTTP/1.1\r\nHost: x\r\n"
                + f"Authorization: Bearer {api.token}\r\n".encode()
                + b"Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n"
            )
            assert chunked.status == 411 and chunked.error_code == "LengthRequired"
            no_body = await api.raw(
                b"PUT /api/v1/stations/CS1 HTTP/1.1\r\nHost: x\r\n"
                + f"Authorization: Bearer {api.token}\r\n\r\n".encode()
            )
            assert no_body.status == 400 and "body" in no_body.json["error"]["message"]
            head = await api.request("HEAD", "/api/v1/stations")
            assert head.status == 200 and head.body == b""


# --- stations -----------------------------------------------------------------------------


async def test_boot_and_put_of_one_station_at_the_same_time_keep_both(tmp_path: Path) -> None:
    """A BootNotification recorded while an operator PUTs the same station: each writes only
    its own fields, so neither is lost. Both writes are made to wait in the store's queue (the
    database's write lock is held from outside), then commit in one batch: with whole-record
    writes the last one would have put back the other's old values."""
    with trio.fail_after(TIMEOUT):
        async with api_csms(tmp_path) as (running, api):
            await booted_station_via_api(api, "CS1")
            async with running.station("CS1") as station:
                lock = sqlite3.connect(tmp_path / "csms.db", isolation_level=None)
                try:
                    lock.execute("BEGIN IMMEDIATE")
                    async with trio.open_nursery() as nursery:
                        nursery.start_soon(partial(station.boot, "RemoteReset", model="Model-2"))
                        update = {"securityProfile": 2, "registrationStatus": "Pending"}
                        nursery.start_soon(api.put, "/api/v1/stations/CS1", update)
                        await trio.testing.wait_all_tasks_blocked()
                        lock.execute("ROLLBACK")
                finally:
                    lock.close()
            got = (await api.get("/api/v1/stations/CS1")).json
            assert got["securityProfile"] == 2
            assert got["registrationPolicy"] == "Pending"
            assert got["registrationStatus"] == "Accepted"
            assert got["lastBootReason"] == "RemoteReset"
            assert got["chargingStation"]["model"] == "Model-2"


async def test_station_lifecycle(tmp_path: Path) -> None:
    with trio.fail_after(TIMEOUT):
        async with api_csms(tmp_path) as (running, api):
            created = await api.put(
                "/api/v1/stations/CS1",
                {"password": PASSWORD, "securityProfile": 1, "registrationStatus": None},
            )
            assert created.status == 201
            assert created.json["stationId"] == "CS1"
            assert created.json["connected"] is False
            assert created.json["registrationStatus"] is None
            assert created.json["evses"] == []
            async with running.station("CS1") as sim:
                await sim.boot(serial_number="SN-1", firmware_version="1.2.3")
                await sim.report_connector(1, 1, "Available")
                await sim.report_connector(2, 1, "Occupied")
                one = (await api.get("/api/v1/stations/CS1")).json
                assert one["connected"] is True
                assert one["registrationStatus"] == "Accepted"
                assert one["securityProfile"] == 1
                assert one["chargingStation"]["serialNumber"] == "SN-1"
                assert one["chargingStation"]["firmwareVersion"] == "1.2.3"
                assert one["lastBootReason"] == "PowerUp"
                assert datetime.fromisoformat(one["lastBootAt"]).tzinfo is not None
                assert one["evses"] == [
                    {"evseId": 1, "connectors": [{"connectorId": 1, "status": "Available"}]},
                    {"evseId": 2, "connectors": [{"connectorId": 1, "status": "Occupied"}]},
                ]
                listed = (await api.get("/api/v1/stations")).json
                assert [s["stationId"] for s in listed["stations"]] == ["CS1"]

                # Updating: 200, the password switches (the next login needs the new one).
                updated = await api.put(
                    "/api/v1/stations/CS1",
                    {"password": OTHER_PASSWORD, "registrationStatus": "Pending"},
                )
                assert updated.status == 200 and updated.json["connected"] is True

                deleted = await api.delete("/api/v1/stations/CS1")
                assert deleted.status == 204 and deleted.body == b""
                closed = await sim.wait_closed()
                assert isinstance(closed, ConnectionClosed)
            assert (await api.get("/api/v1/stations/CS1")).status == 404
            assert (await api.delete("/api/v1/stations/CS1")).status == 404
            assert (await api.get("/api/v1/stations")).json == {"stations": []}


async def test_station_password_set_over_the_api_admits_the_station(tmp_path: Path) -> None:
    with trio.fail_after(TIMEOUT):
        async with api_csms(tmp_path) as (running, api):
            await api.put("/api/v1/stations/CS1", {"password": PASSWORD})
            await api.put("/api/v1/stations/CS1", {"password": OTHER_PASSWORD})
            async with running.station("CS1", password=OTHER_PASSWORD) as sim:
                assert (await sim.boot()).status == "Accepted"
            station = await running.csms.store.get_station("CS1")
            assert station is not None and station.registration_policy is None


@pytest.mark.parametrize(
    ("body", "word"),
    [
        ({"password": "short"}, "password"),
        ({"password": "x" * 41}, "password"),
        ({"password": "has spaces in it 12345"}, "password"),
        ({"password": 1234567890123456}, "password"),
        ({"securityProfile": 4}, "securityProfile"),
        ({"securityProfile": "1"}, "securityProfile"),
        ({"securityProfile": True}, "securityProfile"),
        ({"registrationStatus": "Maybe"}, "registrationStatus"),
        ({"colour": "red"}, "colour"),
    ],
)
async def test_station_put_validates_fields(
    tmp_path: Path, body: dict[str, object], word: str
) -> None:
    with trio.fail_after(TIMEOUT):
        async with api_csms(tmp_path) as (running, api):
            answer = await api.put("/api/v1/stations/CS1", body)
            assert answer.status == 400 and word in answer.json["error"]["message"]
            assert await running.csms.store.get_station("CS1") is None


async def test_station_variables_from_the_device_model(tmp_path: Path) -> None:
    with trio.fail_after(TIMEOUT):
        async with api_csms(tmp_path) as (running, api):
            await api.put("/api/v1/stations/CS1", {"password": PASSWORD})
            attribute = {"type": "Actual", "value": "60"}
            await running.csms.store.put_variables(
                [
                    VariableRecord(
                        station_id="CS1",
                        component={"name": "OCPPCommCtrlr"},
                        variable={"name": "HeartbeatInterval"},
                        variable_attribute=[attribute],
                        variable_characteristics={
                            "dataType": "integer",
                            "supportsMonitoring": False,
                        },
                    )
                ]
            )
            answer = await api.get("/api/v1/stations/CS1/variables")
            assert answer.status == 200
            assert answer.json == [
                {
                    "component": {"name": "OCPPCommCtrlr"},
                    "variable": {"name": "HeartbeatInterval"},
                    "variableAttribute": [attribute],
                    "variableCharacteristics": {"dataType": "integer", "supportsMonitoring": False},
                }
            ]
            assert (await api.get("/api/v1/stations/NOPE/variables")).status == 404


# --- CALLs --------------------------------------------------------------------------------


async def test_call_reset_and_get_variables_round_trip(tmp_path: Path) -> None:
    with trio.fail_after(TIMEOUT):
        async with api_csms(tmp_path) as (running, api):
            await booted_station_via_api(api, "CS1")
            async with running.station("CS1") as sim:
                await sim.boot()
                reset = await api.post("/api/v1/stations/CS1/call/Reset", {"type": "Immediate"})
                assert reset.status == 200, reset.body
                assert reset.json == {"response": {"status": "Accepted"}}
                received = await sim.next_csms_call("Reset")
                assert received.request == ResetRequest(type="Immediate")  # type: ignore[arg-type]

                get = await api.post(
                    "/api/v1/stations/CS1/call/GetVariables?timeout=5",
                    {
                        "getVariableData": [
                            {"component": {"name": "ClockCtrlr"}, "variable": {"name": "DateTime"}}
                        ]
                    },
                )
                assert get.status == 200, get.body
                (result,) = get.json["response"]["getVariableResult"]
                assert result["attributeStatus"] == "UnknownComponent"
                assert result["component"] == {"name": "ClockCtrlr"}
                assert result["variable"] == {"name": "DateTime"}


@pytest.mark.parametrize(("answer", "pending"), [("Accepted", 2), ("Failed", None)])
async def test_station_shows_the_security_profile_a_network_profile_moves_it_to(
    tmp_path: Path, answer: str, pending: int | None
) -> None:
    """B09/A05: an Accepted SetNetworkProfile to profile 2 shows as pendingSecurityProfile
    until the station connects on it; a Failed one changes nothing (TC_B_44)."""
    with trio.fail_after(TIMEOUT):
        async with api_csms(tmp_path) as (running, api):
            await booted_station_via_api(api, "CS1")
            async with running.station("CS1") as sim:
                await sim.boot()
                before = (await api.get("/api/v1/stations/CS1")).json
                assert before["pendingSecurityProfile"] is None
                status = SetNetworkProfileStatusEnumType(answer)
                sim.handle(
                    SetNetworkProfileRequest,
                    lambda _: SetNetworkProfileResponse(status=status),
                )
                profile = {
                    "ocppVersion": "OCPP20",
                    "ocppTransport": "JSON",
                    "ocppCsmsUrl": "wss://csms.example:9443/ocpp",
                    "messageTimeout": 30,
                    "securityProfile": 2,
                    "ocppInterface": "Wired0",
                }
                called = await api.post(
                    "/api/v1/stations/CS1/call/SetNetworkProfile",
                    {"configurationSlot": 1, "connectionData": profile},
                )
                assert called.json == {"response": {"status": answer}}
                after = (await api.get("/api/v1/stations/CS1")).json
                assert (after["securityProfile"], after["pendingSecurityProfile"]) == (1, pending)


async def test_call_is_404_for_unknown_actions_and_stations(tmp_path: Path) -> None:
    with trio.fail_after(TIMEOUT):
        async with api_csms(tmp_path) as (_, api):
            await booted_station_via_api(api, "CS1")
            unknown = await api.post("/api/v1/stations/CS1/call/Explode", {})
            assert unknown.status == 404
            station_side = await api.post(
                "/api/v1/stations/CS1/call/BootNotification",
                {"reason": "PowerUp", "chargingStation": {"model": "m", "vendorName": "v"}},
            )
            assert station_side.status == 404 and "CSMS-to-station" in station_side.body.decode()
            no_station = await api.post("/api/v1/stations/NOPE/call/Reset", {"type": "Immediate"})
            assert no_station.status == 404 and no_station.error_code == "NotFound"


@pytest.mark.parametrize(
    ("body", "code", "word"),
    [
        ({"type": "Sideways"}, "PropertyConstraintViolation", "type"),
        ({}, "OccurrenceConstraintViolation", "type"),
        ({"type": "Immediate", "evseId": "one"}, "TypeConstraintViolation", "evseId"),
        ({"type": "Immediate", "extra": 1}, "ProtocolError", "extra"),
    ],
)
async def test_call_payload_is_validated_and_nothing_is_sent(
    tmp_path: Path, body: dict[str, object], code: str, word: str
) -> None:
    with trio.fail_after(TIMEOUT):
        async with api_csms(tmp_path) as (running, api):
            await booted_station_via_api(api, "CS1")
            async with running.station("CS1") as sim:
                await sim.boot()
                answer = await api.post("/api/v1/stations/CS1/call/Reset", body)
                assert answer.status == 400, answer.body
                assert answer.error_code == code
                assert word in answer.json["error"]["message"]
                assert sim.csms_calls == ()
            bad_json = await api.request("POST", "/api/v1/stations/CS1/call/Reset", raw_body=b"{")
            assert bad_json.status == 400


async def test_call_bad_timeout_is_400(tmp_path: Path) -> None:
    with trio.fail_after(TIMEOUT):
        async with api_csms(tmp_path) as (_, api):
            await booted_station_via_api(api, "CS1")
            for value in ("abc", "0", "-1", "nan", "100000"):
                answer = await api.post(
                    f"/api/v1/stations/CS1/call/Reset?timeout={value}", {"type": "Immediate"}
                )
                assert answer.status == 400, value


async def test_call_to_a_disconnected_or_unbooted_station_is_409(tmp_path: Path) -> None:
    with trio.fail_after(TIMEOUT):
        async with api_csms(tmp_path) as (running, api):
            await booted_station_via_api(api, "CS1")
            offline = await api.post("/api/v1/stations/CS1/call/Reset", {"type": "Immediate"})
            assert offline.status == 409 and offline.error_code == "StationNotConnected"
            async with running.station("CS1"):
                # Connected but not booted: B02/B03 forbid a Reset.
                refused = await api.post("/api/v1/stations/CS1/call/Reset", {"type": "Immediate"})
                assert refused.status == 409 and refused.error_code == "CallRefused"


async def test_call_error_is_502_with_the_station_code(tmp_path: Path) -> None:
    with trio.fail_after(TIMEOUT):
        async with api_csms(tmp_path) as (running, api):
            await booted_station_via_api(api, "CS1")
            async with running.station("CS1") as sim:
                await sim.boot()

                def refuse(request: ResetRequest) -> ResetResponse:
                    raise OcppError(ErrorCode.GenericError, "not today", {"why": "busy"})

                sim.handle(ResetRequest, refuse)
                answer = await api.post("/api/v1/stations/CS1/call/Reset", {"type": "OnIdle"})
                assert answer.status == 502
                assert answer.json == {
                    "error": {
                        "code": "GenericError",
                        "message": "not today",
                        "details": {"why": "busy"},
                    }
                }


async def test_call_timeout_is_504(tmp_path: Path) -> None:
    with trio.fail_after(TIMEOUT):
        async with api_csms(tmp_path) as (running, api):
            await booted_station_via_api(api, "CS1")
            async with running.station("CS1") as sim:
                await sim.boot()

                async def slow(request: ResetRequest) -> ResetResponse:
                    await trio.sleep(5)
                    return ResetResponse(status="Accepted")  # type: ignore[arg-type]

                sim.handle(ResetRequest, slow)
                started = trio.current_time()
                answer = await api.post(
                    "/api/v1/stations/CS1/call/Reset?timeout=0.5", {"type": "Immediate"}
                )
                assert answer.status == 504 and answer.error_code == "CallTimeout"
                assert trio.current_time() - started < 3


async def test_connection_lost_is_502_at_once(tmp_path: Path) -> None:
    with trio.fail_after(TIMEOUT):
        async with api_csms(tmp_path) as (running, api):
            await booted_station_via_api(api, "CS1")
            async with running.station("CS1") as sim:
                await sim.boot()

                async def hang_up(request: ResetRequest) -> ResetResponse:
                    await sim.aclose()
                    await trio.sleep_forever()
                    raise AssertionError("unreachable")

                sim.handle(ResetRequest, hang_up)
                started = trio.current_time()
                answer = await api.post(
                    "/api/v1/stations/CS1/call/Reset?timeout=8", {"type": "Immediate"}
                )
                elapsed = trio.current_time() - started
                assert answer.status == 502 and answer.error_code == "ConnectionLost"
                assert elapsed < 4


# --- id tokens ----------------------------------------------------------------------------


async def test_id_token_lifecycle(tmp_path: Path) -> None:
    with trio.fail_after(TIMEOUT):
        async with api_csms(tmp_path) as (running, api):
            body = {
                "status": "Accepted",
                "groupIdToken": {"idToken": "GROUP1", "type": "Central"},
                "cacheExpiryDateTime": "2030-01-01T00:00:00+00:00",
                "evseId": [1, 2],
                "language1": "en",
                "personalMessage": {"format": "UTF8", "content": "Hello"},
            }
            created = await api.put("/api/v1/id-tokens/ISO14443/ABC123", body)
            assert created.status == 201, created.body
            assert created.json == {"idToken": "ABC123", "type": "ISO14443", **body}
            blocked = await api.put("/api/v1/id-tokens/ISO14443/ABC123", {"status": "Blocked"})
            assert blocked.status == 200 and blocked.json["groupIdToken"] is None
            one = await api.get("/api/v1/id-tokens/ISO14443/ABC123")
            assert one.json["status"] == "Blocked"
            listed = await api.get("/api/v1/id-tokens")
            assert [t["idToken"] for t in listed.json["idTokens"]] == ["ABC123"]

            # The CSMS authorizes with it.
            await booted_station_via_api(api, "CS1")
            async with running.station("CS1") as sim:
                await sim.boot()
                answer = await sim.authorize("ABC123", "ISO14443")
                assert answer.id_token_info.status == "Blocked"

            assert (await api.delete("/api/v1/id-tokens/ISO14443/ABC123")).status == 204
            assert (await api.get("/api/v1/id-tokens/ISO14443/ABC123")).status == 404
            assert (await api.delete("/api/v1/id-tokens/ISO14443/ABC123")).status == 404


@pytest.mark.parametrize(
    ("path", "body", "word"),
    [
        ("/api/v1/id-tokens/Bogus/ABC", {"status": "Accepted"}, "type"),
        ("/api/v1/id-tokens/Local/" + "x" * 37, {"status": "Accepted"}, "idToken"),
        ("/api/v1/id-tokens/Local/ABC", {"status": "Fine"}, "status"),
        ("/api/v1/id-tokens/Local/ABC", {}, "status"),
        ("/api/v1/id-tokens/Local/ABC", {"status": "Accepted", "evseId": [-1]}, "evseId"),
        (
            "/api/v1/id-tokens/Local/ABC",
            {"status": "Accepted", "groupIdToken": {"idToken": "G", "type": "Nope"}},
            "groupIdToken",
        ),
        (
            "/api/v1/id-tokens/Local/ABC",
            {"status": "Accepted", "cacheExpiryDateTime": "2030-01-01T00:00:00"},
            "cacheExpiryDateTime",
        ),
        (
            "/api/v1/id-tokens/Local/ABC",
            {"status": "Accepted", "personalMessage": {"content": "hi"}},
            "personalMessage",
        ),
        ("/api/v1/id-tokens/Local/ABC", {"status": "Accepted", "language1": "x" * 9}, "language1"),
    ],
)
async def test_id_token_put_validates(
    tmp_path: Path, path: str, body: dict[str, object], word: str
) -> None:
    with trio.fail_after(TIMEOUT):
        async with api_csms(tmp_path) as (running, api):
            answer = await api.put(path, body)
            assert answer.status == 400, answer.body
            assert word in answer.json["error"]["message"]
            assert await running.csms.store.list_id_tokens() == []
            assert (await api.get("/api/v1/id-tokens/Bogus/ABC")).status == 400


# --- transactions -------------------------------------------------------------------------


def _energy(wh: float, at: datetime) -> MeterValueType:
    sample = SampledValueType(value=wh, measurand=MeasurandEnumType.Energy_Active_Import_Register)
    return MeterValueType(timestamp=at, sampled_value=[sample])


async def test_transactions_listed_and_read(tmp_path: Path) -> None:
    with trio.fail_after(TIMEOUT):
        async with api_csms(tmp_path) as (running, api):
            await booted_station_via_api(api, "CS1")
            async with running.station("CS1") as sim:
                await sim.boot()
                at = datetime(2030, 1, 1, tzinfo=UTC)
                await sim.transaction_event(
                    "Started",
                    "CablePluggedIn",
                    "TX1",
                    evse_id=1,
                    connector_id=1,
                    charging_state="Charging",
                    meter_value=[_energy(100, at)],
                )
                await sim.transaction_event("Started", "CablePluggedIn", "TX2", evse_id=2)
                await sim.transaction_event(
                    "Ended", "EVCommunicationLost", "TX2", stopped_reason="EVDisconnected"
                )
            everything = await api.get("/api/v1/transactions")
            assert everything.status == 200
            assert [t["transactionId"] for t in everything.json["transactions"]] == ["TX1", "TX2"]
            active = await api.get("/api/v1/transactions?stationId=CS1&active=true")
            (tx1,) = active.json["transactions"]
            assert tx1["transactionId"] == "TX1" and tx1["active"] is True
            ended = await api.get("/api/v1/transactions?active=false")
            (tx2,) = ended.json["transactions"]
            assert tx2["stoppedReason"] == "EVDisconnected" and tx2["active"] is False
            # Pages of one: each full page's opaque `next` is where the following one starts.
            first = (await api.get("/api/v1/transactions?limit=1")).json
            assert [t["transactionId"] for t in first["transactions"]] == ["TX1"]
            second = (await api.get(f"/api/v1/transactions?limit=1&after={first['next']}")).json
            assert [t["transactionId"] for t in second["transactions"]] == ["TX2"]
            third = (await api.get(f"/api/v1/transactions?limit=1&after={second['next']}")).json
            assert third == {"transactions": [], "next": None}
            assert everything.json["next"] is None  # not a full page: nothing follows
            other = await api.get("/api/v1/transactions?stationId=CS2")
            assert other.json == {"transactions": [], "next": None}

            one = await api.get("/api/v1/transactions/CS1/TX1")
            assert one.status == 200
            tx = one.json
            assert tx["stationId"] == "CS1" and tx["evseId"] == 1 and tx["connectorId"] == 1
            assert tx["chargingState"] == "Charging"
            assert tx["energyImportedWh"] == 100
            assert tx["seqNoGaps"] == []
            (meter,) = tx["meterValues"]
            assert datetime.fromisoformat(meter["timestamp"]) == at
            assert meter["sampledValue"][0]["value"] == 100
            assert set(tx) >= {
                "transactionId",
                "idToken",
                "active",
                "startedAt",
                "endedAt",
                "stoppedReason",
                "remoteStartId",
            }
            assert (await api.get("/api/v1/transactions/CS1/NOPE")).status == 404
            for query in ("active=maybe", "limit=0", "limit=x", "limit=1001"):
                assert (await api.get(f"/api/v1/transactions?{query}")).status == 400


async def test_meter_values_outside_transactions_latest_first_page(tmp_path: Path) -> None:
    with trio.fail_after(TIMEOUT):
        async with api_csms(tmp_path) as (running, api):
            await booted_station_via_api(api, "CS1")
            empty = await api.get("/api/v1/stations/CS1/meter-values")
            assert empty.status == 200 and empty.json == {"meterValues": []}
            async with running.station("CS1") as sim:
                await sim.boot()
                base = datetime(2030, 1, 1, tzinfo=UTC)
                for minute, evse_id in ((2, 0), (1, 1), (3, 1)):
                    at = base.replace(minute=minute)
                    await sim.meter_values(evse_id, [_energy(1000 + minute, at)])
                await sim.transaction_event(
                    "Started", "CablePluggedIn", "TX1", evse_id=1, meter_value=[_energy(5, base)]
                )
            everything = (await api.get("/api/v1/stations/CS1/meter-values")).json
            values = everything["meterValues"]
            assert [(v["evseId"], v["sampledValue"][0]["value"]) for v in values] == [
                (1, 1001),
                (0, 1002),
                (1, 1003),
            ]
            assert datetime.fromisoformat(values[0]["timestamp"]) == base.replace(minute=1)
            latest = await api.get("/api/v1/stations/CS1/meter-values?limit=2")
            assert latest.json["meterValues"] == values[1:]
            for query in ("limit=0", "limit=x", "limit=1001"):
                answer = await api.get(f"/api/v1/stations/CS1/meter-values?{query}")
                assert answer.status == 400
            assert (await api.get("/api/v1/stations/NOPE/meter-values")).status == 404


# --- passwords, reports, customer information ----------------------------------------------


async def test_password_rotation_switches_only_on_accepted(tmp_path: Path) -> None:
    with trio.fail_after(TIMEOUT):
        async with api_csms(tmp_path) as (running, api):
            await booted_station_via_api(api, "CS1")
            async with running.station("CS1") as sim:
                await sim.boot()
                rotated = await api.post("/api/v1/stations/CS1/password", None)
                assert rotated.status == 200, rotated.body
                assert rotated.json["status"] == "Accepted"
                new = rotated.json["password"]
                assert isinstance(new, str) and len(new) == 40
                call = await sim.next_csms_call("SetVariables")
                (data,) = call.request.set_variable_data  # type: ignore[attr-defined]
                assert data.attribute_value == new
                assert (data.component.name, data.variable.name) == (
                    "SecurityCtrlr",
                    "BasicAuthPassword",
                )
            # TC_A_09: the new one works (and then retires the old one).
            async with running.station("CS1", password=new) as sim:
                assert (await sim.boot()).status == "Accepted"

                def reject(request: SetVariablesRequest) -> SetVariablesResponse:
                    return SetVariablesResponse(
                        set_variable_result=[
                            SetVariableResultType(
                                attribute_status=SetVariableStatusEnumType.Rejected,
                                attribute_type=data.attribute_type,
                                component=data.component,
                                variable=data.variable,
                            )
                            for data in request.set_variable_data
                        ]
                    )

                sim.handle(SetVariablesRequest, reject)
                # TC_A_10: a rejected password change keeps the current one.
                refused = await api.post("/api/v1/stations/CS1/password", None)
                assert refused.json == {"status": "Rejected", "password": None}
                by_call = await api.post(
                    "/api/v1/stations/CS1/call/SetVariables",
                    {
                        "setVariableData": [
                            {
                                "attributeValue": OTHER_PASSWORD,
                                "component": {"name": "SecurityCtrlr"},
                                "variable": {"name": "BasicAuthPassword"},
                            }
                        ]
                    },
                )
                assert by_call.status == 200
                assert by_call.json["response"]["setVariableResult"][0]["attributeStatus"] == (
                    "Rejected"
                )
            with pytest.raises(HandshakeRefused):
                async with running.station("CS1", password=PASSWORD):
                    pass
            with pytest.raises(HandshakeRefused):
                async with running.station("CS1", password=OTHER_PASSWORD):
                    pass
            async with running.station("CS1", password=new) as sim:
                assert (await sim.boot()).status == "Accepted"
            offline = await api.post("/api/v1/stations/CS1/password", None)
            assert offline.status == 409
            assert (await api.post("/api/v1/stations/NOPE/password", None)).status == 404


async def test_set_variables_of_the_password_through_call_switches_it(tmp_path: Path) -> None:
    with trio.fail_after(TIMEOUT):
        async with api_csms(tmp_path) as (running, api):
            await booted_station_via_api(api, "CS1")
            async with running.station("CS1") as sim:
                await sim.boot()
                answer = await api.post(
                    "/api/v1/stations/CS1/call/SetVariables",
                    {
                        "setVariableData": [
                            {
                                "attributeValue": OTHER_PASSWORD,
                                "component": {"name": "SecurityCtrlr"},
                                "variable": {"name": "BasicAuthPassword"},
                            }
                        ]
                    },
                )
                assert answer.status == 200
            # Both are admitted until the new one is used (TC_A_10), then only the new one.
            async with running.station("CS1", password=PASSWORD) as sim:
                await sim.boot()
            async with running.station("CS1", password=OTHER_PASSWORD) as sim:
                await sim.boot()
            with pytest.raises(HandshakeRefused):
                async with running.station("CS1", password=PASSWORD):
                    pass


async def test_base_report_is_collected_by_request_id(tmp_path: Path) -> None:
    with trio.fail_after(TIMEOUT):
        async with api_csms(tmp_path) as (running, api):
            await booted_station_via_api(api, "CS1")
            async with running.station("CS1") as sim:
                await sim.boot()
                await sim.report_connector(1, 1, "Available")
                asked = await api.post(
                    "/api/v1/stations/CS1/call/GetBaseReport",
                    {"requestId": 77, "reportBase": "FullInventory"},
                )
                assert asked.json == {"response": {"status": "Accepted"}}
                report: dict[str, Any] = {}
                while not report.get("complete"):
                    await trio.sleep(0.02)
                    report = (await api.get("/api/v1/stations/CS1/reports/77")).json
            assert report["kind"] == "GetBaseReport" and report["requestId"] == 77
            assert report["request"] == {"requestId": 77, "reportBase": "FullInventory"}
            (part,) = report["parts"]
            assert part["payload"]["requestId"] == 77 and part["payload"]["reportData"]
            assert (await api.get("/api/v1/stations/CS1/reports/78")).status == 404
            assert (await api.get("/api/v1/stations/CS1/reports/x")).status == 400
            assert (await api.get("/api/v1/stations/CS1/customer-information/77")).status == 404
            assert (await api.get("/api/v1/stations/NOPE/reports/77")).status == 404


async def test_customer_information_is_collected_by_request_id(tmp_path: Path) -> None:
    with trio.fail_after(TIMEOUT):
        async with api_csms(tmp_path) as (running, api):
            await booted_station_via_api(api, "CS1")
            async with running.station("CS1") as sim:
                await sim.boot()

                def answer(request: CustomerInformationRequest) -> CustomerInformationResponse:
                    async def send() -> None:
                        await sim.call(
                            NotifyCustomerInformationRequest(
                                data="customer data",
                                seq_no=0,
                                generated_at=datetime.now(UTC),
                                request_id=request.request_id,
                            )
                        )

                    sim.after_reply(send)
                    return CustomerInformationResponse(
                        status=CustomerInformationStatusEnumType.Accepted
                    )

                sim.handle(CustomerInformationRequest, answer)
                asked = await api.post(
                    "/api/v1/stations/CS1/call/CustomerInformation",
                    {"requestId": 5, "report": True, "clear": False, "customerIdentifier": "C1"},
                )
                assert asked.status == 200, asked.body
                info: dict[str, Any] = {}
                while not info.get("parts"):
                    await trio.sleep(0.02)
                    info = (await api.get("/api/v1/stations/CS1/customer-information/5")).json
            assert info["kind"] == "CustomerInformation"
            assert info["parts"][0]["payload"]["data"] == "customer data"


async def test_firmware_updates_and_log_uploads_follow_their_notifications(
    tmp_path: Path,
) -> None:
    with trio.fail_after(TIMEOUT):
        async with api_csms(tmp_path) as (running, api):
            await booted_station_via_api(api, "CS1")
            async with running.station("CS1") as sim:
                await sim.boot()
                firmware = {"location": "https://fw.example/1.bin", "retrieveDateTime": _NOW}
                asked = await api.post(
                    "/api/v1/stations/CS1/call/UpdateFirmware",
                    {"requestId": 11, "firmware": firmware},
                )
                assert asked.status == 200, asked.body
                for status in ("Downloading", "Downloaded"):
                    await sim.call(
                        FirmwareStatusNotificationRequest(
                            status=FirmwareStatusEnumType(status), request_id=11
                        )
                    )
                update = (await api.get("/api/v1/stations/CS1/firmware-updates/11")).json
                assert update["kind"] == "UpdateFirmware" and update["requestId"] == 11
                assert update["status"] == "Downloaded" and update["complete"] is False
                assert [p["payload"]["status"] for p in update["parts"]] == [
                    "Downloading",
                    "Downloaded",
                ]
                await sim.call(
                    FirmwareStatusNotificationRequest(
                        status=FirmwareStatusEnumType.Installed, request_id=11
                    )
                )
                update = (await api.get("/api/v1/stations/CS1/firmware-updates/11")).json
                assert update["status"] == "Installed" and update["complete"] is True

                log = {"remoteLocation": "https://logs.example/up"}
                asked = await api.post(
                    "/api/v1/stations/CS1/call/GetLog",
                    {"requestId": 12, "logType": "DiagnosticsLog", "log": log},
                )
                assert asked.status == 200, asked.body
                await sim.call(
                    LogStatusNotificationRequest(
                        status=UploadLogStatusEnumType.Uploaded, request_id=12
                    )
                )
                upload = (await api.get("/api/v1/stations/CS1/log-uploads/12")).json
                assert upload["kind"] == "GetLog" and upload["status"] == "Uploaded"
                assert upload["complete"] is True and len(upload["parts"]) == 1
            # Each endpoint shows its own kind of request only.
            assert (await api.get("/api/v1/stations/CS1/log-uploads/11")).status == 404
            assert (await api.get("/api/v1/stations/CS1/firmware-updates/12")).status == 404
            assert (await api.get("/api/v1/stations/CS1/firmware-updates/x")).status == 400
            assert (await api.get("/api/v1/stations/NOPE/log-uploads/12")).status == 404


async def test_a_refused_tracked_request_is_complete_with_the_refusal(tmp_path: Path) -> None:
    with trio.fail_after(TIMEOUT):
        async with api_csms(tmp_path) as (running, api):
            await booted_station_via_api(api, "CS1")
            async with running.station("CS1") as sim:
                await sim.boot()
                sim.handle(
                    UpdateFirmwareRequest,
                    lambda _: UpdateFirmwareResponse(
                        status=UpdateFirmwareStatusEnumType.InvalidCertificate
                    ),
                )
                sim.handle(
                    GetLogRequest, lambda _: GetLogResponse(status=LogStatusEnumType.Rejected)
                )
                firmware = {"location": "https://fw.example/1.bin", "retrieveDateTime": _NOW}
                await api.post(
                    "/api/v1/stations/CS1/call/UpdateFirmware",
                    {"requestId": 21, "firmware": firmware},
                )
                log = {"remoteLocation": "https://logs.example/up"}
                await api.post(
                    "/api/v1/stations/CS1/call/GetLog",
                    {"requestId": 22, "logType": "SecurityLog", "log": log},
                )
                # Accepted leaves the request open: notifications will follow.
                await api.post(
                    "/api/v1/stations/CS1/call/CustomerInformation",
                    {"requestId": 23, "report": True, "clear": False, "customerIdentifier": "C"},
                )
            update = (await api.get("/api/v1/stations/CS1/firmware-updates/21")).json
            assert update["status"] == "InvalidCertificate" and update["complete"] is True
            upload = (await api.get("/api/v1/stations/CS1/log-uploads/22")).json
            assert upload["status"] == "Rejected" and upload["complete"] is True
            info = (await api.get("/api/v1/stations/CS1/customer-information/23")).json
            assert info["status"] is None and info["complete"] is False


async def test_an_accepted_canceled_update_ends_the_running_one(tmp_path: Path) -> None:
    # L01.FR.24: AcceptedCanceled says the station cancelled the update it was running.
    with trio.fail_after(TIMEOUT):
        async with api_csms(tmp_path) as (running, api):
            await booted_station_via_api(api, "CS1")
            async with running.station("CS1") as sim:
                await sim.boot()
                firmware = {"location": "https://fw.example/1.bin", "retrieveDateTime": _NOW}
                for request_id, answer in ((31, "Accepted"), (32, "Rejected")):
                    sim.handle(
                        UpdateFirmwareRequest,
                        lambda _, a=answer: UpdateFirmwareResponse(
                            status=UpdateFirmwareStatusEnumType(a)
                        ),
                    )
                    await api.post(
                        "/api/v1/stations/CS1/call/UpdateFirmware",
                        {"requestId": request_id, "firmware": firmware},
                    )
                # A Rejected newer request (L01.FR.27) leaves the running one alone.
                update = (await api.get("/api/v1/stations/CS1/firmware-updates/31")).json
                assert update["complete"] is False
                sim.handle(
                    UpdateFirmwareRequest,
                    lambda _: UpdateFirmwareResponse(
                        status=UpdateFirmwareStatusEnumType.AcceptedCanceled
                    ),
                )
                await api.post(
                    "/api/v1/stations/CS1/call/UpdateFirmware",
                    {"requestId": 33, "firmware": firmware},
                )
            update = (await api.get("/api/v1/stations/CS1/firmware-updates/31")).json
            assert update["status"] == "Canceled" and update["complete"] is True
            refused = (await api.get("/api/v1/stations/CS1/firmware-updates/32")).json
            assert refused["status"] == "Rejected"
            newer = (await api.get("/api/v1/stations/CS1/firmware-updates/33")).json
            assert newer["status"] is None and newer["complete"] is False


async def test_openapi_document_is_served(tmp_path: Path) -> None:
    with trio.fail_after(TIMEOUT):
        async with api_csms(tmp_path) as (_, api):
            answer = await api.get("/api/v1/openapi.json")
            assert answer.status == 200
            assert answer.json["openapi"].startswith("3.")
            assert "/api/v1/stations/{stationId}/call/Reset" in answer.json["paths"]
            assert (await api.get("/api/v1/openapi.json", token=None)).status == 401


# --- recent frames --------------------------------------------------------------------------


async def test_messages_show_recent_frames_both_ways_and_survive_reconnects(
    tmp_path: Path,
) -> None:
    with trio.fail_after(TIMEOUT):
        async with api_csms(tmp_path, ocpp={"frame_log_size": 4}) as (running, api):
            await booted_station_via_api(api, "CS1")
            assert (await api.get("/api/v1/stations/CS1/messages")).json == {"messages": []}
            async with running.station("CS1") as sim:
                await sim.boot()
                await sim.heartbeat()
            async with running.station("CS1") as sim:
                await sim.heartbeat()
            answer = await api.get("/api/v1/stations/CS1/messages?limit=3")
            assert answer.status == 200, answer.body
            messages = answer.json["messages"]
            assert [m["direction"] for m in messages] == ["out", "in", "out"]
            assert [orjson.loads(m["frame"])[0] for m in messages] == [3, 2, 3]
            assert orjson.loads(messages[1]["frame"])[2] == "Heartbeat"
            assert all(m["timestamp"].endswith("Z") for m in messages)
            everything = await api.get("/api/v1/stations/CS1/messages")
            assert len(everything.json["messages"]) == 4  # frame_log_size bounds it
            assert (await api.get("/api/v1/stations/CS1/messages?limit=0")).status == 400
            assert (await api.get("/api/v1/stations/NOPE/messages")).status == 404


async def test_transactions_after_must_be_a_cursor(tmp_path: Path) -> None:
    """`after` takes only a page's `next` (found by schemathesis: an `after` without '/' was a
    500 from the store)."""
    with trio.fail_after(TIMEOUT):
        async with api_csms(tmp_path) as (_, api):
            for after in ("nokey", "CS1/T1", "A", encode_cursor("no-slash"), "djI6Q1MxL1Qx"):
                answer = await api.get(f"/api/v1/transactions?after={after}")
                assert answer.status == 400 and answer.error_code == "BadRequest", after
            answer = await api.get(f"/api/v1/transactions?after={encode_cursor('CS1/T1')}")
            assert answer.status == 200


async def test_a_method_a_path_does_not_have_is_405_with_allow(tmp_path: Path) -> None:
    """RFC 9110 §15.5.6 (found by schemathesis): a 405 names the methods the path has."""
    with trio.fail_after(TIMEOUT):
        async with api_csms(tmp_path) as (_, api):
            for method in ("TRACE", "PATCH", "POST"):
                answer = await api.request(method, "/api/v1/transactions")
                assert answer.status == 405, (method, answer.body)
                assert answer.headers["allow"] == "GET, HEAD"
                assert answer.error_code == "MethodNotAllowed"
            station = await api.request("PATCH", "/api/v1/stations/CS1")
            assert station.headers["allow"] == "DELETE, GET, HEAD, PUT"
            assert (await api.request("TRACE", "/api/v1/nothing-here")).status == 404


def _hash_data(serial: str) -> CertificateHashDataType:
    return CertificateHashDataType(
        hash_algorithm=HashAlgorithmEnumType.SHA384,
        issuer_name_hash="ab" * 48,
        issuer_key_hash="cd" * 48,
        serial_number=serial,
    )


async def test_certificate_delete_uses_the_hash_data_the_station_reports(tmp_path: Path) -> None:
    """M04: the lookup's hash data is sent back exactly; serials match as hex (case, leading
    zeros); a chain's child can be deleted; none or several matches send no DeleteCertificate."""
    root = CertificateHashDataChainType(
        certificate_type=GetCertificateIdUseEnumType.V2GCertificateChain,
        certificate_hash_data=_hash_data("1f00a"),
        child_certificate_hash_data=[_hash_data("2b"), _hash_data("2B")],
    )
    deleted: list[CertificateHashDataType] = []

    def installed(request: GetInstalledCertificateIdsRequest) -> GetInstalledCertificateIdsResponse:
        assert request.certificate_type == [GetCertificateIdUseEnumType.V2GCertificateChain]
        return GetInstalledCertificateIdsResponse(
            status=GetInstalledCertificateStatusEnumType.Accepted,
            certificate_hash_data_chain=[root],
        )

    def delete(request: DeleteCertificateRequest) -> DeleteCertificateResponse:
        deleted.append(request.certificate_hash_data)
        return DeleteCertificateResponse(status=DeleteCertificateStatusEnumType.Failed)

    base = "/api/v1/stations/CS1/certificates"
    with trio.fail_after(TIMEOUT):
        async with api_csms(tmp_path) as (running, api):
            await booted_station_via_api(api, "CS1")
            async with running.station("CS1") as sim:
                await sim.boot()
                sim.handle(GetInstalledCertificateIdsRequest, installed)
                sim.handle(DeleteCertificateRequest, delete)
                query = "?certificateType=V2GCertificateChain"
                answer = await api.delete(f"{base}/0001F00A{query}")
                assert answer.status == 200, answer.body
                assert answer.json == {
                    "status": "Failed",
                    "certificateHashData": {
                        "hashAlgorithm": "SHA384",
                        "issuerNameHash": "ab" * 48,
                        "issuerKeyHash": "cd" * 48,
                        "serialNumber": "1f00a",
                    },
                }
                assert deleted == [root.certificate_hash_data]
                missing = await api.delete(f"{base}/99{query}")
                assert missing.status == 404 and missing.error_code == "NotFound", missing.body
                twice = await api.delete(f"{base}/2b{query}")
                assert twice.status == 409 and twice.error_code == "AmbiguousCertificate"
                assert len(deleted) == 1
                bad = await api.delete(f"{base}/2b?certificateType=Nope")
                assert bad.status == 400, bad.body
                not_hex = await api.delete(f"{base}/0x2b{query}")
                assert not_hex.status == 400, not_hex.body
            assert (await api.delete(f"{base}/2b")).status == 409  # not connected
            assert (await api.delete("/api/v1/stations/NOPE/certificates/2b")).status == 404
