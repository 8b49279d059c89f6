"""decide_alerts: transitions, baseline, expiry, unknown statuses, mutes; and the property that
any lifecycle, observed at any points, alerts each subscribed outcome exactly once."""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from unittest.mock import patch

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core import alerting
from bot.core.alerting import (
    ALERTABLE,
    AlertDecision,
    ChannelSubscription,
    SeenJob,
    TrackedJob,
    decide_alerts,
    deciding_on,
    needs_details,
    outcomes_between,
    settled,
)
from bot.core.fetch_plan import Watermark
from bot.links.proactive import outcomes_seen
from bot.peaka import ExportJob, JobSummary, MalformedResponseError, Status, format_timestamp

T0 = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)
P, R, S, F, C, E = (
    Status.PENDING,
    Status.RUNNING,
    Status.SUCCEEDED,
    Status.FAILED,
    Status.CANCELLED,
    Status.EXPIRED,
)
PAUSED = Status("PAUSED")  # a status the API might add later


def job(job_id: str, status: Status, created: datetime = T0, error: str | None = None) -> ExportJob:
    return ExportJob(
        id=job_id,
        status=status,
        created_at=created,
        created_at_raw=format_timestamp(created),
        error=error,
    )


def sub(channel: str, *statuses: Status) -> ChannelSubscription:
    return ChannelSubscription(channel, frozenset(statuses))


def keys(decision: AlertDecision, suppressed: bool = False) -> set[tuple[str, str, str]]:
    intents = decision.suppressed if suppressed else decision.alerts
    return {i.key for i in intents}


def test_outcomes_between_covers_every_pair() -> None:
    assert outcomes_between(R, S) == (S,)
    assert outcomes_between(P, F) == (F,)
    assert outcomes_between(None, C) == (C,)
    assert outcomes_between(R, E) == (S, E)  # succeeded and expired while nobody looked
    assert outcomes_between(None, E) == (S, E)
    assert outcomes_between(S, E) == (E,)
    assert outcomes_between(S, S) == ()
    assert outcomes_between(F, F) == ()
    assert outcomes_between(E, E) == ()
    assert outcomes_between(R, R) == ()
    assert outcomes_between(R, PAUSED) == ()
    assert outcomes_between(PAUSED, F) == (F,)
    assert outcomes_between(None, PAUSED) == ()


def test_baseline_alerts_nothing_and_tracks_only_unfinished_jobs() -> None:
    seen = [job("a", S), job("b", F), job("c", R), job("d", P), job("e", PAUSED), job("f", E)]
    decision = decide_alerts(
        "p1",
        known={},
        observed=seen,
        subscriptions=[sub("C1", *ALERTABLE)],
        watermark=None,
    )
    assert decision.alerts == [] and decision.suppressed == []
    assert set(decision.tracked) == {"c", "d", "e"}
    assert decision.tracked["e"].status == PAUSED
    assert decision.watermark == Watermark(T0, frozenset("abcdef"))


def test_known_running_job_that_finished_alerts_each_subscribed_channel_once() -> None:
    known = {"a": TrackedJob("a", R, T0)}
    decision = decide_alerts(
        "p1",
        known=known,
        observed=[job("a", F, error="boom"), job("a", F, error="boom")],
        subscriptions=[sub("C1", F), sub("C2", F, C), sub("C3", S), sub("C1", F, S)],
        watermark=Watermark(T0, frozenset({"a"})),
    )
    assert keys(decision) == {("a", "FAILED", "C1"), ("a", "FAILED", "C2")}
    assert len(decision.alerts) == 2
    assert decision.alerts[0].job.error == "boom"
    assert decision.tracked == {} and decision.dropped == ["a"]


def test_new_job_that_appeared_and_finished_between_cycles_alerts() -> None:
    mark = Watermark(T0, frozenset({"old"}))
    later = T0 + timedelta(seconds=5)
    decision = decide_alerts(
        "p1",
        known={},
        observed=[job("new", S, later), job("tie", C, T0), job("old", F, T0)],
        subscriptions=[sub("C1", S, C, F)],
        watermark=mark,
    )
    # "tie" shares the watermark's instant but was not there: new. "old" was: history.
    assert keys(decision) == {("new", "SUCCEEDED", "C1"), ("tie", "CANCELLED", "C1")}
    assert decision.watermark == Watermark(later, frozenset({"new"}))


