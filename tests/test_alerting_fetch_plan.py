"""The fetch plan: watermark arithmetic (ties included), the straggler plan's cost choice, exact
page counts from remembered depths, seeks, and the PENDING,RUNNING listing option."""

from __future__ import annotations

import itertools
import math
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.fetch_plan import (
    MIN_FIRST_PAGE,
    PAGE_SIZE,
    SEEK_PAGE,
    Depths,
    Offsets,
    Place,
    Straggler,
    StragglerPlan,
    Watermark,
    depths_after,
    estimated_pages,
    first_page_size,
    plan_stragglers,
    seek_requests,
)

T0 = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


# --- watermark ------------------------------------------------------------------------------


def test_watermark_keeps_every_id_at_its_instant() -> None:
    mark = Watermark().advanced([("a", at(1)), ("b", at(3)), ("c", at(3)), ("d", at(2))])
    assert mark == Watermark(at(3), frozenset({"b", "c"}))
    assert mark.is_new("e", at(3))  # same instant, not seen: new
    assert not mark.is_new("b", at(3))
    assert mark.is_new("f", at(4))
    assert not mark.is_new("g", at(2))
    assert mark.passed(at(2)) and not mark.passed(at(3))
    assert mark.advanced([("e", at(3))]) == Watermark(at(3), frozenset({"b", "c", "e"}))
    assert mark.advanced([("x", at(1))]) == mark  # never backwards


def test_an_empty_watermark_sees_everything_as_new_and_never_stops_a_walk() -> None:
    empty = Watermark()
    assert empty.is_new("a", at(-1000))
    assert not empty.passed(at(-1000))
    assert empty.advanced([]) == empty


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from("abcdefgh"), st.integers(0, 5)), max_size=10),
    st.lists(st.tuples(st.sampled_from("abcdefgh"), st.integers(0, 5)), max_size=10),
)
def test_advancing_in_two_steps_equals_advancing_once(
    first: list[tuple[str, int]], second: list[tuple[str, int]]
) -> None:
    a = [(i, at(s)) for i, s in first]
    b = [(i, at(s)) for i, s in second]
    assert Watermark().advanced(a).advanced(b) == Watermark().advanced(a + b)


# --- straggler plan -------------------------------------------------------------------------


def test_no_stragglers_costs_nothing() -> None:
    assert plan_stragglers([], frontier=at(0), exhausted=False) == StragglerPlan(None, (), (), 0)


def test_a_few_stragglers_far_below_a_busy_frontier_are_read() -> None:
    stragglers = [Straggler("s1", at(-3600)), Straggler("s2", at(-7200))]
    plan = plan_stragglers(
        stragglers,
        frontier=at(0),
        exhausted=False,
        density=1.0,  # a job per second: an hour is 18 pages
    )
    assert plan == StragglerPlan(None, (), ("s1", "s2"), 2)


def test_many_stragglers_close_below_the_frontier_are_paged() -> None:
    stragglers = [Straggler(f"s{n}", at(-n)) for n in range(1, 31)]
    plan = plan_stragglers(stragglers, frontier=at(0), exhausted=False, density=2.0)
    assert plan.page_until == at(-30)
    assert set(plan.paged) == {s.job_id for s in stragglers} and plan.read == ()
    assert plan.requests == 1


def test_mixed_plan_pages_to_the_newest_and_reads_the_old_one() -> None:
    near = [Straggler(f"n{k}", at(-k)) for k in range(1, 6)]
    far = Straggler("far", at(-86_400))
    tracked = [s.created_at for s in near] + [far.created_at]
    plan = plan_stragglers(
        [far, *near], frontier=at(0), exhausted=False, tracked_created=tracked, density=1.0
    )
    assert plan.paged == ("n1", "n2", "n3", "n4", "n5")
    assert plan.read == ("far",)
    assert plan.page_until == at(-5)
    assert plan.requests == 2


def test_tracked_jobs_in_range_raise_the_page_estimate() -> None:
    tracked = [at(-k) for k in range(1, 451)]  # 450 tracked jobs between: three pages
    assert estimated_pages(at(-450), frontier=at(0), tracked_created=tracked, density=None) == 3
    assert estimated_pages(at(-450), frontier=at(0), tracked_created=[], density=None) == 1
    assert estimated_pages(at(-450), frontier=at(0), tracked_created=[], density=1.0) == 3


