"""The garbage collector on our schedule: automatic collections off while `collect_garbage`
runs, a full collection once the heap grew or the full interval passed, none at steady
load."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest
import trio

from trio_csms.tuning import collect_garbage, freeze_startup_objects, run_collecting_garbage


class Node:
    """An object that can be put in a reference cycle."""

    def __init__(self) -> None:
        self.other: Node | None = None


def cycle(collected: trio.Event) -> Node:
    """A reference cycle of two nodes; `collected` is set when the collector frees it."""
    a, b = Node(), Node()
    a.other, b.other = b, a
    weakref.finalize(a, collected.set)
    return a


@pytest.fixture(autouse=True)
def restored_gc() -> Iterator[None]:
    enabled = gc.isenabled()
    yield
    gc.unfreeze()
    (gc.enable if enabled else gc.disable)()


async def test_automatic_collection_is_off_while_running_and_back_on_after() -> None:
    gc.enable()
    async with trio.open_nursery() as nursery:
        await nursery.start(collect_garbage, 0.01, 60.0)
        assert not gc.isenabled()
        nursery.cancel_scope.cancel()
    assert gc.isenabled()


async def test_a_cycle_is_collected_once_the_heap_grew() -> None:
    collected = trio.Event()
    gc.collect()  # count from an empty young generation
    async with trio.open_nursery() as nursery:
        await nursery.start(collect_garbage, 0.01, 60.0, 1000)
        cycle(collected)
        await trio.sleep(0.05)
        assert not collected.is_set()  # nothing grew: no collection
        kept = [[number] for number in range(2000)]  # objects that stay: growth
        with trio.fail_after(5):
            await collected.wait()
        nursery.cancel_scope.cancel()
    assert len(kept) == 2000


async def test_objects_made_and_freed_trigger_no_collection() -> None:
    """Steady load: calls come and go, the heap does not grow, nothing pauses."""
    gc.collect()  # count from an empty young generation
    async with trio.open_nursery() as nursery:
        await nursery.start(collect_garbage, 0.01, 60.0, 1000)
        before = [generation["collections"] for generation in gc.get_stats()]
        for _ in range(20):
            made = [[number] for number in range(5000)]  # 100,000 objects made, then freed
            del made
            await trio.sleep(0.01)
        assert [generation["collections"] for generation in gc.get_stats()] == before
        nursery.cancel_scope.cancel()


async def test_a_cycle_waits_at_most_for_the_full_interval() -> None:
    collected = trio.Event()
    async with trio.open_nursery() as nursery:
        await nursery.start(collect_garbage, 0.01, 0.5, 10**9)  # growth never triggers
        cycle(collected)
        await trio.sleep(0.1)
        assert not collected.is_set()
        with trio.fail_after(5):
            await collected.wait()
        nursery.cancel_scope.cancel()


async def test_intervals_must_be_positive_and_the_growth_not_negative() -> None:
    with pytest.raises(ValueError, match="positive"):
        await collect_garbage(0, 1.0)
    with pytest.raises(ValueError, match="negative"):
        await collect_garbage(0.01, 1.0, -1)


async def test_run_collecting_garbage_freezes_startup_objects_and_returns_the_result() -> None:
    gc.unfreeze()

    async def main() -> str:
        assert not gc.isenabled()
        return "done"

    assert await run_collecting_garbage(main) == "done"
    assert gc.get_freeze_count() > 0
    freeze_startup_objects()  # idempotent
