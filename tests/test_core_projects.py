from __future__ import annotations

import pytest

from bot.core.projects import Project, ProjectDirectory


def test_parse_default_aliases_and_labels() -> None:
    d = ProjectDirectory.parse(" mtKDhe1U , analytics=x7Pq2 ")
    assert d.default == Project(alias=None, id="mtKDhe1U")
    assert d.all == (Project(None, "mtKDhe1U"), Project("analytics", "x7Pq2"))
    assert d.label("x7Pq2") == "analytics"
    assert d.label("mtKDhe1U") == "mtKDhe1U"
    assert d.label("unknown") == "unknown"
    assert len(d) == 2
    assert list(d) == list(d.all)


def test_resolve_alias_any_case_and_exact_id() -> None:
    d = ProjectDirectory.parse("mtKDhe1U,analytics=x7Pq2")
    assert d.resolve("ANALYTICS") == Project("analytics", "x7Pq2")
    assert d.resolve("x7Pq2") == Project("analytics", "x7Pq2")
    assert d.resolve("mtKDhe1U") == Project(None, "mtKDhe1U")
    assert d.resolve("mtkdhe1u") is None  # ids are exact
    assert d.resolve("nope") is None


def test_alias_first_entry_is_default() -> None:
    d = ProjectDirectory.parse("sales=abc,ops=def")
    assert d.default.label == "sales"
    assert d.names() == ["sales", "ops", "abc", "def"]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "PEAKA_PROJECTS is empty"),
        ("   ", "PEAKA_PROJECTS is empty"),
        ("a,,b", "entry 2 is empty"),
        ("a,", "entry 2 is empty"),
        ("a,a", "'a' is listed twice"),
        ("x=a,X=b", "alias 'X' is used twice"),
        ("a,b=a", "listed twice"),
        ("1bad=abc", "alias '1bad' is not valid"),
        ("=abc", "alias '' is not valid"),
        ("ok=", "project id '' is not valid"),
        ("has space", "project id 'has space' is not valid"),
        ("a,b=c,a=d", "alias 'a' is also another project's id"),
    ],
)
def test_parse_rejects_bad_config_with_a_clear_message(text: str, fragment: str) -> None:
    with pytest.raises(ValueError) as info:
        ProjectDirectory.parse(text)
    assert fragment in str(info.value)


def test_errors_show_the_expected_format() -> None:
    with pytest.raises(ValueError, match=r"ALIAS=ID"):
        ProjectDirectory.parse("")
