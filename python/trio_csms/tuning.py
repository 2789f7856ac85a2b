"""Process-wide settings for a long-running server (or simulator) process: the garbage collector.

`trio-csms serve` and `trio-csms simulate` own their process and use `collect_garbage`; an
application embedding `Csms` owns its process and decides for itself (running
`collect_garbage` in its nursery is a good start).

Why CPython's own schedule does not fit: it counts *net* allocations of container objects and
collects the young generation every 700. Under load those collections find the calls in
flight alive and promote them, and the promoted objects soon trigger full collections, which
walk every object of every station: up to 1.8 s at 10,000 stations, a third of the server's
CPU. A higher threshold is no cure: a station waiting for its next message holds a fresh
chain of coroutines and sets while the chain of its last message dies, so allocations and
deallocations cancel out, the count hardly moves, the young generation grows to the whole
fleet's waiting state, and the collection that finally comes walks all of it (230 ms at
10,000 stations).
So collections here follow the clock. Every `young_interval` the young generations are
collected: a few milliseconds' worth of survivors, so a short pause. (When one took more than
`YOUNG_SHARE` of the time, the next waits longer, up to `YOUNG_MAX_INTERVAL`, so that more
objects die first.) Survivors go straight to the old generation, where they die by reference
counting at no cost; a full collection, which finds the reference cycles left there (e.g. by
closed connections), runs only every `full_interval`.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import trio

T = TypeVar("T")

#: Seconds between collections of the young generations: at least, and at most.
YOUNG_INTERVAL = 0.02
YOUNG_MAX_INTERVAL = 0.2
#: Most of the time collections may take: after a young collection that took t seconds the
#: next one waits at least t / YOUNG_SHARE (a busy process makes more survivors per interval,
#: and waiting longer lets more of them die first).
YOUNG_SHARE = 0.1
#: Seconds between full collections.
FULL_INTERVAL = 600.0


def freeze_startup_objects() -> None:
    """Move what start-up allocated (modules, message classes, schemas: they live as long as
    the process) out of every future collection."""
    gc.collect()
    gc.freeze()


async def collect_garbage(
    young_interval: float = YOUNG_INTERVAL,
    full_interval: float = FULL_INTERVAL,
    *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Run the garbage collector on the clock (see the module docstring) until cancelled;
    CPython's automatic collections are off meanwhile (from `nursery.start`'s return) and back
    on afterwards.

    Raises:
        ValueError: an interval is not positive.
    """
    if young_interval <= 0 or full_interval <= 0:
        raise ValueError("the collection intervals must be positive")
    was_enabled = gc.isenabled()
    gc.disable()
    task_status.started()
    try:
        next_full = trio.current_time() + full_interval
        wait = young_interval
        while True:
            await trio.sleep(wait)
            if trio.current_time() >= next_full:
                gc.collect()
                next_full = trio.current_time() + full_interval
                continue
            started = time.perf_counter()
            gc.collect(1)  # the young generations; survivors move to the old one
            took = time.perf_counter() - started
            wait = min(max(young_interval, took / YOUNG_SHARE), YOUNG_MAX_INTERVAL)
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
