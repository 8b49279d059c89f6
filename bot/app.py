"""The Bolt app factory and the services its listeners share.

``build_app(settings)`` is the one place a Bolt ``AsyncApp`` is made, in production and in tests.
Listeners reach everything else through ``context["services"]``, a :class:`Services`:

    async def handle(ack, context, ...):
        services: Services = context["services"]
        client = services.peaka_for()             # the bot's own Peaka key
        async with services.in_flight.track():    # graceful shutdown waits for this
            ...
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import aiohttp
from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.projects import ProjectDirectory
from bot.logging_setup import register_secret
from bot.peaka import PeakaClient
from bot.settings import Settings
from bot.slack_respond import SharedSessionRespond
from bot.slack_users import EmailDirectory

__all__ = ["Background", "InFlight", "Services", "build_app", "build_slack_client"]

log = logging.getLogger(__name__)


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Background(Protocol):
    """A long-running part of the bot (the poller) that ``run`` starts and stops."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class InFlight:
    """Counts listener work still running after the ack, so shutdown can wait for it."""

    def __init__(self) -> None:
        self._count = 0
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def count(self) -> int:
        return self._count

    @asynccontextmanager
    async def track(self) -> AsyncIterator[None]:
        """Mark the enclosed work as in flight."""
        self._count += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._count -= 1
            if self._count == 0:
                self._idle.set()

    async def wait_idle(self) -> None:
        """Return once nothing is in flight (wrap in ``asyncio.timeout`` to bound it)."""
        await self._idle.wait()


@dataclass(eq=False)
class Services:
    """What listeners, the poller and the health check share. One per process (or per test).

    - ``projects``: the ``bot.core.projects.ProjectDirectory`` parsed from PEAKA_PROJECTS.
    - ``store``: the ``bot.store.Store`` (``ping()``, closed by ``aclose``); None until wired.
    - ``slack``/``users``: the app's Web API client and the cached email directory;
      ``build_app`` fills them in.
    - ``poller``: started and stopped by ``bot.server.run``; it sets ``poller_last_cycle_at``
      after each cycle, which ``/healthz`` checks.
    - ``clock``: "now" for health decisions, replaceable in tests.
    - ``http_session()``: the aiohttp session replies to response_urls and, through
      ``build_slack_client(..., session=services.slack_session)``, Web API calls go over.
    """

    settings: Settings
    projects: ProjectDirectory
    store: Any = None
    slack: AsyncWebClient | None = None
    users: EmailDirectory | None = None
    poller: Background | None = None
    poller_last_cycle_at: datetime | None = None
    clock: Callable[[], datetime] = _utcnow
    started_at: datetime = field(default_factory=_utcnow)
    in_flight: InFlight = field(default_factory=InFlight)
    _peaka_clients: dict[str, PeakaClient] = field(default_factory=dict, repr=False)
    _http: aiohttp.ClientSession | None = field(default=None, repr=False)
    _closed: bool = field(default=False, repr=False)

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        store: Any = None,
        clock: Callable[[], datetime] = _utcnow,
    ) -> Services:
        """Services for ``settings``; PEAKA_PROJECTS is parsed here."""
        return cls(
            settings=settings,
            projects=settings.projects,
            store=store,
            clock=clock,
            started_at=clock(),
        )

    def peaka_for(self, api_key: str | None = None) -> PeakaClient:
        """A ``bot.peaka.PeakaClient`` for ``api_key`` (the bot's own key when None).

        Clients are shared and owned here: do not close them, ``aclose()`` does.
        """
        key = api_key if api_key is not None else self.settings.peaka_api_key.get_secret_value()
        register_secret(key)
        slot = hashlib.sha256(key.encode()).hexdigest()
        client = self._peaka_clients.get(slot)
        if client is None:
            client = PeakaClient(key, base_url=self.settings.peaka_api_url)
            self._peaka_clients[slot] = client
        return client

    def http_session(self) -> aiohttp.ClientSession:
        """The shared aiohttp session (made on first use, inside the event loop).

        Owned here like the Peaka clients: do not close it, ``aclose()`` does.
        """
        if self._http is None or self._http.closed:
            # slack_sdk's own default when it makes a session per call: 30 s in total.
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        return self._http

    def slack_session(self) -> aiohttp.ClientSession | None:
        """The shared session for the Web API client; None once ``aclose`` has run.

        (With None, slack_sdk opens and closes a session of its own for each call.)
        """
        return None if self._closed else self.http_session()

    async def aclose(self) -> None:
        """Close every Peaka client, the shared HTTP session and the store."""
        self._closed = True
        if self._http is not None:
            http, self._http = self._http, None
            await http.close()
        clients, self._peaka_clients = list(self._peaka_clients.values()), {}
        for client in clients:
            try:
                await client.aclose()
            except Exception:
                log.warning("closing a Peaka client failed", exc_info=True)
        if self.store is not None:
            close = getattr(self.store, "aclose", None) or getattr(self.store, "close", None)
            if close is not None:
                await close()


