"""The OpenAPI 3.0 document of the operator API v1, served at `GET /api/v1/openapi.json`.

Written by hand next to the handlers in `api.operator`, and meant to be exactly as strict as
they are: a request the document calls valid is accepted, one it calls invalid is refused
(schemathesis checks both ways in CI, tests/integration/test_openapi_schemathesis.py). The
OCPP payloads of `POST .../call/{action}` are the msgspec message classes' own JSON Schemas
(one path per action, so each body has its action's schema). A unit test checks that the
document names exactly the routes the router serves.

Two string formats are this API's own (OpenAPI leaves `format` open for that):
- `station-import-csv` / `station-import-jsonl`: a bulk import file (`stations_import`): every
  row valid and each stationId at most once.
- `cursor`: the `next` of a previous page of the same list.
"""

from __future__ import annotations

from typing import Any

import msgspec

from ..effects import REQUEST_ID_RANGE, TRACKED_ACTIONS
from ..messages import (
    ACTIONS,
    GetCertificateIdUseEnumType,
    IdTokenEnumType,
    IdTokenType,
    MessageContentType,
)

#: What `PUT /stations/{id}` and the import take: what the websocket server can ever admit
#: (no ":", Basic auth splits on it) and what fits a URL path segment (no "/").
STATION_ID = {"type": "string", "pattern": "^[^/:]{1,48}$", "minLength": 1, "maxLength": 48}
#: passwordString (16-40 characters of the OCPP set), as `PUT /stations/{id}` and the import
#: take it.
PASSWORD = {
    "type": "string",
    # PASSWORD_CHARACTERS as a class whose every character is literal in ECMA-262 and Python
    # (a unit test checks that it admits exactly that set).
    "pattern": "^[A-Za-z0-9*_=:+|@.-]{16,40}$",
    "minLength": 16,
    "maxLength": 40,
}
ID_TOKEN_STATUSES = [
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
MAX_PAGE = 1000
#: A certificate serial number as `DELETE .../certificates/{serialNumber}` takes it: hex, as
#: CertificateHashDataType.serialNumber (at most 40 characters).
SERIAL_NUMBER = "^[0-9A-Fa-f]{1,40}$"

_REF = "#/components/schemas/{name}"


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` or null. (OpenAPI 3.0 semantics on purpose: there an integer is written without
    a fraction, as msgspec decodes it; JSON Schema 2020-12 (OpenAPI 3.1) counts 1.0 too.)"""
    if "$ref" in schema:
        return {"allOf": [schema], "nullable": True}  # siblings of a $ref are ignored
    if "enum" in schema:
        return {**schema, "enum": [*schema["enum"], None], "nullable": True}
    return {**schema, "nullable": True}


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": _REF.format(name=name)}


_TIME = {"type": "string", "format": "date-time"}
_CURSOR = {"type": "string", "format": "cursor", "pattern": "^[A-Za-z0-9_-]{1,4096}$"}
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
_REGISTRATION = ["Accepted", "Pending", "Rejected"]
_STATION = {
    "type": "object",
    "required": [
        "stationId",
        "connected",
        "securityProfile",
        "pendingSecurityProfile",
        "registrationStatus",
        "registrationPolicy",
        "chargingStation",
        "lastBootAt",
        "lastBootReason",
        "lastSeen",
        "firmwareStatus",
        "evses",
    ],
    "properties": {
        "stationId": {"type": "string"},
        "connected": {"type": "boolean"},
        "securityProfile": {"type": "integer", "enum": [1, 2, 3]},
        "pendingSecurityProfile": _nullable({"type": "integer", "enum": [2, 3]}),
        "registrationStatus": _nullable({"type": "string"}),
        "registrationPolicy": _nullable({"type": "string", "enum": _REGISTRATION}),
        "chargingStation": _nullable({"type": "object"}),
        "lastBootAt": _nullable(_TIME),
        "lastBootReason": _nullable({"type": "string"}),
        "lastSeen": _nullable(_TIME),
        "firmwareStatus": _nullable({"type": "string"}),
        "evses": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["evseId", "connectors"],
                "properties": {
                    "evseId": {"type": "integer"},
                    "connectors": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["connectorId", "status"],
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
        "password": _nullable(PASSWORD),
        "securityProfile": {"type": "integer", "enum": [1, 2, 3]},
        "registrationStatus": _nullable({"type": "string", "enum": _REGISTRATION}),
    },
}
_ID_TOKEN_FIELDS: dict[str, Any] = {
    "groupIdToken": _nullable(_ref("IdTokenType")),
    "cacheExpiryDateTime": _nullable(_TIME),
    "evseId": _nullable({"type": "array", "items": {"type": "integer", "minimum": 0}}),
    "language1": _nullable({"type": "string", "maxLength": 8}),
    "personalMessage": _nullable(_ref("MessageContentType")),
}
_ID_TOKEN_PUT = {
    "type": "object",
    "required": ["status"],
    "additionalProperties": False,
    "properties": {"status": {"type": "string", "enum": ID_TOKEN_STATUSES}, **_ID_TOKEN_FIELDS},
}
_ID_TOKEN = {
    "type": "object",
    "required": ["idToken", "type", "status", *_ID_TOKEN_FIELDS],
    "properties": {
        "idToken": {"type": "string"},
        "type": {"type": "string"},
        "status": {"type": "string", "enum": ID_TOKEN_STATUSES},
        **_ID_TOKEN_FIELDS,
    },
}
_TRANSACTION = {
    "type": "object",
    "required": [
        "transactionId",
        "stationId",
        "evseId",
        "connectorId",
        "idToken",
        "active",
        "chargingState",
        "startedAt",
        "endedAt",
        "stoppedReason",
        "remoteStartId",
        "seqNoGaps",
        "energyImportedWh",
    ],
    "properties": {
        "transactionId": {"type": "string"},
        "stationId": {"type": "string"},
        "evseId": _nullable({"type": "integer"}),
        "connectorId": _nullable({"type": "integer"}),
        "idToken": _nullable({"type": "object"}),
        "active": {"type": "boolean"},
        "chargingState": _nullable({"type": "string"}),
        "startedAt": _nullable(_TIME),
        "endedAt": _nullable(_TIME),
        "stoppedReason": _nullable({"type": "string"}),
        "remoteStartId": _nullable({"type": "integer"}),
        "seqNoGaps": {"type": "array", "items": {"type": "integer"}},
        "energyImportedWh": _nullable({"type": "number"}),
        "meterValues": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["timestamp", "sampledValue"],
                "properties": {
                    "timestamp": _nullable(_TIME),
                    "sampledValue": {"type": "array", "items": {"type": "object"}},
                },
            },
        },
    },
}
_METER_VALUE = {
    "type": "object",
    "required": ["evseId", "timestamp", "sampledValue"],
    "properties": {
        "evseId": _nullable({"type": "integer"}),
        "timestamp": _TIME,
        "sampledValue": {"type": "array", "items": {"type": "object"}},
    },
}
_REQUEST_PARTS = {
    "type": "object",
    "required": ["requestId", "kind", "status", "complete", "createdAt", "request", "parts"],
    "properties": {
        "requestId": {"type": "integer"},
        "kind": {"type": "string"},
        "status": _nullable({"type": "string"}),
        "complete": {"type": "boolean"},
        "createdAt": _nullable(_TIME),
        "request": _nullable({"type": "object"}),
        "parts": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["receivedAt", "payload"],
                "properties": {"receivedAt": _nullable(_TIME), "payload": {"type": "object"}},
            },
        },
    },
}
_MESSAGES = {
    "type": "object",
    "required": ["messages"],
    "properties": {
        "messages": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["timestamp", "direction", "frame"],
                "properties": {
                    "timestamp": _TIME,
                    "direction": {"enum": ["in", "out"]},
                    "frame": {"type": "string"},
                },
            },
        }
    },
}
_VARIABLES = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["component", "variable", "variableAttribute"],
        "properties": {
            "component": {"type": "object"},
            "variable": {"type": "object"},
            "variableAttribute": {"type": "array", "items": {"type": "object"}},
            "variableCharacteristics": {"type": "object"},
        },
    },
}


def _json(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*statuses: int) -> dict[str, Any]:
    return {str(status): _json(_ref("Error"), "error") for status in statuses}


def _path(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": schema}


def _query(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema}


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _list(key: str, item: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": [key],
        "properties": {key: {"type": "array", "items": item}},
    }


def csms_actions() -> list[str]:
    """The actions `POST /stations/{id}/call/{action}` takes: every CSMS-to-station one."""
    return sorted(spec.action for spec in ACTIONS if spec.direction.sent_by_csms())


def _message_schemas() -> dict[str, Any]:
    """JSON Schemas of every CSMS-to-station request and its response, and of the OCPP
    datatypes the id-token body uses, under their class names."""
    types: list[Any] = [IdTokenType, MessageContentType]
    for spec in ACTIONS:
        if spec.direction.sent_by_csms():
            types += [spec.request, spec.response]
    _, components = msgspec.json.schema_components(types, ref_template=_REF)
    for action in TRACKED_ACTIONS:  # recorded by requestId: it must fit the store
        request_id = components[f"{action}Request"]["properties"]["requestId"]
        request_id.update(minimum=REQUEST_ID_RANGE.start, maximum=REQUEST_ID_RANGE.stop - 1)
    return components


def _call_paths(station_id: dict[str, Any], timeout: dict[str, Any]) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for spec in ACTIONS:
        if not spec.direction.sent_by_csms():
            continue
        paths[f"/api/v1/stations/{{stationId}}/call/{spec.action}"] = {
            "parameters": [station_id],
            "post": {
                "summary": f"Send {spec.action} to the station; its answer",
                "parameters": [timeout],
                "requestBody": _body(_ref(spec.request.__name__)),
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "required": ["response"],
                            "properties": {"response": _ref(spec.response.__name__)},
                        },
                        "the station's CALLRESULT payload",
                    ),
                    **_errors(400, 401, 404, 409, 413, 502, 504),
                },
            },
        }
    return paths


def document() -> dict[str, Any]:
    """The OpenAPI document (a new dict each time)."""
    station_id = _path("stationId", STATION_ID)
    timeout = _query(
        "timeout", {"type": "number", "minimum": 0, "exclusiveMinimum": True, "maximum": 300}
    )
    limit = _query("limit", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE})
    token = [
        _path("type", {"type": "string", "enum": [kind.value for kind in IdTokenEnumType]}),
        _path("idToken", {"type": "string", "minLength": 1, "maxLength": 36}),
    ]
    request_id = _path(
        "requestId",
        {
            "type": "integer",
            "minimum": REQUEST_ID_RANGE.start,
            "maximum": REQUEST_ID_RANGE.stop - 1,
        },
    )
    certificate_types = [use.value for use in GetCertificateIdUseEnumType]
    return {
        "openapi": "3.0.3",
        "info": {"title": "trio-csms operator API", "version": "1"},
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": _ERROR, **_message_schemas()},
        },
        "security": [{"bearer": []}],
        "paths": {
            "/api/v1/openapi.json": {
                "get": {"responses": {"200": _json({"type": "object"}), **_errors(401)}}
            },
            "/api/v1/stations": {
                "get": {"responses": {"200": _json(_list("stations", _STATION)), **_errors(401)}}
            },
            "/api/v1/stations:import": {
                "post": {
                    "description": "Create or update stations from a CSV or JSON-lines file "
                    "(columns stationId, securityProfile, password or passwordHash, optional "
                    "registrationStatus), all in one commit or, when a row is bad, none. The "
                    "body may be up to 32 MiB.",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "text/csv": {
                                "schema": {"type": "string", "format": "station-import-csv"}
                            },
                            "application/x-ndjson": {
                                "schema": {"type": "string", "format": "station-import-jsonl"}
                            },
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
                "get": {"responses": {"200": _json(_VARIABLES), **_errors(401, 404)}},
            },
            "/api/v1/stations/{stationId}/messages": {
                "parameters": [station_id],
                "get": {
                    "parameters": [limit],
                    "responses": {"200": _json(_MESSAGES), **_errors(400, 401, 404)},
                },
            },
            "/api/v1/stations/{stationId}/meter-values": {
                "parameters": [station_id],
                "get": {
                    "description": "The latest MeterValues readings sent outside transactions,"
                    " oldest first (evseId 0 is the main meter).",
                    "parameters": [limit],
                    "responses": {
                        "200": _json(_list("meterValues", _METER_VALUE)),
                        **_errors(400, 401, 404),
                    },
                },
            },
            **_call_paths(station_id, timeout),
            "/api/v1/stations/{stationId}/password": {
                "parameters": [station_id],
                "post": {
                    "parameters": [timeout],
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "required": ["status", "password"],
                                "properties": {
                                    "status": {"type": "string"},
                                    "password": _nullable({"type": "string"}),
                                },
                            }
                        ),
                        **_errors(400, 401, 404, 409, 502, 504),
                    },
                },
            },
            "/api/v1/stations/{stationId}/certificates/{serialNumber}": {
                "parameters": [
                    station_id,
                    _path("serialNumber", {"type": "string", "pattern": SERIAL_NUMBER}),
                ],
                "delete": {
                    "description": "GetInstalledCertificateIds, then DeleteCertificate with the"
                    " hash data the station reported for this serial number (hex, case and"
                    " leading zeros ignored); 404 if it reports none",
                    "parameters": [
                        timeout,
                        _query("certificateType", {"type": "string", "enum": certificate_types}),
                    ],
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "required": ["status", "certificateHashData"],
                                "properties": {
                                    "status": {
                                        "type": "string",
                                        "enum": ["Accepted", "Failed", "NotFound"],
                                    },
                                    "certificateHashData": {
                                        "type": "object",
                                        "required": [
                                            "hashAlgorithm",
                                            "issuerNameHash",
                                            "issuerKeyHash",
                                            "serialNumber",
                                        ],
                                        "properties": {
                                            "hashAlgorithm": {
                                                "type": "string",
                                                "enum": ["SHA256", "SHA384", "SHA512"],
                                            },
                                            "issuerNameHash": {"type": "string"},
                                            "issuerKeyHash": {"type": "string"},
                                            "serialNumber": {"type": "string"},
                                        },
                                    },
                                },
                            },
                            "the station's DeleteCertificate status",
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
                "get": {"responses": {"200": _json(_list("idTokens", _ID_TOKEN)), **_errors(401)}}
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
                        limit,
                        _query("after", _CURSOR),
                    ],
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "required": ["transactions", "next"],
                                "properties": {
                                    "transactions": {"type": "array", "items": _TRANSACTION},
                                    # null: this was the last page.
                                    "next": _nullable(_CURSOR),
                                },
                            },
                            "one page, ordered by stationId then transactionId; pass `next` "
                            "as `after` for the following page",
                        ),
                        **_errors(400, 401),
                    },
                }
            },
            "/api/v1/transactions/{stationId}/{transactionId}": {
                "parameters": [station_id, _path("transactionId", {"type": "string"})],
                "get": {"responses": {"200": _json(_TRANSACTION), **_errors(401, 404)}},
            },
        },
    }
