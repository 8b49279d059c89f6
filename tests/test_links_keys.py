"""Linking a personal Peaka key: the connect modal, its checks and errors in the modal, storage
encrypted at rest (greps the raw SQLite bytes), never in logs, disconnect, DM settings, a
wrong or missing BOT_ENCRYPTION_KEY."""

from __future__ import annotations

import logging
import os
from datetime import timedelta
from pathlib import Path

import pytest

from bot.app import Services
from bot.links import CONNECT_BLOCK, CONNECT_CALLBACK, check_linking_settings
from bot.server import start_bot
from bot.settings import Settings, SettingsError, load_settings
from bot.store import KeyCipher, Store, generate_fernet_key
from tests.bot_cli import bot_until_exit
from tests.conftest import PROJECT_ID, SIGNING_SECRET, RunningSimulator, settings_env
from tests.e2e_support import all_text, bot_with, run
from tests.links_support import (
    ANA,
    ANA_KEY,
    BEN,
    click_element,
    dm_event,
    link_key,
    stored_services,  # noqa: F401  (bot_services with a store)
    wait_for_dm,
)
from tests.slack_requests import SignedSlack
from tests.slack_standin import SlackStandIn

CY_BILLING_KEY = "cYbIlLngCyBillingDemoKey0000000000000004"  # a project key for billing only


def _modal_error(ack_json: dict[str, object]) -> str:
    assert ack_json["response_action"] == "errors", ack_json
    errors = ack_json["errors"]
    assert isinstance(errors, dict)
    return str(errors[CONNECT_BLOCK])


async def test_connect_opens_the_modal_with_the_commands_trigger(
    signed: SignedSlack, slack: SlackStandIn, bot_services: Services
) -> None:
    ack = await signed.slash_command(
        "connect", user_id=ANA, trigger_id="77.trigger", response_url=slack.response_url("c")
    )
    assert ack.status_code == 200
    [opened] = await slack.wait_for(lambda: slack.calls("views.open"))
    assert opened.body["trigger_id"] == "77.trigger"
    [view] = slack.views.values()
    assert view["callback_id"] == CONNECT_CALLBACK
    assert any(block.get("block_id") == CONNECT_BLOCK for block in view["blocks"])
    await bot_services.in_flight.wait_idle()
    assert slack.responses("c") == []  # the modal is the answer


async def test_expired_trigger_is_explained(
    signed: SignedSlack, slack: SlackStandIn, bot_services: Services
) -> None:
    slack.fail("views.open", "expired_trigger_id")
    reply = (await run(signed, slack, "connect", user_id=ANA)).post
    assert "expired_trigger_id" in all_text(reply) and "/exports connect" in all_text(reply)


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("", "Paste your Peaka API key"),
        ("   \n ", "Paste your Peaka API key"),
        ("two words here", "doesn't look like an API key"),
        ("short", "doesn't look like an API key"),
        ("NoSuchKeyAnywhere000000000000000000000", "401"),
    ],
)
async def test_bad_keys_are_answered_in_the_modal(
    signed: SignedSlack, bot_services: Services, typed: str, says: str
) -> None:
    ack = await link_key(signed, typed, user_id=ANA)
    assert ack.status_code == 200
    message = _modal_error(ack.json())
    assert says in message
    if typed.startswith("NoSuch"):
        assert typed not in message
        assert "NoSuchKe…" in message  # only the public prefix is shown
    assert await bot_services.store.linked_key(ANA) is None


async def test_a_key_for_no_configured_project_is_refused_with_403(
    signed: SignedSlack, simulator: RunningSimulator, bot_services: Services
) -> None:
    sim = simulator.sim
    sim.add_project("Zz9Other")
    key = sim.add_key(sim.seed_users["ana@example.com"], project_id="Zz9Other")
    message = _modal_error((await link_key(signed, key, user_id=ANA)).json())
    assert "403" in message and "analytics" in message
    assert key not in message


async def test_a_project_key_is_accepted_where_it_works(
    signed: SignedSlack, bot_services: Services
) -> None:
    ack = (await link_key(signed, CY_BILLING_KEY, user_id="U0CY")).json()
    assert ack["response_action"] == "update"
    assert "cYbIlLng…" in str(ack["view"]) and CY_BILLING_KEY not in str(ack["view"])


