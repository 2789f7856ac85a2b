"""A small log-linear latency histogram in the style of HdrHistogram, for the station simulator.

Knows nothing about OCPP, sockets or Trio: it counts durations (seconds, as floats) and answers
percentile questions with a bounded relative error, in constant memory per order of magnitude.
No numpy: the buckets are a sparse `dict[int, int]`.

Theory of operation: a duration is first turned into a whole number of *units* (`resolution`
seconds each, 1 µs by default, rounded down). Units below `2**precision_bits` get a bucket each,
so small values are exact. Above that, every power of two is cut into `2**(precision_bits-1)`
equal sub-buckets, so a bucket's width is never more than `2**-(precision_bits-1)` of its lower
bound (about 1.6 % for the default 7 bits). With

    shift = max(0, bit_length(units) - precision_bits)
    index = shift * 2**(precision_bits-1) + (units >> shift)

indices are contiguous and increase with the value, which makes merging two histograms a sum
of counts and a percentile a walk over the sorted indices.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["Bucket", "LatencyHistogram"]


@dataclass(frozen=True, slots=True)
class Bucket:
    """One non-empty bucket: durations in `[low, high)` seconds were recorded `count` times."""

    low: float
    high: float
    count: int


class LatencyHistogram:
    """Counts durations in log-linear buckets; see the module docstring for the layout.

    Exact: `count`, `min`, `max`, `mean` (from the raw values). Approximate: `percentile`,
    whose answer lies in the same bucket as the true value, clamped to `[min, max]`: off by
    at most `2**-precision_bits` of the value, or half a `resolution` for values below
    `2**precision_bits` units.

    Args:
        resolution: the smallest duration told apart, in seconds (default 1 µs).
        precision_bits: how finely each power of two is divided; between 2 and 16.

    Raises:
        ValueError: `resolution` is not positive or `precision_bits` is out of range.
    """

    __slots__ = (
        "_buckets",
        "_count",
        "_half",
        "_max",
        "_min",
        "_sum",
        "precision_bits",
        "resolution",
    )

    def __init__(self, *, resolution: float = 1e-6, precision_bits: int = 7) -> None:
        if not resolution > 0 or math.isinf(resolution):
            raise ValueError(f"resolution must be a positive number, not {resolution!r}")
        if not 2 <= precision_bits <= 16:
            raise ValueError(f"precision_bits must be between 2 and 16, not {precision_bits!r}")
        #: Seconds per unit; a recorded duration is rounded down to a whole number of units.
        self.resolution = resolution
        #: Values below 2**precision_bits units are exact; above, buckets have this many bits.
        self.precision_bits = precision_bits
        # Sub-buckets per power of two above the exact range: 2**(precision_bits-1).
        self._half = 1 << (precision_bits - 1)
        # Bucket index -> count; only non-empty buckets are present.
        self._buckets: dict[int, int] = {}
        self._count = 0
        self._sum = 0.0
        self._min = math.inf
        self._max = -math.inf

    # --- recording ------------------------------------------------------------------------

    def record(self, seconds: float, count: int = 1) -> None:
        """Add a duration, `count` times.

        Raises:
            ValueError: `seconds` is negative, infinite or NaN, or `count` is below 1.
        """
        if not 0 <= seconds < math.inf:
            raise ValueError(f"a duration must be finite and not negative, not {seconds!r}")
        if count < 1:
            raise ValueError(f"count must be at least 1, not {count!r}")
        index = self._index(math.floor(seconds / self.resolution))
        self._buckets[index] = self._buckets.get(index, 0) + count
        self._count += count
        self._sum += seconds * count
        self._min = min(self._min, seconds)
        self._max = max(self._max, seconds)

    def merge(self, other: LatencyHistogram) -> None:
        """Add every value recorded in `other` to this histogram (`other` is unchanged).

        Raises:
            ValueError: the two histograms have a different `resolution` or `precision_bits`,
                so their buckets do not line up.
        """
        if (other.resolution, other.precision_bits) != (self.resolution, self.precision_bits):
            raise ValueError(
                "cannot merge histograms with different resolution or precision_bits: "
                f"({self.resolution}, {self.precision_bits}) vs "
                f"({other.resolution}, {other.precision_bits})"
            )
        for index, count in other._buckets.items():
            self._buckets[index] = self._buckets.get(index, 0) + count
        self._count += other._count
        self._sum += other._sum
        self._min = min(self._min, other._min)
        self._max = max(self._max, other._max)

    def clear(self) -> None:
        """Forget every recorded value."""
        self._buckets.clear()
        self._count = 0
        self._sum = 0.0
        self._min = math.inf
        self._max = -math.inf

    # --- questions ------------------------------------------------------------------------

    @property
    def count(self) -> int:
        """How many values were recorded."""
        return self._count

    def __len__(self) -> int:
        return self._count

    @property
    def min(self) -> float:
        """The smallest recorded value (exact), or NaN when empty."""
        return self._min if self._count else math.nan

    @property
    def max(self) -> float:
        """The largest recorded value (exact), or NaN when empty."""
        return self._max if self._count else math.nan

    @property
    def mean(self) -> float:
        """The arithmetic mean of the recorded values (exact up to float rounding), or NaN."""
        return self._sum / self._count if self._count else math.nan

    def percentile(self, p: float) -> float:
        """The value below which `p` percent of the recorded values lie.

        Uses the nearest-rank definition: the value at rank `ceil(p/100 * count)` (at least
        1). `percentile(0)` is `min` and `percentile(100)` is `max`, both exact; in between
        the answer is the midpoint of the bucket holding that rank, clamped to `[min, max]`.

        Returns:
            Seconds, or NaN when nothing was recorded.

        Raises:
            ValueError: `p` is not between 0 and 100.
        """
        if not 0 <= p <= 100:
            raise ValueError(f"a percentile must be between 0 and 100, not {p!r}")
        if not self._count:
            return math.nan
        if p == 0:
            return self._min
        if p == 100:
            return self._max
        rank = max(1, math.ceil(p / 100 * self._count))
        seen = 0
        for index in sorted(self._buckets):
            seen += self._buckets[index]
            if seen >= rank:
                low, high = self._bounds(index)
                middle = (low + high) / 2 * self.resolution
                return min(max(middle, self._min), self._max)
        raise AssertionError("bucket counts do not add up to count")  # pragma: no cover

    def buckets(self) -> Iterator[Bucket]:
        """The non-empty buckets, from the smallest values up."""
        for index in sorted(self._buckets):
            low, high = self._bounds(index)
            yield Bucket(low * self.resolution, high * self.resolution, self._buckets[index])

    def __repr__(self) -> str:
        if not self._count:
            return "<LatencyHistogram empty>"
        return (
            f"<LatencyHistogram count={self._count} min={self.min:.6f}s "
            f"p50={self.percentile(50):.6f}s p99={self.percentile(99):.6f}s max={self.max:.6f}s>"
        )

    # --- bucket arithmetic ----------------------------------------------------------------

    def _index(self, units: int) -> int:
        shift = max(0, units.bit_length() - self.precision_bits)
        return shift * self._half + (units >> shift)

    def _bounds(self, index: int) -> tuple[int, int]:
        """The units `[low, high)` that land in bucket `index` (inverse of `_index`)."""
        if index < 2 * self._half:
            return index, index + 1
        shift = index // self._half - 1
        low = (index - shift * self._half) << shift
        return low, low + (1 << shift)
