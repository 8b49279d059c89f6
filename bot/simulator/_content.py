"""Export artifacts: deterministic rows rendered as CSV or JSONL, optionally gzip-compressed.

Rows are a pure function of the job id, so a file can be regenerated on every download and
its size computed once, without storing anything.
"""

from __future__ import annotations

import functools
import json
import random
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.simulator._sources import Column, ColumnKind

__all__ = [
    "ArtifactPart",
    "ArtifactSpec",
    "CsvOptions",
    "artifact_sizes",
    "content_type",
    "render_part",
]

_BATCH = 2_000  # rows per yielded chunk


@dataclass(frozen=True, slots=True)
class CsvOptions:
    """The API's ``csvOptions`` after validation (defaults as in the spec)."""

    delimiter: str = ","
    quote_char: str = '"'
    record_separator: str = "\n"
    include_header: bool = True
    null_value: str = ""


@dataclass(frozen=True, slots=True)
class ArtifactPart:
    """One downloadable file of a job: rows ``[first_row, first_row + row_count)``."""

    index: int
    name: str
    first_row: int
    row_count: int


@dataclass(frozen=True, slots=True)
class ArtifactSpec:
    """Everything that determines a job's files, byte for byte."""

    job_id: str
    file_stem: str
    columns: tuple[Column, ...]
    row_count: int
    format: str
    compression: str
    csv: CsvOptions
    rows_per_file: int
    created_at: datetime

    def parts(self) -> tuple[ArtifactPart, ...]:
        """The files, split every ``rows_per_file`` rows (at least one file, maybe empty)."""
        ext = ".csv" if self.format == "CSV" else ".jsonl"
        if self.compression == "GZIP":
            ext += ".gz"
        per_file = max(1, self.rows_per_file)
        count = max(1, -(-self.row_count // per_file))
        if count == 1:
            return (ArtifactPart(0, f"{self.file_stem}{ext}", 0, self.row_count),)
        return tuple(
            ArtifactPart(
                i,
                f"{self.file_stem}_part{i + 1:03d}{ext}",
                i * per_file,
                min(per_file, self.row_count - i * per_file),
            )
            for i in range(count)
        )


def content_type(spec: ArtifactSpec) -> str:
    if spec.compression == "GZIP":
        return "application/gzip"
    return "text/csv; charset=utf-8" if spec.format == "CSV" else "application/x-ndjson"


def render_part(spec: ArtifactSpec, part: ArtifactPart) -> Iterator[bytes]:
    """The bytes of one file, in chunks (gzip-compressed when the job asked for GZIP)."""
    chunks = _render_text(spec, part)
    if spec.compression != "GZIP":
        yield from chunks
        return
    # wbits=31: a gzip stream; zlib writes mtime 0, so the output is reproducible.
    packer = zlib.compressobj(1, zlib.DEFLATED, 31)
    for chunk in chunks:
        packed = packer.compress(chunk)
        if packed:
            yield packed
    yield packer.flush()


@functools.lru_cache(maxsize=4_096)
def artifact_sizes(spec: ArtifactSpec) -> tuple[int, ...]:
    """Byte size of each file. Cached per spec: the same seed replays the same jobs, so a test
    suite renders each seeded file once per process."""
    return tuple(sum(len(chunk) for chunk in render_part(spec, part)) for part in spec.parts())


def _render_text(spec: ArtifactSpec, part: ArtifactPart) -> Iterator[bytes]:
    # Rows repeat a small pool of pre-encoded rows; only the ordinal cells (row ids, months)
    # are rendered per row, so a 1,000,000-row file takes about a second.
    names = [c.name for c in spec.columns]
    slots = [(i, _ORDINALS[c.kind]) for i, c in enumerate(spec.columns) if c.kind in _ORDINALS]
    slot_at = {i for i, _ in slots}
    base = spec.created_at.replace(microsecond=0, tzinfo=None)
    opts = spec.csv
    pool = _pool(spec, part, base)
    encode: Callable[[object], str]
    if spec.format == "JSONL":
        keys = [json.dumps(name, ensure_ascii=False) + ":" for name in names]
        templates = [
            _segments(
                [k if i in slot_at else k + _json(row[i]) for i, k in enumerate(keys)],
                slot_at, ",", "{", "}\n",
            )
            for row in pool
        ]  # fmt: skip
        encode = _json
    else:
        if opts.include_header:
            header = opts.delimiter.join(_csv_cell(n, opts) for n in names)
            yield (header + opts.record_separator).encode()
        templates = [
            _segments(
                ["" if i in slot_at else _csv_cell(v, opts) for i, v in enumerate(row)],
                slot_at, opts.delimiter, "", opts.record_separator,
            )
            for row in pool
        ]  # fmt: skip
        special = opts.delimiter + opts.quote_char + opts.record_separator
        # Ordinal cells are digits and dashes: they only need quoting if those are special.
        quoting = any(ch in special for ch in "0123456789-")
        encode = functools.partial(_csv_cell, opts=opts) if quoting else str

    only_ids = all(f is _row_id for _, f in slots)
    last = part.first_row + part.row_count
    for first in range(part.first_row + 1, last + 1, _BATCH):
        lines: list[str] = []
        for n in range(first, min(first + _BATCH, last + 1)):
            segs = templates[n % len(templates)]
            if only_ids:
                lines.append(encode(n).join(segs))
                continue
            pieces = [segs[0]]
            for k, (_, f) in enumerate(slots):
                pieces.append(encode(f(n, base)))
                pieces.append(segs[k + 1])
            lines.append("".join(pieces))
        yield "".join(lines).encode()


def _segments(cells: list[str], slots: set[int], sep: str, head: str, tail: str) -> list[str]:
    """The fixed text between the ordinal slots of one row (len(slots) + 1 pieces)."""
    segs: list[str] = []
    current = head
    for i, cell in enumerate(cells):
        if i:
            current += sep
        current += cell
        if i in slots:
            segs.append(current)
            current = ""
    segs.append(current + tail)
    return segs


def _json(value: object) -> str:
    return str(value) if type(value) is int else json.dumps(value, ensure_ascii=False)


def _csv_cell(value: object, opts: CsvOptions) -> str:
    if value is None:
        return opts.null_value
    text = str(value)
    q = opts.quote_char
    if any(ch in text for ch in (opts.delimiter, q, "\r", "\n", *opts.record_separator)):
        return q + text.replace(q, q + q) + q
    return text


_POOL = 101  # distinct rows per file (prime, so repeats do not line up with round numbers)


def _pool(spec: ArtifactSpec, part: ArtifactPart, base: datetime) -> list[list[object]]:
    # Seeded per file so any file can be regenerated on its own.
    rng = random.Random(f"{spec.job_id}:{part.index}")
    makers = [(_MAKERS.get(c.kind), c.nullable) for c in spec.columns]
    return [
        [
            None if nullable and rng.random() < 0.1 else (make(rng, base) if make else None)
            for make, nullable in makers
        ]
        for _ in range(max(1, min(_POOL, part.row_count)))
    ]


_FIRST = ("ana", "ben", "cy", "dora", "emre", "fatma", "gus", "hana", "ivo", "jale")
_TEXT = (
    "Monthly plan",
    "Annual plan, paid upfront",
    'Gift card "HOLIDAY"',
    "Café order, 2 items",
    "Refund; duplicate charge",
    "Enterprise seats (50)",
)
_PATHS = ("", "pricing", "docs/exports", "blog/peaka-2-0", "signup?plan=pro")


def _timestamp(rng: random.Random, base: datetime) -> object:
    return (base - timedelta(seconds=rng.randrange(90 * 86_400))).strftime("%Y-%m-%d %H:%M:%S")


def _row_id(n: int, base: datetime) -> object:
    return n


def _month(n: int, base: datetime) -> object:
    months = base.year * 12 + base.month - 1 - (n - 1)
    return f"{months // 12:04d}-{months % 12 + 1:02d}"


# Values that depend on the row number, rendered for every row.
_ORDINALS: dict[ColumnKind, Callable[[int, datetime], object]] = {
    "row_id": _row_id,
    "month": _month,
}
# Values drawn from the file's random generator, once per pooled row.
_MAKERS: dict[ColumnKind, Callable[[random.Random, datetime], object]] = {
    "version": lambda rng, base: rng.randint(1, 5),
    "timestamp": _timestamp,
    "amount": lambda rng, base: round(rng.uniform(1, 2_000), 2),
    "currency": lambda rng, base: rng.choice(("USD", "EUR", "GBP", "TRY")),
    "charge_status": lambda rng, base: rng.choice(("succeeded", "pending", "failed", "refunded")),
    "email": lambda rng, base: f"{rng.choice(_FIRST)}{rng.randint(1, 999)}@example.com",
    "customer": lambda rng, base: f"cus_{rng.getrandbits(48):012x}",
    "text": lambda rng, base: rng.choice(_TEXT),
    "count": lambda rng, base: rng.randint(1, 5_000),
    "country": lambda rng, base: rng.choice(("TR", "DE", "US", "GB", "NL", "FR")),
    "url": lambda rng, base: f"https://example.com/{rng.choice(_PATHS)}",
    "event": lambda rng, base: rng.choice(("page_view", "click", "signup", "purchase")),
}