async def test_peaka_down_while_checking_is_said_in_the_modal(
    signed: SignedSlack, simulator: RunningSimulator, bot_services: Services
) -> None:
    simulator.sim.faults.error_rate = 1.0
    simulator.sim.faults.error_statuses = (503,)
    message = _modal_error((await link_key(signed, ANA_KEY, user_id=ANA)).json())
    assert "didn't answer" in message
    assert await bot_services.store.linked_key(ANA) is None


async def test_stored_key_is_encrypted_and_never_logged(
    signed: SignedSlack,
    slack: SlackStandIn,
    simulator: RunningSimulator,
    bot_services: Services,
    bot_settings: Settings,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    now = simulator.clock.now()
    job = simulator.sim.create_job(
        PROJECT_ID, "ana@example.com", created_at=now - timedelta(seconds=30),
        pending_seconds=1, run_seconds=2, api_key=ANA_KEY,
    )  # fmt: skip
    ack = (await link_key(signed, f"  {ANA_KEY}\n", user_id=ANA)).json()
    assert ack["response_action"] == "update"
    await run(signed, slack, f"link {job.id}", user_id=ANA)
    dm = await wait_for_dm(slack, ANA)
    refresh = next(b for b in dm["blocks"] if b["type"] == "actions")["elements"][0]
    channel = slack.dm_channel(ANA)
    await click_element(
        signed, slack, refresh, user_id=ANA, channel_id=channel, message_ts=dm["ts"]
    )
    await slack.wait_for(lambda: slack.calls("chat.update"))
    await bot_services.in_flight.wait_idle()

    stored = await bot_services.store.linked_key(ANA)
    assert stored is not None and stored.key_prefix == ANA_KEY[:8]
    assert KeyCipher(bot_settings.bot_encryption_key.get_secret_value()).decrypt(
        stored.ciphertext
    ) == ANA_KEY  # fmt: skip
    db = Path(bot_settings.database_url.split("///", 1)[1])
    raw = b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*"))  # + -wal, -journal
    assert ANA_KEY.encode() not in raw
    assert ANA_KEY[8:].encode() not in raw  # not even the secret part on its own

    out, err = capsys.readouterr()
    logged = caplog.text + "".join(str(r.__dict__) for r in caplog.records) + out + err
    assert caplog.records, "the flow logs something at DEBUG; the check must see it"
    assert ANA_KEY not in logged
    assert ANA_KEY[8:] not in logged
    assert ANA_KEY not in str(slack.all_request_bodies())  # nor echoed to Slack


async def test_disconnect_deletes_the_key(
    signed: SignedSlack, slack: SlackStandIn, bot_services: Services
) -> None:
    await link_key(signed, ANA_KEY, user_id=ANA)
    assert await bot_services.store.linked_key(ANA) is not None
    reply = all_text((await run(signed, slack, "disconnect", user_id=ANA)).post)
    assert "Deleted your linked Peaka key" in reply and "hBWIQxjc…" in reply
    assert ANA_KEY not in reply
    assert await bot_services.store.linked_key(ANA) is None
    again = all_text((await run(signed, slack, "disconnect", user_id=ANA)).post)
    assert "no Peaka key linked" in again


async def test_dm_on_and_off_are_stored(
    signed: SignedSlack, slack: SlackStandIn, bot_services: Services
) -> None:
    off = all_text((await run(signed, slack, "dm off", user_id=BEN)).post)
    assert "won't DM you" in off
    assert await bot_services.store.dm_enabled(BEN) is False
    on = all_text((await run(signed, slack, "dm on", user_id=BEN)).post)
    assert "I'll DM you" in on and "/exports connect" in on  # ben has no key linked
    assert await bot_services.store.dm_enabled(BEN) is True
    bad = all_text((await run(signed, slack, "dm maybe", user_id=BEN)).post)
    assert "`dm` takes `on` or `off`" in bad


async def test_linking_disabled_refuses_connect_and_submissions(
    signed: SignedSlack,
    slack: SlackStandIn,
    simulator: RunningSimulator,
    tmp_path: Path,
) -> None:
    env = {**settings_env(slack, simulator, tmp_path), "LINKING_ENABLED": "false"}
    del env["BOT_ENCRYPTION_KEY"]
    now = simulator.clock.now()
    job = simulator.sim.create_job(
        PROJECT_ID, "ana@example.com", created_at=now - timedelta(seconds=30),
        pending_seconds=1, run_seconds=2, api_key=ANA_KEY,
    )  # fmt: skip
    async with bot_with(env, SIGNING_SECRET, with_store=True) as other:
        reply = all_text((await run(other, slack, "connect", user_id=ANA)).post)
        assert "turned off" in reply
        assert "turned off" in _modal_error((await link_key(other, ANA_KEY, user_id=ANA)).json())
        owner = all_text((await run(other, slack, f"link {job.id}", user_id=ANA)).post)
        assert "Peaka Studio" in owner and "/exports connect" not in owner
        dm_on = all_text((await run(other, slack, "dm on", user_id=ANA)).post)
        assert "/exports connect" not in dm_on
    assert slack.calls("views.open") == []


async def test_wrong_encryption_key_after_restart_is_a_clear_error_not_garbage(
    slack: SlackStandIn,
    simulator: RunningSimulator,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    env = settings_env(slack, simulator, tmp_path)
    now = simulator.clock.now()
    job = simulator.sim.create_job(
        PROJECT_ID, "ana@example.com", created_at=now - timedelta(seconds=30),
        pending_seconds=1, run_seconds=2, api_key=ANA_KEY,
    )  # fmt: skip
    async with bot_with(env, SIGNING_SECRET, with_store=True) as first:
        assert (await link_key(first, ANA_KEY, user_id=ANA)).json()["response_action"] == "update"
    restarted = {**env, "BOT_ENCRYPTION_KEY": generate_fernet_key()}
    async with bot_with(restarted, SIGNING_SECRET, with_store=True) as second:
        reply = all_text((await run(second, slack, f"link {job.id}", user_id=ANA)).post)
        await dm_event(second, slack, ANA, job.id)
        dm = await wait_for_dm(slack, ANA)
    for answer in (reply, str(dm)):
        assert "can't read the API key you linked" in answer
        assert "/exports connect" in answer
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert any("BOT_ENCRYPTION_KEY" in message for message in errors), errors
    assert not any("Traceback" in m for m in errors)
    assert all(ANA_KEY not in str(call.body) for call in slack.calls())


def test_linking_needs_a_usable_encryption_key(
    slack: SlackStandIn, simulator: RunningSimulator, tmp_path: Path
) -> None:
    env = settings_env(slack, simulator, tmp_path)
    check_linking_settings(load_settings(env))  # the fixture's key is fine
    for value in (None, "not-a-fernet-key"):
        broken = {k: v for k, v in env.items() if k != "BOT_ENCRYPTION_KEY"}
        if value is not None:
            broken["BOT_ENCRYPTION_KEY"] = value
        with pytest.raises(SettingsError) as caught:
            check_linking_settings(load_settings(broken))
        [problem] = caught.value.problems
        assert problem.startswith("BOT_ENCRYPTION_KEY ")
        assert "Fernet" in problem and "LINKING_ENABLED=false" in problem
        if value is not None:
            assert value not in problem
        check_linking_settings(load_settings({**broken, "LINKING_ENABLED": "false"}))


async def test_start_bot_refuses_without_an_encryption_key(
    slack: SlackStandIn, simulator: RunningSimulator, tmp_path: Path
) -> None:
    env = {k: v for k, v in settings_env(slack, simulator, tmp_path).items()}
    env["BOT_ENCRYPTION_KEY"] = "x" * 44
    settings = load_settings(env)
    with pytest.raises(SettingsError, match="BOT_ENCRYPTION_KEY is not a valid Fernet key"):
        await start_bot(settings, services=Services.from_settings(settings))


async def test_run_command_exits_2_with_a_clear_line(
    slack: SlackStandIn, simulator: RunningSimulator, tmp_path: Path
) -> None:
    env = {k: v for k, v in settings_env(slack, simulator, tmp_path).items()}
    del env["BOT_ENCRYPTION_KEY"]
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "PEAKA_", "BOT_"))}
    code, text = await bot_until_exit("run", env={**clean, **env}, cwd=tmp_path)
    assert code == 2, text
    assert "exports-bot: BOT_ENCRYPTION_KEY is not set" in text
    assert "Traceback" not in text
    assert not (tmp_path / "bot.db").exists(), "nothing was started"


async def test_a_store_opened_again_still_holds_the_key(
    signed: SignedSlack, bot_services: Services, bot_settings: Settings
) -> None:
    await link_key(signed, ANA_KEY, user_id=ANA)
    async with await Store.open(bot_settings.database_url) as reopened:
        stored = await reopened.linked_key(ANA)
    assert stored is not None and stored.key_prefix == "hBWIQxjc"
