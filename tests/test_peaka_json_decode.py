"""decode_json (orjson, the stdlib where orjson refuses) gives json.loads's answer for every
body whose integers fit in 64 bits: the same value, or a ValueError where json.loads raises
one. Past 64 bits an integer may come back as the nearest float."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from bot.peaka._responses import decode_json

_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)  # what orjson reads exactly (the API's are int64)
    | st.floats()  # NaN and the infinities: json.dumps writes them, orjson refuses them
    | st.text()  # lone surrogates included: json.dumps escapes them
)
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


def _outcome(decode: Any, body: bytes) -> tuple[str, str]:
    """What a decoder made of ``body``: ("value", its repr), or ("error", "") for a
    ValueError. repr, so that NaN equals NaN and key order counts."""
    try:
        return "value", repr(decode(body))
    except ValueError:
        return "error", ""


@given(_values, st.booleans(), st.sampled_from(["utf-8", "utf-16", "utf-32"]))
def test_every_value_decodes_as_the_stdlib_does(
    value: Any, ensure_ascii: bool, encoding: str
) -> None:
    text = json.dumps(value, ensure_ascii=ensure_ascii)
    try:
        body = text.encode(encoding)
    except UnicodeEncodeError:  # a lone surrogate written raw: no such body exists
        body = json.dumps(value).encode(encoding)
    assert _outcome(decode_json, body) == _outcome(json.loads, body)


@given(st.binary(max_size=64))
@example(b'{"a": 1, "a": 2}')  # a repeated key: the last one wins in both
@example(b'{"a": "\x01"}')  # a raw control character in a string
@example(b"\xef\xbb\xbf[1]")  # a UTF-8 byte-order mark
@example(b"[1e400]")  # a float past the largest double
@example(b"[1, 2")
@example(b"")
def test_any_bytes_decode_or_fail_as_the_stdlib_does(body: bytes) -> None:
    assume(not _PAST_64_BITS.search(body))  # see test_integers_past_64_bits below
    assert _outcome(decode_json, body) == _outcome(json.loads, body)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'[{"id": "j1"}]', [{"id": "j1"}]),
        (b"[NaN]", "[nan]"),  # the stdlib's answer, where orjson refuses
    ],
)
def test_a_few_bodies(body: bytes, expected: Any) -> None:
    decoded = decode_json(body)
    assert (repr(decoded) if isinstance(expected, str) else decoded) == expected


# A run of 20 digits or more: an integer that may not fit in 64 bits.
_PAST_64_BITS = re.compile(rb"[0-9]{20}")


@pytest.mark.parametrize("power", [64, 70, 100])
def test_integers_past_64_bits_come_back_as_their_value_or_the_nearest_float(
    power: int,
) -> None:
    # A power of two is a float exactly, so either reading compares equal.
    for number in (2**power, -(2**power)):
        [decoded] = decode_json(f"[{number}]".encode())
        assert decoded == number