def test_an_exhausted_listing_means_reading_every_straggler() -> None:
    stragglers = [Straggler("a", at(-1)), Straggler("b", at(-2))]
    for frontier, exhausted in ((at(0), True), (None, False)):
        plan = plan_stragglers(stragglers, frontier=frontier, exhausted=exhausted)
        assert plan == StragglerPlan(None, (), ("a", "b"), 2)


def test_bad_page_size_is_refused_clearly() -> None:
    with pytest.raises(ValueError, match="page_size must be at least 1"):
        plan_stragglers([Straggler("a", at(-1))], frontier=at(0), exhausted=False, page_size=0)


offsets = st.integers(min_value=0, max_value=200_000)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(offsets, max_size=40, unique=True),
    st.lists(offsets, max_size=300),
    st.one_of(st.none(), st.floats(min_value=0, max_value=5)),
    st.integers(min_value=1, max_value=PAGE_SIZE),
)
def test_the_plan_covers_every_straggler_at_the_lowest_estimated_cost(
    straggler_offsets: list[int],
    other_offsets: list[int],
    density: float | None,
    page_size: int,
) -> None:
    stragglers = [Straggler(f"s{o}", at(-o - 1)) for o in straggler_offsets]
    tracked = [s.created_at for s in stragglers] + [at(-o - 1) for o in other_offsets]
    plan = plan_stragglers(
        stragglers,
        frontier=at(0),
        exhausted=False,
        tracked_created=tracked,
        density=density,
        page_size=page_size,
    )
    ids = [s.job_id for s in stragglers]
    # Every straggler is covered once: by paging or by a read.
    assert sorted(plan.paged + plan.read) == sorted(ids)
    assert not set(plan.paged) & set(plan.read)
    newest_first = sorted(stragglers, key=lambda s: (s.created_at, s.job_id), reverse=True)
    # Paging covers a prefix, newest first, and goes down to the oldest straggler it covers.
    assert plan.paged == tuple(s.job_id for s in newest_first[: len(plan.paged)])
    if plan.paged:
        assert plan.page_until == min(s.created_at for s in stragglers if s.job_id in plan.paged)
    else:
        assert plan.page_until is None

    def pages(k: int) -> int:
        if k == 0:
            return 0
        return estimated_pages(
            newest_first[k - 1].created_at,
            frontier=at(0),
            tracked_created=tracked,
            density=density,
            page_size=page_size,
        )

    costs = [pages(k) + len(ids) - k for k in range(len(ids) + 1)]
    # Never worse than either pure strategy, and the best split there is.
    assert plan.requests == min(costs)
    assert plan.requests <= len(ids)
    assert plan.requests <= pages(len(ids)) or not ids
    assert plan.requests == pages(len(plan.paged)) + len(plan.read)
    # Adding a straggler never makes the plan cheaper.
    if stragglers:
        fewer = plan_stragglers(
            stragglers[1:],
            frontier=at(0),
            exhausted=False,
            tracked_created=tracked,
            density=density,
            page_size=page_size,
        )
        assert fewer.requests <= plan.requests


def test_estimated_pages_rounds_up_per_page_size() -> None:
    tracked = [at(-k) for k in range(1, 202)]
    assert estimated_pages(
        at(-201), frontier=at(0), tracked_created=tracked, density=None
    ) == math.ceil(201 / PAGE_SIZE)


def test_first_page_size_follows_the_previous_reach_within_bounds() -> None:
    assert first_page_size(None) == PAGE_SIZE  # unknown: a full page
    assert first_page_size(0) == MIN_FIRST_PAGE
    assert first_page_size(3) == MIN_FIRST_PAGE
    assert first_page_size(40) == 90  # twice as deep, plus a margin
    assert first_page_size(150) == PAGE_SIZE
    sizes = [first_page_size(n) for n in range(0, 300)]
    assert sizes == sorted(sizes) and min(sizes) >= MIN_FIRST_PAGE and max(sizes) == PAGE_SIZE


# --- exact depths ---------------------------------------------------------------------------


