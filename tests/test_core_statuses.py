from __future__ import annotations

import pytest

from bot.core.statuses import (
    ALL_STATUSES,
    STATUS_WORDS,
    describe_statuses,
    lookup_status_word,
    parse_statuses,
    suggest_status_word,
)
from bot.peaka import Status

P, R, S, F, C, E = (
    Status.PENDING,
    Status.RUNNING,
    Status.SUCCEEDED,
    Status.FAILED,
    Status.CANCELLED,
    Status.EXPIRED,
)

ALIASES = {
    "pending": {P},
    "queued": {P},
    "running": {R},
    "succeeded": {S},
    "done": {S},
    "success": {S},
    "completed": {S},
    "failed": {F},
    "cancelled": {C},
    "canceled": {C},
    "expired": {E},
    "active": {P, R},
    "unsuccessful": {F, C},
    "finished": {S, F, C},
    "all": {P, R, S, F, C, E},
}


@pytest.mark.parametrize(("word", "expected"), sorted(ALIASES.items()))
def test_every_alias(word: str, expected: set[Status]) -> None:
    expected_set = frozenset(expected)
    assert lookup_status_word(word) == expected_set
    assert lookup_status_word(word.upper()) == expected_set
    assert lookup_status_word(word.title()) == expected_set
    assert parse_statuses(word) == expected


def test_alias_table_is_exactly_the_documented_one() -> None:
    assert {w: set(s) for w, (s, _) in STATUS_WORDS.items()} == ALIASES
    assert all(meaning for _, meaning in STATUS_WORDS.values())


@pytest.mark.parametrize("name", [s.name for s in Status])
def test_enum_names_work_as_they_are(name: str) -> None:
    assert parse_statuses(name) == {Status[name]}


def test_comma_and_space_separated_combine() -> None:
    assert parse_statuses("failed,cancelled") == {F, C}
    assert parse_statuses("FAILED, running  expired") == {F, R, E}
    assert parse_statuses("active unsuccessful") == {P, R, F, C}
    assert parse_statuses("") == frozenset()
    assert parse_statuses(" , ") == frozenset()


def test_all_includes_expired() -> None:
    assert E in parse_statuses("all")
    assert parse_statuses("all") == ALL_STATUSES


def test_unknown_word_has_did_you_mean_and_valid_words() -> None:
    with pytest.raises(ValueError) as info:
        parse_statuses("failed,faild")
    message = str(info.value)
    assert "'faild' is not a status" in message
    assert "Did you mean 'failed'?" in message
    for word in STATUS_WORDS:
        assert word in message


def test_unknown_word_without_close_match_still_lists_words() -> None:
    with pytest.raises(ValueError) as info:
        parse_statuses("zzzzzz")
    assert "Did you mean" not in str(info.value)
    assert "unsuccessful" in str(info.value)


@pytest.mark.parametrize(
    ("typo", "suggestion"),
    [("faild", "failed"), ("runing", "running"), ("canceld", "canceled"), ("activ", "active")],
)
def test_suggestions(typo: str, suggestion: str) -> None:
    assert suggest_status_word(typo) == suggestion


@pytest.mark.parametrize(
    ("statuses", "words"),
    [
        (set(), "all"),
        (ALL_STATUSES, "all"),
        ({F}, "failed"),
        ({F, C}, "failed or cancelled"),
        ({P, R, E}, "pending, running or expired"),
        ({Status("PAUSED")}, "paused"),
    ],
)
def test_describe(statuses: set[Status], words: str) -> None:
    assert describe_statuses(statuses) == words
