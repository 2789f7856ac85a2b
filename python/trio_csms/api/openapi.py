"""The OpenAPI 3.0 document of the operator API v1, served at `GET /api/v1/openapi.json`.

Written by hand next to the handlers in `api.operator`; a unit test checks that it names
exactly the routes the router serves, with the same methods.
"""

from __future__ import annotations

from typing import Any

from ..messages import ACTIONS

_NULLABLE_STRING = {"type": "string", "nullable": True}
_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {"type": "object"},
            },
        }
    },
}
_IMPORT_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "rows"],
            "properties": {
                "code": {"type": "string", "enum": ["InvalidImport"]},
                "message": {"type": "string"},
                "rows": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["line", "message"],
                        "properties": {
                            "line": {"type": "integer"},
                            "message": {"type": "string"},
                        },
                    },
                },
            },
        }
    },
}
_STATION = {
    "type": "object",
    "required": ["stationId", "connected", "securityProfile", "evses"],
    "properties": {
        "stationId": {"type": "string"},
        "connected": {"type": "boolean"},
        "securityProfile": {"type": "integer", "enum": [1, 2, 3]},
        "registrationStatus": _NULLABLE_STRING,
        "registrationPolicy": _NULLABLE_STRING,
        "chargingStation": {"type": "object", "nullable": True},
        "lastBootAt": {**_NULLABLE_STRING, "format": "date-time"},
        "lastBootReason": _NULLABLE_STRING,
        "lastSeen": {**_NULLABLE_STRING, "format": "date-time"},
        "firmwareStatus": _NULLABLE_STRING,
        "evses": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "evseId": {"type": "integer"},
                    "connectors": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "connectorId": {"type": "integer"},
                                "status": {"type": "string"},
                            },
                        },
                    },
                },
            },
        },
    },
}
_STATION_PUT = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "password": {**_NULLABLE_STRING, "minLength": 16, "maxLength": 40},
        "securityProfile": {"type": "integer", "enum": [1, 2, 3]},
        "registrationStatus": {
            "type": "string",
            "nullable": True,
            "enum": ["Accepted", "Pending", "Rejected", None],
        },
    },
}
_ID_TOKEN_STATUSES = [
    "Accepted",
    "Blocked",
    "Expired",
    "Invalid",
    "NoCredit",
    "NotAllowedTypeEVSE",
    "NotAtThisLocation",
    "NotAtThisTime",
    "Unknown",
]
_ID_TOKEN_PUT = {
    "type": "object",
    "required": ["status"],
    "additionalProperties": False,
    "properties": {
        "status": {"type": "string", "enum": _ID_TOKEN_STATUSES},
        "groupIdToken": {"type": "object", "nullable": True},
        "cacheExpiryDateTime": {**_NULLABLE_STRING, "format": "date-time"},
        "evseId": {
            "type": "array",
            "nullable": True,
            "items": {"type": "integer", "minimum": 0},
        },
        "language1": {**_NULLABLE_STRING, "maxLength": 8},
        "personalMessage": {"type": "object", "nullable": True},
    },
}
_ID_TOKEN = {
    "type": "object",
    "required": ["idToken", "type", "status"],
    "properties": {"idToken": {"type": "string"}, "type": {"type": "string"}, "status": {}},
}
_TRANSACTION = {
    "type": "object",
    "required": ["transactionId", "stationId", "active"],
    "properties": {
        "transactionId": {"type": "string"},
        "stationId": {"type": "string"},
        "active": {"type": "boolean"},
        "meterValues": {"type": "array", "items": {"type": "object"}},
    },
}
_REQUEST_PARTS = {
    "type": "object",
    "required": ["requestId", "kind", "complete", "parts"],
    "properties": {
        "requestId": {"type": "integer"},
        "kind": {"type": "string"},
        "status": _NULLABLE_STRING,
        "complete": {"type": "boolean"},
        "parts": {"type": "array", "items": {"type": "object"}},
    },
}


def _json(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*statuses: int) -> dict[str, Any]:
    return {
        str(status): _json({"$ref": "#/components/schemas/Error"}, "error") for status in statuses
    }