class _SharedSessionClient(AsyncWebClient):
    """An AsyncWebClient whose calls go over the session ``shared()`` returns at call time.

    slack_sdk opens a new aiohttp session, so a new connection, for every call unless
    ``session`` is set, and that session must be made inside the event loop: so ``session``
    is read from ``shared`` when a call (or Bolt's per-request copy of this client) needs it.
    slack_sdk's retry handlers work the same over either.
    """

    def __init__(
        self, *, shared: Callable[[], aiohttp.ClientSession | None], **kwargs: Any
    ) -> None:
        self._shared = shared
        super().__init__(**kwargs)

    @property
    def session(self) -> aiohttp.ClientSession | None:
        return self._shared()

    @session.setter
    def session(self, value: aiohttp.ClientSession | None) -> None:
        if value is not None:  # AsyncWebClient.__init__ sets None
            raise TypeError("this client's session comes from Services; set none")


def build_slack_client(
    settings: Settings, *, session: Callable[[], aiohttp.ClientSession | None] | None = None
) -> AsyncWebClient:
    """The Web API client: SLACK_API_URL, bot token, retries on 429, 5xx and lost connections.

    ``session`` (``Services.slack_session``): where the calls get their shared aiohttp
    session; without it slack_sdk opens one per call.
    """
    options: dict[str, Any] = dict(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=settings.slack_api_url,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=2),
            AsyncRateLimitErrorRetryHandler(max_retry_count=3),
            AsyncServerErrorRetryHandler(max_retry_count=2),
        ],
    )
    if session is None:
        return AsyncWebClient(**options)
    return _SharedSessionClient(shared=session, **options)


def build_app(settings: Settings, *, services: Services | None = None) -> AsyncApp:
    """The Bolt app for ``settings``: signature-checked, acks before work, listeners registered.

    Pass ``services`` to share or inspect them (tests); otherwise they come from ``settings``.
    """
    for secret in settings.secret_values():
        register_secret(secret)
    if services is None:
        services = Services.from_settings(settings)
    # Bolt's client (and its per-request copies) and the poller's: one session for all.
    client = build_slack_client(settings, session=services.slack_session)
    if services.slack is None:
        services.slack = client
    if services.users is None:
        services.users = EmailDirectory(client)

    _quiet_bolt_token_warning()
    app = AsyncApp(
        name="exports-bot",
        token=settings.slack_bot_token.get_secret_value(),
        client=client,
        signing_secret=settings.slack_signing_secret.get_secret_value(),
        request_verification_enabled=True,
        process_before_response=False,
    )

    async def attach_services(
        context: AsyncBoltContext, next: Callable[[], Awaitable[None]]
    ) -> None:
        context["services"] = services
        if context.response_url:
            # Bolt's respond() would open a new HTTP session (and connection) per reply.
            context["respond"] = SharedSessionRespond(
                response_url=context.response_url,
                session=services.http_session(),
                proxy=context.client.proxy,
                ssl=context.client.ssl,
            )
        await next()

    app.middleware(attach_services)

    from bot.listeners import register_listeners

    register_listeners(app)
    return app


class _TokenInClientFilter(logging.Filter):
    """Drops Bolt's "`token` will be unused" warning: the client carries the same token."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


def _quiet_bolt_token_warning() -> None:
    bolt_logger = logging.getLogger("slack_bolt.AsyncApp")
    if not any(isinstance(f, _TokenInClientFilter) for f in bolt_logger.filters):
        bolt_logger.addFilter(_TokenInClientFilter())
