"""The bot process's garbage-collector setting, made once where the process starts."""

from __future__ import annotations

import gc

__all__ = ["GEN0_THRESHOLD", "tune_garbage_collector"]

# A poll cycle allocates a few hundred thousand short-lived containers (decoded List pages,
# job summaries, rows) beside ~150,000 long-lived objects (modules, the app, the store). At
# CPython's default youngest-generation threshold of 700 the collector ran ~1,000 times per
# 2,000-project cycle and reached the whole heap ~8 times: ~1.2 s of a ~9 s cycle (bench
# scale, CPU in the collector). At 10,000 it runs ~20 times and the whole heap is seldom
# reached: ~0.15 s. Garbage in reference cycles waits longer to be freed: peak RSS at that
# size rose ~9 MB (124 -> 133 MB; 5,000 would cost ~3 MB and ~0.1 s more CPU). A gc.freeze()
# of the start-up heap, measured too, saved nothing more on top of this.
GEN0_THRESHOLD = 10_000


def tune_garbage_collector() -> None:
    """Raise the youngest generation's collection threshold to ``GEN0_THRESHOLD``; the
    older generations' thresholds stay as they are."""
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(GEN0_THRESHOLD, gen1, gen2)
