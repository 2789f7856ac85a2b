"""`POST /api/v1/stations:import` (issue #4 "Bulk") over real HTTP, against a running Csms;
the imported stations then connect over a real websocket with their passwords."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import trio
from csms_harness import PASSWORD, running_csms

from trio_csms.api.http import MAX_BODY
from trio_csms.security.passwords import hash_password
from trio_csms.stations_import import MAX_IMPORT_BODY

TIMEOUT = 30
PATH = "/api/v1/stations:import"


async def post(
    port: int, body: bytes, *, token: str | None, content_type: str | None = "text/csv"
) -> tuple[int, Any]:
    head = f"POST {PATH} HTTP/1.1\r\nHost: csms\r\nContent-Length: {len(body)}\r\n"
    if token is not None:
        head += f"Authorization: Bearer {token}\r\n"
    if content_type is not None:
        head += f"Content-Type: {content_type}\r\n"
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    async with stream:
        await stream.send_all(head.encode() + b"\r\n" + body)
        received = b""
        while chunk := await stream.receive_some(65536):
            received += chunk
    status_line, _, rest = received.partition(b"\r\n")
    _, _, payload = rest.partition(b"\r\n\r\n")
    return int(status_line.split()[1]), orjson.loads(payload)


async def test_import_creates_updates_and_the_stations_can_connect(tmp_path: Path) -> None:
    with trio.fail_after(TIMEOUT):
        async with running_csms(tmp_path) as running:
            api = running.csms.api
            assert api is not None and api.port is not None
            token = (tmp_path / "api-token").read_text().strip()
            await running.register("CS1", password="Old-Password-0123456", registration_status="X")
            body = f"stationId,password,securityProfile\nCS1,{PASSWORD},1\nCS2,{PASSWORD},1\n"
            assert await post(api.port, body.encode(), token=token) == (
                200,
                {"created": 1, "updated": 1},
            )
            station = await running.csms.store.get_station("CS1")
            assert station is not None and station.registration_status == "X"  # kept
            jsonl = f'{{"stationId":"CS3","password":"{PASSWORD}","securityProfile":1}}\n'
            for content_type in ("application/x-ndjson", None):
                status, answer = await post(
                    api.port, jsonl.encode(), token=token, content_type=content_type
                )
                assert status == 200
            assert answer == {"created": 0, "updated": 1}
            for station_id in ("CS1", "CS2", "CS3"):
                async with running.station(station_id) as sim:
                    assert (await sim.boot()).status.value == "Accepted"


async def test_a_fleet_file_larger_than_other_bodies_imports_pre_hashed(tmp_path: Path) -> None:
    """The import has its own body limit (a fleet's file is megabytes): 20,000 stations with
    pre-hashed passwords (no scrypt per station) in one request; and they can log in."""
    hashed = hash_password(PASSWORD)
    lines = ["stationId,passwordHash,securityProfile"]
    lines += [f"CS{number:05d},{hashed},1" for number in range(20_000)]
    body = "\n".join(lines).encode()
    assert MAX_BODY < len(body) < MAX_IMPORT_BODY
    with trio.fail_after(TIMEOUT):
        async with running_csms(tmp_path) as running:
            api = running.csms.api
            assert api is not None and api.port is not None
            token = (tmp_path / "api-token").read_text().strip()
            assert await post(api.port, body, token=token) == (
                200,
                {"created": 20_000, "updated": 0},
            )
            assert len(await running.csms.store.list_stations()) == 20_000
            async with running.station("CS19999") as sim:
                assert (await sim.boot()).status.value == "Accepted"
            # Above its own limit: 413 from the head alone, before any of the body is read.
            head = (
                f"POST {PATH} HTTP/1.1\r\nHost: csms\r\nAuthorization: Bearer {token}\r\n"
                f"Content-Type: text/csv\r\nContent-Length: {MAX_IMPORT_BODY + 1}\r\n\r\n"
            )
            stream = await trio.open_tcp_stream("127.0.0.1", api.port)
            async with stream:
                await stream.send_all(head.encode())
                received = b""
                while chunk := await stream.receive_some(65536):
                    received += chunk
            assert received.startswith(b"HTTP/1.1 413 ")
            assert f"limited to {MAX_IMPORT_BODY} bytes".encode() in received


async def test_invalid_import_is_400_with_every_row_and_imports_nothing(tmp_path: Path) -> None:
    with trio.fail_after(TIMEOUT):
        async with running_csms(tmp_path) as running:
            api = running.csms.api
            assert api is not None and api.port is not None
            token = (tmp_path / "api-token").read_text().strip()
            body = (
                "stationId,password,securityProfile\n"
                f"CS1,{PASSWORD},1\nCS2,short,1\nCS1,{PASSWORD},2\nCS4,{PASSWORD},0\n"
            )
            status, answer = await post(api.port, body.encode(), token=token)
            assert status == 400
            error = answer["error"]
            assert error["code"] == "InvalidImport"
            assert error["message"] == "3 invalid rows; nothing was imported"
            assert [row["line"] for row in error["rows"]] == [3, 4, 5]
            assert "duplicate stationId 'CS1' (first on line 2)" in error["rows"][1]["message"]
            assert await running.csms.store.list_stations() == []
            status, answer = await post(api.port, b"", token=token)
            assert status == 400 and answer["error"]["rows"] == [
                {"line": 1, "message": "the file has no stations"}
            ]
            status, answer = await post(api.port, b"\xff\n", token=token)
            assert status == 400 and answer["error"]["rows"][0]["message"] == "not UTF-8 text"


async def test_import_needs_the_token(tmp_path: Path) -> None:
    with trio.fail_after(TIMEOUT):
        async with running_csms(tmp_path) as running:
            api = running.csms.api
            assert api is not None and api.port is not None
            body = f"stationId,password,securityProfile\nCS1,{PASSWORD},1\n".encode()
            for token in (None, "wrong"):
                status, answer = await post(api.port, body, token=token)
                assert status == 401 and answer["error"]["code"] == "Unauthorized"
            assert await running.csms.store.list_stations() == []
