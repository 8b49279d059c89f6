"""The fetch plan: watermark arithmetic (ties included) and the straggler plan's cost choice."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.fetch_plan import (
    MIN_FIRST_PAGE,
    PAGE_SIZE,
    Straggler,
    StragglerPlan,
    Watermark,
    estimated_pages,
    first_page_size,
    plan_stragglers,
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
