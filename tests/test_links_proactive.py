"""Proactive DMs after a poll cycle: fresh links when a linked user's export succeeds, the error
when it fails, nothing after ``dm off``, one invitation for people without a key; each
exactly once through the alert log, across a restart and a crash mid-send."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import event

from bot.app import Services, build_app
from bot.core.alerting import TrackedJob
from bot.core.blocks import Reply
from bot.core.fetch_plan import Watermark
from bot.links import proactive, send_dm
from bot.links.proactive import JobOutcome, dm_target, outcomes_seen
from bot.peaka import ExportJob, Status
from bot.settings import Settings
from bot.simulator import SimJob
from bot.store import AlertKey, Store
from tests.conftest import PROJECT_ID, RunningSimulator
from tests.links_support import (
    ANA,
    ANA_KEY,
    BEN,
    assert_no_links_outside_dms,
    click_element,
    dm_channel_messages,
    file_urls,
    link_key,
    message_text,
    stored_services,  # noqa: F401  (bot_services with a store)
    wait_for_dm,
)
from tests.slack_requests import SignedSlack
from tests.slack_standin import SlackStandIn

T0 = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)


def _export(job_id: str, status: Status, created: datetime) -> ExportJob:
    return ExportJob(id=job_id, status=status, created_at=created, created_at_raw="x")


def test_outcomes_are_transitions_and_new_finished_jobs_never_the_baseline() -> None:
    old, new = T0 - timedelta(hours=1), T0 + timedelta(minutes=1)
    known = {
        "run": TrackedJob("run", Status.RUNNING, old),
        "done": TrackedJob("done", Status.FAILED, old),
    }
    observed = [
        _export("run", Status.SUCCEEDED, old),  # finished since the last cycle
        _export("done", Status.FAILED, old),  # finished before: nothing new
        _export("fresh", Status.FAILED, new),  # appeared and failed between cycles
        _export("history", Status.SUCCEEDED, old - timedelta(days=1)),  # old, not tracked
        _export("gone", Status.EXPIRED, new),  # appeared, succeeded and expired unseen
    ]
    watermark = Watermark(created_at=T0)
    found = outcomes_seen(PROJECT_ID, known=known, observed=observed, watermark=watermark)
    assert [(o.job.id, o.status) for o in found] == [
        ("run", Status.SUCCEEDED),
        ("fresh", Status.FAILED),
        ("gone", Status.SUCCEEDED),
        ("gone", Status.EXPIRED),
    ]
    assert outcomes_seen(PROJECT_ID, known=known, observed=observed, watermark=None) == []


def _running(simulator: RunningSimulator, email: str, **options: object) -> SimJob:
    now = simulator.clock.now()
    defaults: dict[str, object] = {
        "created_at": now - timedelta(seconds=30),
        "pending_seconds": 1,
        "run_seconds": 120,
    }
    return simulator.sim.create_job(PROJECT_ID, email, **{**defaults, **options})  # type: ignore[arg-type]


async def _cycle(
    services: Services, simulator: RunningSimulator, *jobs: SimJob
) -> proactive.DmReport:
    """What a poll cycle would see for ``jobs`` (tracked as running), read over HTTP."""
    client = services.peaka_for()
    observed = [await client.read_export(PROJECT_ID, job.id) for job in jobs]
    known = {
        j.id: TrackedJob(j.id, Status.RUNNING, j.created_at) for j in observed
    }  # fmt: skip
    watermark = Watermark(created_at=max(j.created_at for j in observed))
    outcomes = outcomes_seen(PROJECT_ID, known=known, observed=observed, watermark=watermark)
    return await proactive.after_project_cycle(services, PROJECT_ID, outcomes)


@asynccontextmanager
async def _restarted(
    settings: Settings, slack: SlackStandIn, clock: Callable[[], datetime] | None = None
) -> AsyncIterator[Services]:
    """A new process's services on the same SQLite file (as after a restart)."""
    store = await Store.open(settings.database_url)
    services = Services.from_settings(
        settings, store=store, clock=clock or (lambda: datetime.now(UTC))
    )
    build_app(settings, services=services)  # fills in the Slack client and e-mail directory
    try:
        yield services
    finally:
        await services.aclose()


