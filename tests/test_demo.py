"""``exports-bot demo``: the whole bot in a terminal, run as a real subprocess with piped input.

The subprocess tests run ``python -m bot demo`` exactly as a user would, with hostile
environment variables and a hostile ``.env`` in its working directory (the demo must read
neither), read its stdout as it arrives, and act on it: parse an export id and ask for its
link, download the link while the demo is still running, wait for a channel alert.
The renderer tests check the Block Kit -> terminal rendering directly (it is pure).
"""

from __future__ import annotations

import argparse
import io
import os
import queue
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from rich.console import Console

from bot.cli_demo import add_demo_command
from bot.demo import DemoOptions, run_demo
from bot.demo._output import Printer
from bot.demo._render import BlockRenderer, mrkdwn_text
from bot.demo._workspace import Delivery, Kind
from bot.demo._world import PEOPLE
from bot.simulator import ROW_LIMIT_ERROR, TRINO_ERRORS

_UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
_LABEL = re.compile(r"^\[(?P<label>[^\]]+)\]$")
_DOWNLOAD = re.compile(r"<(http://127\.0\.0\.1:\d+/files/[^>\s]+)>")
_KNOWN_ERRORS = (ROW_LIMIT_ERROR, *(e.split("{")[0][:40] for e in TRINO_ERRORS))
# Variables the bot would read in `run`; the demo must ignore every one of them.
_HOSTILE_ENV = {
    "SLACK_BOT_TOKEN": "not-a-token",
    "SLACK_SIGNING_SECRET": "",
    "SLACK_API_URL": "http://127.0.0.1:9/nowhere/",
    "PEAKA_API_KEY": "wrong",
    "PEAKA_API_URL": "http://127.0.0.1:9/api/v1",
    "PEAKA_PROJECTS": "=,=",
    "DATABASE_URL": "nonsense",
    "POLL_INTERVAL": "-1",
    "BOT_ENCRYPTION_KEY": "not-a-fernet-key",
    "SLACK_APP_TOKEN": "xapp-would-switch-to-socket-mode",
    "PORT": "99999",
}


