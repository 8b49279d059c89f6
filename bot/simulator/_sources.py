"""What can be exported: saved queries and tables, with their columns and row counts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["Column", "SimSource", "default_sources"]

ColumnKind = Literal[
    "row_id", "version", "timestamp", "amount", "currency", "charge_status", "email",
    "customer", "text", "count", "month", "country", "url", "event",
]  # fmt: skip


@dataclass(frozen=True, slots=True)
class Column:
    """One output column; ``kind`` picks how its values are generated."""

    name: str
    kind: ColumnKind
    nullable: bool = False
    system: bool = (
        False  # a Peaka system column (_id, _version): dropped on includeSystemColumns=false
    )


@dataclass(frozen=True, slots=True)
class SimSource:
    """A saved query (``query_id``) or a table (``catalog_id``/``schema_name``/``table_name``)."""

    kind: Literal["query", "table"]
    name: str
    columns: tuple[Column, ...]
    row_count: int
    query_id: str | None = None
    catalog_id: str | None = None
    catalog_name: str = "peaka"
    schema_name: str | None = None
    table_name: str | None = None

    @classmethod
    def query(
        cls, query_id: str, name: str, columns: tuple[Column, ...], row_count: int
    ) -> SimSource:
        return cls("query", name, columns, row_count, query_id=query_id)

    @classmethod
    def table(
        cls,
        catalog_id: str,
        schema_name: str,
        table_name: str,
        columns: tuple[Column, ...],
        row_count: int,
        *,
        catalog_name: str = "peaka",
    ) -> SimSource:
        return cls(
            "table",
            table_name,
            columns,
            row_count,
            catalog_id=catalog_id,
            catalog_name=catalog_name,
            schema_name=schema_name,
            table_name=table_name,
        )

    @property
    def key(self) -> str:
        """Lookup key: the query id, or ``catalogId/schema/table``."""
        if self.kind == "query":
            return str(self.query_id)
        return f"{self.catalog_id}/{self.schema_name}/{self.table_name}"

    @property
    def display(self) -> str:
        """The API's ``source`` field, e.g. ``peaka.query."charges_view"``."""
        if self.kind == "query":
            return f'peaka.query."{self.name}"'
        return f'{self.catalog_name}.{self.schema_name}."{self.table_name}"'

    @property
    def file_stem(self) -> str:
        """Artifact base name, e.g. ``query_709922802836177297_charges_view``."""
        if self.kind == "query":
            return f"query_{self.query_id}_{self.name}"
        return f"table_{self.schema_name}_{self.table_name}"

    def output_columns(
        self, selected: tuple[str, ...] | None, include_system: bool = True
    ) -> tuple[Column, ...]:
        """The columns an export writes; ``selected`` must already be validated."""
        if selected is not None:
            by_name = {c.name: c for c in self.columns}
            return tuple(by_name[name] for name in selected)
        return tuple(c for c in self.columns if include_system or not c.system)


_SYSTEM = (Column("_id", "row_id", system=True), Column("_version", "version", system=True))
_CHARGES = (
    Column("id", "row_id"),
    Column("created", "timestamp"),
    Column("amount", "amount"),
    Column("currency", "currency"),
    Column("status", "charge_status"),
    Column("customer_email", "email"),
    Column("description", "text", nullable=True),
)
_CUSTOMERS = (
    Column("id", "customer"),
    Column("email", "email"),
    Column("country", "country"),
    Column("created", "timestamp"),
)
_REVENUE = (
    Column("month", "month"),
    Column("currency", "currency"),
    Column("revenue", "amount"),
    Column("charges", "count"),
)
_EVENTS = (
    Column("id", "row_id"),
    Column("ts", "timestamp"),
    Column("event", "event"),
    Column("url", "url", nullable=True),
    Column("user_email", "email", nullable=True),
)

PEAKA_CATALOG = "367189801096446904"
HUBSPOT_CATALOG = "367189801096446911"


def default_sources() -> tuple[SimSource, ...]:
    """The catalog every new project starts with: three queries and four tables.

    Two sources are bigger than the 1,000,000-row export limit, so exporting them without a
    ``limit`` fails the way the real service does.
    """
    return (
        SimSource.query("709922802836177297", "charges_view", _CHARGES, 993),
        SimSource.query("709922802836177298", "monthly_revenue", _REVENUE, 48),
        SimSource.query("709922802836177301", "all_events_raw", _EVENTS, 3_400_000),
        SimSource.table(PEAKA_CATALOG, "payment", "charges", _SYSTEM + _CHARGES, 25_000),
        SimSource.table(PEAKA_CATALOG, "payment", "customers", _SYSTEM + _CUSTOMERS, 4_200),
        SimSource.table(PEAKA_CATALOG, "web", "pageviews", _SYSTEM + _EVENTS, 5_200_000),
        SimSource.table(
            HUBSPOT_CATALOG, "crm", "contacts", _CUSTOMERS, 1_250, catalog_name="hubspot"
        ),
    )