def _path(name: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": schema or {"type": "string"}}


def _query(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema}


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def document() -> dict[str, Any]:
    """The OpenAPI document (a new dict each time)."""
    station_id = _path("stationId")
    timeout = _query("timeout", {"type": "number", "exclusiveMinimum": True, "minimum": 0})
    actions = sorted(spec.action for spec in ACTIONS if spec.direction.sent_by_csms())
    token = [_path("type"), _path("idToken")]
    request_id = _path("requestId", {"type": "integer"})
    return {
        "openapi": "3.0.3",
        "info": {"title": "trio-csms operator API", "version": "1"},
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": _ERROR},
        },
        "security": [{"bearer": []}],
        "paths": {
            "/api/v1/openapi.json": {
                "get": {"responses": {"200": _json({"type": "object"}), **_errors(401)}}
            },
            "/api/v1/stations": {
                "get": {
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "properties": {"stations": {"type": "array", "items": _STATION}},
                            }
                        ),
                        **_errors(401),
                    }
                }
            },
            "/api/v1/stations:import": {
                "post": {
                    "requestBody": {
                        "required": True,
                        "content": {
                            media: {"schema": {"type": "string"}}
                            for media in ("text/csv", "application/x-ndjson")
                        },
                    },
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "required": ["created", "updated"],
                                "properties": {
                                    "created": {"type": "integer"},
                                    "updated": {"type": "integer"},
                                },
                            },
                            "imported (all rows, or none on 400)",
                        ),
                        "400": _json(_IMPORT_ERROR, "invalid rows; nothing imported"),
                        **_errors(401, 413),
                    },
                }
            },
            "/api/v1/stations/{stationId}": {
                "parameters": [station_id],
                "get": {"responses": {"200": _json(_STATION), **_errors(401, 404)}},
                "put": {
                    "requestBody": _body(_STATION_PUT),
                    "responses": {
                        "200": _json(_STATION, "updated"),
                        "201": _json(_STATION, "created"),
                        **_errors(400, 401, 413),
                    },
                },
                "delete": {"responses": {"204": {"description": "deleted"}, **_errors(401, 404)}},
            },
            "/api/v1/stations/{stationId}/variables": {
                "parameters": [station_id],
                "get": {
                    "responses": {
                        "200": _json({"type": "array", "items": {"type": "object"}}),
                        **_errors(401, 404),
                    }
                },
            },
            "/api/v1/stations/{stationId}/messages": {
                "parameters": [station_id],
                "get": {
                    "parameters": [
                        {
                            "name": "limit",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "integer", "minimum": 1, "maximum": 1000},
                        }
                    ],
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "properties": {
                                    "messages": {
                                        "type": "array",
                                        "items": {
                                            "type": "object",
                                            "properties": {
                                                "timestamp": {"type": "string"},
                                                "direction": {"enum": ["in", "out"]},
                                                "frame": {"type": "string"},
                                            },
                                        },
                                    }
                                },
                            }
                        ),
                        **_errors(400, 401, 404),
                    },
                },
            },
            "/api/v1/stations/{stationId}/call/{action}": {
                "parameters": [station_id, _path("action", {"type": "string", "enum": actions})],
                "post": {
                    "parameters": [timeout],
                    "requestBody": _body({"type": "object"}),
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "required": ["response"],
                                "properties": {"response": {"type": "object"}},
                            },
                            "the station's CALLRESULT payload",
                        ),
                        **_errors(400, 401, 404, 409, 413, 502, 504),
                    },
                },
            },
            "/api/v1/stations/{stationId}/password": {
                "parameters": [station_id],
                "post": {
                    "parameters": [timeout],
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "properties": {
                                    "status": {"type": "string"},
                                    "password": _NULLABLE_STRING,
                                },
                            }
                        ),
                        **_errors(400, 401, 404, 409, 502, 504),
                    },
                },
            },
            "/api/v1/stations/{stationId}/reports/{requestId}": {
                "parameters": [station_id, request_id],
                "get": {"responses": {"200": _json(_REQUEST_PARTS), **_errors(400, 401, 404)}},
            },
            "/api/v1/stations/{stationId}/customer-information/{requestId}": {
                "parameters": [station_id, request_id],
                "get": {"responses": {"200": _json(_REQUEST_PARTS), **_errors(400, 401, 404)}},
            },
            "/api/v1/stations/{stationId}/firmware-updates/{requestId}": {
                "parameters": [station_id, request_id],
                "get": {
                    "description": "An UpdateFirmware request; status is the last firmware "
                    "status reported for it (or the station's refusal), parts its "
                    "FirmwareStatusNotifications, oldest first.",
                    "responses": {"200": _json(_REQUEST_PARTS), **_errors(400, 401, 404)},
                },
            },
            "/api/v1/stations/{stationId}/log-uploads/{requestId}": {
                "parameters": [station_id, request_id],
                "get": {
                    "description": "A GetLog request; status is the last upload status "
                    "reported for it (or the station's refusal), parts its "
                    "LogStatusNotifications, oldest first.",
                    "responses": {"200": _json(_REQUEST_PARTS), **_errors(400, 401, 404)},
                },
            },
            "/api/v1/id-tokens": {
                "get": {
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "properties": {"idTokens": {"type": "array", "items": _ID_TOKEN}},
                            }
                        ),
                        **_errors(401),
                    }
                }
            },
            "/api/v1/id-tokens/{type}/{idToken}": {
                "parameters": token,
                "get": {"responses": {"200": _json(_ID_TOKEN), **_errors(400, 401, 404)}},
                "put": {
                    "requestBody": _body(_ID_TOKEN_PUT),
                    "responses": {
                        "200": _json(_ID_TOKEN, "updated"),
                        "201": _json(_ID_TOKEN, "created"),
                        **_errors(400, 401, 413),
                    },
                },
                "delete": {
                    "responses": {"204": {"description": "deleted"}, **_errors(400, 401, 404)}
                },
            },
            "/api/v1/transactions": {
                "get": {
                    "parameters": [
                        _query("stationId", {"type": "string"}),
                        _query("active", {"type": "string", "enum": ["true", "false"]}),
                        _query("limit", {"type": "integer", "minimum": 1, "maximum": 1000}),
                        _query("after", {"type": "string"}),
                    ],
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "properties": {
                                    "transactions": {"type": "array", "items": _TRANSACTION}
                                },
                            }
                        ),
                        **_errors(400, 401),
                    },
                }
            },
            "/api/v1/transactions/{stationId}/{transactionId}": {
                "parameters": [station_id, _path("transactionId")],
                "get": {"responses": {"200": _json(_TRANSACTION), **_errors(401, 404)}},
            },
        },
    }
