from __future__ import annotations

from datetime import timedelta

import pytest

from bot.core.command_types import (
    CancelJob,
    Connect,
    Disconnect,
    DmSetting,
    GetLink,
    Help,
    ListJobs,
    ListSubscriptions,
    Mute,
    ShowJob,
    Subscribe,
    Unmute,
    Unsubscribe,
)
from bot.core.commands import HELP_TOPICS, parse_command, parse_duration
from bot.core.projects import ProjectDirectory
from bot.core.statuses import ALL_STATUSES
from bot.core.usage import USAGE, CommandError
from bot.peaka import Status

ID = "4c9fcb44-126a-45f8-99a0-f1d245083d78"
PROJECTS = ProjectDirectory.parse("mtKDhe1U,analytics=x7Pq2")
DEFAULT = "mtKDhe1U"
F, C, P, R = Status.FAILED, Status.CANCELLED, Status.PENDING, Status.RUNNING


def parse(text: str, max_limit: int = 16) -> object:
    return parse_command(text, PROJECTS, max_limit=max_limit)


def error(text: str, max_limit: int = 16) -> CommandError:
    result = parse(text, max_limit)
    assert isinstance(result, CommandError), result
    return result


# -- list -------------------------------------------------------------------------


def test_empty_text_lists_everything_of_the_default_project() -> None:
    assert parse("") == ListJobs(ALL_STATUSES, DEFAULT, 10, False, False)
    assert parse("   \n\t ") == ListJobs(ALL_STATUSES, DEFAULT, 10, False, False)


def test_default_limit_never_exceeds_max_limit() -> None:
    assert parse("", max_limit=4) == ListJobs(ALL_STATUSES, DEFAULT, 4)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("failed", ListJobs(frozenset({F}), DEFAULT)),
        ("FAILED", ListJobs(frozenset({F}), DEFAULT)),
        ("failed project analytics", ListJobs(frozenset({F}), "x7Pq2")),
        ("project ANALYTICS failed", ListJobs(frozenset({F}), "x7Pq2")),
        ("project x7Pq2 failed", ListJobs(frozenset({F}), "x7Pq2")),
        ("failed,cancelled", ListJobs(frozenset({F, C}), DEFAULT)),
        ("failed cancelled limit 3", ListJobs(frozenset({F, C}), DEFAULT, 3)),
        ("limit 3 mine share active", ListJobs(frozenset({P, R}), DEFAULT, 3, True, True)),
        ("share mine", ListJobs(ALL_STATUSES, DEFAULT, 10, True, True)),
        ("project=analytics limit=16", ListJobs(ALL_STATUSES, "x7Pq2", 16)),
        ("list failed", ListJobs(frozenset({F}), DEFAULT)),
        ("all", ListJobs(ALL_STATUSES, DEFAULT)),
        ("expired", ListJobs(frozenset({Status.EXPIRED}), DEFAULT)),
        ("limit 1", ListJobs(ALL_STATUSES, DEFAULT, 1)),
    ],
)
def test_list_forms_in_any_order(text: str, expected: ListJobs) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize("value", ["0", "9999", "17"])
def test_limit_out_of_range_names_the_valid_range(value: str) -> None:
    err = error(f"failed limit {value}")
    assert f"limit {int(value)} is out of range" in err.message
    assert "from 1 to 16" in err.message
    assert err.suggestion in ("failed limit 1", "failed limit 16")
    assert "limit N" in err.usage


@pytest.mark.parametrize("value", ["-1", "ten", "1.5", "²", "9" * 5000])
def test_limit_must_be_a_number(value: str) -> None:
    err = error(f"limit {value}")
    assert "whole number from 1 to 16" in err.message


@pytest.mark.parametrize(("text", "option"), [("project", "project"), ("failed limit", "limit")])
def test_option_without_value(text: str, option: str) -> None:
    err = error(text)
    assert f"`{option}` needs a value" in err.message
    assert err.suggestion is not None and err.suggestion.startswith(text + " ")


