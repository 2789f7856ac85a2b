"""A tiny HTTP/1.1 client for the operator API in tests: one request per connection.

Deliberately independent of the server's own HTTP code (it writes requests by hand and parses
the status line and headers itself), so a test sees exactly what a real client would.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
import trio


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return orjson.loads(self.body)

    @property
    def error_code(self) -> str:
        code: str = self.json["error"]["code"]
        return code


@dataclass
class ApiClient:
    port: int
    token: str | None

    async def raw(self, data: bytes) -> Answer:
        stream = await trio.open_tcp_stream("127.0.0.1", self.port)
        async with stream:
            await stream.send_all(data)
            received = b""
            while chunk := await stream.receive_some(65536):
                received += chunk
        head, _, body = received.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        return Answer(int(lines[0].split(" ", 2)[1]), headers, body)

    async def request(
        self,
        method: str,
        path: str,
        body: object = None,
        *,
        raw_body: bytes | None = None,
        token: str | None = "default",
    ) -> Answer:
        token = self.token if token == "default" else token
        data = raw_body if raw_body is not None else b""
        if body is not None:
            data = orjson.dumps(body)
        head = f"{method} {path} HTTP/1.1\r\nHost: csms\r\n"
        if token is not None:
            head += f"Authorization: Bearer {token}\r\n"
        if data or method in ("PUT", "POST"):
            head += f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n"
        return await self.raw(head.encode() + b"\r\n" + data)

    async def get(self, path: str, **options: Any) -> Answer:
        return await self.request("GET", path, **options)

    async def put(self, path: str, body: object, **options: Any) -> Answer:
        return await self.request("PUT", path, body, **options)

    async def post(self, path: str, body: object, **options: Any) -> Answer:
        return await self.request("POST", path, body, **options)

    async def delete(self, path: str, **options: Any) -> Answer:
        return await self.request("DELETE", path, **options)