def test_a_known_depth_gives_the_exact_page_count_where_the_estimate_would_read() -> None:
    # 20 stragglers 260-450 jobs deep, but a busy frontier: the density guess says hundreds of
    # pages (so: read all 20); their depths say two pages of 198 from position 200.
    # (Seeks of one job each, i.e. reads, here; seeks proper below.)
    depths = range(260, 460, 10)
    stragglers = [Straggler(f"s{d}", at(-d * 10), None) for d in depths]
    guessed = plan_stragglers(stragglers, frontier=at(0), exhausted=False, density=5.0, seek_size=1)
    assert guessed.read and not guessed.paged and guessed.requests == 20
    known = [Straggler(s.job_id, s.created_at, d) for s, d in zip(stragglers, depths, strict=True)]
    plan = plan_stragglers(
        known,
        frontier=at(0),
        exhausted=False,
        density=5.0,
        page_size=198,
        position=200,
        seek_size=1,
    )
    assert plan.requests == 2  # positions 200-397 and 398-595 show all of them
    assert plan.paged == tuple(s.job_id for s in known) and plan.read == ()
    assert plan.page_until == at(-450 * 10)
    # A seek from just above the newest (260) shows 260-459: all of them in one request.
    plan = plan_stragglers(
        known, frontier=at(0), exhausted=False, density=5.0, page_size=198, position=200
    )
    assert plan == StragglerPlan(None, (), tuple(s.job_id for s in known), 1)


def test_a_page_ends_exactly_at_its_last_job() -> None:
    # From position 200, a page of 198 shows depths 200-397: one request for all three,
    # two for a straggler one job deeper.
    # (Seeks of one job each, i.e. reads.)
    def plan(stragglers: list[Straggler]) -> StragglerPlan:
        return plan_stragglers(
            stragglers, frontier=at(0), exhausted=False, page_size=198, position=200, seek_size=1
        )

    three = [Straggler(f"s{d}", at(-d), d) for d in (200, 300, 397)]
    assert (plan(three).requests, plan(three).read) == (1, ())
    deeper = [*three[:2], Straggler("s398", at(-398), 398)]
    assert (plan(deeper).requests, plan(deeper).read) == (2, ("s398",))


def test_the_active_listing_is_chosen_only_when_it_clearly_costs_less() -> None:
    far = [Straggler(f"s{n}", at(-1000 - n), 5000 + n * 300) for n in range(10)]
    plan = plan_stragglers(
        far, frontier=at(0), exhausted=False, position=200, active_listing_pages=1
    )
    assert plan == StragglerPlan(None, (), (), 1, list_active=True)
    # Two pages show both: the listing costs one, but one straggler it lacks would make it two.
    near = [Straggler("a", at(-5), 210), Straggler("b", at(-6), 590)]
    plan = plan_stragglers(
        near, frontier=at(0), exhausted=False, position=200, active_listing_pages=1
    )
    assert not plan.list_active and plan.requests == 2
    # Nothing left to page (or no listing offered): never the listing.
    for exhausted, pages in ((True, 1), (False, None)):
        plan = plan_stragglers(
            far, frontier=at(0), exhausted=exhausted, position=200, active_listing_pages=pages
        )
        assert not plan.list_active


def test_the_active_listing_expects_as_many_missing_stragglers_as_it_is_told() -> None:
    # 30 stragglers of unknown depth, far below a busy frontier: seeking them is estimated at
    # 30 requests. The listing (1 page) wins while 1 + the expected missing stays below that.
    far = [Straggler(f"s{n}", at(-1000 - n)) for n in range(30)]
    for expected, listed in ((0, True), (1, True), (5, True), (28, True), (29, False)):
        plan = plan_stragglers(
            far,
            frontier=at(0),
            exhausted=False,
            density=10.0,
            active_listing_pages=1,
            expected_missing=expected,
        )
        assert plan.list_active is listed, expected
    # With known depths the 30 fit in two seeks: the listing plus two missing ones costs more.
    known = [Straggler(s.job_id, s.created_at, 260 + n * 11) for n, s in enumerate(far)]
    plan = plan_stragglers(
        known, frontier=at(0), exhausted=False, position=25, active_listing_pages=1
    )
    assert plan.requests == 2 and not plan.list_active
    plan = plan_stragglers(
        known,
        frontier=at(0),
        exhausted=False,
        position=25,
        active_listing_pages=1,
        expected_missing=2,
    )
    assert plan == StragglerPlan(None, (), tuple(s.job_id for s in known), 2)