async def test_success_dms_fresh_links_and_failure_the_error_exactly_once(
    signed: SignedSlack,
    slack: SlackStandIn,
    simulator: RunningSimulator,
    bot_services: Services,
    bot_settings: Settings,
) -> None:
    await link_key(signed, ANA_KEY, user_id=ANA)
    ok = _running(simulator, "ana@example.com", api_key=ANA_KEY)
    bad = _running(simulator, "ana@example.com", outcome="FAILED", error="Column 'x' vanished")
    assert (await _cycle(bot_services, simulator, ok, bad)).sent == []  # still running
    simulator.clock.advance(300)

    report = await _cycle(bot_services, simulator, ok, bad)
    assert sorted(report.sent) == sorted(
        [(ok.id, "SUCCEEDED", ANA), (bad.id, "FAILED", ANA)]
    )  # fmt: skip
    messages = dm_channel_messages(slack, ANA)
    assert len(messages) == 2
    links = next(m for m in messages if file_urls(m.get("blocks")))
    async with httpx.AsyncClient() as client:
        for url in file_urls(links["blocks"]):
            assert (await client.get(url)).status_code == 200
    failed = next(m for m in messages if not file_urls(m.get("blocks")))
    assert "Column 'x' vanished" in message_text(failed)
    for message in messages:
        assert message["metadata"]["event_type"] == proactive.DM_EVENT

    assert (await _cycle(bot_services, simulator, ok, bad)).sent == []  # same process
    async with _restarted(bot_settings, slack) as again:  # and after a restart
        assert (await _cycle(again, simulator, ok, bad)).sent == []
        assert (
            await again.store.alert_state(AlertKey(ok.id, Status.SUCCEEDED, dm_target(ANA)))
            == "sent"
        )
    assert len(dm_channel_messages(slack, ANA)) == 2
    assert_no_links_outside_dms(slack, simulator, allowed_dms=(ANA,))


async def test_dm_off_stops_them_and_dm_on_resumes(
    signed: SignedSlack, slack: SlackStandIn, simulator: RunningSimulator, bot_services: Services
) -> None:
    await link_key(signed, ANA_KEY, user_id=ANA)
    await bot_services.store.set_dm_enabled(ANA, False)
    first = _running(simulator, "ana@example.com", outcome="FAILED")
    simulator.clock.advance(300)
    assert (await _cycle(bot_services, simulator, first)).sent == []
    await bot_services.store.set_dm_enabled(ANA, True)
    second = _running(simulator, "ana@example.com", outcome="FAILED")
    simulator.clock.advance(300)
    assert (await _cycle(bot_services, simulator, second)).sent == [(second.id, "FAILED", ANA)]
    assert len(dm_channel_messages(slack, ANA)) == 1


async def test_people_without_a_key_get_one_invitation_ever(
    signed: SignedSlack,  # the running app: it gives the services their Slack client
    slack: SlackStandIn,
    simulator: RunningSimulator,
    bot_services: Services,
    bot_settings: Settings,
) -> None:
    first = _running(simulator, "ben@example.com")
    simulator.clock.advance(300)
    report = await _cycle(bot_services, simulator, first)
    assert (report.sent, report.invited) == ([], [BEN])
    invite = await wait_for_dm(slack, BEN)
    assert "/exports connect" in message_text(invite)
    assert not file_urls(invite.get("blocks"))
    second = _running(simulator, "ben@example.com", outcome="FAILED")
    simulator.clock.advance(300)
    assert (await _cycle(bot_services, simulator, second)).invited == []
    async with _restarted(bot_settings, slack) as again:
        third = _running(simulator, "ben@example.com")
        simulator.clock.advance(300)
        assert (await _cycle(again, simulator, third)).invited == []
    assert len(dm_channel_messages(slack, BEN)) == 1
    assert_no_links_outside_dms(slack, simulator)


