"""A batch's proactive DMs (``CycleDms.after_projects``) without a store or Slack: projects
whose owners' settings call for nothing get no per-project pass, and that shortcut answers
exactly as the pass would; each owner is looked up once per cycle, a failed lookup again."""

from __future__ import annotations

import asyncio
import types
from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import SecretStr
from slack_sdk.errors import SlackClientError

from bot.links import proactive
from bot.links.proactive import CycleDms, JobOutcome
from bot.peaka import ExportJob, Status
from bot.store import OwnerDmSettings

BOT_KEY = "botkey-0123456789"
BOT_PREFIX = BOT_KEY[:8]
OWNERS = {"ana@example.com": "UANA", "ben@example.com": "UBEN", "cy@example.com": None}
NAMES = [*OWNERS, "not an email", None, " Ana@Example.com "]
T0 = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)


class _Store:
    def __init__(self, choices: dict[str, OwnerDmSettings]) -> None:
        self.choices = choices
        self.settings_reads = 0

    async def done_requests_of(self, projects: Collection[str]) -> dict[str, list[Any]]:
        return {project: [] for project in projects}

    async def done_requests(self, project: str) -> list[Any]:
        return []

    async def owner_dm_settings(self, users: Collection[str]) -> dict[str, OwnerDmSettings]:
        self.settings_reads += 1
        return {user: self.choices.get(user, OwnerDmSettings(user)) for user in users}


class _Users:
    def __init__(self, failures: int = 0) -> None:
        self.asked: list[str] = []
        self.failures = failures

    async def user_id_for(self, email: str) -> str | None:
        self.asked.append(email)
        if self.failures:
            self.failures -= 1
            raise SlackClientError("lost")
        return OWNERS.get(email.strip().lower())


def _services(store: _Store, users: _Users, *, linking: bool = True) -> Any:
    return types.SimpleNamespace(
        store=store,
        slack=object(),
        users=users,
        settings=types.SimpleNamespace(peaka_api_key=SecretStr(BOT_KEY), linking_enabled=linking),
    )


def _outcome(n: int, project: str, name: str | None, status: Status, by_bot: bool) -> JobOutcome:
    job = ExportJob(
        id=f"{project}-j{n}",
        status=status,
        created_at=T0,
        created_at_raw="x",
        user_name=name,
        api_key_prefix=BOT_PREFIX if by_bot else "ownerkey",
    )
    return JobOutcome(project, job, status)


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, ...]]:
    """What the DM path sends, recorded instead of posted."""
    actions: list[tuple[str, ...]] = []

    async def deliver(_s: Any, project: str, job: ExportJob, status: Status, user: str, _r: Any):
        actions.append(("dm", project, job.id, status.value, user))

    async def invite(_s: Any, user: str, job: ExportJob, project: str, _r: Any) -> None:
        actions.append(("invite", project, job.id, user))

    monkeypatch.setattr(proactive, "_deliver", deliver)
    monkeypatch.setattr(proactive, "_invite", invite)
    return actions


_CHOICES = st.dictionaries(
    st.sampled_from([u for u in OWNERS.values() if u]),
    st.builds(OwnerDmSettings, st.just(""), st.booleans(), st.booleans(), st.booleans()),
)
_OUTCOMES = st.lists(
    st.tuples(
        st.integers(0, 3),
        st.sampled_from(NAMES),
        st.sampled_from([Status.SUCCEEDED, Status.FAILED, Status.CANCELLED]),
        st.booleans(),
    ),
    max_size=6,
)


async def _pass(
    cycle: CycleDms,
    outcomes: list[JobOutcome],
    patch: pytest.MonkeyPatch,
    failed: set[str] | None = None,
) -> list[tuple[str, ...]]:
    """What the project's own pass sends (recorded instead)."""
    actions: list[tuple[str, ...]] = []

    async def deliver(*args: Any) -> None:
        actions.append(("dm", args[2].id, args[4]))

    async def invite(*args: Any) -> None:
        actions.append(("invite", args[2].id, args[1]))

    patch.setattr(proactive, "_deliver", deliver)
    patch.setattr(proactive, "_invite", invite)
    report = proactive.DmReport()
    await cycle._send_for_outcomes("p", outcomes, report, requests=[], failed=failed or set())
    return actions


