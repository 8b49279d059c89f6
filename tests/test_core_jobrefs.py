from __future__ import annotations

import pytest

from bot.core.jobrefs import ID_EXAMPLE, parse_job_ref
from bot.core.usage import CommandError

ID = "4c9fcb44-126a-45f8-99a0-f1d245083d78"


@pytest.mark.parametrize(
    "text",
    [
        ID,
        f"  {ID}\n",
        f"`{ID}`",
        f"```{ID}```",
        f'"{ID}"',
        f"'{ID}'",
        f"“{ID}”",
        f"<{ID}>",
        ID.upper(),
        f"  `{ID.upper()}` ",
        ID.replace("-", ""),
        f"https://app.peaka.com/projects/mtKDhe1U/exports/{ID}",
        f"https://partner.peaka.studio/api/v1/data/projects/p1/exports/{ID}?x=1",
        f"<https://app.peaka.com/projects/mtKDhe1U/exports/{ID}>",
        f"<https://app.peaka.com/exports/{ID}|Export {ID[:8]}>",
        f"&lt;https://app.peaka.com/exports/{ID}|open&gt;",
        f"id={ID}&project=x",
    ],
)
def test_accepts_ids_as_people_paste_them(text: str) -> None:
    assert parse_job_ref(text) == ID


def test_url_with_several_uuids_prefers_the_export_one() -> None:
    other = "11111111-2222-3333-4444-555555555555"
    url = f"https://app.peaka.com/p/{other}/exports/{ID}"
    assert parse_job_ref(url) == ID
    assert parse_job_ref(f"https://app.peaka.com/exports/{ID}/files/{other}") == ID


@pytest.mark.parametrize(
    "text", ["4c9fcb44", "4c9fcb44-126a", "4C9FCB44-126A-45F8", "4c9fcb44-126a…", "4c9f..."]
)
def test_partial_id_says_partial_and_shows_full_form(text: str) -> None:
    result = parse_job_ref(text)
    assert isinstance(result, CommandError)
    assert "part of an export id" in result.message
    assert ID_EXAMPLE in result.message
    assert "36 characters" in result.message


def test_too_long_hex_is_malformed() -> None:
    result = parse_job_ref("4c9fcb44-126a-45f8-99a0-f1d245083d78ff-00")
    assert isinstance(result, CommandError)
    assert "not a well-formed export id" in result.message


@pytest.mark.parametrize("text", ["hello", "my export", "<!channel>", "https://example.com/x", "☃"])
def test_random_text_explains_what_an_id_looks_like(text: str) -> None:
    result = parse_job_ref(text)
    assert isinstance(result, CommandError)
    assert "is not an export id" in result.message
    assert ID_EXAMPLE in result.message
    assert "UUID" in result.message


@pytest.mark.parametrize("text", ["", "   ", "``", "<>"])
def test_missing_id(text: str) -> None:
    result = parse_job_ref(text)
    assert isinstance(result, CommandError)
    assert "missing" in result.message


def test_long_garbage_is_shortened_in_the_message() -> None:
    result = parse_job_ref("x" * 10_000)
    assert isinstance(result, CommandError)
    assert len(result.message) < 400