def test_history_below_the_watermark_never_alerts_but_unfinished_jobs_get_tracked() -> None:
    mark = Watermark(T0, frozenset({"x"}))
    older = T0 - timedelta(minutes=5)
    decision = decide_alerts(
        "p1",
        known={},
        observed=[job("done", F, older), job("missed", R, older)],
        subscriptions=[sub("C1", F, S)],
        watermark=mark,
    )
    assert decision.alerts == []
    assert set(decision.tracked) == {"missed"}
    assert decision.watermark == mark


def test_succeeded_jobs_are_followed_for_expiry_only_with_an_expired_subscription() -> None:
    known = {"a": TrackedJob("a", R, T0), "b": TrackedJob("b", R, T0)}
    mark = Watermark(T0, frozenset({"a", "b"}))
    no_expiry = decide_alerts(
        "p1",
        known=known,
        observed=[job("a", S)],
        subscriptions=[sub("C1", S)],
        watermark=mark,
    )
    assert set(no_expiry.tracked) == {"b"}
    with_expiry = decide_alerts(
        "p1",
        known=known,
        observed=[job("a", S)],
        subscriptions=[sub("C1", S), sub("C2", E)],
        watermark=mark,
    )
    assert keys(with_expiry) == {("a", "SUCCEEDED", "C1")}
    assert with_expiry.tracked["a"] == TrackedJob("a", S, T0)
    expired = decide_alerts(
        "p1",
        known=with_expiry.tracked,
        observed=[job("a", E)],
        subscriptions=[sub("C1", S), sub("C2", E)],
        watermark=with_expiry.watermark,
    )
    assert keys(expired) == {("a", "EXPIRED", "C2")}
    assert "a" not in expired.tracked
    # The EXPIRED subscription goes away: stop following jobs that can only expire.
    dropped = decide_alerts(
        "p1",
        known=with_expiry.tracked,
        observed=[],
        subscriptions=[sub("C1", S)],
        watermark=with_expiry.watermark,
    )
    assert dropped.dropped == ["a"] and set(dropped.tracked) == {"b"}


def test_running_job_seen_expired_still_gives_succeeded_subscribers_their_alert() -> None:
    decision = decide_alerts(
        "p1",
        known={"a": TrackedJob("a", R, T0)},
        observed=[job("a", E)],
        subscriptions=[sub("C1", S), sub("C2", E), sub("C3", F)],
        watermark=Watermark(T0, frozenset({"a"})),
    )
    assert keys(decision) == {("a", "SUCCEEDED", "C1"), ("a", "EXPIRED", "C2")}
    assert [i.status for i in decision.alerts] == [S, E]


def test_unknown_statuses_never_alert_and_the_job_still_alerts_when_it_ends() -> None:
    subs = [sub("C1", *ALERTABLE)]
    mark = Watermark(T0, frozenset({"a"}))
    first = decide_alerts(
        "p1",
        known={"a": TrackedJob("a", R, T0)},
        observed=[job("a", PAUSED), job("n", Status("ARCHIVED"), T0 + timedelta(seconds=1))],
        subscriptions=subs,
        watermark=mark,
    )
    assert first.alerts == []
    assert first.tracked["a"].status == R  # the last status it understood
    assert first.tracked["n"].status == Status("ARCHIVED")
    second = decide_alerts(
        "p1",
        known=first.tracked,
        observed=[job("a", C), job("n", F, T0 + timedelta(seconds=1))],
        subscriptions=subs,
        watermark=first.watermark,
    )
    assert keys(second) == {("a", "CANCELLED", "C1"), ("n", "FAILED", "C1")}


def test_a_finished_job_never_goes_back_to_running() -> None:
    subs = [sub("C1", S, E)]
    known = {"a": TrackedJob("a", S, T0)}
    mark = Watermark(T0, frozenset({"a"}))
    odd = decide_alerts(
        "p1", known=known, observed=[job("a", R)], subscriptions=subs, watermark=mark
    )
    assert odd.tracked["a"].status == S and odd.alerts == []
    again = decide_alerts(
        "p1", known=odd.tracked, observed=[job("a", S)], subscriptions=subs, watermark=mark
    )
    assert again.alerts == []


