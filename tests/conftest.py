"""Shared fixtures: a Peaka simulator, a Slack stand-in and the bot between them, all on loopback.

    async def test_something(bot_server, signed, slack, simulator):
        await signed.slash_command("failed", response_url=slack.response_url("r1"))
        [reply] = await slack.wait_for(lambda: slack.responses("r1"))

- ``clock``: the simulator's ManualClock (starts 2026-06-10 12:00 UTC).
- ``simulator``: a running ``Simulator.seeded(seed=7)`` (``.sim``, ``.clock``, ``.base_url``,
  ``.api_key`` = the bot's own partner key, ``.project_id`` = mtKDhe1U (analytics, the
  default), ``.bot_user``). PEAKA_PROJECTS lists all seeded projects by alias.
- ``slack``: the running SlackStandIn (``tests/slack_standin.py``) with a few people in it.
- ``bot_settings``: Settings pointing at both (SQLite under tmp_path).
- ``bot_services``: the Services the app under test uses (override to add a store or poller).
- ``bot_server``: build_app + start_http on port 0 (``.url``, ``.events_url``, ``.app``,
  ``.services``, ``.settings``).
- ``signed``: a SignedSlack client posting signed requests to ``bot_server``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from slack_bolt.async_app import AsyncApp

from bot.app import Services, build_app
from bot.server import EVENTS_PATH, start_http
from bot.settings import Settings, load_settings
from bot.simulator import ManualClock, Simulator, SimulatorServer, SimUser
from tests.slack_requests import SignedSlack
from tests.slack_standin import SlackStandIn

BOT_TOKEN = "xoxb-test-0000-bot-token"
SIGNING_SECRET = "test-signing-secret-0123456789"
APP_TOKEN = "xapp-1-test-app-token"
PROJECT_ID = "mtKDhe1U"
ADMIN_USER = "U0ADMIN"
# Slack people; ana, ben, cy and dee are also the seeded simulator's users (same emails).
PEOPLE = (
    ("U0ANA", "ana@example.com", False),
    ("U0BEN", "ben@example.com", False),
    ("U0CY", "cy@example.com", False),
    ("U0DEE", "dee@example.com", False),
    (ADMIN_USER, "admin@example.com", True),
)


@dataclass(frozen=True)
class RunningSimulator:
    sim: Simulator
    clock: ManualClock
    base_url: str
    api_key: str  # the bot's partner key (every project)
    project_id: str  # the default project (analytics)
    bot_user: SimUser

    @property
    def projects_setting(self) -> str:
        """PEAKA_PROJECTS for the seeded projects, default first: analytics=mtKDhe1U,..."""
        seeded = dict(self.sim.seed_projects)
        default = [alias for alias, pid in seeded.items() if pid == self.project_id]
        order = default + [alias for alias in seeded if alias not in default]
        return ",".join(f"{alias}={seeded[alias]}" for alias in order)


@dataclass(frozen=True)
class BotServer:
    url: str
    port: int
    app: AsyncApp
    services: Services
    settings: Settings

    @property
    def events_url(self) -> str:
        return self.url + EVENTS_PATH


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def simulator(clock: ManualClock) -> AsyncIterator[RunningSimulator]:
    sim = Simulator.seeded(clock=clock, seed=7)
    bot_user = sim.add_user("exports-bot@example.com")
    sim.add_project(PROJECT_ID)
    api_key = sim.add_key(bot_user, project_id=None)
    async with SimulatorServer(sim, host="127.0.0.1", port=0) as server:
        yield RunningSimulator(sim, clock, server.base_url, api_key, PROJECT_ID, bot_user)


@pytest.fixture
async def slack() -> AsyncIterator[SlackStandIn]:
    async with SlackStandIn(token=BOT_TOKEN) as standin:
        for user_id, email, is_admin in PEOPLE:
            standin.add_user(user_id, email, name=email.split("@")[0], is_admin=is_admin)
        yield standin


def settings_env(
    slack: SlackStandIn, simulator: RunningSimulator, tmp_path: Path
) -> dict[str, str]:
    """The environment the bot under test runs with; tests may copy and change it."""
    return {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.base_url,
        "PEAKA_API_KEY": simulator.api_key,
        "PEAKA_API_URL": simulator.base_url,
        "PEAKA_PROJECTS": simulator.projects_setting,
        "HOST": "127.0.0.1",
        "PORT": "0",
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        "POLL_INTERVAL": "30",
        "EXPORTS_ADMINS": ADMIN_USER,
        "BOT_ENCRYPTION_KEY": "q0JQjcj5TfTRj9vRC2qkN4BqlZkY5mY9rGOYiL6EpAM=",
    }


@pytest.fixture
def bot_settings(slack: SlackStandIn, simulator: RunningSimulator, tmp_path: Path) -> Settings:
    return load_settings(settings_env(slack, simulator, tmp_path))


@pytest.fixture
async def bot_services(bot_settings: Settings) -> AsyncIterator[Services]:
    services = Services.from_settings(bot_settings)
    yield services
    await services.aclose()


@pytest.fixture
async def bot_server(bot_settings: Settings, bot_services: Services) -> AsyncIterator[BotServer]:
    app = build_app(bot_settings, services=bot_services)
    running = await start_http(app, bot_services, "127.0.0.1", 0)
    try:
        yield BotServer(running.url, running.port, app, bot_services, bot_settings)
    finally:
        await running.stop()
        # Listener work continues after the ack; let it finish before the loop closes.
        async with asyncio.timeout(10):
            await bot_services.in_flight.wait_idle()


@pytest.fixture
async def signed(bot_server: BotServer) -> AsyncIterator[SignedSlack]:
    async with SignedSlack(bot_server.events_url, SIGNING_SECRET) as client:
        yield client
