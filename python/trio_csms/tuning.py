"""Process-wide settings for a long-running server (or simulator) process: the garbage collector.

`trio-csms serve` and `trio-csms simulate` own their process and use `collect_garbage`; an
application embedding `Csms` owns its process and decides for itself (running
`collect_garbage` in its nursery is a good start).

Why CPython's own schedule does not fit: it counts *net* allocations of container objects and
collects the young generation every 700. Under load those collections find the calls in
flight alive and promote them, and the promoted objects soon trigger full collections, which
walk every object of every station: up to 1.8 s at 10,000 stations, a third of the server's
CPU.
Nor does a young collection on the clock (what this module did first): every collection
walks the objects of the calls in flight, so every call's objects were examined about once,
7-13% of the server's CPU, and measured under load those collections found next to nothing
to free: a session's messages leave no reference cycles behind (a full collection after 30 s
of 8,000 calls/s found 8 objects), and what a closed connection leaves (~60 objects, in cycles
that reach back to objects made when it connected, long since old) only a full collection
can free anyway (the same 350,000 objects after 6,000 connections with or without the young
collections). Collecting the young generations only once they have grown does not work
either: a station's next message replaces its last one's objects, so the young generations
fill with every station's live objects while their net growth stays small, and the
collection that finally comes walks them all (150-400 ms at 10,000 stations).
So there are no young collections. The collector's own count of objects made since the last
collection (net of those freed) is read every `check_interval`; a full collection runs when it
exceeds the objects that survived the last one (the heap doubled: a fleet connecting, or
cycles piling up), but not before `min_growth`, and at the latest every `full_interval` (the
cycles closed connections leave). A fleet at steady load is never paused between those.
"""

from __future__ import annotations

import gc
from collections.abc import Awaitable, Callable
from typing import TypeVar

import trio

T = TypeVar("T")

#: Seconds between looks at the collector's count.
CHECK_INTERVAL = 0.1
#: Fewest objects made since the last collection (net) that trigger a full collection: about
#: 10,000 stations' worth (a full collection then took 0.7 s).
MIN_GROWTH = 1_000_000
#: Seconds between full collections at the latest.
FULL_INTERVAL = 600.0


def freeze_startup_objects() -> None:
    """Move what start-up allocated (modules, message classes, schemas: they live as long as
    the process) out of every future collection."""
    gc.collect()
    gc.freeze()


async def collect_garbage(
    check_interval: float = CHECK_INTERVAL,
    full_interval: float = FULL_INTERVAL,
    min_growth: int = MIN_GROWTH,
    *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Run the garbage collector as the module docstring says until cancelled; CPython's
    automatic collections are off meanwhile (from `nursery.start`'s return) and back on
    afterwards.

    Raises:
        ValueError: an interval is not positive, or the growth is negative.
    """
    if check_interval <= 0 or full_interval <= 0:
        raise ValueError("the intervals must be positive")
    if min_growth < 0:
        raise ValueError("min_growth must not be negative")
    was_enabled = gc.isenabled()
    gc.disable()
    task_status.started()
    try:
        live = 0  # objects that survived the last full collection, as the counts tell
        next_full = trio.current_time() + full_interval
        while True:
            await trio.sleep(check_interval)
            grown = gc.get_count()[0]
            if grown > max(min_growth, live) or trio.current_time() >= next_full:
                live = max(0, live + grown - gc.collect())
                next_full = trio.current_time() + full_interval
    finally:
        if was_enabled:
            gc.enable()


async def run_collecting_garbage(main: Callable[[], Awaitable[T]]) -> T:
    """`await main()` with `collect_garbage` running beside it, after freezing the start-up
    objects; for `trio.run` in a process of our own."""
    freeze_startup_objects()
    async with trio.open_nursery() as nursery:
        await nursery.start(collect_garbage)
        result = await main()
        nursery.cancel_scope.cancel()
    return result
