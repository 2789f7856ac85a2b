"""The garbage collector on the clock: automatic collections off while `collect_garbage` runs,
young generations collected every interval, reference cycles found by the full collection."""

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


async def test_a_young_cycle_is_collected_within_a_young_interval() -> None:
    collected = trio.Event()
    async with trio.open_nursery() as nursery:
        await nursery.start(collect_garbage, 0.01, 60.0)
        cycle(collected)
        with trio.fail_after(5):
            await collected.wait()
        nursery.cancel_scope.cancel()


async def test_a_cycle_in_the_old_generation_waits_for_the_full_collection() -> None:
    collected = trio.Event()
    async with trio.open_nursery() as nursery:
        await nursery.start(collect_garbage, 0.01, 0.5)
        node = cycle(collected)
        await trio.sleep(0.05)  # young collections move the live cycle to the old generation
        del node
        await trio.sleep(0.1)
        assert not collected.is_set()  # young collections do not look at the old generation
        with trio.fail_after(5):
            await collected.wait()
        nursery.cancel_scope.cancel()


async def test_intervals_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        await collect_garbage(0, 1.0)


async def test_run_collecting_garbage_freezes_startup_objects_and_returns_the_result() -> None:
    gc.unfreeze()

    async def main() -> str:
        assert not gc.isenabled()
        return "done"

    assert await run_collecting_garbage(main) == "done"
    assert gc.get_freeze_count() > 0
    freeze_startup_objects()  # idempotent