def test_option_given_twice() -> None:
    assert "given twice" in error("limit 1 limit 2").message
    assert "given twice" in error("project analytics project analytics").message


def test_unknown_project_lists_the_projects_and_suggests() -> None:
    err = error("failed project analytcs")
    assert "Unknown project `analytcs`" in err.message
    assert "`analytics` (x7Pq2)" in err.message and "`mtKDhe1U`" in err.message
    assert err.suggestion == "failed project analytics"
    assert error("project zzzzzzz").suggestion is None


def test_bare_project_name_hints_the_project_keyword() -> None:
    err = error("failed analytics")
    assert "is a project" in err.message
    assert err.suggestion == "failed project analytics"


def test_unknown_status_word_did_you_mean_and_valid_words() -> None:
    err = error("faild project analytics")
    assert "`faild`" in err.message
    assert err.suggestion == "failed project analytics"
    for word in ("pending", "succeeded", "unsuccessful", "finished", "all"):
        assert word in err.message
    # An unknown first word may also be a misspelt command: the usage shows every form.
    assert all(USAGE[v][0] in err.usage for v in USAGE)


def test_misspelt_verb_is_suggested() -> None:
    err = error(f"shwo {ID}")
    assert err.suggestion == f"show {ID}"
    assert error("sbuscribe failed").suggestion == "subscribe failed"


def test_unknown_word_later_in_the_text_uses_list_usage() -> None:
    err = error("failed bogus")
    assert err.usage == "/exports " + USAGE["list"][0]


# -- one export -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"show {ID}", ShowJob(ID, DEFAULT)),
        (f"SHOW `{ID.upper()}` share", ShowJob(ID, DEFAULT, True)),
        (f"show {ID} project analytics", ShowJob(ID, "x7Pq2")),
        (f"show project analytics {ID}", ShowJob(ID, "x7Pq2")),
        (f"cancel {ID}", CancelJob(ID, DEFAULT)),
        (f"cancel <{ID}> project=x7Pq2", CancelJob(ID, "x7Pq2")),
        (f"link {ID}", GetLink(ID, DEFAULT)),
        (
            f"link <https://app.peaka.com/exports/{ID}|my export> project analytics",
            GetLink(ID, "x7Pq2"),
        ),
        (ID, ShowJob(ID, DEFAULT)),
        (f"https://app.peaka.com/exports/{ID} share", ShowJob(ID, DEFAULT, True)),
    ],
)
def test_id_commands(text: str, expected: object) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize("verb", ["show", "cancel", "link"])
def test_id_commands_need_an_id(verb: str) -> None:
    err = error(verb)
    assert "needs an export id" in err.message
    assert err.usage == f"/exports {USAGE[verb][0]}"


@pytest.mark.parametrize("verb", ["show", "cancel", "link"])
def test_partial_id_is_reported_with_the_command_usage(verb: str) -> None:
    err = error(f"{verb} 4c9fcb44")
    assert "part of an export id" in err.message
    assert err.usage == f"/exports {USAGE[verb][0]}"


@pytest.mark.parametrize("text", ["4c9fcb44", "4c9fcb44-126a", "4c9fcb44…"])
def test_partial_id_alone_is_reported_as_partial(text: str) -> None:
    err = error(text)
    assert "part of an export id" in err.message
    assert err.usage == f"/exports {USAGE['show'][0]}"


@pytest.mark.parametrize(
    "text",
    [
        "faild",
        "failed project analytcs",
        "limit 0",
        "mute 30",
        "help subscirbe",
        "shwo " + ID,
        "project",
    ],
)
def test_suggestions_are_valid_commands(text: str) -> None:
    suggestion = error(text).suggestion
    assert suggestion is not None
    assert not isinstance(parse(suggestion), CommandError)


def test_id_command_errors() -> None:
    assert "is extra" in error(f"show {ID} {ID}").message
    assert "is extra" in error(f"cancel {ID} share").message  # share is only for show
    assert "`project` needs a value" in error(f"link {ID} project").message
    assert "Unknown project" in error(f"cancel {ID} project nope").message
    assert "is not an export id" in error("show hello").message


