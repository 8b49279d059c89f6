"""The log redactor: no token, key or presigned signature survives into the output."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import httpx
import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.logging_setup import (
    LEVEL_CHECKED_LOGGERS,
    RedactSecretsFilter,
    configure_logging,
    redact,
    register_secret,
)
from tests.slack_standin import SlackStandIn

BOT_TOKEN = "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"
USER_TOKEN = "xoxp-11111-22222-33333-abcdef"
APP_TOKEN = "xapp-1-A0123-4567-deadbeefcafe"
PEAKA_KEY = "pk_live_registered_secret_value_42"
SIGNATURE = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
PRESIGNED = (
    "https://bucket.s3.amazonaws.com/export.csv?X-Amz-Algorithm=AWS4-HMAC-SHA256"
    f"&X-Amz-Credential=AKIAEXAMPLE%2F20260610&X-Amz-Signature={SIGNATURE}"
)
HMAC_URL = f"http://127.0.0.1:8080/files/abc?expires=1781092800&signature={SIGNATURE}"
EVERY_SECRET = (BOT_TOKEN, USER_TOKEN, APP_TOKEN, PEAKA_KEY, SIGNATURE, "AKIAEXAMPLE")


@pytest.fixture
def captured() -> Iterator[tuple[io.StringIO, logging.Logger]]:
    root = logging.getLogger()
    before = (list(root.handlers), root.level)
    stream = io.StringIO()
    handler = configure_logging("json", "DEBUG", stream=stream)
    register_secret(PEAKA_KEY)
    try:
        yield stream, logging.getLogger("bot.test")
    finally:
        root.removeHandler(handler)
        for each in root.handlers:
            for f in [f for f in each.filters if isinstance(f, RedactSecretsFilter)]:
                each.removeFilter(f)
        root.handlers[:] = before[0]
        root.setLevel(before[1])
        for name in ("httpx", *LEVEL_CHECKED_LOGGERS):  # as configure_logging found them
            logging.getLogger(name).setLevel(logging.NOTSET)


def test_secrets_in_message_args_extras_and_exceptions_are_redacted(
    captured: tuple[io.StringIO, logging.Logger],
) -> None:
    stream, log = captured
    log.info(f"token in the message {BOT_TOKEN} and {APP_TOKEN}")
    log.warning("token in args %s, key %r", USER_TOKEN, PEAKA_KEY)
    log.info("header %s", {"Authorization": f"Bearer {PEAKA_KEY}x"})
    log.info("links: %s and %s", PRESIGNED, HMAC_URL)
    log.info("with extra", extra={"url": PRESIGNED, "key": PEAKA_KEY, "nested": {"t": [APP_TOKEN]}})
    try:
        raise RuntimeError(f"request failed with key={PEAKA_KEY} token={BOT_TOKEN}")
    except RuntimeError:
        log.exception("it broke for %s", USER_TOKEN)
    output = stream.getvalue()
    lines = [json.loads(line) for line in output.splitlines()]
    assert len(lines) == 6
    for secret in EVERY_SECRET:
        assert secret not in output, secret
    assert "[REDACTED]" in lines[0]["message"]
    assert lines[2]["message"].count("Bearer [REDACTED]") == 1
    assert "X-Amz-Signature=[REDACTED]" in lines[3]["message"]
    assert "signature=[REDACTED]" in lines[3]["message"]
    assert "expires=1781092800" in lines[3]["message"]  # the rest of the URL stays readable
    assert lines[4]["key"] == "[REDACTED]"
    assert lines[4]["nested"] == {"t": ["[REDACTED]"]}
    assert "RuntimeError" in lines[5]["exc"] and "[REDACTED]" in lines[5]["exc"]


def test_text_format_is_one_readable_line(captured: tuple[io.StringIO, logging.Logger]) -> None:
    stream, log = captured
    configure_logging("text", "INFO", stream=stream)
    log.debug("not shown at INFO")
    log.info("posted alert for %s", "job-1")
    [line] = stream.getvalue().splitlines()
    assert line.endswith("INFO    bot.test: posted alert for job-1")


def test_filter_covers_handlers_that_were_already_there(
    captured: tuple[io.StringIO, logging.Logger],
) -> None:
    stream, log = captured
    other_stream = io.StringIO()
    other = logging.StreamHandler(other_stream)
    logging.getLogger().addHandler(other)
    try:
        configure_logging("text", "INFO", stream=stream)
        log.error("bot token %s", BOT_TOKEN)
    finally:
        logging.getLogger().removeHandler(other)
    assert BOT_TOKEN not in other_stream.getvalue()
    assert "[REDACTED]" in other_stream.getvalue()


def test_bad_format_arguments_still_log_redacted(
    captured: tuple[io.StringIO, logging.Logger],
) -> None:
    stream, log = captured
    log.info("two placeholders %s %s", BOT_TOKEN)
    output = stream.getvalue()
    assert BOT_TOKEN not in output and "[REDACTED]" in output


def test_redact_leaves_ordinary_text_alone() -> None:
    text = "job 4c9fcb44 SUCCEEDED in project mtKDhe1U; 993 rows, signed by ana"
    assert redact(text) == text
    register_secret("abc")  # too short to redact safely: ignored
    assert redact("abc def") == "abc def"


def test_httpx_request_lines_show_only_when_debugging(
    captured: tuple[io.StringIO, logging.Logger],
) -> None:
    stream, _ = captured

    def get(level: str) -> list[str]:
        stream.seek(0)
        stream.truncate()
        configure_logging("text", level, stream=stream)
        transport = httpx.MockTransport(lambda request: httpx.Response(200))
        with httpx.Client(transport=transport) as client:
            client.get("http://peaka.invalid/v1/projects/p1/exports")
        return [line for line in stream.getvalue().splitlines() if "HTTP Request" in line]

    assert get("INFO") == []  # one line per Peaka call would drown the bot's own lines
    [line] = get("DEBUG")
    assert "GET http://peaka.invalid/v1/projects/p1/exports" in line


class _CountedText(str):
    """Message text that counts its reprs: only slack_sdk's debug line makes one."""

    reprs = 0

    def __repr__(self) -> str:
        _CountedText.reprs += 1
        return super().__repr__()


@pytest.mark.parametrize(("level", "formatted"), [("INFO", False), ("DEBUG", True)])
async def test_slack_sdk_builds_its_debug_lines_only_when_debugging(
    captured: tuple[io.StringIO, logging.Logger], level: str, formatted: bool
) -> None:
    stream, _ = captured
    configure_logging("text", level, stream=stream)
    _CountedText.reprs = 0
    async with SlackStandIn(token="xoxb-logging-test") as slack:
        client = AsyncWebClient(token="xoxb-logging-test", base_url=slack.base_url)
        await client.chat_postMessage(channel="C1", text=_CountedText("export done"))
        assert [m["text"] for m in slack.messages("C1")] == ["export done"]
    assert (_CountedText.reprs > 0) is formatted
    assert ("Sending a request" in stream.getvalue()) is formatted
    for name in LEVEL_CHECKED_LOGGERS:
        assert (logging.getLogger(name).level <= logging.DEBUG) is formatted, name
