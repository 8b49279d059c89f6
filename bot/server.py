"""The bot's process: HTTP (or Socket Mode) in front of the Bolt app, health and metrics beside.

- ``POST /slack/events``: Slack's requests, handed to Bolt, which checks signatures (HTTP mode).
- ``GET /healthz``: 200 when the database answers and the poller is keeping up, else 503 + reasons.
- ``GET /metrics``: Prometheus text from ``bot.metrics.REGISTRY``.

``run(settings)`` starts all of it, waits for SIGTERM/SIGINT and stops in order: no new
requests, no new poll cycles, in-flight listener work finishes, then Peaka clients and DB close.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp

from bot import __version__, metrics
from bot.app import Services, build_app
from bot.gc_tuning import tune_garbage_collector
from bot.links import check_linking_settings
from bot.logging_setup import configure_logging
from bot.replicas import (
    EXIT_SECOND_REPLICA,
    SecondReplicaError,
    SingleReplicaLock,
    lock_sqlite_file,
    poller_for,
)
from bot.settings import Settings
from bot.store import Store

__all__ = [
    "EVENTS_PATH",
    "Running",
    "RunningBot",
    "build_web_app",
    "check_health",
    "run",
    "start_bot",
    "start_http",
]

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
# How long shutdown waits for listener work that is still running after its ack.
DRAIN_SECONDS = 25.0
# The poller is unhealthy when its last cycle is older than this many intervals.
STALE_CYCLES = 3
_SERVICES: web.AppKey[Services] = web.AppKey("services", Services)
_BOLT: web.AppKey[AsyncApp] = web.AppKey("bolt", AsyncApp)


@dataclass(eq=False)
class Running:
    """A started HTTP server: where it listens and how to stop it."""

    port: int
    url: str
    _runner: web.AppRunner = field(repr=False)

    async def stop(self) -> None:
        """Stop listening, let requests being answered finish, release the port."""
        await self._runner.cleanup()


async def check_health(services: Services) -> tuple[bool, dict[str, Any]]:
    """(healthy, JSON body) from the database ping and the poller's last cycle."""
    reasons: list[str] = []
    checks: dict[str, str] = {}
    if services.store is None:
        checks["database"] = "not configured"
    else:
        try:
            async with asyncio.timeout(5):
                answered = await services.store.ping()
        except Exception as exc:  # the type only: messages may carry the DB URL
            answered = False
            reasons.append(f"database: unreachable ({type(exc).__name__})")
        else:
            if answered is False:
                reasons.append("database: ping failed")
        checks["database"] = "ok" if not reasons else "failing"

    interval = services.settings.poll_interval
    if services.poller is None and services.poller_last_cycle_at is None:
        checks["poller"] = "not running"
    else:
        since = services.poller_last_cycle_at or services.started_at
        age = (services.clock() - since).total_seconds()
        limit = STALE_CYCLES * interval
        if age > limit:
            if services.poller_last_cycle_at is None:
                reason = f"poller: no cycle finished in the {age:.0f} s since start"
            else:
                reason = f"poller: last cycle finished {age:.0f} s ago"
            reasons.append(f"{reason} (limit {limit:.0f} s = {STALE_CYCLES} x POLL_INTERVAL)")
            checks["poller"] = "stale"
        else:
            checks["poller"] = "ok"
    body = {"ok": not reasons, "version": __version__, "checks": checks, "reasons": reasons}
    return not reasons, body


def build_web_app(services: Services, bolt: AsyncApp | None = None) -> web.Application:
    """The aiohttp application; ``bolt`` None leaves out /slack/events (Socket Mode)."""
    web_app = web.Application()
    web_app[_SERVICES] = services
    web_app.router.add_get("/healthz", _healthz)
    web_app.router.add_get("/metrics", _metrics)
    if bolt is not None:
        web_app[_BOLT] = bolt
        web_app.router.add_post(EVENTS_PATH, _slack_events)
    return web_app


async def start_http(
    app: AsyncApp | None,
    services: Services,
    host: str = "127.0.0.1",
    port: int = 0,
) -> Running:
    """Serve ``app`` (None: health and metrics only) on host:port; port 0 picks a free one."""
    runner = web.AppRunner(
        build_web_app(services, app),
        handle_signals=False,
        access_log=None,
        shutdown_timeout=DRAIN_SECONDS,
    )
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    bound = runner.addresses[0]
    url_host = "127.0.0.1" if host in ("0.0.0.0", "") else host
    url_host = f"[{url_host}]" if ":" in url_host else url_host
    return Running(port=int(bound[1]), url=f"http://{url_host}:{bound[1]}", _runner=runner)


