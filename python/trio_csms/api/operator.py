"""The operator HTTP API v1 (issue #4): stations, CSMS-to-station CALLs, id tokens,
transactions, the device model. A thin layer over `Csms` and its `Store`.

Bodies and answers are JSON with the OCPP wire names (camelCase). Every route here needs the
bearer token (see `api.auth`); errors are `{"error": {"code", "message"[, "details"]}}`.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import msgspec
import trio

from ..errors import CallError, CallRefused, CallTimeout, ConnectionLost, StationNotConnected
from ..messages import (
    ACTION_BY_NAME,
    AttributeEnumType,
    AuthorizationStatusEnumType,
    CertificateHashDataType,
    ComponentType,
    DeleteCertificateRequest,
    DeleteCertificateResponse,
    GetCertificateIdUseEnumType,
    GetInstalledCertificateIdsRequest,
    GetInstalledCertificateIdsResponse,
    IdTokenEnumType,
    IdTokenType,
    Message,
    MessageContentType,
    SetVariableDataType,
    SetVariablesRequest,
    SetVariablesResponse,
    VariableType,
)
from ..rpc.errors import OcppError
from ..rpc.payloads import action_index, decode_request, encode
from ..security.passwords import generate_password, hash_password, is_valid_password
from ..stations_import import (
    MAX_IMPORT_BODY,
    InvalidImport,
    decode_import,
    import_stations,
    parse_import,
)
from ..store import (
    ConnectorRecord,
    IdTokenRecord,
    MeterValueRecord,
    StationChanges,
    StationRecord,
    TransactionRecord,
    VariableRecord,
)
from . import openapi
from .cursor import InvalidCursor, decode_cursor, encode_cursor
from .http import MAX_BODY, HttpError, Request, Response, Router, json_response

if TYPE_CHECKING:
    from ..csms import Csms

PREFIX = "/api/v1"
MAX_CALL_TIMEOUT = 300.0
MAX_PAGE = 1000
REGISTRATION_STATUSES = ("Accepted", "Pending", "Rejected")
SECURITY_PROFILES = (1, 2, 3)
MAX_PASSWORD = 40  # the passwordString: 16-40 characters
ID_TOKEN_STATUSES = tuple(
    status.value
    for status in AuthorizationStatusEnumType
    if status is not AuthorizationStatusEnumType.ConcurrentTx
)
ID_TOKEN_TYPES = tuple(kind.value for kind in IdTokenEnumType)
CERTIFICATE_TYPES = tuple(use.value for use in GetCertificateIdUseEnumType)
MAX_ID_TOKEN = 36
MAX_STATION_ID = 48
# ASCII only: int() and float() also take "1_000", " 5" and other scripts' digits.
_INTEGER = re.compile(r"-?[0-9]{1,19}")
_DECIMAL = re.compile(r"[0-9]{1,20}(\.[0-9]{1,20})?([eE][-+]?[0-9]{1,3})?")


def _bad(message: str, code: str = "BadRequest") -> HttpError:
    return HttpError(400, code, message)


def _not_found(message: str) -> HttpError:
    return HttpError(404, "NotFound", message)


def _object_body(request: Request) -> dict[str, Any]:
    body = request.json()
    if not isinstance(body, dict):
        raise _bad("the body must be a JSON object")
    return body


def _unknown_fields(body: dict[str, Any], known: tuple[str, ...]) -> None:
    extra = sorted(set(body) - set(known))
    if extra:
        raise _bad(f"unknown field(s): {', '.join(extra)}")


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _station_json(
    station: StationRecord, connected: bool, connectors: list[ConnectorRecord]
) -> dict[str, object]:
    evses: dict[int, list[dict[str, object]]] = defaultdict(list)
    for connector in sorted(connectors, key=lambda c: (c.evse_id, c.connector_id)):
        evses[connector.evse_id].append(
            {"connectorId": connector.connector_id, "status": connector.status}
        )
    return {
        "stationId": station.station_id,
        "connected": connected,
        "securityProfile": station.security_profile,
        # Set by an Accepted SetNetworkProfile to a higher profile until the station uses it.
        "pendingSecurityProfile": station.pending_security_profile,
        "registrationStatus": station.registration_status,
        "registrationPolicy": station.registration_policy,
        "chargingStation": station.charging_station,
        "lastBootAt": _time(station.last_boot_at),
        "lastBootReason": station.last_boot_reason,
        "lastSeen": _time(station.last_seen),
        "firmwareStatus": station.firmware_status,
        "evses": [{"evseId": evse, "connectors": items} for evse, items in evses.items()],
    }


def _id_token_json(token: IdTokenRecord) -> dict[str, object]:
    return {
        "idToken": token.id_token,
        "type": token.type,
        "status": token.status,
        "groupIdToken": token.group_id_token,
        "cacheExpiryDateTime": _time(token.cache_expiry_date_time),
        "evseId": token.evse_id,
        "language1": token.language1,
        "personalMessage": token.personal_message,
    }


def _transaction_json(
    tx: TransactionRecord, meter_values: list[MeterValueRecord] | None
) -> dict[str, object]:
    result: dict[str, object] = {
        "transactionId": tx.transaction_id,
        "stationId": tx.station_id,
        "evseId": tx.evse_id,
        "connectorId": tx.connector_id,
        "idToken": tx.id_token,
        "active": tx.active,
        "chargingState": tx.charging_state,
        "startedAt": _time(tx.started_at),
        "endedAt": _time(tx.ended_at),
        "stoppedReason": tx.stopped_reason,
        "remoteStartId": tx.remote_start_id,
        "seqNoGaps": tx.seq_no_gaps,
        "energyImportedWh": tx.energy_imported_wh,
    }
    if meter_values is not None:
        result["meterValues"] = [
            {"timestamp": _time(value.timestamp), "sampledValue": value.sampled_value}
            for value in meter_values
        ]
    return result


def _meter_value_json(value: MeterValueRecord) -> dict[str, object]:
    return {
        "evseId": value.evse_id,
        "timestamp": _time(value.timestamp),
        "sampledValue": value.sampled_value,
    }


def _variable_json(variable: VariableRecord) -> dict[str, object]:
    result: dict[str, object] = {
        "component": variable.component,
        "variable": variable.variable,
        "variableAttribute": variable.variable_attribute,
    }
    if variable.variable_characteristics is not None:
        result["variableCharacteristics"] = variable.variable_characteristics
    return result


def _convert(value: object, kind: type[Any], name: str) -> Any:
    try:
        return msgspec.convert(value, kind)
    except msgspec.ValidationError as exc:
        raise _bad(f"{name}: {exc}") from None


class OperatorApi:
    """The /api/v1 routes over one `Csms`."""

    def __init__(self, csms: Csms) -> None:
        self.csms = csms
        self.store = csms.store

    def install(self, router: Router) -> None:
        routes = [
            ("GET", "/openapi.json", self.openapi),
            ("GET", "/stations", self.list_stations),
            ("POST", "/stations:import", self.import_stations),
            ("GET", "/stations/{stationId}", self.get_station),
            ("PUT", "/stations/{stationId}", self.put_station),
            ("DELETE", "/stations/{stationId}", self.delete_station),
            ("GET", "/stations/{stationId}/variables", self.get_variables),
            ("GET", "/stations/{stationId}/messages", self.get_messages),
            ("GET", "/stations/{stationId}/meter-values", self.get_meter_values),
            ("POST", "/stations/{stationId}/call/{action}", self.call),
            ("POST", "/stations/{stationId}/password", self.rotate_password),
            (
                "DELETE",
                "/stations/{stationId}/certificates/{serialNumber}",
                self.delete_certificate,
            ),
            ("GET", "/stations/{stationId}/reports/{requestId}", self.get_report),
            (
                "GET",
                "/stations/{stationId}/customer-information/{requestId}",
                self.get_customer_information,
            ),
            (
                "GET",
                "/stations/{stationId}/firmware-updates/{requestId}",
                self.get_firmware_update,
            ),
            ("GET", "/stations/{stationId}/log-uploads/{requestId}", self.get_log_upload),
            ("GET", "/id-tokens", self.list_id_tokens),
            ("GET", "/id-tokens/{type}/{idToken}", self.get_id_token),
            ("PUT", "/id-tokens/{type}/{idToken}", self.put_id_token),
            ("DELETE", "/id-tokens/{type}/{idToken}", self.delete_id_token),
            ("GET", "/transactions", self.list_transactions),
            ("GET", "/transactions/{stationId}/{transactionId}", self.get_transaction),
        ]
        for method, path, handler in routes:
            # A fleet's import file is large (~100 bytes a station); everything else is small.
            limit = MAX_IMPORT_BODY if handler == self.import_stations else MAX_BODY
            router.add(method, PREFIX + path, handler, authenticated=True, max_body=limit)

    async def openapi(self, request: Request) -> Response:
        return json_response(200, openapi.document())

    # --- stations -------------------------------------------------------------------------

    async def _station_json(self, station: StationRecord) -> dict[str, object]:
        connectors = await self.store.list_connectors(station.station_id)
        connected = self.csms.connected(station.station_id)
        return _station_json(station, connected, connectors)

    async def _station(self, station_id: str) -> StationRecord:
        station = await self.store.get_station(station_id)
        if station is None:
            raise _not_found(f"unknown station {station_id!r}")
        return station

    async def list_stations(self, request: Request) -> Response:
        stations = await self.store.list_stations()
        return json_response(200, {"stations": [await self._station_json(s) for s in stations]})

    async def get_station(self, request: Request) -> Response:
        station = await self._station(request.params["stationId"])
        return json_response(200, await self._station_json(station))

    async def put_station(self, request: Request) -> Response:
        station_id = request.params["stationId"]
        if not 1 <= len(station_id) <= MAX_STATION_ID or "/" in station_id or ":" in station_id:
            # ':' could never log in (Basic auth splits on it), '/' never be in a URL path.
            raise _bad(f"stationId must be 1 to {MAX_STATION_ID} characters, without ':' or '/'")
        body = _object_body(request)
        _unknown_fields(body, ("password", "securityProfile", "registrationStatus"))
        changes = StationChanges()
        if "securityProfile" in body:
            profile = body["securityProfile"]
            if type(profile) is not int or profile not in SECURITY_PROFILES:
                raise _bad("securityProfile must be 1, 2 or 3")
            changes.security_profile = profile
        if "registrationStatus" in body:
            policy = body["registrationStatus"]
            if policy is not None and policy not in REGISTRATION_STATUSES:
                raise _bad("registrationStatus must be Accepted, Pending, Rejected or null")
            changes.registration_policy = policy
        if "password" in body:
            password = body["password"]
            if password is None:
                changes.password_hash = None
            elif not is_valid_password(password, max_length=MAX_PASSWORD):
                raise _bad(
                    "password must be an OCPP passwordString of 16 to 40 characters "
                    "(a-z A-Z 0-9 * - _ = : + | @ .)"
                )
            else:
                changes.password_hash = await trio.to_thread.run_sync(hash_password, password)
            changes.previous_password_hash = None
        # Only the fields the body names: what the station's BootNotification records at the
        # same time (registrationStatus, chargingStation, ...) is kept.
        created = await self.store.upsert_stations([(station_id, changes)], _now())
        station = await self._station(station_id)
        return json_response(201 if created else 200, await self._station_json(station))

    async def import_stations(self, request: Request) -> Response:
        """Bulk create/update from a CSV or JSON-lines body; all or nothing (`stations_import`)."""
        try:
            text = decode_import(request.body)
            rows = parse_import(text, content_type=request.headers.get("content-type"))
        except InvalidImport as exc:
            bad = [{"line": row.line, "message": row.message} for row in exc.rows]
            error = {"code": "InvalidImport", "message": exc.message, "rows": bad}
            return json_response(400, {"error": error})
        result = await import_stations(self.store, rows)
        return json_response(200, {"created": result.created, "updated": result.updated})

    async def delete_station(self, request: Request) -> Response:
        station_id = request.params["stationId"]
        if not await self.store.delete_station(station_id):
            raise _not_found(f"unknown station {station_id!r}")
        self.csms.server.frame_logs.pop(station_id, None)
        connection = self.csms.server.connections.get(station_id)
        if connection is not None:
            await connection.close(1000, "station deleted")
        return Response(204)

    async def get_variables(self, request: Request) -> Response:
        station = await self._station(request.params["stationId"])
        variables = await self.store.list_variables(station.station_id)
        return json_response(200, [_variable_json(variable) for variable in variables])

    async def get_messages(self, request: Request) -> Response:
        station = await self._station(request.params["stationId"])
        limit = _limit(request.query.get("limit"), default=50)
        frame_log = self.csms.server.frame_logs.get(station.station_id)
        frames = frame_log.recent(limit) if frame_log is not None else []
        return json_response(
            200,
            {
                "messages": [
                    {
                        "timestamp": f.timestamp.isoformat().replace("+00:00", "Z"),
                        "direction": f.direction,
                        "frame": f.frame,
                    }
                    for f in frames
                ]
            },
        )

    async def get_meter_values(self, request: Request) -> Response:
        """The latest MeterValues readings the station sent outside transactions (J01)."""
        station = await self._station(request.params["stationId"])
        limit = _limit(request.query.get("limit"), default=100)
        values = await self.store.list_meter_values(station.station_id, None, limit=limit)
        return json_response(200, {"meterValues": [_meter_value_json(value) for value in values]})

    # --- CALLs ----------------------------------------------------------------------------

    async def call(self, request: Request) -> Response:
        station_id, action = request.params["stationId"], request.params["action"]
        spec = ACTION_BY_NAME.get(action)
        if spec is None or not spec.direction.sent_by_csms():
            raise _not_found(f"{action!r} is not a CSMS-to-station action of OCPP 2.0.1")
        timeout = _timeout(request.query.get("timeout"))
        if not request.body:
            raise _bad("the body must be the OCPP request payload")
        try:
            message = decode_request(action_index(action), request.body)
        except OcppError as error:
            description = f"invalid {action} request: {error.description}"
            raise HttpError(400, str(error.code), description) from None
        await self._station(station_id)
        response = await self._call(station_id, message, timeout)
        return Response(200, b'{"response":' + encode(response) + b"}")

    async def _call(
        self,
        station_id: str,
        message: Message,
        timeout: float | None,  # noqa: ASYNC109
    ) -> Message:
        """`Csms.call` with the server-side effects, its errors mapped to HTTP errors."""
        if not self.csms.connected(station_id):
            raise HttpError(409, "StationNotConnected", f"station {station_id!r} is not connected")
        try:
            response = await self.csms.call(station_id, message, timeout)
        except StationNotConnected:
            raise HttpError(
                409, "StationNotConnected", f"station {station_id!r} is not connected"
            ) from None
        except CallRefused as exc:
            raise HttpError(409, "CallRefused", str(exc)) from None
        except CallTimeout as exc:
            raise HttpError(504, "CallTimeout", str(exc)) from None
        except ConnectionLost as exc:
            raise HttpError(502, "ConnectionLost", str(exc)) from None
        except CallError as exc:
            raise HttpError(502, exc.code, exc.description, dict(exc.details)) from None
        except OcppError as error:
            raise HttpError(400, str(error.code), error.description) from None
        return response

    async def rotate_password(self, request: Request) -> Response:
        """A01: generate a password, send it with SetVariables, keep it if Accepted."""
        station_id = request.params["stationId"]
        await self._station(station_id)
        timeout = _timeout(request.query.get("timeout"))
        password = generate_password(MAX_PASSWORD)
        message = SetVariablesRequest(
            set_variable_data=[
                SetVariableDataType(
                    attribute_type=AttributeEnumType.Actual,
                    attribute_value=password,
                    component=ComponentType(name="SecurityCtrlr"),
                    variable=VariableType(name="BasicAuthPassword"),
                )
            ]
        )
        response = await self._call(station_id, message, timeout)
        assert isinstance(response, SetVariablesResponse)
        status = response.set_variable_result[0].attribute_status.value
        return json_response(
            200, {"status": status, "password": password if status == "Accepted" else None}
        )

    async def delete_certificate(self, request: Request) -> Response:
        """M04: look the certificate up on the station, then delete it by the hash data the
        station itself reported (its hash algorithm and its spelling of the serial number)."""
        station_id, serial = request.params["stationId"], request.params["serialNumber"]
        await self._station(station_id)
        if re.fullmatch(openapi.SERIAL_NUMBER, serial) is None:
            raise _bad("serialNumber must be 1-40 hexadecimal digits")
        kind = request.query.get("certificateType")
        if kind is not None and kind not in CERTIFICATE_TYPES:
            raise _bad(f"certificateType must be one of {', '.join(CERTIFICATE_TYPES)}")
        timeout = _timeout(request.query.get("timeout"))
        lookup = GetInstalledCertificateIdsRequest(
            certificate_type=[GetCertificateIdUseEnumType(kind)] if kind else msgspec.UNSET
        )
        installed = await self._call(station_id, lookup, timeout)
        assert isinstance(installed, GetInstalledCertificateIdsResponse)
        matches = _with_serial(installed, serial)
        if not matches:
            raise _not_found(f"station {station_id!r} reports no certificate {serial!r}")
        if len(matches) > 1:
            raise HttpError(
                409, "AmbiguousCertificate", f"several certificates have serial number {serial!r}"
            )
        (hash_data,) = matches
        deleted = await self._call(
            station_id, DeleteCertificateRequest(certificate_hash_data=hash_data), timeout
        )
        assert isinstance(deleted, DeleteCertificateResponse)
        return Response(
            200,
            b'{"status":"'
            + deleted.status.value.encode()
            + b'","certificateHashData":'
            + encode(hash_data)
            + b"}",
        )

    async def _parts(self, request: Request, kinds: tuple[str, ...], action: str) -> Response:
        station_id = request.params["stationId"]
        request_id = _request_id(request.params["requestId"])
        await self._station(station_id)
        record = await self.store.get_request(station_id, request_id, kinds)
        if record is None:
            raise _not_found(f"no {'/'.join(kinds)} request {request_id} for {station_id!r}")
        parts = await self.store.list_notifications(station_id, action, request_id)
        return json_response(
            200,
            {
                "requestId": record.request_id,
                "kind": record.kind,
                "status": record.status,
                "complete": record.complete,
                "createdAt": _time(record.created_at),
                "request": record.request,
                "parts": [
                    {"receivedAt": _time(part.received_at), "payload": part.payload}
                    for part in parts
                ],
            },
        )

    async def get_report(self, request: Request) -> Response:
        return await self._parts(request, ("GetBaseReport", "GetReport"), "NotifyReport")

    async def get_customer_information(self, request: Request) -> Response:
        return await self._parts(request, ("CustomerInformation",), "NotifyCustomerInformation")

    async def get_firmware_update(self, request: Request) -> Response:
        """An UpdateFirmware (L01) and the FirmwareStatusNotifications that report on it."""
        return await self._parts(request, ("UpdateFirmware",), "FirmwareStatusNotification")

    async def get_log_upload(self, request: Request) -> Response:
        """A GetLog (N01) and the LogStatusNotifications that report on it."""
        return await self._parts(request, ("GetLog",), "LogStatusNotification")

    # --- id tokens ------------------------------------------------------------------------

    def _token_key(self, request: Request) -> tuple[str, str]:
        kind, value = request.params["type"], request.params["idToken"]
        if kind not in ID_TOKEN_TYPES:
            raise _bad(f"type must be one of {', '.join(ID_TOKEN_TYPES)}")
        if len(value) > MAX_ID_TOKEN:
            raise _bad(f"idToken is at most {MAX_ID_TOKEN} characters")
        return value, kind

    async def list_id_tokens(self, request: Request) -> Response:
        tokens = await self.store.list_id_tokens()
        return json_response(200, {"idTokens": [_id_token_json(token) for token in tokens]})

    async def get_id_token(self, request: Request) -> Response:
        value, kind = self._token_key(request)
        token = await self.store.get_id_token(value, kind)
        if token is None:
            raise _not_found(f"unknown id token {kind}/{value}")
        return json_response(200, _id_token_json(token))

    async def put_id_token(self, request: Request) -> Response:
        value, kind = self._token_key(request)
        body = _object_body(request)
        fields = (
            "status",
            "groupIdToken",
            "cacheExpiryDateTime",
            "evseId",
            "language1",
            "personalMessage",
        )
        _unknown_fields(body, fields)
        status = body.get("status")
        if status not in ID_TOKEN_STATUSES:
            raise _bad(f"status must be one of {', '.join(ID_TOKEN_STATUSES)}")
        token = IdTokenRecord(id_token=value, type=kind, status=status)
        if body.get("groupIdToken") is not None:
            group = _convert(body["groupIdToken"], IdTokenType, "groupIdToken")
            token.group_id_token = msgspec.to_builtins(group)
        if body.get("cacheExpiryDateTime") is not None:
            token.cache_expiry_date_time = _datetime(body["cacheExpiryDateTime"])
        evse_ids = body.get("evseId")
        if evse_ids is not None:
            if not isinstance(evse_ids, list) or not all(
                type(evse) is int and evse >= 0 for evse in evse_ids
            ):
                raise _bad("evseId must be a list of non-negative integers or null")
            token.evse_id = evse_ids
        language = body.get("language1")
        if language is not None:
            if not isinstance(language, str) or len(language) > 8:
                raise _bad("language1 must be a string of at most 8 characters or null")
            token.language1 = language
        if body.get("personalMessage") is not None:
            message = _convert(body["personalMessage"], MessageContentType, "personalMessage")
            token.personal_message = msgspec.to_builtins(message)
        created = await self.store.put_id_token(token)
        return json_response(201 if created else 200, _id_token_json(token))

    async def delete_id_token(self, request: Request) -> Response:
        value, kind = self._token_key(request)
        if not await self.store.delete_id_token(value, kind):
            raise _not_found(f"unknown id token {kind}/{value}")
        return Response(204)

    # --- transactions ---------------------------------------------------------------------

    async def list_transactions(self, request: Request) -> Response:
        query = request.query
        active: bool | None = None
        if "active" in query:
            if query["active"] not in ("true", "false"):
                raise _bad("active must be true or false")
            active = query["active"] == "true"
        limit = _limit(query.get("limit"), default=100)
        after = _after(query.get("after"))
        transactions = await self.store.list_transactions(
            station_id=query.get("stationId") or None,
            active=active,
            limit=limit,
            after=after,
        )
        # A full page may have a successor: its last key, opaque, is where the next one starts.
        last = transactions[-1] if len(transactions) == limit else None
        next_page = None if last is None else encode_cursor(_page_key(last))
        page = [_transaction_json(tx, None) for tx in transactions]
        return json_response(200, {"transactions": page, "next": next_page})

    async def get_transaction(self, request: Request) -> Response:
        station_id, transaction_id = request.params["stationId"], request.params["transactionId"]
        tx = await self.store.get_transaction(station_id, transaction_id)
        if tx is None:
            raise _not_found(f"unknown transaction {station_id}/{transaction_id}")
        meter_values = await self.store.list_meter_values(station_id, transaction_id)
        return json_response(200, _transaction_json(tx, meter_values))


def _serial_key(serial: str) -> str:
    """A serial number as hex compares: case and leading zeros do not matter."""
    return serial.lower().lstrip("0") or "0"


def _with_serial(
    installed: GetInstalledCertificateIdsResponse, serial: str
) -> list[CertificateHashDataType]:
    """The hash data (of a certificate or of a chain's child) whose serial number is `serial`."""
    key = _serial_key(serial)
    found: list[CertificateHashDataType] = []
    for chain in installed.certificate_hash_data_chain or ():
        children = chain.child_certificate_hash_data or ()
        for hash_data in (chain.certificate_hash_data, *children):
            if _serial_key(hash_data.serial_number) == key:
                found.append(hash_data)
    return found


def _after(value: str | None) -> str | None:
    """The page key of an `after` query parameter (a previous page's `next`)."""
    if value is None:
        return None
    try:
        key = decode_cursor(value)
    except InvalidCursor:
        raise _bad("after must be the 'next' of a previous page of this list") from None
    if "/" not in key:  # a cursor of another list
        raise _bad("after must be the 'next' of a previous page of this list")
    return key


def _page_key(transaction: TransactionRecord) -> str:
    """The store's key of a transaction in the list's order (station ids hold no '/')."""
    return f"{transaction.station_id}/{transaction.transaction_id}"


def _timeout(value: str | None) -> float | None:
    """A `timeout` query parameter: a decimal number of seconds in (0, MAX_CALL_TIMEOUT]."""
    if value is None:
        return None
    timeout = float(value) if _DECIMAL.fullmatch(value) else math.nan
    if not 0 < timeout <= MAX_CALL_TIMEOUT:
        raise _bad(f"timeout must be a number of seconds in (0, {MAX_CALL_TIMEOUT:g}]")
    return timeout


def _datetime(value: object) -> datetime:
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            if parsed.tzinfo is not None:
                return parsed
    raise _bad("cacheExpiryDateTime must be an RFC 3339 date-time with an offset, or null")


def _request_id(value: str) -> int:
    """A requestId path segment: a decimal integer a store can hold (64-bit signed)."""
    if _INTEGER.fullmatch(value):
        number = int(value)
        if -(2**63) <= number < 2**63:
            return number
    raise _bad("requestId must be a 64-bit integer")


def _now() -> datetime:
    return datetime.now(UTC)


def _limit(value: str | None, *, default: int) -> int:
    """A `limit` query parameter: an integer from 1 to MAX_PAGE (400 otherwise)."""
    if value is None:
        return default
    limit = int(value) if _INTEGER.fullmatch(value) else 0
    if not 1 <= limit <= MAX_PAGE:
        raise _bad(f"limit must be an integer from 1 to {MAX_PAGE}")
    return limit
