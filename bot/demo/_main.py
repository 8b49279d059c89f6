"""``exports-bot demo``: the simulator, the real bot and the terminal, wired in one process.

Nothing is read from the environment: the bot's settings are a mapping built here (a random
signing secret, a fake bot token, a fresh Fernet key, a temporary SQLite file), so the demo
runs the same on any machine right after ``pip install``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import signal
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from rich.console import Console
from rich.text import Text

from bot.demo._output import Printer
from bot.demo._requests import SignedPoster
from bot.demo._slack import DemoSlack
from bot.demo._terminal import Terminal
from bot.demo._workspace import Person
from bot.demo._world import DEMO_CHANNEL, DEMO_CHANNEL_NAME, PEOPLE, Activity, DemoWorld

if TYPE_CHECKING:
    pass

__all__ = ["DemoOptions", "demo_settings", "run_demo"]

log = logging.getLogger(__name__)

# How long start-up waits for each step of linking a person's key.
SETUP_TIMEOUT = 5.0


@dataclass(frozen=True)
class DemoOptions:
    """What ``exports-bot demo`` was asked for."""

    for_seconds: float = 10.0
    speed: float = 30.0
    seed: int = 7
    user: str = "ana"
    verbose: bool = False
    interactive: bool | None = None  # None: decide from whether stdin is a terminal


def demo_settings(
    world: DemoWorld, slack_url: str, database_path: Path, signing_secret: str, token: str
) -> dict[str, str]:
    """The bot's configuration for the demo, as the mapping ``load_settings`` reads."""
    from cryptography.fernet import Fernet

    return {
        "SLACK_BOT_TOKEN": token,
        "SLACK_SIGNING_SECRET": signing_secret,
        "SLACK_API_URL": slack_url,
        "PEAKA_API_KEY": world.bot_key,
        "PEAKA_API_URL": world.base_url,
        "PEAKA_PROJECTS": world.projects_setting,
        "HOST": "127.0.0.1",
        "PORT": "0",
        "DATABASE_URL": f"sqlite+aiosqlite:///{database_path}",
        "POLL_INTERVAL": "2",
        "BOT_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "LINKING_ENABLED": "true",
        "LOG_LEVEL": "WARNING",
    }


def run_demo(options: DemoOptions, *, stdin: TextIO | None = None) -> int:
    """Run the demo until the input ends (plus ``for_seconds``) or /quit; returns 0."""
    stdin = stdin if stdin is not None else sys.stdin
    if _person(options.user) is None:
        names = ", ".join(p.name for p in PEOPLE)
        print(f"exports-bot demo: --as {options.user!r} is not someone in the demo; "
              f"choose one of {names}", file=sys.stderr)  # fmt: skip
        return 2
    interactive = options.interactive
    if interactive is None:
        interactive = stdin.isatty()
    with contextlib.suppress(AttributeError, ValueError):
        sys.stdout.reconfigure(errors="replace")  # type: ignore[union-attr]
    try:
        return asyncio.run(_demo(options, stdin, interactive))
    except KeyboardInterrupt:
        return 0


async def _demo(options: DemoOptions, stdin: TextIO, interactive: bool) -> int:
    from bot.logging_setup import configure_logging
    from bot.server import EVENTS_PATH, start_bot
    from bot.settings import SettingsError, load_settings
    from bot.simulator import SimulatorServer

    configure_logging("text", "INFO" if options.verbose else "ERROR")
    console = Console(highlight=False, soft_wrap=False)
    world = DemoWorld.create(speed=options.speed, seed=options.seed)
    person = _person(options.user) or PEOPLE[0]
    channels = {DEMO_CHANNEL: DEMO_CHANNEL_NAME}
    printer = Printer(console, {p.id: p for p in PEOPLE}, channels, now=world.clock.now)
    printer.viewer = person
    token = "xoxb-demo-" + secrets.token_hex(12)
    signing_secret = secrets.token_hex(16)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    with tempfile.TemporaryDirectory(prefix="exports-bot-demo-", ignore_cleanup_errors=True) as tmp:
        async with (
            SimulatorServer(world.sim) as sim_server,
            DemoSlack(token, list(PEOPLE), channels, printer.show) as slack,
        ):
            world.base_url = sim_server.base_url
            env = demo_settings(world, slack.base_url, Path(tmp) / "demo.db", signing_secret, token)
            try:
                settings = load_settings(env)
            except SettingsError as exc:  # a bug in the demo's own configuration
                print("exports-bot demo: " + "; ".join(exc.problems), file=sys.stderr)
                return 1
            try:
                bot = await start_bot(settings)
            except Exception as exc:
                print(f"exports-bot demo: the bot did not start: {exc}", file=sys.stderr)
                return 1
            activity = Activity(world, seed=options.seed)
            poster = SignedPoster(bot.url + EVENTS_PATH, signing_secret)
            terminal = Terminal(printer, slack, poster, user=person, channel=DEMO_CHANNEL)
            try:
                linked = await _link_personal_keys(terminal, world)
                activity.start()
                _banner(console, world, terminal, interactive, options, linked)
                await _session(terminal, stdin, interactive, options.for_seconds, stop)
            finally:
                printer.quiet = True
                await activity.stop()
                await poster.aclose()
                await bot.stop()
    return 0


