"""The Slack stand-in behaves like the Web API where the bot relies on it."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.app import Services, build_app, build_slack_client
from bot.settings import Settings
from tests.slack_standin import SlackStandIn

TOKEN = "xoxb-standin-test"


@pytest.fixture
async def standin() -> AsyncIterator[SlackStandIn]:
    async with SlackStandIn(token=TOKEN, seed=3) as slack:
        slack.add_user("U0ANA", "Ana@Example.com", name="ana", is_admin=True)
        yield slack


def client_for(slack: SlackStandIn, token: str = TOKEN) -> AsyncWebClient:
    return AsyncWebClient(token=token, base_url=slack.base_url, retry_handlers=[])


async def test_messages_metadata_and_history_pages(standin: SlackStandIn) -> None:
    client = client_for(standin)
    posted = []
    for n in range(5):
        metadata = {"event_type": "export_alert", "event_payload": {"n": n}}
        response = await client.chat_postMessage(channel="C1", text=f"m{n}", metadata=metadata)
        posted.append(response["ts"])
    assert posted == sorted(posted, key=float)
    assert [m["metadata"]["event_payload"]["n"] for m in standin.messages("C1")] == list(range(5))

    first = await client.conversations_history(channel="C1", limit=2, include_all_metadata=True)
    assert [m["text"] for m in first["messages"]] == ["m4", "m3"]
    assert first["messages"][0]["metadata"]["event_payload"] == {"n": 4}
    assert first["has_more"] is True
    cursor = first["response_metadata"]["next_cursor"]
    rest = await client.conversations_history(channel="C1", cursor=cursor, limit=10)
    assert [m["text"] for m in rest["messages"]] == ["m2", "m1", "m0"]
    assert all("metadata" not in m for m in rest["messages"])
    newer = await client.conversations_history(channel="C1", oldest=posted[2])
    assert [m["text"] for m in newer["messages"]] == ["m4", "m3"]


async def test_update_delete_ephemeral_dm_and_views(standin: SlackStandIn) -> None:
    client = client_for(standin)
    ts = (await client.chat_postMessage(channel="C1", text="old"))["ts"]
    await client.chat_update(channel="C1", ts=ts, text="new", blocks=[{"type": "divider"}])
    assert standin.messages("C1")[0]["text"] == "new"
    assert standin.messages("C1")[0]["blocks"] == [{"type": "divider"}]
    await client.chat_delete(channel="C1", ts=ts)
    assert standin.messages("C1") == []
    with pytest.raises(SlackApiError) as gone:
        await client.chat_delete(channel="C1", ts=ts)
    assert gone.value.response["error"] == "message_not_found"

    await client.chat_postEphemeral(channel="C1", user="U0ANA", text="psst")
    assert standin.ephemerals[0]["to"] == "U0ANA"

    dm = (await client.conversations_open(users="U0ANA"))["channel"]["id"]
    await client.chat_postMessage(channel=dm, text="hello")
    await client.chat_postMessage(channel="U0ANA", text="by user id")
    assert [m["text"] for m in standin.messages("U0ANA")] == ["hello", "by user id"]

    view = {"type": "modal", "title": {"type": "plain_text", "text": "Link"}, "blocks": []}
    opened = (await client.views_open(trigger_id="1.2.3", view=view))["view"]
    await client.views_update(view_id=opened["id"], view={**view, "callback_id": "x"})
    assert standin.views[opened["id"]]["callback_id"] == "x"
    await client.views_publish(user_id="U0ANA", view={"type": "home", "blocks": []})
    assert standin.home_views["U0ANA"]["type"] == "home"


async def test_users_info_and_lookup(standin: SlackStandIn) -> None:
    client = client_for(standin)
    user = (await client.users_info(user="U0ANA"))["user"]
    assert user["profile"]["email"] == "Ana@Example.com" and user["is_admin"] is True
    found = await client.users_lookupByEmail(email="ana@example.com")
    assert found["user"]["id"] == "U0ANA"
    with pytest.raises(SlackApiError) as missing:
        await client.users_lookupByEmail(email="nobody@example.com")
    assert missing.value.response["error"] == "users_not_found"


async def test_tokens_are_required_and_checked(standin: SlackStandIn) -> None:
    with pytest.raises(SlackApiError) as wrong:
        await client_for(standin, "xoxb-wrong").auth_test()
    assert wrong.value.response["error"] == "invalid_auth"
    anonymous = AsyncWebClient(base_url=standin.base_url, retry_handlers=[])
    with pytest.raises(SlackApiError) as none:
        await anonymous.api_call("auth.test")
    assert none.value.response["error"] == "not_authed"
    assert (await client_for(standin).auth_test())["user_id"] == standin.bot_user_id
    assert [c.token for c in standin.calls("auth.test")] == ["xoxb-wrong", None, TOKEN]


async def test_fault_knobs(standin: SlackStandIn) -> None:
    client = client_for(standin)
    standin.fail("chat.postMessage", "channel_not_found", target="C_GONE")
    standin.not_in_channel.add("C_OUT")
    standin.archived.add("C_OLD")
    for channel, error in [
        ("C_GONE", "channel_not_found"),
        ("C_OUT", "not_in_channel"),
        ("C_OLD", "is_archived"),
    ]:
        with pytest.raises(SlackApiError) as failed:
            await client.chat_postMessage(channel=channel, text="x")
        assert failed.value.response["error"] == error
    await client.chat_postMessage(channel="C_FINE", text="x")  # other channels still work

    standin.rate_limit(["chat.update"], ratio=1.0)
    with pytest.raises(SlackApiError) as limited:
        await client.chat_update(channel="C_FINE", ts="1.0", text="y")
    assert limited.value.response.status_code == 429
    assert limited.value.response.headers["Retry-After"] == "1"
    assert [c.status for c in standin.calls("chat.update")] == [429]


async def test_rate_limit_ratio_is_seeded_and_partial() -> None:
    async def pattern() -> list[int]:
        async with SlackStandIn(token=TOKEN, seed=11) as slack:
            slack.rate_limit(["auth.test"], ratio=0.5)
            client = client_for(slack)
            for _ in range(20):
                with contextlib.suppress(SlackApiError):
                    await client.auth_test()
            return [c.status for c in slack.calls("auth.test")]

    first, second = await pattern(), await pattern()
    assert first == second
    assert 0 < first.count(429) < 20


async def test_bot_client_waits_out_a_429_and_retries(
    slack: SlackStandIn, bot_settings: Settings
) -> None:
    client = build_slack_client(bot_settings)
    slack.rate_limit_next("chat.postMessage", 1)
    response = await client.chat_postMessage(channel="C1", text="eventually")
    assert response["ok"] is True
    assert [c.status for c in slack.calls("chat.postMessage")] == [429, 200]
    assert len(slack.messages("C1")) == 1


async def test_response_urls_record_posts_and_bodies_are_searchable(
    standin: SlackStandIn,
) -> None:
    url = standin.response_url("abc")
    await AsyncWebhookClient(url).send(
        text="secret link https://files.example/x?signature=zzz",
        response_type="ephemeral",
        replace_original=True,
    )
    [post] = standin.responses("abc")
    assert post.replace_original is True and post.response_type == "ephemeral"
    await client_for(standin).users_info(user="U0ANA")  # GET with a query string
    bodies = standin.all_request_bodies()
    assert any("signature=zzz" in body for body in bodies)
    assert any("user=U0ANA" in body for body in bodies)

    standin.response_url_status["gone"] = 404
    sent = await AsyncWebhookClient(standin.response_url("gone")).send(text="late")
    assert sent.status_code == 404


async def test_wait_for_returns_the_value_or_fails_clearly(standin: SlackStandIn) -> None:
    assert await standin.wait_for(lambda: [1]) == [1]
    with pytest.raises(AssertionError, match=r"not true within 0\.05 s"):
        await standin.wait_for(lambda: standin.messages("C9"), within=0.05)


async def test_the_apps_web_api_calls_share_one_connection_and_still_retry(
    slack: SlackStandIn, bot_settings: Settings
) -> None:
    services = Services.from_settings(bot_settings)
    app = build_app(bot_settings, services=services)
    assert services.slack is app.client  # the poller's client is Bolt's
    slack.rate_limit_next("chat.postMessage", 1)
    for n in range(3):
        response = await app.client.chat_postMessage(channel="C1", text=f"alert {n}")
        assert response["ok"] is True
    calls = slack.calls("chat.postMessage")
    assert [c.status for c in calls] == [429, 200, 200, 200]
    assert len({c.peer for c in calls}) == 1  # slack_sdk alone opens a session per call
    await services.aclose()
    # Closed: slack_sdk falls back to a session of its own per call; none is left open.
    assert (await app.client.chat_postMessage(channel="C1", text="late"))["ok"] is True
    assert services.slack_session() is None
