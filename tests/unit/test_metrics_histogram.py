"""The per-action answer histogram: the same series prometheus_client's Histogram would give."""

from __future__ import annotations

from trio_csms.metrics import Metrics


def test_answered_calls_fill_cumulative_buckets_count_and_sum() -> None:
    metrics = Metrics()
    for seconds in (0.0001, 0.0003, 0.002, 20.0):  # on a bound, between, between, above all
        metrics.answered("Heartbeat", seconds)
    metrics.answered("Authorize", 0.0004)

    def sample(name: str, **labels: str) -> float | None:
        return metrics.registry.get_sample_value(name, {"action": "Heartbeat", **labels})

    assert sample("trio_csms_handler_seconds_bucket", le="0.0001") == 1
    assert sample("trio_csms_handler_seconds_bucket", le="0.0005") == 2
    assert sample("trio_csms_handler_seconds_bucket", le="0.0025") == 3
    assert sample("trio_csms_handler_seconds_bucket", le="10.0") == 3
    assert sample("trio_csms_handler_seconds_bucket", le="+Inf") == 4
    assert sample("trio_csms_handler_seconds_count") == 4
    assert abs((sample("trio_csms_handler_seconds_sum") or 0) - 20.0024) < 1e-9
    labels = {"action": "Heartbeat", "direction": "in", "outcome": "ok"}
    assert metrics.registry.get_sample_value("trio_csms_messages_total", labels) == 4
    assert (
        metrics.registry.get_sample_value(
            "trio_csms_handler_seconds_count", {"action": "Authorize"}
        )
        == 1
    )
    assert b"# TYPE trio_csms_handler_seconds histogram" in metrics.render()
