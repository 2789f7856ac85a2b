"""Microbenchmark of the OCPP-J hot path: frame envelope, typed decode + validation, encode.

Run with `./dev bench` (or `.venv/bin/python bench/bench_codec.py [--quick]`). Prints, for four
realistic frames (BootNotification, Authorize, a ~1.6 KB TransactionEvent with sampled meter
values, a ~200 B MeterValues):

- envelope: `parse_frame` alone, Rust vs the pure-Python reference;
- inbound: envelope + typed decode of the payload with full schema validation, Rust vs pure
  Python;
- round trip: inbound plus building the validated CALLRESULT, as the server does per message;
- the `ocpp` PyPI library's path for the same work (`unpack` = json.loads, `_validate_payload`
  = jsonschema against the same schema, `pack` of the answer = json.dumps);
- typed decode + validation of the TransactionEvent payload alone, in microseconds.

Figures are the best of several repeats (the least disturbed by other load), with ratios.
Refuses to run against a debug build of the extension.
"""

from __future__ import annotations

import argparse
import platform
import sys
import timeit
from collections.abc import Callable
from datetime import UTC, datetime

import orjson

from trio_csms import _native
from trio_csms.messages import (
    AuthorizationStatusEnumType,
    AuthorizeResponse,
    BootNotificationResponse,
    IdTokenInfoType,
    MeterValuesResponse,
    RegistrationStatusEnumType,
    TransactionEventResponse,
)
from trio_csms.rpc import CallReceived, Role, RpcSession, _frames_py, frames, payloads

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def sampled_values(n: int) -> list[dict[str, object]]:
    measurands = [
        ("Energy.Active.Import.Register", "Wh", None),
        ("Power.Active.Import", "W", None),
        ("Current.Import", "A", "L1"),
        ("Current.Import", "A", "L2"),
        ("Current.Import", "A", "L3"),
        ("Voltage", "V", "L1-N"),
        ("Voltage", "V", "L2-N"),
        ("Voltage", "V", "L3-N"),
        ("SoC", "Percent", None),
    ]
    out: list[dict[str, object]] = []
    for i in range(n):
        measurand, unit, phase = measurands[i % len(measurands)]
        value: dict[str, object] = {
            "value": 1234.5 + i,
            "context": "Sample.Periodic",
            "measurand": measurand,
            "location": "Outlet",
            "unitOfMeasure": {"unit": unit},
        }
        if phase:
            value["phase"] = phase
        out.append(value)
    return out


def realistic_frames() -> dict[str, tuple[bytes, object]]:
    """name -> (CALL frame as received, the typed response the CSMS sends back)."""
    boot = {
        "chargingStation": {
            "model": "WallboxPro22",
            "vendorName": "ACME Charging",
            "serialNumber": "SN-2026-000123",
            "firmwareVersion": "4.2.1",
            "modem": {"iccid": "89310410106543789301", "imsi": "310150123456789"},
        },
        "reason": "PowerUp",
    }
    authorize = {"idToken": {"idToken": "04A2B3C4D5E6F7", "type": "ISO14443"}}
    transaction = {
        "eventType": "Updated",
        "timestamp": "2026-11-24T12:00:00.000Z",
        "triggerReason": "MeterValuePeriodic",
        "seqNo": 17,
        "offline": False,
        "transactionInfo": {
            "transactionId": "0f8e2c1a-7d4b-4c1e-9a3f-5b6d7e8f9a0b",
            "chargingState": "Charging",
            "timeSpentCharging": 3600,
        },
        "idToken": {"idToken": "04A2B3C4D5E6F7", "type": "ISO14443"},
        "evse": {"id": 1, "connectorId": 1},
        "meterValue": [
            {"timestamp": "2026-11-24T11:59:30.000Z", "sampledValue": sampled_values(5)},
            {"timestamp": "2026-11-24T12:00:00.000Z", "sampledValue": sampled_values(4)},
        ],
    }
    meter_values = {
        "evseId": 1,
        "meterValue": [
            {
                "timestamp": "2026-11-24T12:00:00Z",
                "sampledValue": [{"value": 15234.0, "measurand": "Energy.Active.Import.Register"}],
            }
        ],
    }

    def call(action: str, payload: dict[str, object]) -> bytes:
        return orjson.dumps([2, "4f1c9a52-0b7e-4d8a-9c61-2e3f4a5b6c7d", action, payload])

    accepted = IdTokenInfoType(status=AuthorizationStatusEnumType.Accepted)
    return {
        "BootNotification": (
            call("BootNotification", boot),
            BootNotificationResponse(
                current_time=NOW, interval=300, status=RegistrationStatusEnumType.Accepted
            ),
        ),
        "Authorize": (call("Authorize", authorize), AuthorizeResponse(id_token_info=accepted)),
        "TransactionEvent": (call("TransactionEvent", transaction), TransactionEventResponse()),
        "MeterValues": (call("MeterValues", meter_values), MeterValuesResponse()),
    }


