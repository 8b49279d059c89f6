"""Arbitrary `/exports` texts: every one gets exactly one well-formed reply, none raises.

2,000+ texts go through the real parse -> handler path (``run_command``) of the running
app, answering over HTTP to the Slack stand-in's response_url, with the simulator behind;
a sample also goes the whole way as signed slash commands.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from slack_bolt.context.respond.async_respond import AsyncRespond

from bot.core.blocks import MAX_BUTTON_VALUE
from bot.core.button_values import (
    OlderPage,
    decode_job_value,
    decode_older_value,
    encode_older_value,
)
from bot.core.command_types import ListJobs
from bot.core.statuses import STATUS_WORDS
from bot.core.usage import USAGE
from bot.handlers import CommandContext
from bot.listeners.commands.exports import run_command
from bot.peaka import PageCursor, Status
from tests.conftest import BotServer, RunningSimulator
from tests.e2e_support import assert_no_special_tokens, assert_well_formed, run
from tests.slack_requests import SignedSlack
from tests.slack_standin import SlackStandIn

EXAMPLES = 2_000
HTTP_SAMPLE = 150
USERS = ("U0ANA", "U0BEN", "U0ADMIN", "U0NOBODY")
_WORDS = [
    *STATUS_WORDS,
    *USAGE,
    *("project", "limit", "mine", "share", "all", "on", "off", "topic", "statuses"),
    *("analytics", "BILLING", "marketing", "mtKDhe1U", "nope", "project=billing", "limit=3"),
    *("0", "1", "16", "17", "9999", "-1", "1e3", "2h", "30m", "0m", "31d", "1h30m", "2 h"),
    *("<!channel>", "<!here|here>", "<@U0ANA>", "<#C0GENERAL|general>", "<https://x.test|y>"),
    *("&amp;", "&lt;", "`", "```", ",", ",,", "=", "…", "\u200b", "ñandú", "🚀", "\n", "\t"),
    *("4c9fcb44", "4c9fcb44-126a-45f8-99a0-f1d245083d78", "00000000000000000000000000000000"),
]


def _texts(job_ids: list[str]) -> st.SearchStrategy[str]:
    """Mostly-valid commands, near misses and plain noise, in about equal parts."""
    word = st.one_of(
        st.sampled_from(_WORDS + job_ids),
        st.text(min_size=1, max_size=12),
        st.from_regex(r"[a-z]{2,10}", fullmatch=True),
    )
    option = st.sampled_from(
        [
            *("project analytics", "project billing", "project=marketing", "project Xr7pQ2Lm"),
            *("limit 1", "limit 5", "limit 16", "mine", "share"),
        ]
    )
    statuses = st.sampled_from(list(STATUS_WORDS))
    listing = st.lists(st.one_of(statuses, option), max_size=5)
    ids = st.sampled_from(job_ids)
    ids_0 = job_ids[0]
    verbs = st.one_of(
        st.sampled_from(["help", "help list", "help statuses", "subscriptions", "unmute"]),
        st.sampled_from(["mute 2h", "mute 1h30m", "unsubscribe", "unsubscribe project billing"]),
        st.lists(st.one_of(statuses, st.just("project billing")), max_size=4).map(
            lambda ws: " ".join(["subscribe", *ws])
        ),
        st.tuples(
            st.sampled_from(["show", "cancel", "link", ""]),
            ids,
            st.sampled_from(["", "project analytics", "share", "project billing"]),
        ).map(" ".join),
    )
    return st.one_of(
        st.text(max_size=300),
        st.lists(word, max_size=10).map(" ".join),
        st.lists(word, max_size=6).map(",".join),
        listing.map(" ".join),
        verbs,
        ids.map(lambda job_id: f"show {job_id}"),
        st.sampled_from(["", "help", "subscriptions", "mine", "all", "active", "cancel " + ids_0]),
        st.tuples(st.one_of(listing.map(" ".join), verbs), word).map(" ".join),  # near misses
    )


async def test_2000_arbitrary_texts_each_get_one_well_formed_reply(
    bot_server: BotServer, slack: SlackStandIn, simulator: RunningSimulator
) -> None:
    loop = asyncio.get_running_loop()
    services = bot_server.services
    assert services.slack is not None
    job_ids = sorted(simulator.sim.jobs)[:20]
    numbers = itertools.count(1)
    users = random.Random(3)
    ran: list[str] = []

    async def one(text: str) -> None:
        response_id = f"fuzz{next(numbers)}"
        ctx = CommandContext(
            services=services,
            user_id=users.choice(USERS),
            channel_id="C0FUZZ",
            team_id="T0STANDIN",
            text=text,
            respond=AsyncRespond(response_url=slack.response_url(response_id)),
            client=services.slack,
        )
        await run_command(ctx)
        posts = slack.responses(response_id)
        assert len(posts) == 1, (text, [p.body for p in posts])
        assert_well_formed(posts[0])
        ran.append(text)

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(text=_texts(job_ids))
    def each(text: str) -> None:
        asyncio.run_coroutine_threadsafe(one(text), loop).result(timeout=30)

    # Hypothesis drives synchronously; the app runs on this loop, free while we wait.
    await asyncio.to_thread(each)
    assert len(ran) >= EXAMPLES
    assert_no_special_tokens(slack.all_request_bodies())


async def test_a_sample_of_arbitrary_texts_over_signed_http(
    signed: SignedSlack, slack: SlackStandIn, simulator: RunningSimulator
) -> None:
    strategy = _texts(sorted(simulator.sim.jobs)[:20])
    texts: list[str] = []

    @settings(max_examples=HTTP_SAMPLE, deadline=None, database=None)
    @given(text=strategy)
    def collect(text: str) -> None:
        texts.append(text)

    collect()
    assert len(texts) >= HTTP_SAMPLE

    async def one(text: str, user: str) -> None:
        await run(signed, slack, text, user_id=user)  # asserts one well-formed reply

    for start in range(0, len(texts), 25):
        batch = list(enumerate(texts))[start : start + 25]
        await asyncio.gather(*(one(t, USERS[n % len(USERS)]) for n, t in batch))
    assert_no_special_tokens(slack.all_request_bodies())


@settings(max_examples=500, deadline=None)
@given(
    value=st.one_of(
        st.text(max_size=300),
        st.dictionaries(
            st.sampled_from(["v", "p", "s", "l", "c", "m", "sh", "j"]),
            st.one_of(st.integers(-5, 300), st.text(max_size=20), st.none(), st.booleans()),
        ).map(json.dumps),
    )
)
def test_any_button_value_decodes_or_says_why(value: str) -> None:
    for decode in (decode_older_value, decode_job_value):
        try:
            decode(value)
        except ValueError as exc:
            assert str(exc)


@settings(max_examples=300, deadline=None)
@given(
    statuses=st.sets(st.sampled_from(list(Status)), min_size=1),
    project=st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}", fullmatch=True),
    limit=st.integers(1, 16),
    mine=st.sampled_from([None, "U0ANA", "W123ABC"]),
    share=st.booleans(),
    seen=st.lists(st.uuids().map(str), max_size=80),
)
def test_older_values_round_trip_within_slack_limits(
    statuses: set[Status], project: str, limit: int, mine: str | None, share: bool, seen: list[str]
) -> None:
    cursor = PageCursor("2026-06-10T12:00:00.000001Z", tuple(seen)).encode()
    query = ListJobs(frozenset(statuses), project, limit, mine is not None, share)
    value = encode_older_value(OlderPage(query, cursor, mine))
    assert value is not None
    assert len(value) <= MAX_BUTTON_VALUE
    assert decode_older_value(value) == OlderPage(query, cursor, mine)