async def test_a_dm_claimed_by_a_process_that_died_before_posting_is_sent_once(
    signed: SignedSlack,
    slack: SlackStandIn,
    simulator: RunningSimulator,
    bot_services: Services,
    bot_settings: Settings,
) -> None:
    await link_key(signed, ANA_KEY, user_id=ANA)
    job = _running(simulator, "ana@example.com", api_key=ANA_KEY)
    simulator.clock.advance(300)
    key = AlertKey(job.id, Status.SUCCEEDED, dm_target(ANA))
    assert await bot_services.store.claim_alert(key, PROJECT_ID, "dead-process")
    # The crashed process never posted. Right after, the claim is too young to take over...
    async with _restarted(bot_settings, slack) as again:
        report = await _cycle(again, simulator, job)
        assert (report.sent, report.recovered) == ([], [])
    # ...once it is stale, the next process checks the DM and sends it.
    later = lambda: datetime.now(UTC) + proactive.STALE_CLAIM + timedelta(minutes=1)  # noqa: E731
    async with _restarted(bot_settings, slack, later) as again:
        report = await _cycle(again, simulator, job)
        assert report.recovered == [(job.id, "SUCCEEDED", ANA)]
        assert (await _cycle(again, simulator, job)).recovered == []
    [dm] = dm_channel_messages(slack, ANA)
    assert file_urls(dm["blocks"])
    assert await bot_services.store.alert_state(key) == "sent"


async def test_a_dm_slack_accepted_before_the_crash_is_confirmed_not_resent(
    signed: SignedSlack,
    slack: SlackStandIn,
    simulator: RunningSimulator,
    bot_services: Services,
    bot_settings: Settings,
) -> None:
    await link_key(signed, ANA_KEY, user_id=ANA)
    job = _running(simulator, "ana@example.com", outcome="FAILED")
    simulator.clock.advance(300)
    key = AlertKey(job.id, Status.FAILED, dm_target(ANA))
    assert await bot_services.store.claim_alert(key, PROJECT_ID, "dead-process")
    # What the dying process got out: the DM, with its metadata, but no confirmation.
    metadata = {
        "event_type": proactive.DM_EVENT,
        "event_payload": {
            "project_id": PROJECT_ID,
            "job_id": job.id,
            "status": "FAILED",
            "target": key.target,
        },
    }
    assert bot_services.slack is not None
    posted = await send_dm(
        bot_services.slack, ANA, Reply(text="Your export failed."), metadata=metadata
    )
    later = lambda: datetime.now(UTC) + proactive.STALE_CLAIM + timedelta(minutes=1)  # noqa: E731
    async with _restarted(bot_settings, slack, later) as again:
        report = await _cycle(again, simulator, job)
        assert (report.sent, report.recovered) == ([], [])
    assert len(dm_channel_messages(slack, ANA)) == 1
    [record] = await bot_services.store.alerts_for(job.id)
    assert (record.state, record.slack_ts) == ("sent", posted.ts)


async def test_done_requests_are_answered_from_the_cycle_even_with_dms_off(
    signed: SignedSlack, slack: SlackStandIn, simulator: RunningSimulator, bot_services: Services
) -> None:
    job = _running(simulator, "ben@example.com", outcome="FAILED", error="disk full")
    await bot_services.store.add_done_request(BEN, PROJECT_ID, job.id)
    await bot_services.store.set_dm_enabled(BEN, False)
    simulator.clock.advance(300)
    report = await _cycle(bot_services, simulator, job)
    assert (report.sent, report.invited) == ([(job.id, "FAILED", BEN)], [])
    assert "disk full" in message_text(await wait_for_dm(slack, BEN))
    assert await bot_services.store.done_requests(PROJECT_ID) == []


