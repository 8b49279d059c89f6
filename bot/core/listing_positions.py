"""Where remembered jobs lie in the List Exports listing (pure): :class:`Depths` and
:class:`Offsets`.

The listing is ordered by ``createdAt``, newest first, so a job's place depends only on its
``createdAt``: both structures look jobs up by it. A depth (how many jobs lie above a job)
only grows by the jobs created after it (:func:`depths_after`); offsets say how far apart
jobs that one seek page showed lie from each other. ``bot.core.fetch_plan`` plans the
cycle's requests from them.
"""

from __future__ import annotations

import bisect
from array import array
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

__all__ = ["Depths", "Offsets", "Place", "depths_after"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class Place:
    """A job's offset within a frame of :class:`Offsets`."""

    frame: int
    offset: int


class Offsets:
    """How far apart remembered jobs lie in the listing, looked up by ``createdAt``.

    A seek page shows jobs without gaps, so the jobs on it are exactly as far apart as their
    places on it, and stay so: new jobs only come in above them (a removed job brings its
    neighbours closer, so a seek shows more than planned, never less). Jobs on pages that
    shared a job are in one *frame*; frames say nothing about each other. Unlike a depth,
    no place needs the new jobs added, and no page from the top is needed to learn one.
    Jobs sharing an instant keep the shallowest place, as in :class:`Depths`.
    """

    __slots__ = ("_keys", "_paces", "_places")

    def __init__(self, places: Mapping[int, Place] | None = None) -> None:
        self._places: dict[int, Place] = dict(places or {})
        self._keys: list[int] | None = None  # sorted, when first needed
        self._paces: dict[int, float | None] = {}

    def get(self, created_at: datetime) -> Place | None:
        """The place remembered for a job created at ``created_at`` (None: not known)."""
        return self._places.get(_micros(created_at))

    def guess(self, created_at: datetime) -> Place | None:
        """The place remembered, or else guessed from the remembered jobs nearest in time.

        Between two of one frame: in proportion to the time between them. Otherwise at the
        pace (places per second) of the nearer one's frame. None with nothing to go by. A
        guess only steers the plan: a seek shows what it shows, and the next one follows.
        """
        key = _micros(created_at)
        known = self._places.get(key)
        if known is not None or not self._places:
            return known
        if self._keys is None:
            self._keys = sorted(self._places)
        keys = self._keys
        index = bisect.bisect_left(keys, key)
        older = keys[index - 1] if index > 0 else None
        newer = keys[index] if index < len(keys) else None
        if older is not None and newer is not None:
            deep, shallow = self._places[older], self._places[newer]
            if deep.frame == shallow.frame:
                share = (newer - key) / (newer - older)
                return Place(
                    shallow.frame, shallow.offset + round(share * (deep.offset - shallow.offset))
                )
        for neighbour in sorted(
            (k for k in (older, newer) if k is not None), key=lambda k: abs(k - key)
        ):
            place = self._places[neighbour]
            pace = self._pace(place.frame)
            if pace is not None:
                return Place(place.frame, place.offset + round((neighbour - key) * pace))
        return None

    def _pace(self, frame: int) -> float | None:
        """Places per microsecond across ``frame`` (None: fewer than two instants in it)."""
        if frame not in self._paces:
            members = sorted((k, p.offset) for k, p in self._places.items() if p.frame == frame)
            (oldest, deepest), (newest, shallowest) = members[0], members[-1]
            span = newest - oldest
            self._paces[frame] = (deepest - shallowest) / span if span > 0 else None
        return self._paces[frame]

    def seen(self, page: Sequence[datetime]) -> Offsets:
        """These offsets after a seek page (its jobs' ``createdAt``, newest first, no gaps).

        The page's jobs join the frame of the first remembered job on it (a new frame if
        none), and every other frame on it is shifted into that one.
        """
        index: dict[int, int] = {}
        for at, created_at in enumerate(page):
            index.setdefault(_micros(created_at), at)
        anchors: dict[int, int] = {}  # frame -> where the page puts that frame's offset 0
        for key, at in index.items():
            known = self._places.get(key)
            if known is not None:
                anchors.setdefault(known.frame, at - known.offset)
        if anchors:
            frame = min(anchors)
            base = -anchors[frame]  # the frame's offset of the page's first job
        else:
            frame = max((p.frame for p in self._places.values()), default=-1) + 1
            base = 0
        shift = {f: base + zero for f, zero in anchors.items() if f != frame}
        places = {
            key: Place(frame, place.offset + shift[place.frame]) if place.frame in shift else place
            for key, place in self._places.items()
        }
        for key, at in index.items():
            places[key] = Place(frame, base + at)
        return Offsets(places)

    def kept(self, created: Iterable[datetime]) -> Offsets:
        """Only the places of jobs created at ``created`` (the ones still worth keeping)."""
        if not self._places:
            return self  # the usual case: nothing sought yet
        keys = {_micros(c) for c in created}
        return Offsets({k: p for k, p in self._places.items() if k in keys})

    def __len__(self) -> int:
        return len(self._places)

    def __repr__(self) -> str:
        return f"Offsets({len(self)} jobs)"


class Depths:
    """How many jobs lay above each remembered job in the listing, looked up by ``createdAt``.

    The listing is ordered by ``createdAt``, so that is all a depth depends on (up to jobs
    sharing an instant: the shallowest of them is kept, too shallow for the others by at most
    their number, which only makes paging go on a little longer than planned). A sorted list
    of the ``createdAt`` values and a packed array of depths, 16 bytes a job: the poller keeps
    one per project in memory, and the ``datetime`` objects are the tracked jobs' own.
    """

    __slots__ = ("_created", "_depth")

    def __init__(self, pairs: Iterable[tuple[datetime, int]] = ()) -> None:
        created: list[datetime] = []
        depths: list[int] = []
        # Sorted by instant, then depth: the first of each instant is its shallowest. The
        # ``datetime`` values themselves are the keys: turning each into a number costs
        # more than all the rest of this, and the poller builds one of these every cycle.
        for created_at, depth in sorted(pairs):
            if not created or created_at != created[-1]:
                created.append(created_at)
                depths.append(depth)
        self._created = created
        self._depth = array("q", depths)

    def get(self, created_at: datetime) -> int | None:
        """The depth remembered for a job created at ``created_at`` (None: not known)."""
        index = bisect.bisect_left(self._created, created_at)
        if index < len(self._created) and self._created[index] == created_at:
            return self._depth[index]
        return None

    def __len__(self) -> int:
        return len(self._created)

    def __repr__(self) -> str:
        return f"Depths({len(self)} jobs)"


def depths_after(
    walked: Sequence[tuple[str, datetime]],
    *,
    new_jobs: int,
    previous: Depths,
    keep: Iterable[tuple[str, datetime]],
) -> Depths:
    """The depths to remember after this cycle, for the ``keep`` jobs (id, createdAt).

    ``walked``: the jobs (id, createdAt) this cycle listed from the top, newest first, without
    gaps (their depth is their index); ``new_jobs``: how many jobs were created since the
    previous cycle's listing (every one of them lies above any older job); ``previous``: the
    depths after the previous cycle. A kept job not walked keeps its previous depth plus the
    new jobs; one with no previous depth stays unknown (left out). Jobs removed from Peaka
    make a remembered depth too deep, never too shallow.
    """
    if new_jobs < 0:
        raise ValueError(f"new_jobs must not be negative, got {new_jobs}")
    seen: dict[str, int] = {}
    for depth, (job_id, _) in enumerate(walked):
        seen.setdefault(job_id, depth)
    pairs: list[tuple[datetime, int]] = []
    for job_id, created_at in keep:
        if job_id in seen:
            pairs.append((created_at, seen[job_id]))
        else:
            before = previous.get(created_at)
            if before is not None:
                pairs.append((created_at, before + new_jobs))
    return Depths(pairs)


def _micros(moment: datetime) -> int:
    return (moment - _EPOCH) // _MICROSECOND
