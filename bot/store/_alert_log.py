"""The alert log: the once-only truth for channel alerts and DMs.

Sending goes claim -> post to Slack -> confirm (or fail). A claim is an INSERT that only one
process can win; a claim whose owner died before confirming is taken over with
:meth:`AlertLogStore.reclaim_alert` once it is old enough.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, and_, bindparam, func, select, tuple_, update

from bot.peaka import Status
from bot.store._base import StoreBase, chunks, need_text
from bot.store._errors import AlertNotClaimedError
from bot.store._records import AlertKey, AlertRecord, AlertState
from bot.store._schema import alert_log
from bot.store._types import utc

__all__ = ["AlertLogStore"]

_ERROR_LIMIT = 2000  # characters of an error kept per row


class AlertLogStore(StoreBase):
    async def claim_alert(self, key: AlertKey, project_id: str, claimed_by: str) -> bool:
        """Log the alert as ``claimed``; True only for the one call that inserted the row."""
        return await self._insert_alert(key, project_id, claimed_by, "claimed", None)

    async def claim_alerts(
        self, keys: Iterable[AlertKey], project_id: str, claimed_by: str
    ) -> set[AlertKey]:
        """``claim_alert`` for several alerts of one project in one transaction.

        Returns the keys this call inserted (each one only ever to one caller).
        """
        need_text(project_id=project_id)
        won, _ = await self.log_alerts(dict.fromkeys(keys, project_id), claimed_by)
        return won

    async def log_alerts(
        self,
        claims: Mapping[AlertKey, str],
        claimed_by: str,
        *,
        suppressed: Mapping[AlertKey, str] | None = None,
        reason: str = "muted",
    ) -> tuple[set[AlertKey], set[AlertKey]]:
        """Claim ``claims`` and log ``suppressed`` (key -> project id) in one transaction.

        What ``claim_alert`` and ``suppress_alert`` would do key by key, for alerts of any
        number of projects, in one multi-row INSERT per 500 keys. Returns the claims this
        call inserted and the suppressions it logged: each key is only ever one caller's.
        A key in both is claimed.
        """
        need_text(claimed_by=claimed_by)
        entries: list[tuple[AlertKey, str, str, str | None]] = [
            (key, project_id, "claimed", None) for key, project_id in claims.items()
        ]
        entries += [
            (key, project_id, "suppressed", reason)
            for key, project_id in (suppressed or {}).items()
            if key not in claims
        ]
        if not entries:
            return set(), set()
        for _, project_id, _, _ in entries:
            need_text(project_id=project_id)
        now = self._now()
        logged: set[AlertKey] = set()
        rows = [
            _alert_row(key, project_id, claimed_by, state, error, now)
            for key, project_id, state, error in entries
        ]
        stmt = self._statement(
            "log_alerts",
            lambda: (
                self._insert(alert_log)
                .on_conflict_do_nothing(index_elements=_KEY_COLUMNS)
                .returning(alert_log.c.job_id, alert_log.c.status, alert_log.c.target)
            ),
        )
        async with self._write() as conn:
            # executemany with RETURNING: SQLAlchemy sends it as multi-row INSERTs ("insert
            # many values") from one cached compile. Only inserted rows come back: a key
            # logged before, by anyone, does not.
            for job_id, status, target in await conn.execute(stmt, rows):
                logged.add(AlertKey(job_id, Status(status), target))
        won = {key for key in claims if key in logged}
        quiet = {key for key in (suppressed or {}) if key in logged and key not in claims}
        return won, quiet

    async def suppress_alert(
        self, key: AlertKey, project_id: str, claimed_by: str, reason: str = "muted"
    ) -> bool:
        """Log an alert that is deliberately not sent (e.g. the channel is muted).

        True when this call logged it; it will never be claimed or sent afterwards.
        """
        return await self._insert_alert(key, project_id, claimed_by, "suppressed", reason)

    async def confirm_alert(self, key: AlertKey, slack_channel: str, slack_ts: str) -> None:
        """Record that the alert was posted (``slack_channel``/``slack_ts`` locate the message)."""
        values = {
            "state": "sent",
            "slack_channel": slack_channel,
            "slack_ts": slack_ts,
            "sent_at": self._now(),
            "last_error": None,
        }
        await self._update_claimed(key, values, "confirm")

    async def confirm_alerts(self, posted: Iterable[tuple[AlertKey, str, str]]) -> None:
        """``confirm_alert`` for several alerts (key, slack_channel, slack_ts) in one transaction.

        One UPDATE per key, sent as one executemany; raises :class:`AlertNotClaimedError`
        (and writes nothing) when any key was never claimed.
        """
        now = self._now()
        rows = [
            {
                "k_job_id": key.job_id,
                "k_status": Status(key.status).value,
                "k_target": key.target,
                "slack_channel": channel,
                "slack_ts": ts,
                "k_sent_at": now,
            }
            for key, channel, ts in posted
        ]
        if not rows:
            return
        stmt = self._statement(
            "confirm_alerts",
            lambda: (
                update(alert_log)
                .where(
                    alert_log.c.job_id == bindparam("k_job_id"),
                    alert_log.c.status == bindparam("k_status"),
                    alert_log.c.target == bindparam("k_target"),
                )
                .values(
                    state="sent",
                    slack_channel=bindparam("slack_channel"),
                    slack_ts=bindparam("slack_ts"),
                    sent_at=bindparam("k_sent_at"),
                    last_error=None,
                )
            ),
        )
        async with self._write() as conn:
            result = await conn.execute(stmt, rows)
            keys = {(r["k_job_id"], r["k_status"], r["k_target"]) for r in rows}
            sane = conn.dialect.supports_sane_multi_rowcount and len(keys) == len(rows)
            if sane and result.rowcount == len(rows):
                return
            # executemany's rowcount is not reliable on every driver: count the rows instead.
            logged = 0
            for part in chunks(sorted(keys)):
                logged += int(
                    await conn.scalar(
                        select(func.count())
                        .select_from(alert_log)
                        .where(tuple_(*_KEY_COLUMNS).in_(part))
                    )
                    or 0
                )
            if logged != len(keys):
                raise AlertNotClaimedError(
                    f"cannot confirm {len(keys) - logged} of {len(keys)} alert(s): "
                    "never claimed (call claim_alert first)"
                )

    async def fail_alert(self, key: AlertKey, error: str) -> None:
        """Record a permanent failure (e.g. channel_not_found): the alert is never retried."""
        await self._update_claimed(
            key, {"state": "failed", "last_error": str(error)[:_ERROR_LIMIT]}, "fail"
        )

    async def unconfirmed_alerts(self, claimed_before: datetime | None = None) -> list[AlertRecord]:
        """Alerts still ``claimed`` (optionally claimed before a time), oldest claim first."""
        stmt = select(alert_log).where(alert_log.c.state == "claimed")
        if claimed_before is not None:
            stmt = stmt.where(alert_log.c.claimed_at < utc(claimed_before, "claimed_before"))
        stmt = stmt.order_by(alert_log.c.claimed_at, alert_log.c.job_id)
        async with self._read() as conn:
            return [_record(row) for row in (await conn.execute(stmt)).mappings()]

    async def reclaim_alert(self, key: AlertKey, claimed_by: str, stale_before: datetime) -> bool:
        """Take over a ``claimed`` alert whose claim is older than ``stale_before``.

        Atomic: of several replicas trying, exactly one gets True. Counts an attempt.
        """
        need_text(claimed_by=claimed_by)
        stmt = (
            update(alert_log)
            .where(
                _is(key),
                alert_log.c.state == "claimed",
                alert_log.c.claimed_at < utc(stale_before, "stale_before"),
            )
            .values(
                claimed_by=claimed_by,
                claimed_at=self._now(),
                attempts=alert_log.c.attempts + 1,
            )
        )
        async with self._write() as conn:
            return (await conn.execute(stmt)).rowcount == 1

    async def alert_state(self, key: AlertKey) -> AlertState | None:
        """``claimed``, ``sent``, ``failed``, ``suppressed``, or None when never logged."""
        async with self._read() as conn:
            state = await conn.scalar(select(alert_log.c.state).where(_is(key)))
        return cast(AlertState | None, state)

    async def alerts_for(self, job_id: str) -> list[AlertRecord]:
        """Every logged alert about one job."""
        stmt = (
            select(alert_log)
            .where(alert_log.c.job_id == job_id)
            .order_by(alert_log.c.claimed_at, alert_log.c.status, alert_log.c.target)
        )
        async with self._read() as conn:
            return [_record(row) for row in (await conn.execute(stmt)).mappings()]

    async def count_alerts(self, state: AlertState | None = None) -> int:
        """Rows in the alert log, optionally only those in ``state``."""
        stmt = select(func.count()).select_from(alert_log)
        if state is not None:
            stmt = stmt.where(alert_log.c.state == state)
        async with self._read() as conn:
            return int(await conn.scalar(stmt) or 0)

    async def _insert_alert(
        self, key: AlertKey, project_id: str, claimed_by: str, state: str, error: str | None
    ) -> bool:
        need_text(project_id=project_id, claimed_by=claimed_by)
        stmt = self._alert_insert(key, project_id, claimed_by, state, error)
        async with self._write() as conn:
            return (await conn.execute(stmt)).rowcount == 1

    def _alert_insert(
        self, key: AlertKey, project_id: str, claimed_by: str, state: str, error: str | None
    ) -> Any:
        row = _alert_row(key, project_id, claimed_by, state, error, self._now())
        return (
            self._insert(alert_log).values(row).on_conflict_do_nothing(index_elements=_KEY_COLUMNS)
        )

    async def _update_claimed(self, key: AlertKey, values: dict[str, Any], verb: str) -> None:
        async with self._write() as conn:
            updated = await conn.execute(update(alert_log).where(_is(key)).values(values))
            if updated.rowcount == 0:
                raise AlertNotClaimedError(
                    f"cannot {verb} alert {key.job_id}/{key.status}/{key.target}: "
                    "it was never claimed (call claim_alert first)"
                )


_KEY_COLUMNS = [alert_log.c.job_id, alert_log.c.status, alert_log.c.target]


def _alert_row(
    key: AlertKey,
    project_id: str,
    claimed_by: str,
    state: str,
    error: str | None,
    now: datetime,
) -> dict[str, Any]:
    return {
        "job_id": key.job_id,
        "status": Status(key.status).value,
        "target": key.target,
        "project_id": project_id,
        "state": state,
        "claimed_by": claimed_by,
        "claimed_at": now,
        "attempts": 1,
        "last_error": error,
    }


def _is(key: AlertKey) -> ColumnElement[bool]:
    return and_(
        alert_log.c.job_id == key.job_id,
        alert_log.c.status == Status(key.status).value,
        alert_log.c.target == key.target,
    )


def _record(row: Any) -> AlertRecord:
    return AlertRecord(
        key=AlertKey(row["job_id"], Status(row["status"]), row["target"]),
        project_id=row["project_id"],
        state=row["state"],
        claimed_by=row["claimed_by"],
        claimed_at=row["claimed_at"],
        slack_channel=row["slack_channel"],
        slack_ts=row["slack_ts"],
        sent_at=row["sent_at"],
        attempts=row["attempts"],
        last_error=row["last_error"],
    )
