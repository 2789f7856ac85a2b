"""Prometheus metrics of one CSMS instance, in its own registry (no global state).

The sans-IO layers only count (`statistics()` records); this module turns what the I/O layer
observes into Prometheus series, served on the API port at /metrics.
"""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from .store.base import StoreStatistics

# Handler work is sub-millisecond to a few ms (store commits); round trips of CSMS-initiated
# calls go up to the 180 s timeout.
_HANDLER_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 1.0, 10.0)
_ROUND_TRIP_BUCKETS = (0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 180.0)


class Metrics:
    """The series trio-csms exports. Create one per CSMS; `render()` gives the text format."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.stations_connected = Gauge(
            "trio_csms_stations_connected", "Stations with an open websocket", registry=r
        )
        self.messages = Counter(
            "trio_csms_messages",
            "OCPP messages by action, direction (in: from stations) and outcome",
            ["action", "direction", "outcome"],
            registry=r,
        )
        self.handler_seconds = Histogram(
            "trio_csms_handler_seconds",
            "Time from receiving a station CALL to sending its answer",
            ["action"],
            buckets=_HANDLER_BUCKETS,
            registry=r,
        )
        self.round_trip_seconds = Histogram(
            "trio_csms_call_round_trip_seconds",
            "Time from sending a CSMS CALL to receiving its answer",
            ["action"],
            buckets=_ROUND_TRIP_BUCKETS,
            registry=r,
        )
        self.timeouts = Counter(
            "trio_csms_timeouts",
            "Deadlines missed: 'answer' (a handler overran) or 'call' (a station did not answer)",
            ["kind", "action"],
            registry=r,
        )
        self.callerrors = Counter(
            "trio_csms_callerrors",
            "CALLERRORs by errorCode and direction (sent: by the CSMS)",
            ["code", "direction"],
            registry=r,
        )
        self.handshake_refusals = Counter(
            "trio_csms_handshake_refusals",
            "Websocket handshakes refused, by reason",
            ["reason"],
            registry=r,
        )
        self.boot_answers = Counter(
            "trio_csms_boot_answers", "BootNotification answers by status", ["status"], registry=r
        )

    def export_store(self, statistics: Callable[[], StoreStatistics]) -> None:
        """Export the store's commit counters, read at scrape time (no work per commit)."""
        for name, doc, field in (
            ("trio_csms_store_commits", "Store commits so far", "commits"),
            ("trio_csms_store_writes", "Writes committed so far", "writes"),
            ("trio_csms_store_last_batch_size", "Writes in the last commit", "last_batch_size"),
            (
                "trio_csms_store_last_commit_seconds",
                "Duration of the last commit",
                "last_commit_seconds",
            ),
        ):
            gauge = Gauge(name, doc, registry=self.registry)
            gauge.set_function(_reader(statistics, field))

    def render(self) -> bytes:
        return generate_latest(self.registry)


def _reader(statistics: Callable[[], StoreStatistics], field: str) -> Callable[[], float]:
    return lambda: float(getattr(statistics(), field))