def test_seeks_cover_known_depths_a_seek_page_apart_and_unknown_ones_one_each() -> None:
    def s(name: str, depth: int | None) -> Straggler:
        return Straggler(name, at(-(depth or 0)), depth)

    assert seek_requests([]) == 0
    # 0-199 in one seek from 0; 200 needs another (it shows 200-399, so 399 too).
    assert seek_requests([s("a", 0), s("b", 199), s("c", 200), s("d", 399)]) == 2
    assert seek_requests([s("a", 0), s("b", 199), s("c", 200), s("d", 400)]) == 3
    assert seek_requests([s("a", 5), s("b", 6), s("u", None), s("v", None)]) == 3
    assert seek_requests([s("a", 0), s("b", 3), s("c", 6)], seek_size=3) == 3
    assert SEEK_PAGE == PAGE_SIZE


def test_seeks_group_places_per_frame_apart_from_depths() -> None:
    def placed(name: str, frame: int, offset: int) -> Straggler:
        return Straggler(name, at(-offset), place=Place(frame, offset))

    # Frame 0: 0-199 in one seek, 250 another; frame 1 (say, offsets 10 and 20): one more.
    # The depth-known one counts on its own even at "offset" 5: depths are another frame.
    stragglers = [
        placed("a", 0, 0),
        placed("b", 0, 199),
        placed("c", 0, 250),
        placed("d", 1, 10),
        placed("e", 1, 20),
        Straggler("f", at(-5), 5, Place(0, 5)),
        Straggler("g", at(-7)),
    ]
    assert seek_requests(stragglers) == 5  # a+b, c, d+e, f, g


def test_offsets_join_pages_that_share_a_job_and_keep_the_others_apart() -> None:
    def places(offsets: Offsets, *seconds: int) -> list[Place | None]:
        return [offsets.get(at(-s)) for s in seconds]

    offsets = Offsets().seen([at(-1), at(-2), at(-3)])
    assert places(offsets, 1, 2, 3, 4) == [Place(0, 0), Place(0, 1), Place(0, 2), None]
    # A page sharing at(-3): the same frame, places counted on from it.
    offsets = offsets.seen([at(-3), at(-4), at(-5)])
    assert places(offsets, 4, 5) == [Place(0, 3), Place(0, 4)]
    # A page sharing nothing: a frame of its own.
    offsets = offsets.seen([at(-100), at(-101)])
    assert places(offsets, 100, 101) == [Place(1, 0), Place(1, 1)]
    # A page showing jobs of both frames (at(-5) at 0, at(-100) at 3): frame 1 moves into 0.
    offsets = offsets.seen([at(-5), at(-6), at(-7), at(-100)])
    assert places(offsets, 5, 6, 7, 100, 101) == [
        Place(0, 4),
        Place(0, 5),
        Place(0, 6),
        Place(0, 7),
        Place(0, 8),
    ]
    assert len(offsets) == 9 and len(offsets.kept([at(-1), at(-101), at(-999)])) == 2
    # Jobs sharing an instant keep the shallowest place.
    assert Offsets().seen([at(-1), at(-1), at(-2)]).get(at(-2)) == Place(0, 2)


