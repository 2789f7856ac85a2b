"""Prometheus metrics of one CSMS instance, in its own registry (no global state).

The sans-IO layers only count (`statistics()` records); this module turns what the I/O layer
observes into Prometheus series, served on the API port at /metrics.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import HistogramMetricFamily
from prometheus_client.registry import Collector

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
        self.handler_seconds = ActionHistogram(
            "trio_csms_handler_seconds",
            "Time from receiving a station CALL to sending its answer",
            _HANDLER_BUCKETS,
        )
        r.register(self.handler_seconds)
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
        # The counter every answered CALL touches, per action: `labels()` hashes its values
        # and takes a lock on every call, which showed in profiles of the per-message path.
        self._answered: dict[str, Counter] = {}

    def answered(self, action: str, seconds: float) -> None:
        """A station CALL of `action` was answered `seconds` after it arrived."""
        counter = self._answered.get(action)
        if counter is None:
            counter = self._answered[action] = self.messages.labels(action, "in", "ok")
        counter.inc()
        self.handler_seconds.observe(action, seconds)

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


class ActionHistogram(Collector):
    """A histogram by action for the per-message path: plain lists, read at scrape time.

    prometheus_client's `Histogram.observe` takes a lock per bucket update and walks the
    buckets; this costs a bisect and two additions. Observations come from the Trio thread
    only (the only writer); a scrape reads a snapshot, as the exposition format allows.
    """

    def __init__(self, name: str, documentation: str, buckets: tuple[float, ...]) -> None:
        self._name = name
        self._documentation = documentation
        self._bounds = buckets
        # Per action: a count per bucket (the last is +Inf, not cumulative) and the sum.
        self._counts: dict[str, list[int]] = {}
        self._sums: dict[str, float] = {}

    def observe(self, action: str, value: float) -> None:
        counts = self._counts.get(action)
        if counts is None:
            counts = self._counts[action] = [0] * (len(self._bounds) + 1)
            self._sums[action] = 0.0
        counts[bisect.bisect_left(self._bounds, value)] += 1
        self._sums[action] += value

    def collect(self) -> Iterator[HistogramMetricFamily]:
        family = HistogramMetricFamily(self._name, self._documentation, labels=["action"])
        for action, counts in list(self._counts.items()):
            cumulative, buckets = 0, []
            for bound, count in zip((*self._bounds, float("inf")), counts, strict=True):
                cumulative += count
                buckets.append((_bound_text(bound), float(cumulative)))
            family.add_metric([action], buckets, self._sums[action])
        yield family

    def describe(self) -> Iterator[HistogramMetricFamily]:
        yield HistogramMetricFamily(self._name, self._documentation, labels=["action"])


def _bound_text(bound: float) -> str:
    """A bucket bound as Prometheus writes it (`+Inf`, `0.001`, `10.0`)."""
    return "+Inf" if bound == float("inf") else repr(float(bound))