class Demo:
    """A running ``exports-bot demo`` subprocess: send lines, expect output as it arrives."""

    def __init__(self, cwd: Path, *args: str) -> None:
        env = {"PATH": os.environ.get("PATH", ""), **_HOSTILE_ENV}
        for name in ("PYTHONPATH", "SYSTEMROOT", "HOME", "LANG", "LC_ALL"):
            if name in os.environ:
                env[name] = os.environ[name]
        env["PYTHONIOENCODING"] = "utf-8"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "demo", *args],
            cwd=cwd,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            bufsize=1,
        )
        self.lines: list[str] = []
        self._new: queue.Queue[str | None] = queue.Queue()
        self.stderr = ""
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._read_stderr, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._new.put(line.rstrip("\n"))
        self._new.put(None)

    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        self.stderr = self.proc.stderr.read()

    def send(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def close_input(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()

    def expect(self, pattern: str | re.Pattern[str], *, after: int = 0, within: float) -> int:
        """Wait for a line (index >= ``after``) matching ``pattern``; return its index."""
        regex = re.compile(pattern) if isinstance(pattern, str) else pattern
        deadline = time.monotonic() + within
        checked = after
        while True:
            while checked < len(self.lines):
                if regex.search(self.lines[checked]):
                    return checked
                checked += 1
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no line matching {regex.pattern!r}:\n{self.transcript()}")
            try:
                line = self._new.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                raise AssertionError(
                    f"demo exited before {regex.pattern!r}:\n{self.transcript()}\n{self.stderr}"
                )
            self.lines.append(line)

    def finish(self, within: float) -> int:
        """Wait for the process to exit by itself; return its exit code."""
        code = self.proc.wait(timeout=within)
        while (line := self._new.get(timeout=5)) is not None:
            self.lines.append(line)
        return code

    def transcript(self) -> str:
        return "\n".join(self.lines)

    def label_of(self, index: int) -> str:
        """The label of the message that line ``index`` belongs to."""
        for line in reversed(self.lines[: index + 1]):
            match = _LABEL.match(line)
            if match:
                return match.group("label")
        raise AssertionError(f"line {index} has no label above it:\n{self.transcript()}")


@pytest.fixture
def demo_dir(tmp_path: Path) -> Path:
    """A working directory with a .env the demo must not read."""
    (tmp_path / ".env").write_text("SLACK_BOT_TOKEN=xoxb-from-dotenv\nPEAKA_PROJECTS=bad==\n")
    return tmp_path


@pytest.fixture
def start_demo(demo_dir: Path) -> Iterator[type[Demo]]:
    started: list[Demo] = []

    class Started(Demo):
        def __init__(self, *args: str) -> None:
            super().__init__(demo_dir, *args)
            started.append(self)

    yield Started
    for demo in started:
        if demo.proc.poll() is None:
            demo.proc.kill()
            demo.proc.wait(timeout=10)


@pytest.mark.slow
def test_failed_lists_cards_with_errors_and_older_replaces_the_list(
    start_demo: type[Demo], demo_dir: Path
) -> None:
    demo = start_demo("--for", "0.5")
    demo.send("/exports failed limit 3")
    demo.send("!1")
    demo.close_input()
    assert demo.finish(within=60) == 0, demo.stderr
    out = demo.transcript()

    first = demo.expect(r"^\s+❌ Failed · ", within=0)
    assert demo.label_of(first) == "only you"
    assert any(error in out for error in _KNOWN_ERRORS), out
    assert re.search(r"\[1\] Older", out), out
    # Pressing Older went through block_actions and replaced the list with the next page.
    older = demo.expect(r"^\[only you · replaces the message\]$", after=first, within=0)
    page1 = set(_UUID.findall("\n".join(demo.lines[first:older])))
    page2 = set(_UUID.findall("\n".join(demo.lines[older:])))
    assert len(page1) == 3 and page2 and not page1 & page2, out
    # Mentions and dates are made readable; no raw Slack tokens reach the terminal.
    assert "@ana" in out and "<@U" not in out and "<!date" not in out, out
    # The hostile environment and .env were ignored: nothing written to ./data.
    assert not (demo_dir / "data").exists()


@pytest.mark.slow
def test_subscribe_failed_prints_a_channel_alert(start_demo: type[Demo]) -> None:
    demo = start_demo("--for", "25")
    demo.send("/exports subscribe failed")
    demo.close_input()
    confirmed = demo.expect(r"^\[only you\]$", within=30)
    alert = demo.expect(r"^\[#exports-alerts\]$", after=confirmed, within=25)
    end = demo.expect(r"^$", after=alert, within=10)  # a blank line ends every message
    body = "\n".join(demo.lines[alert:end])
    assert "Failed" in body and "│" in body, body  # the card, with its error in a code block
    assert _UUID.search(body), body
    demo.proc.terminate()  # SIGTERM ends the --for window early, cleanly
    assert demo.finish(within=30) == 0, demo.stderr


@pytest.mark.slow
def test_link_dm_carries_a_url_that_downloads(start_demo: type[Demo]) -> None:
    demo = start_demo("--for", "0.5")
    demo.send("/exports succeeded mine limit 3")
    listed = demo.expect(r"^\s+✅ Succeeded · ", within=30)
    card = demo.expect(_UUID, after=listed, within=10)
    match = _UUID.search(demo.lines[card])
    assert match is not None
    job_id = match.group(0)

    demo.send(f"link {job_id}")
    # This job's link (proactive DMs about other jobs may arrive in between).
    found = demo.expect(f"/files/{job_id}/", after=card, within=20)
    assert demo.label_of(found) == "DM"
    url_match = _DOWNLOAD.search(demo.lines[found])
    assert url_match is not None
    # Download while the demo (and its simulator) still runs.
    response = httpx.get(url_match.group(1), timeout=10)
    assert response.status_code == 200, response.text[:200]
    assert response.content, "the download is empty"

    demo.close_input()
    assert demo.finish(within=30) == 0, demo.stderr
    for i, line in enumerate(demo.lines):  # no link outside a DM
        if "/files/" in line:
            assert demo.label_of(i).startswith("DM"), demo.transcript()


def _demo_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="exports-bot")
    add_demo_command(parser.add_subparsers(dest="command"))
    return parser


def test_help_explains_commands_buttons_labels_and_options(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exited:
        _demo_parser().parse_args(["demo", "--help"])
    assert exited.value.code == 0
    shown = capsys.readouterr().out
    for words in ("/exports failed", "/as", "!N", "#exports-alerts", "DM", "only you", "--for",
                  "--speed", "stdin", "link ID"):  # fmt: skip
        assert words in shown, (words, shown)


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["--speed", "0"], "greater than 0"),
        (["--speed", "fast"], "'fast' is not a number"),
        (["--for", "-1"], "must be 0 or more"),
        (["--for", "nan"], "not a finite number"),
    ],
)
def test_bad_options_are_refused_clearly(
    args: list[str], problem: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        _demo_parser().parse_args(["demo", *args])
    assert exited.value.code == 2
    error = capsys.readouterr().err
    assert args[0] in error and problem in error, error


def test_an_unknown_person_is_refused_before_anything_starts(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run_demo(DemoOptions(user="zed"), stdin=io.StringIO("")) == 2
    error = capsys.readouterr().err
    assert "'zed'" in error and "ana, ben, cy, dee" in error, error


# ---------------------------------------------------------------------------
# Rendering (pure)
# ---------------------------------------------------------------------------

_NAMES = {"U0ANA": "ana", "C0EXPORTS": "exports-alerts"}


def _fixed_now() -> datetime:
    return datetime(2026, 6, 10, 12, 0, tzinfo=UTC)


def test_mrkdwn_tokens_become_readable() -> None:
    stamp = int(datetime(2026, 6, 10, 9, 30, tzinfo=UTC).timestamp())
    text = mrkdwn_text(
        f"*bold* _it_ ~gone~ `code` <@U0ANA> <#C0EXPORTS> &lt;b&gt; &amp; :x: "
        f"<!date^{stamp}^{{date_short_pretty}} at {{time}}|fallback> <https://x.test/a?b=1|file>",
        names=_NAMES,
        now=_fixed_now,
    )
    plain = text.plain
    assert "bold it gone code @ana #exports-alerts <b> & ❌" in plain
    local = datetime.fromtimestamp(stamp, tz=UTC).astimezone()
    assert f"at {local:%H:%M}" in plain and "fallback" not in plain
    assert "file <https://x.test/a?b=1>" in plain
    bold = [plain[span.start : span.end] for span in text.spans if "bold" in str(span.style)]
    assert "bold" in bold


def test_code_blocks_keep_their_text_and_special_tokens_show_as_words() -> None:
    text = mrkdwn_text("Error:\n```\nline 1:8: *not bold*\n```\n<!channel> boom")
    assert "│ line 1:8: *not bold*" in text.plain
    assert "@channel boom" in text.plain


def test_blocks_render_sections_fields_context_and_numbered_buttons() -> None:
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "Export"}},
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": "*Failed* job"},
            "accessory": {
                "type": "button",
                "action_id": "job_cancel",
                "text": {"type": "plain_text", "text": "Cancel"},
                "confirm": {"title": {"type": "plain_text", "text": "Sure?"}},
            },
        },
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": "*Rows*\n993"},
                {"type": "mrkdwn", "text": "*Size*\n3.5 MB"},
            ],
        },
        {"type": "divider"},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "by <@U0ANA>"}]},
        {
            "type": "actions",
            "elements": [
                {"type": "button", "action_id": "a", "text": {"type": "plain_text", "text": "A"}},
                {"type": "button", "action_id": "b", "text": {"type": "plain_text", "text": "B"}},
            ],
        },
    ]
    rendered = BlockRenderer(_NAMES, now=_fixed_now, width=lambda: 80).render(
        blocks, first_button=4
    )
    lines = [line.plain for line in rendered.lines]
    assert lines[0] == "  Export"
    assert "  Failed job" in lines
    assert "  [4] Cancel (asks to confirm)" in lines
    assert any(re.fullmatch(r"  Rows 993\s+Size 3\.5 MB", line) for line in lines), lines
    assert "  by @ana" in lines
    assert "  [5] A  [6] B" in lines
    assert [b["action_id"] for b in rendered.buttons] == ["job_cancel", "a", "b"]


