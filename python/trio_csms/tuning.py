"""Process-wide settings for a long-running server (or simulator) process.

`tune_garbage_collector` is called by `trio-csms serve` and `trio-csms simulate`, which own their
process; an application embedding `Csms` owns its process and decides for itself (calling this
is a good start).

Why the cyclic garbage collector needs it: CPython starts a young-generation collection every
700 net allocations of container objects. A busy CSMS always has thousands of calls in flight
(each holds its request, its store write and its Trio task state while the commit is pending),
so every such collection finds them alive and promotes them; promoted objects soon trigger full
collections, which walk every object of every connected station. Measured on the session mix
(bench/README.md): with 10,000 stations a full collection took up to 1.8 s, and collections
were a third of the server's CPU. The hot path makes almost no cyclic garbage (objects die by
reference counting), so collections are needed only when the heap grows, e.g. while stations
connect: a young generation of 50,000 objects keeps them rare and short.
"""

from __future__ import annotations

import gc

#: Net container allocations between two young-generation collections (CPython's default: 700).
YOUNG_GENERATION_THRESHOLD = 50_000


def tune_garbage_collector() -> None:
    """Freeze what start-up allocated (modules, message classes, schemas: they live as long as
    the process, so collections need not walk them) and collect the young generation rarely.
    The older generations keep CPython's ratios."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, middle, old)
