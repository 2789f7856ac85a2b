"""tune_garbage_collector: start-up objects frozen, young generation collected rarely."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from trio_csms.tuning import YOUNG_GENERATION_THRESHOLD, tune_garbage_collector


@pytest.fixture
def restored_gc() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


@pytest.mark.usefixtures("restored_gc")
def test_tuning_freezes_startup_objects_and_raises_only_the_young_threshold() -> None:
    gc.set_threshold(700, 11, 12)
    gc.unfreeze()
    tune_garbage_collector()
    assert gc.get_threshold() == (YOUNG_GENERATION_THRESHOLD, 11, 12)
    assert gc.get_freeze_count() > 0
    frozen = gc.get_freeze_count()
    tune_garbage_collector()  # again, e.g. an embedding application and the CLI both call it
    assert gc.get_threshold() == (YOUNG_GENERATION_THRESHOLD, 11, 12)
    assert gc.get_freeze_count() >= frozen
