"""LatencyHistogram: exact summaries, bounded percentile error, merging, and its edges."""

from __future__ import annotations

import itertools
import math
import random

import pytest

from trio_csms.sim import LatencyHistogram


def test_empty_histogram_reports_nan() -> None:
    histogram = LatencyHistogram()
    assert histogram.count == 0
    assert len(histogram) == 0
    assert math.isnan(histogram.min)
    assert math.isnan(histogram.max)
    assert math.isnan(histogram.mean)
    assert math.isnan(histogram.percentile(50))
    assert list(histogram.buckets()) == []
    assert repr(histogram) == "<LatencyHistogram empty>"


def test_min_max_mean_count_are_exact() -> None:
    histogram = LatencyHistogram()
    values = [0.0123456, 0.5, 2.75, 0.000001, 0.0]
    for value in values:
        histogram.record(value)
    assert histogram.count == 5
    assert histogram.min == 0.0
    assert histogram.max == 2.75
    assert histogram.mean == pytest.approx(sum(values) / len(values))
    assert histogram.percentile(0) == 0.0
    assert histogram.percentile(100) == 2.75


def test_small_values_are_exact_to_the_resolution() -> None:
    histogram = LatencyHistogram(resolution=1e-3, precision_bits=7)
    for ms in range(1, 101):  # 1..100 ms, all below 2**7 units
        histogram.record(ms / 1000)
    # Nearest rank: the 50th of 100 values is 50 ms; its bucket is [50, 51) ms.
    assert histogram.percentile(50) == pytest.approx(0.0505)
    assert histogram.percentile(99) == pytest.approx(0.0995)


@pytest.mark.parametrize("precision_bits", [3, 7, 10])
def test_percentiles_stay_within_the_relative_error(precision_bits: int) -> None:
    rng = random.Random(1234)
    values = sorted(rng.lognormvariate(-4, 1.5) for _ in range(5000))
    histogram = LatencyHistogram(precision_bits=precision_bits)
    for value in values:
        histogram.record(value)
    bound = 2.0**-precision_bits
    for p in (1, 10, 25, 50, 75, 90, 99, 99.9):
        exact = values[max(1, math.ceil(p / 100 * len(values))) - 1]
        # Relative error bound, plus half a resolution for values in the exact range.
        assert abs(histogram.percentile(p) - exact) <= exact * bound + 1e-6, p


def test_record_with_count_equals_repeated_records() -> None:
    once = LatencyHistogram()
    once.record(0.25, count=4)
    repeated = LatencyHistogram()
    for _ in range(4):
        repeated.record(0.25)
    assert list(once.buckets()) == list(repeated.buckets())
    assert once.mean == repeated.mean == 0.25


def test_buckets_are_contiguous_and_cover_their_values() -> None:
    histogram = LatencyHistogram(precision_bits=4)
    values = [i * 1e-6 for i in range(0, 5000, 7)] + [0.5, 1.0, 3600.0]
    for value in values:
        histogram.record(value)
    buckets = list(histogram.buckets())
    assert sum(bucket.count for bucket in buckets) == len(values)
    assert all(a.high <= b.low for a, b in itertools.pairwise(buckets))
    for value in values:
        holding = [b for b in buckets if b.low <= value < b.high + 1e-12]
        assert holding, value


def test_merge_adds_counts_and_keeps_extremes() -> None:
    first = LatencyHistogram()
    second = LatencyHistogram()
    combined = LatencyHistogram()
    for index in range(100):
        first.record(index / 1000)
        combined.record(index / 1000)
    for index in range(100, 300):
        second.record(index / 1000)
        combined.record(index / 1000)
    first.merge(second)
    assert first.count == 300
    assert first.min == 0.0
    assert first.max == pytest.approx(0.299)
    assert first.mean == pytest.approx(combined.mean)
    assert list(first.buckets()) == list(combined.buckets())
    assert second.count == 200  # unchanged


def test_merge_refuses_mismatched_layouts() -> None:
    with pytest.raises(ValueError, match="different resolution"):
        LatencyHistogram(precision_bits=7).merge(LatencyHistogram(precision_bits=8))
    with pytest.raises(ValueError, match="different resolution"):
        LatencyHistogram(resolution=1e-6).merge(LatencyHistogram(resolution=1e-3))


def test_merge_of_empty_histogram_changes_nothing() -> None:
    histogram = LatencyHistogram()
    histogram.record(0.1)
    histogram.merge(LatencyHistogram())
    assert (histogram.count, histogram.min, histogram.max) == (1, 0.1, 0.1)


def test_clear_forgets_everything() -> None:
    histogram = LatencyHistogram()
    histogram.record(1.0)
    histogram.clear()
    assert histogram.count == 0
    assert math.isnan(histogram.max)


@pytest.mark.parametrize("bad", [-0.001, math.inf, math.nan])
def test_record_rejects_impossible_durations(bad: float) -> None:
    with pytest.raises(ValueError, match="duration"):
        LatencyHistogram().record(bad)


def test_record_rejects_a_count_below_one() -> None:
    with pytest.raises(ValueError, match="count"):
        LatencyHistogram().record(1.0, count=0)


@pytest.mark.parametrize("p", [-1, 100.5, math.nan])
def test_percentile_rejects_out_of_range(p: float) -> None:
    histogram = LatencyHistogram()
    histogram.record(1.0)
    with pytest.raises(ValueError, match="percentile"):
        histogram.percentile(p)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"resolution": 0}, "resolution"),
        ({"resolution": -1e-6}, "resolution"),
        ({"resolution": math.inf}, "resolution"),
        ({"precision_bits": 1}, "precision_bits"),
        ({"precision_bits": 17}, "precision_bits"),
    ],
)
def test_constructor_rejects_bad_layouts(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        LatencyHistogram(**kwargs)  # type: ignore[arg-type]


def test_repr_shows_the_summary() -> None:
    histogram = LatencyHistogram()
    histogram.record(0.002)
    assert repr(histogram).startswith("<LatencyHistogram count=1 min=0.002000s")