@settings(max_examples=300, deadline=None)
@given(
    choices=_CHOICES,
    raw=_OUTCOMES,
    earlier=_OUTCOMES,
    linking=st.booleans(),
    invited=st.sets(st.sampled_from(["UANA", "UBEN"])),
    failures=st.integers(0, 3),
)
def test_quiet_projects_are_the_ones_whose_pass_sends_nothing(
    choices: dict[str, OwnerDmSettings],
    raw: list[tuple[int, str | None, Status, bool]],
    earlier: list[tuple[int, str | None, Status, bool]],
    linking: bool,
    invited: set[str],
    failures: int,
) -> None:
    outcomes = [_outcome(n, "p", name, status, bot) for n, name, status, bot in raw]
    before = [_outcome(n, "q", name, status, bot) for n, name, status, bot in earlier]

    async def cycle_after(before: list[JobOutcome], patch: pytest.MonkeyPatch) -> Any:
        store, users = _Store(choices), _Users(failures)
        cycle = CycleDms(_services(store, users, linking=linking))
        cycle._invited = set(invited)
        await _pass(cycle, before, patch)  # what an earlier project taught the cycle
        return cycle, store, users

    async def run(patch: pytest.MonkeyPatch) -> None:
        plain_cycle, plain_store, plain_users = await cycle_after(before, patch)
        plain = await _pass(plain_cycle, outcomes, patch)
        cycle, store, users = await cycle_after(before, patch)
        failed: set[str] = set()
        quiet = await cycle._quiet("p", outcomes, failed)
        sends = [] if quiet else await _pass(cycle, outcomes, patch, failed)
        assert quiet == (plain == [])
        assert sends == plain
        # The same reads as the plain pass, none twice: lookups, settings.
        assert users.asked == plain_users.asked
        assert store.settings_reads == plain_store.settings_reads

    with pytest.MonkeyPatch.context() as patch:
        asyncio.run(run(patch))


async def test_a_batch_sends_what_each_projects_pass_would(sent: list[tuple[str, ...]]) -> None:
    store = _Store(
        {
            "UANA": OwnerDmSettings("UANA", dm_enabled=True, linked=True),
            "UBEN": OwnerDmSettings("UBEN", dm_enabled=True, invited=True),
        }
    )
    users = _Users()
    batch = {
        "quiet": [_outcome(1, "quiet", "ben@example.com", Status.FAILED, False)],
        "linked": [
            _outcome(1, "linked", "ana@example.com", Status.SUCCEEDED, False),
            _outcome(2, "linked", "ben@example.com", Status.FAILED, False),
        ],
        "bot": [_outcome(1, "bot", "ben@example.com", Status.FAILED, True)],
        "nobody": [_outcome(1, "nobody", "cy@example.com", Status.FAILED, False)],
    }
    await CycleDms(_services(store, users)).after_projects(batch)
    assert sorted(sent) == [
        ("dm", "bot", "bot-j1", "FAILED", "UBEN"),
        ("dm", "linked", "linked-j1", "SUCCEEDED", "UANA"),
    ]
    # Each owner asked about once in the cycle; settings read once per owners not read yet
    # (ben's for "quiet", then ana's for "linked").
    assert sorted(users.asked) == ["ana@example.com", "ben@example.com", "cy@example.com"]
    assert store.settings_reads == 2


async def test_a_failed_owner_lookup_is_not_remembered(sent: list[tuple[str, ...]]) -> None:
    store = _Store({"UANA": OwnerDmSettings("UANA", dm_enabled=True, linked=True)})
    users = _Users(failures=1)
    batch = {
        "p": [_outcome(1, "p", "ana@example.com", Status.FAILED, False)],
        "q": [_outcome(1, "q", "ana@example.com", Status.FAILED, False)],
    }
    await CycleDms(_services(store, users)).after_projects(batch)
    # The first job's lookup failed (no DM for it, logged); the next job asks again.
    assert sent == [("dm", "q", "q-j1", "FAILED", "UANA")]
    assert users.asked == ["ana@example.com", "ana@example.com"]