async def test_peaka_failing_while_fetching_links_sends_a_button_for_later(
    signed: SignedSlack, slack: SlackStandIn, simulator: RunningSimulator, bot_services: Services
) -> None:
    await link_key(signed, ANA_KEY, user_id=ANA)
    job = _running(simulator, "ana@example.com", api_key=ANA_KEY)
    simulator.clock.advance(300)
    seen = await bot_services.peaka_for().read_export(PROJECT_ID, job.id)
    running = {job.id: TrackedJob(job.id, Status.RUNNING, seen.created_at)}
    outcomes = outcomes_seen(
        PROJECT_ID, known=running, observed=[seen], watermark=Watermark(seen.created_at)
    )
    simulator.sim.faults.operations = {"readExport"}
    simulator.sim.faults.error_rate = 1.0
    report = await proactive.after_project_cycle(bot_services, PROJECT_ID, outcomes)
    assert report.sent == [(job.id, "SUCCEEDED", ANA)]
    dm = await wait_for_dm(slack, ANA)
    assert "couldn't fetch its download links" in message_text(dm)
    assert not file_urls(dm["blocks"])
    simulator.sim.faults.error_rate = 0.0
    get_link = next(b for b in dm["blocks"] if b["type"] == "actions")["elements"][0]
    await click_element(signed, slack, get_link, user_id=ANA, channel_id=slack.dm_channel(ANA))
    links = await wait_for_dm(slack, ANA, count=2)
    assert file_urls(links["blocks"])
    assert_no_links_outside_dms(slack, simulator, allowed_dms=(ANA,))


async def test_without_a_store_or_outcomes_nothing_happens(
    simulator: RunningSimulator, bot_settings: Settings
) -> None:
    bare = Services.from_settings(bot_settings)
    try:
        outcome = JobOutcome(PROJECT_ID, _export("x", Status.FAILED, T0), Status.FAILED)
        report = await proactive.after_project_cycle(bare, PROJECT_ID, [outcome])
        assert (report.sent, report.invited) == ([], [])
    finally:
        await bare.aclose()


async def test_the_real_poller_sends_owner_dms_once_and_invites_the_unlinked_once(
    signed: SignedSlack,
    slack: SlackStandIn,
    simulator: RunningSimulator,
    bot_services: Services,
) -> None:
    from bot.poller import Poller

    assert bot_services.store is not None
    await link_key(signed, ANA_KEY, user_id=ANA)
    await bot_services.store.subscribe("C0ALERTS", PROJECT_ID, frozenset({Status.FAILED}), ANA)
    poller = Poller(bot_services, instance_id="proactive-test", interval=30)
    await poller.run_cycle()  # the baseline: history never DMs anyone
    assert dm_channel_messages(slack, ANA) == [] and dm_channel_messages(slack, BEN) == []

    ok = _running(simulator, "ana@example.com", api_key=ANA_KEY, created_at=None)
    unlinked = _running(simulator, "ben@example.com", outcome="FAILED", created_at=None)
    await poller.run_cycle()  # both seen running
    simulator.clock.advance(300)
    for _ in range(3):  # finished, then two more cycles that must add nothing
        await poller.run_cycle()

    def proactive_dms(user: str) -> list[dict[str, object]]:
        """DMs about this test's jobs (seeded jobs may finish in the same window too)."""
        return [
            m
            for m in dm_channel_messages(slack, user)
            if (m.get("metadata") or {}).get("event_type") == proactive.DM_EVENT
            and m["metadata"]["event_payload"]["job_id"] in (ok.id, unlinked.id)
        ]

    ana_dms = proactive_dms(ANA)
    assert len(ana_dms) == 1, [(m["ts"], m["metadata"]) for m in ana_dms]
    assert ok.id in str(ana_dms[0]["metadata"])
    async with httpx.AsyncClient() as client:
        urls = file_urls(ana_dms[0].get("blocks"))
        assert urls
        for url in urls:
            assert (await client.get(url)).status_code == 200
    assert proactive_dms(BEN) == [], "no error DM to someone who has not linked a key"
    invitations = [
        m for m in dm_channel_messages(slack, BEN) if "/exports connect" in message_text(m)
    ]
    assert len(invitations) == 1, "one invitation, once"
    assert_no_links_outside_dms(slack, simulator, allowed_dms=(ANA,))


async def _outcomes(services: Services, *jobs: SimJob) -> list[JobOutcome]:
    client = services.peaka_for()
    observed = [await client.read_export(PROJECT_ID, job.id) for job in jobs]
    known = {j.id: TrackedJob(j.id, Status.RUNNING, j.created_at) for j in observed}
    watermark = Watermark(created_at=max(j.created_at for j in observed))
    return outcomes_seen(PROJECT_ID, known=known, observed=observed, watermark=watermark)