def best_rate(fn: Callable[[], object], *, repeats: int, seconds: float) -> float:
    """Calls per second: the best of `repeats` runs of about `seconds` each."""
    timer = timeit.Timer(fn)
    number, _ = timer.autorange()
    number = max(1, int(number * seconds / 0.2))
    return max(number / t for t in timer.repeat(repeat=repeats, number=number))


def use_codec(module: object) -> None:
    """Point the frame layer at one implementation (the session looks them up per call)."""
    for name in ("parse_frame", "build_call", "build_result", "build_error"):
        setattr(frames, name, getattr(module, name))


def round_trip(session: RpcSession, data: bytes, response: object) -> Callable[[], object]:
    def step() -> object:
        event = session.receive(data)
        assert isinstance(event, CallReceived)
        return session.send_result(event.message_id, response)  # type: ignore[arg-type]

    return step


def inbound(module: object, data: bytes) -> Callable[[], object]:
    parse = module.parse_frame  # type: ignore[attr-defined]

    def step() -> object:
        _, _, index, start, end, _ = parse(data)
        return payloads.decode_request(index, memoryview(data)[start:end])

    return step


def ocpp_library_path(data: bytes, response: object) -> Callable[[], object]:
    from ocpp.messages import _validate_payload, pack, unpack

    answer = orjson.loads(payloads.encode(response))  # type: ignore[arg-type]

    def step() -> object:
        call = unpack(data)
        _validate_payload(call, "2.0.1")
        return pack(call.create_call_result(answer))

    return step


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short run (CI smoke)")
    args = parser.parse_args()
    if _native.build_profile != "release":
        print("bench: the Rust extension is a debug build; rebuild with --release", file=sys.stderr)
        return 1
    repeats, seconds = (2, 0.05) if args.quick else (7, 0.4)
    print(f"python {platform.python_version()} on {platform.machine()}, {platform.processor()}")
    print(f"best of {repeats} runs of ~{seconds}s each; rates in frames per second\n")
    header = (
        f"{'frame':<18}{'bytes':>6}{'env rust':>11}{'env py':>10}{'x':>6}"
        f"{'in rust':>10}{'in py':>9}{'x':>6}{'rt rust':>10}{'rt py':>9}{'ocpp lib':>10}{'x':>6}"
    )
    print(header)
    print("-" * len(header))
    for name, (data, response) in realistic_frames().items():
        env_rust = best_rate(
            lambda d=data: _native.parse_frame(d), repeats=repeats, seconds=seconds
        )
        env_py = best_rate(
            lambda d=data: _frames_py.parse_frame(d), repeats=repeats, seconds=seconds
        )
        rates = {}
        for label, module in (("rust", _native), ("py", _frames_py)):
            use_codec(module)
            session = RpcSession(Role.CSMS)
            rates["in " + label] = best_rate(
                inbound(module, data), repeats=repeats, seconds=seconds
            )
            rates["rt " + label] = best_rate(
                round_trip(session, data, response), repeats=repeats, seconds=seconds
            )
        use_codec(_native)
        lib = best_rate(ocpp_library_path(data, response), repeats=repeats, seconds=seconds)
        print(
            f"{name:<18}{len(data):>6}{env_rust:>11,.0f}{env_py:>10,.0f}{env_rust / env_py:>6.1f}"
            f"{rates['in rust']:>10,.0f}{rates['in py']:>9,.0f}"
            f"{rates['in rust'] / rates['in py']:>6.1f}{rates['rt rust']:>10,.0f}"
            f"{rates['rt py']:>9,.0f}{lib:>10,.0f}{rates['rt rust'] / lib:>6.1f}"
        )
    data, _ = realistic_frames()["TransactionEvent"]
    kind, _, index, start, end, _ = _native.parse_frame(data)
    assert kind == 2
    payload = memoryview(data)[start:end]
    rate = best_rate(
        lambda: payloads.decode_request(index, payload), repeats=repeats, seconds=seconds
    )
    print(
        f"\ntyped decode + validation of the {end - start} B TransactionEvent payload: "
        f"{1e6 / rate:.2f} us (target < 10 us)"
    )
    print(
        "\ncolumns: env = parse_frame only; in = parse_frame + typed decode and validation;"
        "\nrt = RpcSession.receive + send_result (validated CALLRESULT);"
        "\nocpp lib = unpack + jsonschema validation + pack of the answer;"
        "\nx = rust/py, or rt rust / ocpp lib"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
