"""The bot under test, configured against a host's simulator and stand-in."""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bench._world import BOT_TOKEN, channel_for
from bot.app import Services, build_slack_client
from bot.poller import Poller
from bot.settings import Settings, load_settings
from bot.slack_users import EmailDirectory
from bot.store import Store

__all__ = ["SIGNING_SECRET", "PollerBot", "bot_settings"]

SIGNING_SECRET = "bench-signing-secret-0123456789"
_FERNET_KEY = "q0JQjcj5TfTRj9vRC2qkN4BqlZkY5mY9rGOYiL6EpAM="


def bot_settings(
    *,
    peaka_url: str,
    api_key: str,
    slack_url: str,
    projects: Sequence[str],
    data_dir: Path,
    poll_interval: float = 30.0,
) -> Settings:
    """Settings for a bot talking to the bench host: SQLite under ``data_dir``."""
    env = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack_url,
        "PEAKA_API_KEY": api_key,
        "PEAKA_API_URL": peaka_url,
        "PEAKA_PROJECTS": ",".join(projects),
        "HOST": "127.0.0.1",
        "PORT": "0",
        "DATABASE_URL": f"sqlite+aiosqlite:///{data_dir / 'bench.db'}",
        "POLL_INTERVAL": f"{poll_interval:g}",
        "BOT_ENCRYPTION_KEY": _FERNET_KEY,
        "LOG_LEVEL": "WARNING",
    }
    return load_settings(env)


class PollerBot:
    """The bot's poller against a host: its own SQLite store (in a temporary directory),
    Slack client and subscriptions.

    ``async with PollerBot(host.info, statuses) as bot: await bot.poller.run_cycle()``
    ``info`` is the host's (``peaka_url``, ``api_key``, ``slack_url``, ``projects``). Each
    project's alerts go to its own channel (``bench._world.channel_for``).
    """

    def __init__(
        self, info: Mapping[str, Any], statuses: Sequence[str], *, poll_interval: float = 30.0
    ) -> None:
        self.info = info
        self.projects: list[str] = list(info["projects"])
        self.statuses = list(statuses)
        self.poll_interval = poll_interval
        self.store: Store | None = None
        self.services: Services | None = None
        self._poller: Poller | None = None
        self._data_dir: tempfile.TemporaryDirectory[str] | None = None

    @property
    def poller(self) -> Poller:
        assert self._poller is not None, "use PollerBot as an async context manager"
        return self._poller

    async def __aenter__(self) -> PollerBot:
        self._data_dir = tempfile.TemporaryDirectory()
        settings = bot_settings(
            peaka_url=self.info["peaka_url"],
            api_key=self.info["api_key"],
            slack_url=self.info["slack_url"],
            projects=self.projects,
            data_dir=Path(self._data_dir.name),
            poll_interval=self.poll_interval,
        )
        self.store = await Store.open(settings.database_url)
        services = Services.from_settings(settings, store=self.store)
        services.slack = build_slack_client(settings, session=services.slack_session)
        services.users = EmailDirectory(services.slack)
        self.services = services
        for project_id in self.projects:
            await self.store.subscribe(
                channel_for(project_id), project_id, self.statuses, "U0BENCH0"
            )
        self._poller = Poller(services, instance_id="bench")
        services.poller = self._poller
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._poller is not None:
            await self._poller.stop()
        if self.services is not None:
            await self.services.aclose()
        if self._data_dir is not None:
            self._data_dir.cleanup()