@dataclass(eq=False)
class RunningBot:
    """The whole bot, started: Bolt app, HTTP server, Socket Mode link (if any), services."""

    app: AsyncApp
    services: Services
    http: Running
    socket_mode: Any = None  # AsyncSocketModeHandler when SLACK_APP_TOKEN is set
    sqlite_lock: SingleReplicaLock | None = None  # held while a bot runs on a SQLite file
    _stopped: bool = field(default=False, repr=False)

    @property
    def url(self) -> str:
        return self.http.url

    async def stop(self) -> None:
        """Stop intake, stop the poller, let work in flight finish, then close clients and DB."""
        if self._stopped:
            return
        self._stopped = True
        if self.socket_mode is not None:
            await _quietly("closing Socket Mode", self.socket_mode.close_async())
        if self.services.poller is not None:
            await _quietly("stopping the poller", self.services.poller.stop())
        await _quietly("stopping HTTP", self.http.stop())
        if self.services.in_flight.count:
            try:
                async with asyncio.timeout(DRAIN_SECONDS):
                    await self.services.in_flight.wait_idle()
            except TimeoutError:
                log.warning(
                    "gave up waiting for %d requests in flight", self.services.in_flight.count
                )
        await _quietly("closing clients and the database", self.services.aclose())
        if self.sqlite_lock is not None:
            self.sqlite_lock.release()


async def start_bot(settings: Settings, *, services: Services | None = None) -> RunningBot:
    """Start everything ``settings`` asks for; ``services`` defaults to ones with the store open.

    HTTP mode serves /slack/events, /healthz and /metrics on HOST:PORT. With SLACK_APP_TOKEN,
    Slack's requests come over Socket Mode instead and the port serves only health and metrics.
    """
    check_linking_settings(settings)  # no usable BOT_ENCRYPTION_KEY with linking on: refuse
    sqlite_lock: SingleReplicaLock | None = None
    made_here = services is None
    if services is None:
        # One bot per SQLite file: raises SecondReplicaError before the database is touched.
        sqlite_lock = lock_sqlite_file(settings.database_url)
        try:
            services = Services.from_settings(settings, store=await _open_store(settings))
        except BaseException:
            if sqlite_lock is not None:
                sqlite_lock.release()
            raise
    app = build_app(settings, services=services)
    try:
        if made_here and services.poller is None:
            # build_app has just given the services their Slack client. On PostgreSQL the
            # poller polls only this replica's leased share of the projects (bot.replicas).
            services.poller = poller_for(services)
        http = await start_http(
            None if settings.socket_mode else app, services, settings.host, settings.port
        )
    except BaseException:
        if sqlite_lock is not None:
            sqlite_lock.release()
        raise
    bot = RunningBot(app=app, services=services, http=http, sqlite_lock=sqlite_lock)
    try:
        if settings.slack_app_token is not None:
            from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

            bot.socket_mode = AsyncSocketModeHandler(
                app, settings.slack_app_token.get_secret_value()
            )
            await bot.socket_mode.connect_async()
        if services.poller is not None:
            await services.poller.start()
    except BaseException:
        await bot.stop()
        raise
    mode = "Socket Mode" if bot.socket_mode else f"HTTP on {EVENTS_PATH}"
    log.info("exports-bot %s running (%s, port %d)", __version__, mode, http.port)
    return bot


async def run(settings: Settings) -> int:
    """Run the bot until SIGTERM/SIGINT, then stop gracefully. Returns the exit code."""
    configure_logging(settings.log_format, settings.log_level)
    tune_garbage_collector()
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    try:
        try:
            bot = await start_bot(settings)
        except SecondReplicaError as exc:
            log.error("%s", exc)
            return EXIT_SECOND_REPLICA
        try:
            await stopping.wait()
            log.info("stopping: no new requests, finishing work in flight")
        finally:
            await bot.stop()
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
    log.info("stopped")
    return 0


async def _quietly(what: str, step: Any) -> None:
    try:
        await step
    except Exception:
        log.warning("%s failed", what, exc_info=True)


async def _open_store(settings: Settings) -> Store:
    """The store for DATABASE_URL, schema created or migrated on the way."""
    return await Store.open(settings.database_url)


async def _slack_events(request: web.Request) -> web.Response:
    bolt = request.app[_BOLT]
    bolt_response = await bolt.async_dispatch(await to_bolt_request(request))
    return await to_aiohttp_response(bolt_response)


async def _healthz(request: web.Request) -> web.Response:
    healthy, body = await check_health(request.app[_SERVICES])
    return web.json_response(body, status=200 if healthy else 503)


async def _metrics(request: web.Request) -> web.Response:
    payload = generate_latest(metrics.REGISTRY)
    return web.Response(body=payload, headers={"Content-Type": CONTENT_TYPE_LATEST})