@settings(max_examples=200, deadline=None)
@given(
    st.integers(min_value=1, max_value=60),
    st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=20),  # new jobs before this seek
            st.integers(min_value=0, max_value=80),  # where the seek starts
            st.integers(min_value=1, max_value=30),  # how many jobs it shows
        ),
        min_size=1,
        max_size=10,
    ),
)
def test_places_in_one_frame_are_exactly_as_far_apart_as_in_the_listing(
    initial: int, seeks: list[tuple[int, int, int]]
) -> None:
    """A model listing (newest first; job n created at second n) grows at the top; seeks show
    slices of it. Any two jobs in one frame are as far apart as their true depths; and as
    jobs come one a second, so is a guessed place from every job of its frame."""
    listing = [at(n) for n in reversed(range(initial))]
    counter = initial
    offsets = Offsets()
    for new, start, size in seeks:
        listing = [at(n) for n in reversed(range(counter, counter + new))] + listing
        counter += new
        offsets = offsets.seen(listing[start : start + size])
        depth = {created: d for d, created in enumerate(listing)}
        known = [(depth[c], offsets.get(c)) for c in listing if offsets.get(c) is not None]
        for (d1, p1), (d2, p2) in itertools.combinations(known, 2):
            assert p1 is not None and p2 is not None
            if p1.frame == p2.frame:
                assert p2.offset - p1.offset == d2 - d1
        for created in listing:
            guess = offsets.guess(created)
            for d, place in known:
                if guess is not None and place is not None and place.frame == guess.frame:
                    assert guess.offset - place.offset == depth[created] - d


def test_offsets_guess_a_place_from_the_neighbours_in_time() -> None:
    assert Offsets().guess(at(0)) is None
    assert Offsets().seen([at(-1)]).guess(at(-5)) is None  # one instant: no pace
    # Remembered: t=0 at 0 and t=-99 at 99 (one job a second in between).
    offsets = Offsets().seen([at(-n) for n in range(100)]).kept([at(0), at(-99)])
    assert offsets.guess(at(0)) == Place(0, 0)
    assert offsets.guess(at(-33)) == Place(0, 33)  # between: in proportion
    assert offsets.guess(at(-150)) == Place(0, 150)  # past the end: at the frame's pace
    assert offsets.guess(at(10)) == Place(0, -10)
    # Another frame, 1 place a second too: the nearer neighbour's frame is used.
    offsets = offsets.seen([at(-500), at(-501)])
    assert offsets.guess(at(-300)) == Place(1, -200)
    assert offsets.guess(at(-200)) == Place(0, 200)


def test_pages_down_to_a_straggler_also_cover_the_known_ones_they_reach() -> None:
    # From position 0, pages of 10: the page down to a (3) also shows c (8), and so u between
    # them, whose depth is unknown (the density guesses it hundreds of pages down); d (500) is
    # sought. Seeks of one job each (reads) here.
    stragglers = [
        Straggler("a", at(-3), 3),
        Straggler("u", at(-5)),
        Straggler("c", at(-8), 8),
        Straggler("d", at(-500), 500),
    ]
    plan = plan_stragglers(
        stragglers,
        frontier=at(0),
        exhausted=False,
        density=100.0,
        page_size=10,
        position=0,
        seek_size=1,
    )
    assert plan == StragglerPlan(at(-8), ("a", "u", "c"), ("d",), 2)


def test_depths_after_counts_the_walk_and_adds_the_new_jobs_to_the_rest() -> None:
    created = {name: at(-n) for n, name in enumerate(["n1", "n2", "a", "b", "c", "d", "e"])}

    def jobs(names: str | list[str]) -> list[tuple[str, datetime]]:
        return [(name, created[name]) for name in names]

    previous = Depths([(created["a"], 7), (created["c"], 300), (created["d"], 4)])
    depths = depths_after(
        jobs(["n1", "n2", "a", "b"]), new_jobs=2, previous=previous, keep=jobs(list("abcde"))
    )
    # Walked: its index (a's old depth does not matter). c, d: previous + 2 new. e: unknown.
    found = {name: depths.get(created[name]) for name in "abcde"}
    assert found == {"a": 2, "b": 3, "c": 302, "d": 6, "e": None}
    assert len(depths) == 4
    with pytest.raises(ValueError, match="new_jobs"):
        depths_after([], new_jobs=-1, previous=Depths(), keep=())


