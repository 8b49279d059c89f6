"""The bot process's garbage-collector setting, made once where the process starts."""

from __future__ import annotations

import gc

__all__ = ["GEN0_THRESHOLD", "tune_garbage_collector"]

# A poll cycle allocates a few hundred thousand short-lived containers (decoded List pages,
# job summaries, rows) beside a long-lived heap (modules, the app, the store, the poller's
# copies of the tracked jobs). At CPython's default youngest-generation threshold of 700 the
# collector ran ~1,000 times per 2,000-project cycle and reached the whole heap ~8 times:
# ~1.0-1.2 s of CPU per cycle (bench scale, timed with gc.callbacks). At 5,000: ~0.25-0.4 s;
# at 10,000 ~0.2 s, but garbage in reference cycles then waits longer to be freed and peak
# RSS rose ~9 MB (vs ~3 MB at 5,000), too close to the 150 MB budget. gc.freeze() of the
# start-up heap saved nothing more on top.
GEN0_THRESHOLD = 5_000


def tune_garbage_collector() -> None:
    """Raise the youngest generation's collection threshold to ``GEN0_THRESHOLD``; the
    older generations' thresholds stay as they are."""
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(GEN0_THRESHOLD, gen1, gen2)