def _person(name: str) -> Person | None:
    wanted = name.strip().lstrip("@").lower()
    return next((p for p in PEOPLE if wanted in (p.name, p.id.lower(), p.email)), None)


async def _link_personal_keys(terminal: Terminal, world: DemoWorld) -> list[str]:
    """Each person links their seeded Peaka key through ``/exports connect`` and its modal,
    the way they would in Slack, so ``link ID`` works for their own exports from the start.

    Returns the names of the people whose key the bot accepted.
    """

    async def connect(person: Person) -> str | None:
        key = world.personal_key(person.id)
        if key is None:
            return None
        await terminal.slash_command("connect", user=person, wait_up_to=SETUP_TIMEOUT)
        if terminal.open_modal(person) is None:
            return None
        accepted = await terminal.submit_modal(key, user=person, wait_up_to=SETUP_TIMEOUT)
        return person.name if accepted else None

    terminal.printer.quiet = True
    try:
        names = await asyncio.gather(*(connect(person) for person in PEOPLE))
    finally:
        terminal.printer.quiet = False
    return [name for name in names if name]


async def _session(
    terminal: Terminal,
    stdin: TextIO,
    interactive: bool,
    for_seconds: float,
    stop: asyncio.Event,
) -> None:
    lines: asyncio.Queue[str | None] = asyncio.Queue()
    loop = asyncio.get_running_loop()
    prompt_event = threading.Event()  # set when the reader may show the next prompt
    prompt_event.set()

    def read() -> None:
        # A daemon thread: a blocked read never keeps the process alive after /quit.
        while True:
            prompt_event.wait()
            prompt_event.clear()
            try:
                if interactive:
                    terminal.printer.prompt = f"{terminal.user.name}> "
                    line: str | None = input(terminal.printer.prompt)
                else:
                    raw = stdin.readline()
                    line = raw if raw else None
            except (EOFError, KeyboardInterrupt, OSError, ValueError):
                line = None
            terminal.printer.prompt = None
            loop.call_soon_threadsafe(lines.put_nowait, line)
            if line is None:
                return

    threading.Thread(target=read, name="demo-input", daemon=True).start()
    while not stop.is_set():
        next_line = asyncio.ensure_future(lines.get())
        stopped = asyncio.ensure_future(stop.wait())
        done, _ = await asyncio.wait({next_line, stopped}, return_when=asyncio.FIRST_COMPLETED)
        stopped.cancel()
        if next_line not in done:
            next_line.cancel()
            return
        line = next_line.result()
        if line is None:
            break
        if not interactive and line.strip():
            terminal.printer.echo(terminal.user, line.rstrip("\n"))
        try:
            if not await terminal.execute(line):
                return
        except Exception as exc:  # a demo bug must not end the session
            log.exception("the demo failed to run %r", line)
            terminal.printer.note(f"The demo could not run that: {exc}", style="bold red")
        prompt_event.set()
    if interactive or stop.is_set():
        return
    terminal.printer.note(f"(end of input; showing what arrives for {for_seconds:g} s)")
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=max(0.0, for_seconds))


def _banner(
    console: Console,
    world: DemoWorld,
    terminal: Terminal,
    interactive: bool,
    options: DemoOptions,
    linked: list[str],
) -> None:
    user = terminal.user
    lines = [
        f"Peaka simulator at {options.speed:g}x speed, projects "
        f"{', '.join(world.sim.seed_projects)} (the first is the default).",
        f"You are {user.name} ({user.email}) in #{DEMO_CHANNEL_NAME}; "
        f"/as {' | '.join(p.name for p in PEOPLE)} switches.",
    ]
    if linked:
        lines.append(f"Linked Peaka keys (as /exports connect does): {', '.join(linked)}.")
    if interactive:
        lines.append("Try /exports failed, then !N to press a button. /help for more, /quit.")
    console.print(Text("exports-bot demo", style="bold"))
    for line in lines:
        console.print(Text(line, style="dim"))
    console.print()