def test_muted_channels_get_suppressed_intents_and_the_state_still_moves_on() -> None:
    decision = decide_alerts(
        "p1",
        known={"a": TrackedJob("a", R, T0)},
        observed=[job("a", F)],
        subscriptions=[sub("C1", F), sub("C2", F)],
        watermark=Watermark(T0, frozenset({"a"})),
        muted=["C2"],
    )
    assert keys(decision) == {("a", "FAILED", "C1")}
    assert keys(decision, suppressed=True) == {("a", "FAILED", "C2")}
    assert decision.tracked == {}


def test_listed_jobs_alone_move_the_watermark() -> None:
    later = T0 + timedelta(minutes=1)
    decision = decide_alerts(
        "p1",
        known={"r": TrackedJob("r", R, T0 - timedelta(hours=1))},
        observed=[job("l", R, later), job("r", S, T0 - timedelta(hours=1))],
        listed=[job("l", R, later)],
        subscriptions=[],
        watermark=Watermark(T0, frozenset({"x"})),
    )
    assert decision.watermark == Watermark(later, frozenset({"l"}))


# --- the lifecycle property -----------------------------------------------------------------

LIFECYCLES = (
    (P, R, S),
    (P, R, S, E),
    (P, S, E),
    (P, R, F),
    (P, F),
    (P, C),
    (P, R, C),
    (P, PAUSED, R, S, E),
    (P, R, PAUSED, F),
)
CHANNELS = ("C1", "C2", "C3")


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, object]:
    life = draw(st.sampled_from(LIFECYCLES))
    subs = [
        sub(channel, *draw(st.frozensets(st.sampled_from(sorted(ALERTABLE)))))
        for channel in draw(st.lists(st.sampled_from(CHANNELS), min_size=1, max_size=3))
    ]
    # Per cycle: None = the job was not observed; else an index into the lifecycle,
    # never going backwards. The first cycle is the baseline.
    steps = draw(st.lists(st.one_of(st.none(), st.integers(0, 3)), min_size=1, max_size=12))
    at_baseline = draw(st.booleans())
    position, schedule = 0, []
    for n, step in enumerate(steps):
        if n == 0 and not at_baseline:
            schedule.append(None)  # created after the baseline
            continue
        if step is None:
            schedule.append(None)
            continue
        position = min(len(life) - 1, position + step)
        schedule.append(position)
    muted = [draw(st.frozensets(st.sampled_from(CHANNELS))) for _ in schedule]
    tie = draw(st.booleans())  # created in the same instant as the baseline's newest job
    return {"life": life, "subs": subs, "schedule": schedule, "muted": muted, "tie": tie}


def _expected(
    life: tuple[Status, ...], schedule: list[int | None], subs: list[ChannelSubscription]
) -> set[tuple[str, str, str]]:
    seen = [i for i in schedule if i is not None]
    if not seen:
        return set()
    if schedule[0] is not None and life[schedule[0]].is_terminal and life[schedule[0]].is_known:
        return set()  # finished before the baseline: history
    reached = {s for s in life[: seen[-1] + 1] if s.is_known and s.is_terminal}
    return {("job", s.value, x.channel) for x in subs for s in reached if s in x.statuses}


@settings(max_examples=150, deadline=None)
@given(scenarios())
def test_any_observed_lifecycle_alerts_each_subscribed_outcome_exactly_once(
    scenario: dict[str, object],
) -> None:
    life: tuple[Status, ...] = scenario["life"]  # type: ignore[assignment]
    subs: list[ChannelSubscription] = scenario["subs"]  # type: ignore[assignment]
    schedule: list[int | None] = scenario["schedule"]  # type: ignore[assignment]
    muted: list[frozenset[str]] = scenario["muted"]  # type: ignore[assignment]
    created = T0 if (scenario["tie"] or schedule[0] is not None) else T0 + timedelta(seconds=1)
    known: dict[str, TrackedJob] = {}
    watermark: Watermark | None = None
    delivered: list[tuple[str, str, str]] = []
    suppressed: list[tuple[str, str, str]] = []
    for cycle, index in enumerate(schedule):
        observed = [job("neighbour", F, T0)] if cycle == 0 else []
        if index is not None:
            observed.append(job("job", life[index], created))
        decision = decide_alerts(
            "p1",
            known=known,
            observed=observed,
            subscriptions=subs,
            watermark=watermark,
            muted=muted[cycle],
        )
        for intent in decision.alerts:
            assert intent.channel not in muted[cycle]
        delivered += [i.key for i in decision.alerts]
        suppressed += [i.key for i in decision.suppressed]
        known, watermark = decision.tracked, decision.watermark
        assert all(i.status in ALERTABLE for i in [*decision.alerts, *decision.suppressed])
    everything = delivered + suppressed
    assert len(everything) == len(set(everything)), "an outcome was alerted twice"
    assert set(everything) == _expected(life, schedule, subs)


