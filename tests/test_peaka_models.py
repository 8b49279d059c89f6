"""ExportJob.from_api: every field lands where it belongs, timestamps parse the same on the
fast path and the general one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.peaka import ExportJob, JobSummary, Status, format_timestamp, parse_timestamp
from bot.peaka._models import _identity, _parse_general

FULL = {
    "id": "0d7f8a2e-1111-4c39-a4c5-1dc39b1feb94",
    "status": "SUCCEEDED",
    "format": "JSONL",
    "compression": "GZIP",
    "rowCount": 993,
    "bytes": 12345,
    "durationMs": 31000,
    "files": [{"name": "part-0.jsonl.gz", "url": "https://files/x", "bytes": 12345}],
    "expiresAt": "2026-06-11T12:00:00.000000Z",
    "downloadable": True,
    "error": "none really",
    "createdAt": "2026-06-10T11:58:01.123456789Z",
    "queryId": "709922802836177297",
    "catalogId": "367189801096446904",
    "schemaName": "payment",
    "tableName": "charges",
    "source": 'peaka.payment."charges"',
    "userId": "7b1f0b7e-2222-4c39-a4c5-1dc39b1feb94",
    "userName": "ana@example.com",
    "apiKeyPrefix": "AbCdEfGh",
    "clientSource": "peaka-studio",
}


def test_every_field_lands_in_its_attribute_and_goes_back_the_same() -> None:
    job = ExportJob.from_api({**FULL, "later": {"added": 1}})
    assert (job.id, job.status, job.format, job.compression) == (
        FULL["id"], Status.SUCCEEDED, "JSONL", "GZIP",
    )  # fmt: skip
    assert (job.row_count, job.bytes, job.duration_ms) == (993, 12345, 31000)
    assert [(f.name, f.url, f.bytes) for f in job.files] == [
        ("part-0.jsonl.gz", "https://files/x", 12345)
    ]
    assert job.expires_at == datetime(2026, 6, 11, 12, tzinfo=UTC)
    assert job.downloadable is True
    assert job.created_at == datetime(2026, 6, 10, 11, 58, 1, 123456, tzinfo=UTC)
    assert job.created_at_raw == FULL["createdAt"]
    assert (job.error, job.query_id, job.catalog_id, job.schema_name, job.table_name) == (
        "none really", "709922802836177297", "367189801096446904", "payment", "charges",
    )  # fmt: skip
    assert (job.source, job.user_id, job.user_name, job.api_key_prefix, job.client_source) == (
        FULL["source"], FULL["userId"], "ana@example.com", "AbCdEfGh", "peaka-studio",
    )  # fmt: skip
    assert job.extra == {"later": {"added": 1}}
    back = job.to_api()
    assert back.pop("expiresAt") == "2026-06-11T12:00:00.000000Z"
    assert back == {k: v for k, v in FULL.items() if k != "expiresAt"}


def test_a_minimal_job_and_an_unknown_status() -> None:
    job = ExportJob.from_api({"id": "j", "status": "paused", "createdAt": "2026-06-10T12:00:00Z"})
    assert (job.status.value, job.status.is_known, job.files, job.extra) == (
        "PAUSED",
        False,
        (),
        {},
    )
    assert job.user_name is None and job.row_count is None


@pytest.mark.parametrize(
    "text",
    [
        "2026-06-10T11:58:01Z",
        "2026-06-10T11:58:01.1Z",
        "2026-06-10T11:58:01.999999999Z",
        "2026-06-10T11:58:01.123+02:00",
        "2026-06-10T23:58:01.5-05:30",
        "2026-06-10 11:58:01.5",
        "2026-06-10T11:58z",
        "2026-06-10T11:58:01,25+0200",
    ],
)
def test_timestamps_as_the_general_parser_reads_them(text: str) -> None:
    parsed = parse_timestamp(text)
    assert parsed.tzinfo is UTC
    # The general path, forced by a leading space (the fast path takes exact shapes only).
    assert parsed == parse_timestamp(" " + text)


@given(
    st.datetimes(min_value=datetime(1000, 1, 1), timezones=st.just(UTC)),
    st.integers(min_value=0, max_value=999),
)
def test_nanoseconds_are_truncated_never_rounded(moment: datetime, extra: int) -> None:
    text = format_timestamp(moment)[:-1] + f"{extra:03d}Z"
    assert parse_timestamp(text) == moment


@pytest.mark.parametrize(
    "text",
    [
        "2026-06-10",
        "2026-W23-3T10:00:00Z",
        "20260610T115801Z",
        "",
        # fromisoformat takes these; the spec's ISO-8601 timestamps are not written so
        "2026-06-10T11:58:01.Z",
        "2026-06-10T11:58:01.+05:30",
        "2026-06-10T11:58:01+05:30:15",
        "2026-06-10T11:58:01+05",
        "2026-06-10x11:58:01Z",
    ],
)
def test_other_shapes_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_timestamp(text)


def _outcome(parse: Callable[[str], datetime], text: str) -> datetime | str:
    try:
        parsed = parse(text)
    except ValueError:
        return "refused"
    assert parsed.tzinfo is UTC
    return parsed


def _render(moment: datetime, sep: str, seconds: bool, fraction: str, offset: str) -> str:
    text = f"{moment.year:04d}-{moment:%m-%d}{sep}{moment:%H:%M}"
    return text + (f":{moment:%S}" if seconds else "") + fraction + offset


_offset = st.sampled_from(["Z", "Z", "-00:00"]) | st.from_regex(
    r"[+-][01][0-9]:[0-5][0-9]", fullmatch=True
)
# Timestamps as the API writes them (a "." alone included: fromisoformat takes "08.Z")...
_api_like = st.builds(
    _render,
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)),
    st.just("T"),
    st.just(True),
    st.from_regex(r"(\.[0-9]{0,12})?", fullmatch=True),
    _offset,
)
# ...the other shapes: a space or another separator, no seconds, a comma or a non-ASCII
# digit in the fraction, offsets of every shape fromisoformat knows, some out of range...
_variants = st.builds(
    _render,
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)),
    st.sampled_from(["T", " ", "t", "x"]),
    st.booleans(),
    st.sampled_from(["", ".", ","])
    | st.from_regex(r"[.,][0-9]{1,12}", fullmatch=True)
    | st.from_regex(r"\.[0-9]{0,9}٣", fullmatch=True),
    st.sampled_from(["z", "", " ", "Z ", "+05", "+05:30:15", "+05:30Z", "+0530", "+24:00"])
    | _offset,
)
# ...and either with one character changed.
_changed = st.builds(
    lambda text, at, char: text[:at] + char + text[at + 1 :],
    _api_like | _variants,
    st.integers(0, 40),
    st.sampled_from(list("0123456789:-+.,TZz W٣")),
)

# ...or with one character put in.
_inserted = st.builds(
    lambda text, at, char: text[:at] + char + text[at:],
    _api_like | _variants,
    st.integers(0, 40),
    st.sampled_from(list("0123456789:-+.,TZz W٣")),
)

# ...and the exact shape the API writes (27 characters, six digits), with one character
# changed: the first fast path takes that length only.
_canonical_changed = st.builds(
    lambda moment, at, char: (lambda text: text[:at] + char + text[at + 1 :])(
        moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ").rjust(27, "0")
    ),
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)),
    st.integers(0, 26),
    st.sampled_from(list("0123456789:-+.,TZz Wa٣²")),
)


@settings(max_examples=400)
@given(
    st.one_of(_api_like, _variants, _changed, _inserted, _canonical_changed, st.text(max_size=40))
)
@example("0001-01-01T00:00:00.000000:0Z")  # fromisoformat reads it; the API never writes it
@example("2026-06-10T12:24:08.12345aZ")  # a letter in the fraction, at the API's length
@example("2026-06-10T12:24:08.12345²Z")  # isdigit() takes "²"; fromisoformat must not
@example("2026-02-30T12:24:08.123456Z")  # no such day
@example("2026-06-10T24:00:00.000000Z")
def test_the_fast_path_reads_what_the_general_parser_reads_and_refuses_the_rest(text: str) -> None:
    assert _outcome(parse_timestamp, text) == _outcome(_parse_general, text)


@pytest.mark.parametrize("text", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-00:30"])
def test_an_offset_that_leaves_the_calendar_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="out of range"):
        parse_timestamp(text)
    with pytest.raises(ValueError, match="out of range"):
        parse_timestamp(" " + text)


def test_a_summary_is_what_its_constructor_builds() -> None:
    # from_api sets the frozen fields through their slots; every field must land.
    summary = JobSummary.from_api(FULL)
    built = JobSummary(FULL["id"], Status.SUCCEEDED, parse_timestamp(FULL["createdAt"]),
                       FULL["createdAt"], FULL)  # fmt: skip
    assert [getattr(summary, f.name) for f in fields(JobSummary)] == [
        getattr(built, f.name) for f in fields(JobSummary)
    ]
    assert summary == built and summary.data is FULL
    with pytest.raises(AttributeError):
        summary.status = Status.FAILED  # type: ignore[misc]


@pytest.mark.parametrize(
    "created", ["2026-06-10T12:24:08.123456Z", "2026-06-10T12:24:08.123456789Z",
                "2026-06-10T14:24:08+02:00"],
)  # fmt: skip
def test_details_are_the_full_job_sharing_the_summarys_created_at(created: str) -> None:
    data = {**FULL, "createdAt": created}
    summary = JobSummary.from_api(data)
    details = summary.details()
    assert details == ExportJob.from_api(data)
    # One datetime for both: the poller keeps the one of every job it tracks.
    assert details.created_at is summary.created_at


def _summary_outcome(read: Callable[[Any], Any], data: Any) -> tuple[Any, ...]:
    try:
        got = read(data)
    except (KeyError, TypeError, ValueError) as exc:
        return (type(exc), str(exc))
    return (got.id, got.status, got.created_at, got.created_at_raw)


def _plain_summary(data: Any) -> Any:
    """What JobSummary.from_api reads, the plain way: _identity, then the timestamp."""
    job_id, status, created_raw = _identity(data)
    return JobSummary(job_id, status, parse_timestamp(created_raw), created_raw, data)


_field_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from(["", "j1", "RUNNING", "FAILED", "paused", "2026-06-10T12:00:00.123456Z"]),
    st.lists(st.integers(), max_size=2),
)


@given(
    st.dictionaries(st.sampled_from(["id", "status", "createdAt", "format"]), _field_values)
    | st.builds(
        lambda job_id, status, at: {"id": job_id, "status": status, "createdAt": at},
        st.text(max_size=3),
        st.sampled_from([s.value for s in Status] + ["paused", ""]),
        st.sampled_from(["2026-06-10T12:00:00.123456Z", "2026-06-10T12:00:00Z", "x"]),
    )
    | st.lists(st.integers(), max_size=2)
    | st.text(max_size=3)
)
def test_a_summary_reads_what_the_plain_checks_read_and_fails_alike(data: Any) -> None:
    assert _summary_outcome(JobSummary.from_api, data) == _summary_outcome(_plain_summary, data)
