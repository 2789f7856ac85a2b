"""Process-wide settings for a long-running server (or simulator) process: the garbage collector.

`trio-csms serve` and `trio-csms simulate` own their process and use `collect_garbage`; an
application embedding `Csms` owns its process and decides for itself (running
`collect_garbage` in its nursery is a good start).

Why CPython's own schedule does not fit: it collects the young generation after 700 *net*
allocations of container objects. A station waiting for its next message holds a fresh chain
of coroutines, cancel scopes and sets (about 30 objects) while the chain of its last message
dies, so in the steady state allocations and deallocations cancel out: the count hardly moves,
the young generation grows to hundreds of thousands of objects, and the collection that
finally comes walks them all (230 ms of CPU at 10,000 stations). Lower thresholds instead
promote the waiting chains into the old generation, whose full collections walk every object
of every station (up to 1.8 s at 10,000 stations; a third of the server's CPU went there).
So collections here follow the clock: every `young_interval` the young generations are
collected (a few milliseconds' worth of survivors, so a short pause), survivors go straight to
the old generation, where they die by reference counting at no cost, and a full collection,
which finds the reference cycles left in the old generation (e.g. by closed connections), runs
only every `full_interval`.
"""

from __future__ import annotations

import gc
from collections.abc import Awaitable, Callable
from typing import TypeVar

import trio

T = TypeVar("T")

#: Seconds between collections of the young generations.
YOUNG_INTERVAL = 0.05
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
        while True:
            await trio.sleep(young_interval)
            if trio.current_time() >= next_full:
                gc.collect()
                next_full = trio.current_time() + full_interval
            else:
                gc.collect(1)  # the young generations; survivors move to the old one
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