def test_long_text_wraps_but_a_line_with_a_url_never_breaks() -> None:
    url = "http://127.0.0.1:1234/files/" + "x" * 150 + "?sig=abc"
    blocks = [
        {"type": "section", "text": {"type": "mrkdwn", "text": "word " * 40}},
        {"type": "section", "text": {"type": "mrkdwn", "text": f"• <{url}|Download a.csv>"}},
    ]
    rendered = BlockRenderer({}, width=lambda: 60).render(blocks)
    lines = [line.plain for line in rendered.lines]
    assert all(len(line) <= 60 for line in lines if "http" not in line), lines
    assert f"  • Download a.csv <{url}>" in lines


def test_a_message_without_blocks_shows_its_text() -> None:
    rendered = BlockRenderer({}).render([], "Sent you a *DM*")
    assert [line.plain for line in rendered.lines] == ["  Sent you a DM"]


def _printer(width: int = 80) -> tuple[Printer, io.StringIO]:
    out = io.StringIO()
    console = Console(file=out, width=width, highlight=False, color_system=None)
    people = {p.id: p for p in PEOPLE}
    printer = Printer(console, people, {"C0EXPORTS": "exports-alerts"}, now=_fixed_now)
    printer.viewer = PEOPLE[0]  # ana
    return printer, out