def test_depths_keep_the_shallowest_of_jobs_sharing_an_instant() -> None:
    depths = Depths([(at(-1), 12), (at(-1), 10), (at(-1), 11), (at(-2), 40)])
    assert (depths.get(at(-1)), depths.get(at(-2)), depths.get(at(-3))) == (10, 40, None)
    assert len(depths) == 2


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(-3, 3), st.sampled_from((0, 1, -5)), st.integers(0, 1000)),
        max_size=12,
    )
)
def test_depths_are_the_shallowest_per_instant_whatever_the_order_and_offset(
    drawn: list[tuple[int, int, int]],
) -> None:
    # The same instant may come with another UTC offset: it is still the same instant.
    pairs = [
        (at(micros / 1e6).astimezone(timezone(timedelta(hours=hours))), depth)
        for micros, hours, depth in drawn
    ]
    shallowest: dict[datetime, int] = {}
    for created, depth in pairs:
        shallowest[created] = min(depth, shallowest.get(created, depth))
    depths = Depths(pairs)
    assert len(depths) == len(shallowest)
    for micros in range(-4, 5):
        for hours in (0, 2):
            moment = at(micros / 1e6).astimezone(timezone(timedelta(hours=hours)))
            assert depths.get(moment) == shallowest.get(moment)


@settings(max_examples=200, deadline=None)
@given(
    st.integers(min_value=1, max_value=60),
    st.lists(
        st.tuples(st.integers(min_value=0, max_value=40), st.integers(min_value=0, max_value=80)),
        min_size=1,
        max_size=8,
    ),
    st.data(),
)
def test_remembered_depths_stay_exact_as_new_jobs_arrive(
    initial: int, cycles: list[tuple[int, int]], data: st.DataObject
) -> None:
    """A model listing (newest first; job n created at second n) grows at the top each cycle;
    each cycle walks some prefix (at least past the new jobs). Every remembered depth is the
    job's true position."""

    def job(n: int) -> tuple[str, datetime]:
        return f"j{n}", at(n)

    listing = [job(n) for n in reversed(range(initial))]
    counter = initial
    keep = set(data.draw(st.sets(st.sampled_from(listing))))
    depths = Depths()
    for new, extra in cycles:
        fresh = [job(n) for n in reversed(range(counter, counter + new))]
        counter += new
        listing = fresh + listing
        walked = listing[: new + extra]
        if fresh:
            keep.add(data.draw(st.sampled_from(fresh)))
        depths = depths_after(walked, new_jobs=new, previous=depths, keep=keep)
        true_depth = {created: depth for depth, (_, created) in enumerate(listing)}
        known = 0
        for _, created in keep:
            remembered = depths.get(created)
            if remembered is not None:
                known += 1
                assert remembered == true_depth[created]
        assert len(depths) == known
        # Every kept job walked this cycle is known from now on.
        assert all(
            depths.get(created) is not None for created in {c for _, c in set(walked) & keep}
        )


def _brute_force_minimum(depths: list[int], position: int, page_size: int, seek_size: int) -> int:
    """Fewest requests over every number of pages from ``position`` (only page counts that
    reach some straggler matter) with the rest covered by seeks: every set of stragglers to
    seek from, a seek showing the ``seek_size`` jobs from the one sought down."""
    best = len(depths)
    page_counts = {0} | {math.ceil((d + 1 - position) / page_size) for d in depths}
    for pages in page_counts:
        rest = [d for d in depths if d >= position + pages * page_size]
        for count in range(len(rest) + 1):
            if any(
                all(any(start <= d < start + seek_size for start in starts) for d in rest)
                for starts in itertools.combinations(rest, count)
            ):
                best = min(best, pages + count)
                break
    return best


