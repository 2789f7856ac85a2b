"""The API router and token file, without sockets: path parameters, auth, errors, tokens."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import orjson
import pytest

from trio_csms.api.auth import resolve_token, token_path
from trio_csms.api.http import HttpError, Request, Response, Router, json_response
from trio_csms.config import load_config


def _request(method: str, path: str, token: str | None = None) -> Request:
    headers = {} if token is None else {"authorization": f"Bearer {token}"}
    return Request(method, path, {}, headers, b"")


def _router() -> Router:
    router = Router("secret")

    async def echo(request: Request) -> Response:
        return json_response(200, request.params)

    async def boom(request: Request) -> Response:
        raise RuntimeError("boom")

    async def teapot(request: Request) -> Response:
        raise HttpError(418, "Teapot", "short and stout", {"spout": True})

    router.add("GET", "/open/{name}", echo, authenticated=False)
    router.add("GET", "/api/v1/things/{kind}/{id}", echo, authenticated=True)
    router.add("GET", "/api/boom", boom, authenticated=True)
    router.add("GET", "/api/teapot", teapot, authenticated=True)
    return router


async def test_path_parameters_are_percent_decoded() -> None:
    answer = await _router().dispatch(_request("GET", "/api/v1/things/a%2Fb/x%20y", "secret"))
    assert answer.status == 200
    assert orjson.loads(answer.body) == {"kind": "a/b", "id": "x y"}


async def test_auth_is_only_on_authenticated_routes() -> None:
    router = _router()
    assert (await router.dispatch(_request("GET", "/open/x"))).status == 200
    for token in (None, "wrong", "secret2", ""):
        answer = await router.dispatch(_request("GET", "/api/v1/things/a/b", token))
        assert answer.status == 401
        assert orjson.loads(answer.body)["error"]["code"] == "Unauthorized"
    basic = Request("GET", "/api/v1/things/a/b", {}, {"authorization": "Basic secret"}, b"")
    assert (await router.dispatch(basic)).status == 401


async def test_errors_are_json() -> None:
    router = _router()
    missing = await router.dispatch(_request("GET", "/api/v1/things/a", "secret"))
    assert missing.status == 404
    empty_param = await router.dispatch(_request("GET", "/api/v1/things//b", "secret"))
    assert empty_param.status == 404
    method = await router.dispatch(_request("DELETE", "/open/x"))
    assert method.status == 405
    crash = await router.dispatch(_request("GET", "/api/boom", "secret"))
    assert crash.status == 500
    assert orjson.loads(crash.body) == {
        "error": {"code": "InternalError", "message": "internal error"}
    }
    teapot = await router.dispatch(_request("GET", "/api/teapot", "secret"))
    assert orjson.loads(teapot.body) == {
        "error": {"code": "Teapot", "message": "short and stout", "details": {"spout": True}}
    }


def test_request_json_rejects_missing_and_invalid_bodies() -> None:
    with pytest.raises(HttpError) as missing:
        _request("PUT", "/x").json()
    assert missing.value.status == 400
    with pytest.raises(HttpError) as invalid:
        Request("PUT", "/x", {}, {}, b"{").json()
    assert invalid.value.status == 400
    assert Request("PUT", "/x", {}, {}, b'{"a": 1}').json() == {"a": 1}


def test_router_refuses_unknown_methods() -> None:
    with pytest.raises(ValueError, match="PATCH"):
        Router().add("PATCH", "/x", _router().dispatch, authenticated=False)


def test_token_path_is_beside_the_sqlite_database(tmp_path: Path) -> None:
    assert token_path(f"sqlite:///{tmp_path}/db/x.db") == tmp_path / "db" / "api-token"
    assert token_path("sqlite:///x.db") == Path("api-token")
    assert token_path("sqlite://:memory:") == Path("api-token")


def test_token_is_generated_once_with_mode_0600(tmp_path: Path) -> None:
    config = load_config(
        environ={}, overrides={"store": {"url": f"sqlite:///{tmp_path}/sub/csms.db"}}
    )
    token = resolve_token(config)
    path = tmp_path / "sub" / "api-token"
    assert path.read_text().strip() == token and len(token) >= 40
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert resolve_token(config) == token


def test_configured_or_environment_token_wins(tmp_path: Path) -> None:
    store = {"store": {"url": f"sqlite:///{tmp_path}/csms.db"}}
    from_env = load_config(environ={"TRIO_CSMS_API_TOKEN": "from-env"}, overrides=store)
    assert resolve_token(from_env) == "from-env"
    configured = load_config(environ={}, overrides={**store, "api": {"token": "configured"}})
    assert resolve_token(configured) == "configured"
    assert not (tmp_path / "api-token").exists()


def test_openapi_document_names_exactly_the_served_routes() -> None:
    from trio_csms.api.openapi import csms_actions, document
    from trio_csms.api.operator import OperatorApi

    router = Router("t")
    OperatorApi.install(_FakeApi(), router)  # type: ignore[arg-type]
    served = {(method.lower(), pattern) for method, pattern in router.endpoints()}
    doc = document()
    documented = {
        (method, _call_template(path))
        for path, item in doc["paths"].items()
        for method in item
        if method != "parameters"
    }
    assert documented == served
    # One documented path per CSMS-to-station action, so each body has its action's schema.
    prefix = "/api/v1/stations/{stationId}/call/"
    called = sorted(path[len(prefix) :] for path in doc["paths"] if path.startswith(prefix))
    assert called == csms_actions()
    assert "Reset" in called and "BootNotification" not in called
    for path, item in doc["paths"].items():
        names = {p["name"] for p in item.get("parameters", [])}
        for method, operation in item.items():
            if method == "parameters":
                continue
            names |= {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert "responses" in operation
        assert names >= {part[1:-1] for part in path.split("/") if part.startswith("{")}, path
    orjson.dumps(doc)  # JSON as it is


def _call_template(path: str) -> str:
    """The router's pattern a documented per-action call path is served by."""
    head, sep, _ = path.partition("/call/")
    return f"{head}/call/{{action}}" if sep else path


class _FakeApi:
    """Just enough of `OperatorApi` for `install` to list its handlers."""

    def __getattr__(self, name: str) -> object:
        async def handler(request: Request) -> Response:
            raise AssertionError(name)

        return handler


def test_cursors_round_trip_and_refuse_anything_else() -> None:
    from trio_csms.api.cursor import InvalidCursor, decode_cursor, encode_cursor

    for key in ("CS1/TX1", "a/b/c", "É/ü", "x" * 100):
        cursor = encode_cursor(key)
        assert decode_cursor(cursor) == key
        assert "=" not in cursor and "/" not in cursor and "+" not in cursor
    for text in ("", "A", "CS1/TX1", "djI6Q1MxL1Qx", "////", "_w", "x" * 5000):
        with pytest.raises(InvalidCursor):
            decode_cursor(text)
