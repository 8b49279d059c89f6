"""The floor of List + Read requests for one project's cycle, and what naive strategies cost.

Positions count from the top of the List (newest first); a page holds ``PAGE`` jobs.

- *floor* (the issue's definition): one request per project, plus the extra pages the new
  jobs need, plus the cheaper of paging or per-job reads for the stragglers. Seeing ``new``
  new jobs and the job right below them takes ``new // PAGE + 1`` pages; the stragglers are
  the jobs active at the previous poll that lie below those pages. Paging down to the k-th
  nearest straggler shows the k nearest at once; the rest are read one by one; the floor takes
  the best k, with exact positions (a real poller can only estimate them).
- *re-read*: list the new jobs, then Read every job active at the previous poll.
- *page back*: page down to the oldest job active at the previous poll.
- *active filter* (not in the issue; shown for comparison): list the new jobs, list
  ``status=PENDING,RUNNING`` (showing every unfinished job wherever it is), and for the
  stragglers missing from it (they finished) the cheaper of paging or reads, as for the floor.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["PAGE", "CycleCost", "cycle_cost"]

PAGE = 200  # the List endpoint's largest page


@dataclass
class CycleCost:
    """Requests one cycle needs under each strategy, summed over projects."""

    floor: int = 0
    reread: int = 0
    page_back: int = 0
    active_filter: int = 0
    stragglers: int = 0
    projects: int = 0

    def __iadd__(self, other: CycleCost) -> CycleCost:
        for name in ("floor", "reread", "page_back", "active_filter", "stragglers", "projects"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        return self

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def cycle_cost(
    total: int,
    new: int,
    known_active: Sequence[int],
    finished_known: Sequence[int],
    active_now: int,
) -> CycleCost:
    """One project's cycle. ``total`` jobs in the list, the newest ``new`` of them new;
    ``known_active``/``finished_known``: indexes (0 = oldest) of the jobs active at the previous
    poll, and of those among them finished now; ``active_now``: jobs active now."""
    new_pages = new // PAGE + 1
    covered = new_pages * PAGE
    positions = sorted(total - 1 - index for index in known_active)
    below = [pos for pos in positions if pos >= covered]
    finished = sorted(total - 1 - index for index in finished_known)
    deepest = positions[-1] // PAGE + 1 if positions else 0
    return CycleCost(
        floor=new_pages + _page_or_read(below, new_pages),
        reread=new_pages + len(known_active),
        page_back=max(new_pages, deepest),
        active_filter=new_pages
        + active_now // PAGE
        + 1
        + _page_or_read([pos for pos in finished if pos >= covered], new_pages),
        stragglers=len(below),
        projects=1,
    )


def _page_or_read(below: Sequence[int], pages_done: int) -> int:
    """Fewest requests to see the jobs at ``below`` (sorted positions, all past the pages
    already fetched): page down to the k nearest, read the others; best k."""
    best = len(below)  # read them all
    for k, pos in enumerate(below, start=1):
        best = min(best, pos // PAGE + 1 - pages_done + len(below) - k)
    return best