# --- needs_details: which listed jobs the poller may leave as summaries ---------------------

IDS = ("a", "b", "c", "d")
STATUSES = (P, R, S, F, C, E, PAUSED)
TIMES = (T0, T0 + timedelta(seconds=1), T0 + timedelta(seconds=2))


@st.composite
def cycles(draw: st.DrawFn) -> dict[str, object]:
    known = {
        i: TrackedJob(i, draw(st.sampled_from(STATUSES)), draw(st.sampled_from(TIMES)))
        for i in draw(st.frozensets(st.sampled_from(IDS)))
    }
    observed = [
        job(
            draw(st.sampled_from(IDS)),
            draw(st.sampled_from(STATUSES)),
            draw(st.sampled_from(TIMES)),
        )
        for _ in range(draw(st.integers(0, 6)))
    ]
    watermark = draw(
        st.one_of(
            st.none(),
            st.builds(
                Watermark,
                st.sampled_from(TIMES),
                st.frozensets(st.sampled_from(IDS)).map(lambda ids: tuple(sorted(ids))),
            ),
        )
    )
    subs = [
        sub(channel, *draw(st.frozensets(st.sampled_from(sorted(ALERTABLE)))))
        for channel in draw(st.lists(st.sampled_from(CHANNELS), min_size=1, max_size=3))
    ]
    return {"known": known, "observed": observed, "watermark": watermark, "subs": subs}


def _summary_that_cannot_expand(full: ExportJob) -> JobSummary:
    # details() on this raises: the decision must never need it.
    data = {"rowCount": "not a number"}
    return JobSummary(full.id, full.status, full.created_at, full.created_at_raw, data)


@settings(max_examples=300, deadline=None)
@given(cycles())
def test_jobs_that_need_no_details_decide_the_same_as_summaries(case: dict[str, object]) -> None:
    known: dict[str, TrackedJob] = case["known"]  # type: ignore[assignment]
    observed: list[ExportJob] = case["observed"]  # type: ignore[assignment]
    watermark: Watermark | None = case["watermark"]  # type: ignore[assignment]
    subs: list[ChannelSubscription] = case["subs"]  # type: ignore[assignment]
    lean: list[SeenJob] = [
        j if needs_details(j, known, watermark) else _summary_that_cannot_expand(j)
        for j in observed
    ]

    def decide(jobs: list[SeenJob]) -> AlertDecision:
        return decide_alerts(
            "p1", known=known, observed=jobs, subscriptions=subs, watermark=watermark, muted={"C2"}
        )

    full, summarised = decide(list(observed)), decide(lean)
    assert summarised == full  # alerts with their jobs, tracked, changed, dropped, watermark
    assert all(isinstance(i.job, ExportJob) for i in summarised.alerts + summarised.suppressed)
    changed = {t.job_id for t in summarised.changed}
    latest = {j.id: j for j in lean}
    assert all(isinstance(latest[i], ExportJob) for i in changed)  # the store keeps its owner
    dms = outcomes_seen("p1", known=known, observed=lean, watermark=watermark)
    assert dms == outcomes_seen("p1", known=known, observed=observed, watermark=watermark)


def test_a_summary_expands_to_the_job_or_a_typed_error() -> None:
    data = job("x", F, error="boom").to_api()
    summary = JobSummary.from_api(data)
    assert (summary.id, summary.status, summary.created_at) == ("x", F, T0)
    assert summary.details() == job("x", F, error="boom")
    with pytest.raises(MalformedResponseError, match="job 'x' is not an export job"):
        JobSummary.from_api({**data, "files": "nope"}).details()
    with pytest.raises(TypeError, match="id must be"):
        JobSummary.from_api({**data, "id": ""})