# -- subscriptions, mute, settings, help ---------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("subscribe", Subscribe(frozenset({F}), DEFAULT)),
        ("subscribe failed,cancelled project analytics", Subscribe(frozenset({F, C}), "x7Pq2")),
        ("subscribe project analytics unsuccessful", Subscribe(frozenset({F, C}), "x7Pq2")),
        ("unsubscribe", Unsubscribe(None)),
        ("unsubscribe all", Unsubscribe(None)),
        ("unsubscribe project analytics", Unsubscribe("x7Pq2")),
        ("subscriptions", ListSubscriptions()),
        ("unmute", Unmute()),
        ("connect", Connect()),
        ("disconnect", Disconnect()),
        ("dm on", DmSetting(True)),
        ("DM Off", DmSetting(False)),
        ("dm disable", DmSetting(False)),
        ("help", Help(None)),
        ("help statuses", Help("statuses")),
        ("help status", Help("statuses")),
        ("help Subscribe", Help("subscribe")),
        ("mute 2h", Mute(timedelta(hours=2))),
    ],
)
def test_other_commands(text: str, expected: object) -> None:
    assert parse(text) == expected


def test_other_command_errors() -> None:
    assert "`faild`" in error("subscribe faild").message
    assert error("subscribe faild").suggestion == "subscribe failed"
    assert "`project` needs a value" in error("subscribe failed project").message
    assert "`project` needs a value" in error("unsubscribe project").message
    assert "takes `project ALIAS|ID`" in error("unsubscribe failed").message
    assert "Unknown project" in error("unsubscribe project nope").message
    assert "takes no arguments" in error("subscriptions please").message
    assert error("unmute now").suggestion == "unmute"
    assert "takes `on` or `off`" in error("dm").message
    assert "takes `on` or `off`" in error("dm maybe").message
    err = error("help subscirbe")
    assert "no help topic" in err.message and err.suggestion == "help subscribe"
    assert all(topic in err.message for topic in HELP_TOPICS)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30m", timedelta(minutes=30)),
        ("2h", timedelta(hours=2)),
        ("1d", timedelta(days=1)),
        ("1h30m", timedelta(minutes=90)),
        ("1h 30m", timedelta(minutes=90)),
        ("2 hours", timedelta(hours=2)),
        ("30d", timedelta(days=30)),
        ("1w", timedelta(weeks=1)),
        ("1m", timedelta(minutes=1)),
        ("1D2H", timedelta(hours=26)),
    ],
)
def test_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected
    assert parse(f"mute {text}") == Mute(expected)


@pytest.mark.parametrize(
    ("text", "fragment", "suggestion"),
    [
        ("", "Say how long", "mute 2h"),
        ("30", "needs a unit", "mute 30m"),
        ("31d", "out of range", "mute 30d"),
        ("0m", "out of range", "mute 30m"),
        ("5w", "out of range", "mute 30d"),
        ("2 fortnights", "not a duration", "mute 2h"),
        ("h", "not a duration", "mute 2h"),
        ("1h30", "not a duration", "mute 2h"),
        ("9999999m", "not a duration", "mute 2h"),
        ("-2h", "not a duration", "mute 2h"),
    ],
)
def test_bad_durations_show_examples(text: str, fragment: str, suggestion: str) -> None:
    err = error(f"mute {text}")
    assert fragment in err.message
    assert err.suggestion == suggestion
    assert "30m" in err.message and "1h30m" in err.message
    assert err.usage == "/exports mute DURATION"


def test_errors_never_echo_huge_input() -> None:
    err = error("x" * 100_000)
    assert len(err.message) < 1000
    assert err.suggestion is None


def test_max_limit_below_one_is_treated_as_one() -> None:
    assert parse("", max_limit=0) == ListJobs(ALL_STATUSES, DEFAULT, 1)