async def test_one_cycle_reads_owners_once_and_invites_once_across_its_projects(
    signed: SignedSlack,
    slack: SlackStandIn,
    simulator: RunningSimulator,
    bot_services: Services,
) -> None:
    await link_key(signed, ANA_KEY, user_id=ANA)
    ana_jobs = [_running(simulator, "ana@example.com", outcome="FAILED") for _ in range(2)]
    ben_jobs = [_running(simulator, "ben@example.com") for _ in range(3)]
    simulator.clock.advance(300)
    dms = proactive.CycleDms(bot_services)
    assert (await dms.recover()).recovered == []
    first = await dms.after_project(
        PROJECT_ID, await _outcomes(bot_services, ana_jobs[0], ben_jobs[0])
    )
    # Settings read by the cycle hold for the cycle: turning DMs off now counts from the next.
    await bot_services.store.set_dm_enabled(ANA, False)
    second = await dms.after_project(
        PROJECT_ID, await _outcomes(bot_services, ana_jobs[1], *ben_jobs[1:])
    )
    assert (first.sent, first.invited) == ([(ana_jobs[0].id, "FAILED", ANA)], [BEN])
    assert (second.sent, second.invited) == ([(ana_jobs[1].id, "FAILED", ANA)], [])
    invitations = [
        m for m in dm_channel_messages(slack, BEN) if "/exports connect" in message_text(m)
    ]
    assert len(invitations) == 1
    later = _running(simulator, "ana@example.com", outcome="FAILED")
    simulator.clock.advance(300)
    next_cycle = proactive.CycleDms(bot_services)
    assert (
        await next_cycle.after_project(PROJECT_ID, await _outcomes(bot_services, later))
    ).sent == []


async def test_a_batch_reads_its_projects_done_requests_once_and_answers_each_once(
    signed: SignedSlack, slack: SlackStandIn, simulator: RunningSimulator, bot_services: Services
) -> None:
    other = "batchOther1"
    simulator.sim.add_project(other)
    mine = _running(simulator, "ben@example.com", outcome="FAILED", error="disk full")
    theirs = simulator.sim.create_job(
        other,
        "ben@example.com",
        created_at=simulator.clock.now() - timedelta(seconds=30),
        run_seconds=120,
        outcome="FAILED",
        error="quota exceeded",
    )
    store = bot_services.store
    await store.add_done_request(ANA, PROJECT_ID, mine.id)
    await store.add_done_request(ANA, other, theirs.id)
    await store.set_dm_enabled(BEN, False)  # only the requests are answered
    simulator.clock.advance(300)
    client = bot_services.peaka_for()
    outcomes = {}
    for project, job in ((PROJECT_ID, mine), (other, theirs)):
        seen = await client.read_export(project, job.id)
        known = {seen.id: TrackedJob(seen.id, Status.RUNNING, seen.created_at)}
        watermark = Watermark(created_at=seen.created_at)
        outcomes[project] = outcomes_seen(
            project, known=known, observed=[seen], watermark=watermark
        )
    reads: list[str] = []

    def note(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if "FROM done_requests" in statement and statement.lstrip().upper().startswith("SELECT"):
            reads.append(statement)

    event.listen(store.engine.sync_engine, "before_cursor_execute", note)
    try:
        report = await proactive.CycleDms(bot_services).after_projects(outcomes)
    finally:
        event.remove(store.engine.sync_engine, "before_cursor_execute", note)
    assert len(reads) == 1  # one read for the batch, not one per project
    assert sorted(report.sent) == sorted([(mine.id, "FAILED", ANA), (theirs.id, "FAILED", ANA)])
    texts = [message_text(m) for m in dm_channel_messages(slack, ANA)]
    assert sum("disk full" in t for t in texts) == 1
    assert sum("quota exceeded" in t for t in texts) == 1
    assert await store.done_requests_of([PROJECT_ID, other]) == {PROJECT_ID: [], other: []}
    # Again (a crash before the state was saved re-decides them): nothing twice.
    assert (await proactive.CycleDms(bot_services).after_projects(outcomes)).sent == []