# --- the fast path: jobs that can change nothing are skipped ---------------------------------


def _every_job_decided() -> AbstractContextManager[object]:
    """decide_alerts without its fast path: no job is skipped as quiet."""
    return patch.object(alerting, "_quiet", lambda *args: False)


def _unpacked(
    case: dict[str, object], data: st.DataObject
) -> tuple[dict[str, TrackedJob], Watermark | None, list[ChannelSubscription], list[SeenJob]]:
    """A ``cycles()`` case's known jobs, watermark, subscriptions and observed jobs, some of
    these parsed from JSON, as the poller sees them (an unknown status is then a new object)."""
    known: dict[str, TrackedJob] = case["known"]  # type: ignore[assignment]
    watermark: Watermark | None = case["watermark"]  # type: ignore[assignment]
    subs: list[ChannelSubscription] = case["subs"]  # type: ignore[assignment]
    observed: list[SeenJob] = [
        JobSummary.from_api(j.to_api()) if data.draw(st.booleans()) else j
        for j in case["observed"]  # type: ignore[attr-defined]
    ]
    return known, watermark, subs, observed


@settings(max_examples=400, deadline=None)
@given(cycles(), st.data())
def test_skipping_quiet_jobs_decides_exactly_as_deciding_on_every_job(
    case: dict[str, object], data: st.DataObject
) -> None:
    known, watermark, subs, observed = _unpacked(case, data)

    def decide(subscriptions: list[ChannelSubscription]) -> AlertDecision:
        return decide_alerts(
            "p1",
            known=known,
            observed=observed,
            subscriptions=subscriptions,
            watermark=watermark,
            muted={"C2"},
        )

    fast = decide(subs)
    with _every_job_decided():
        slow, everything = decide(subs), decide([sub("C9", *ALERTABLE)])
    assert fast == slow  # alerts, suppressed, tracked, changed and dropped in order, watermark
    latest = {j.id: j for j in observed}.values()  # no ``listed``: the latest of each job
    assert fast.watermark == (watermark or Watermark()).advanced(
        (j.id, j.created_at) for j in latest
    )
    # The DMs follow the channel alerts' rules (from the second cycle on).
    dms = outcomes_seen("p1", known=known, observed=observed, watermark=watermark)
    expected = [] if watermark is None else [(i.job, i.status) for i in everything.alerts]
    assert [(o.job, o.status) for o in dms] == expected


# --- deciding_on: the poller decides on the jobs that are not settled -----------------------


@settings(max_examples=400, deadline=None)
@given(cycles(), st.data())
def test_deciding_on_the_unsettled_jobs_decides_exactly_as_on_every_job(
    case: dict[str, object], data: st.DataObject
) -> None:
    known, watermark, subs, observed = _unpacked(case, data)
    listed = observed[: data.draw(st.integers(0, len(observed)))]
    muted = data.draw(st.frozensets(st.sampled_from(CHANNELS)))
    chosen = deciding_on(observed, known, watermark)

    def decide(jobs: list[SeenJob], subscriptions: list[ChannelSubscription]) -> AlertDecision:
        return decide_alerts(
            "p1",
            known=known,
            observed=jobs,
            listed=listed,
            subscriptions=subscriptions,
            watermark=watermark,
            muted=muted,
        )

    # With and without someone watching for expiry (then SUCCEEDED jobs stay tracked).
    for subscriptions in (subs, [*subs, sub("C9", E)], []):
        assert decide(chosen, subscriptions) == decide(observed, subscriptions)
    assert outcomes_seen("p1", known=known, observed=chosen, watermark=watermark) == (
        outcomes_seen("p1", known=known, observed=observed, watermark=watermark)
    )
    # Only settled jobs are left out, and only they are quiet whoever subscribes.
    latest = {j.id: j for j in observed}
    assert chosen == [j for j in latest.values() if j in chosen]
    for j in latest.values():
        before = known.get(j.id)
        quiet = [alerting._quiet(j, before, watermark, watches) for watches in (False, True)]
        assert settled(j, before, watermark) == all(quiet)
        assert (j in chosen) != settled(j, before, watermark)
