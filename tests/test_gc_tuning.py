"""The bot process's collector setting: the youngest generation's threshold only."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from bot.gc_tuning import GEN0_THRESHOLD, tune_garbage_collector


@pytest.fixture
def restored_thresholds() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    gc.set_threshold(*before)


@pytest.mark.usefixtures("restored_thresholds")
def test_only_the_youngest_generation_threshold_changes() -> None:
    gc.set_threshold(700, 7, 11)
    tune_garbage_collector()
    assert gc.get_threshold() == (GEN0_THRESHOLD, 7, 11)
    assert GEN0_THRESHOLD > 700  # the point of it: fewer young collections than the default
