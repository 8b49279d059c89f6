"""Rows, percentiles, the printed table and the JSON file: how every section reports."""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "Row",
    "format_table",
    "percentile",
    "progress",
    "ratio",
    "read_rows",
    "summary",
    "write_json",
]

_STARTED = time.monotonic()


def progress(message: str) -> None:
    """One line on stderr, with the seconds since this process started."""
    print(f"   [{time.monotonic() - _STARTED:6.1f} s] {message}", file=sys.stderr, flush=True)


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0..1) by linear interpolation between closest ranks."""
    if not values:
        return math.nan
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summary(values: Sequence[float]) -> tuple[float, float]:
    """(median, p99) of ``values``."""
    return percentile(values, 0.5), percentile(values, 0.99)


def ratio(measured: float | None, floor: float | None) -> float | None:
    """measured / floor, or None when either is missing or the floor is zero."""
    if measured is None or floor is None or floor == 0 or math.isnan(floor):
        return None
    return measured / floor


@dataclass
class Row:
    """One figure: measured (median and p99), its floor, the ratio, and the target.

    ``met`` is None for rows without a target. ``ratio`` is measured/floor at the median
    unless ``note`` says otherwise (poll cost uses totals over all cycles).
    """

    section: str
    figure: str
    unit: str
    p50: float
    p99: float | None = None
    floor: float | None = None
    floor_p99: float | None = None
    ratio: float | None = None
    ratio_p99: float | None = None
    target: str = ""
    met: bool | None = None
    samples: int = 0
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.ratio is None:
            self.ratio = ratio(self.p50, self.floor)
        if self.ratio_p99 is None:
            self.ratio_p99 = ratio(self.p99, self.floor_p99)


def _num(value: float | None, unit: str = "") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    magnitude = abs(value)
    if magnitude >= 1000:
        text = f"{value:,.0f}"
    elif magnitude >= 100:
        text = f"{value:.0f}"
    elif magnitude >= 10:
        text = f"{value:.1f}"
    elif magnitude >= 0.1 or magnitude == 0:
        text = f"{value:.2f}"
    else:
        text = f"{value:.3f}"
    return f"{text} {unit}".rstrip() if unit else text


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def _status(row: Row) -> str:
    if row.met is None:
        return ""
    return "met" if row.met else "MISSED"


def format_table(rows: Iterable[Row]) -> str:
    """The rows as a fixed-width text table (also valid Markdown)."""
    header = ("Section", "Figure", "Measured p50", "p99", "Floor p50", "Floor p99", "Ratio p50",
              "Ratio p99", "Target", "")  # fmt: skip
    lines = [header]
    for row in rows:
        lines.append(
            (
                row.section,
                row.figure,
                _num(row.p50, row.unit),
                _num(row.p99, row.unit),
                _num(row.floor, row.unit),
                _num(row.floor_p99, row.unit),
                _ratio(row.ratio),
                _ratio(row.ratio_p99),
                row.target,
                _status(row),
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = []
    for index, line in enumerate(lines):
        out.append("| " + " | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) + " |")
        if index == 0:
            out.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(out)


def write_json(path: Path, rows: Sequence[Row], meta: dict[str, Any]) -> None:
    """Write ``{"meta": ..., "rows": [...]}`` to ``path`` (directories created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    document = _finite({"meta": meta, "rows": [asdict(row) for row in rows]})
    path.write_text(json.dumps(document, indent=2, allow_nan=False, default=_plain) + "\n")


def read_rows(items: Iterable[dict[str, Any]]) -> list[Row]:
    """Rows back from their JSON form (a section process hands them over this way)."""
    return [Row(**item) for item in items]


def _finite(value: Any) -> Any:
    """NaN/inf (a figure with no samples) become null: JSON has no NaN."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


def _plain(value: object) -> object:
    raise TypeError(f"not JSON-serialisable: {type(value).__name__}")