def _delivery(kind: Kind, audience: str | None, text: str, **extra: Any) -> Delivery:
    return Delivery(
        seq=1, kind=kind, channel="C0EXPORTS", audience=audience, ts="1.000001", text=text, **extra
    )


def test_labels_say_who_saw_each_message_and_others_dms_stay_one_line() -> None:
    printer, out = _printer()
    printer.show(_delivery("channel", None, "*Export failed*"))
    printer.show(_delivery("dm", "U0ANA", "Your links"))
    printer.show(_delivery("ephemeral", "U0ANA", "Only for you", replaced=True))
    printer.show(_delivery("dm", "U0BEN", "Ben's links\nsecond line"))
    printer.show(_delivery("dm", "U0ANA", "Refreshed", updated=True))
    lines = out.getvalue().splitlines()
    assert lines[:2] == ["[#exports-alerts]", "  Export failed"]
    assert "[DM]" in lines and "  Your links" in lines
    assert "[only you · replaces the message]" in lines
    assert "[DM to ben] Ben's links  (/as ben to read it)" in lines
    assert "second line" not in out.getvalue()
    assert "[DM · updated]" in lines


def test_buttons_are_numbered_across_messages_in_the_order_shown() -> None:
    printer, out = _printer()
    button = {"type": "button", "action_id": "x", "text": {"type": "plain_text", "text": "Go"}}
    blocks = [{"type": "actions", "elements": [button, {**button, "action_id": "y"}]}]
    printer.show(_delivery("ephemeral", "U0ANA", "first", blocks=blocks))
    printer.show(_delivery("channel", None, "second", blocks=blocks))
    assert "  [1] Go  [2] Go" in out.getvalue() and "  [3] Go  [4] Go" in out.getvalue()
    assert [printer.buttons[n].element["action_id"] for n in (1, 2, 3, 4)] == ["x", "y", "x", "y"]
    assert printer.buttons[3].message.kind == "channel"