def _executed_cost(
    plan: StragglerPlan, depth_of: dict[str, int], position: int, page_size: int, seek_size: int
) -> int:
    """Requests the fetch loop makes for ``plan`` on a listing where ``depth_of`` is exact:
    pages of ``page_size`` from ``position`` until every paged straggler showed up, then
    seeks from the newest one not shown yet (the last one left is read: one request too)."""
    wanted = {depth_of[i] for i in plan.paged}
    pages = 0
    shown = position
    while wanted:
        shown += page_size
        pages += 1
        wanted = {d for d in wanted if d >= shown}
    sought = sorted(depth_of[i] for i in plan.read if depth_of[i] >= shown)
    seeks = 0
    while sought:
        seeks += 1
        sought = [d for d in sought if d >= sought[0] + seek_size]
    return pages + seeks


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.integers(min_value=0, max_value=3000), min_size=1, max_size=8, unique=True),
    st.integers(min_value=0, max_value=400),
    st.integers(min_value=1, max_value=PAGE_SIZE),
    st.one_of(st.none(), st.floats(min_value=0, max_value=5)),
    st.one_of(st.none(), st.integers(min_value=1, max_value=10)),
    st.integers(min_value=0, max_value=10),
    st.integers(min_value=1, max_value=SEEK_PAGE),
)
def test_with_exact_depths_the_plan_costs_the_brute_force_minimum_and_misses_nobody(
    offsets: list[int],
    position: int,
    page_size: int,
    density: float | None,
    active_pages: int | None,
    expected_missing: int,
    seek_size: int,
) -> None:
    # Deeper means older; every straggler lies below what was listed (depth >= position).
    depth_of = {f"s{o}": position + o for o in offsets}
    stragglers = [Straggler(i, at(-d), d) for i, d in depth_of.items()]
    plan = plan_stragglers(
        stragglers,
        frontier=at(-position + 1),
        exhausted=False,
        density=density,
        page_size=page_size,
        position=position,
        active_listing_pages=active_pages,
        expected_missing=expected_missing,
        seek_size=seek_size,
    )
    minimum = _brute_force_minimum(list(depth_of.values()), position, page_size, seek_size)
    expected = max(1, expected_missing)
    if plan.list_active:
        # Only when the listing and the expected missing ones cost less than any other plan.
        assert active_pages is not None and plan.requests == active_pages
        assert active_pages + expected < minimum
        assert plan.paged == plan.read == ()
        return
    assert active_pages is None or active_pages + expected >= minimum
    # Nobody is missed: each straggler is paged or sought, once.
    assert sorted(plan.paged + plan.read) == sorted(depth_of)
    assert not set(plan.paged) & set(plan.read)
    assert plan.requests == minimum
    assert _executed_cost(plan, depth_of, position, page_size, seek_size) == minimum
    if plan.paged:
        assert plan.page_until == min(at(-depth_of[i]) for i in plan.paged)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(min_value=0, max_value=3000), st.booleans()),
        min_size=1,
        max_size=12,
        unique_by=lambda t: t[0],
    ),
    st.integers(min_value=1, max_value=PAGE_SIZE),
    st.one_of(st.none(), st.floats(min_value=0, max_value=5)),
)
def test_mixed_known_and_unknown_depths_still_cover_everyone_newest_first(
    items: list[tuple[int, bool]], page_size: int, density: float | None
) -> None:
    stragglers = [Straggler(f"s{o}", at(-o - 1), o + 200 if known else None) for o, known in items]
    plan = plan_stragglers(
        stragglers,
        frontier=at(0),
        exhausted=False,
        density=density,
        page_size=page_size,
        position=200,
    )
    newest_first = sorted(stragglers, key=lambda s: (s.created_at, s.job_id), reverse=True)
    assert sorted(plan.paged + plan.read) == sorted(s.job_id for s in stragglers)
    assert plan.paged == tuple(s.job_id for s in newest_first[: len(plan.paged)])
    assert plan.requests <= len(stragglers)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["depth", "frame0", "frame1", "unknown"]), st.integers(0, 600)),
        max_size=12,
        unique_by=lambda t: t[1],
    ),
    st.integers(min_value=1, max_value=SEEK_PAGE),
)
def test_a_seek_only_plan_costs_what_seek_requests_counts(
    items: list[tuple[str, int]], seek_size: int
) -> None:
    """Depths, places in two frames and unknown ones, consistent with ``createdAt`` (deeper is
    older); pages of one job (never better than a seek) and a density that puts the unknown
    ones far down: the plan seeks everyone, at the cost seek_requests gives."""

    def straggler(kind: str, at_: int) -> Straggler:
        depth = at_ if kind == "depth" else None
        place = Place(int(kind[-1]), at_) if kind.startswith("frame") else None
        return Straggler(f"s{at_}", at(-at_ - 1), depth, place)

    stragglers = [straggler(kind, n) for kind, n in items]
    plan = plan_stragglers(
        stragglers, frontier=at(0), exhausted=False, density=1e6, page_size=1, seek_size=seek_size
    )
    assert plan.requests == seek_requests(stragglers, seek_size=seek_size)
    assert sorted(plan.read) == sorted(s.job_id for s in stragglers) and plan.paged == ()
