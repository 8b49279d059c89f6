"""Optional pyinstrument profiling of the code a section measures (``--profile``).

Sections wrap their measured work in ``measured()``; it profiles only when ``enable()`` was
called (by ``bench._section --profile``), accumulating every wrapped span into one profile.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["enable", "measured", "write"]

_profiler: Any = None


def enable() -> None:
    global _profiler
    from pyinstrument import Profiler

    _profiler = Profiler(async_mode="disabled")  # CPU stacks, not awaits


@contextlib.contextmanager
def measured() -> Iterator[None]:
    """Profile the enclosed span when profiling is enabled; otherwise do nothing."""
    if _profiler is None:
        yield
        return
    with _profiler:
        yield


def write(path: Path) -> bool:
    """Write the accumulated profile as text (``path``) and HTML (``.html``); False if none."""
    if _profiler is None or _profiler.last_session is None:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(_profiler.output_text(unicode=True, color=False, show_all=False))
    path.with_suffix(".html").write_text(_profiler.output_html())
    return True
