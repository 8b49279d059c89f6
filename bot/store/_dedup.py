"""A memory cache in front of the alert log, so most "did we send this?" answers cost no query.

Only positive answers are cached: a key that was logged stays logged, so a cached "handled"
can't go stale, while a "not yet" must always be asked again. The durable log stays the
truth: a fresh deduplicator after a restart still refuses every logged key.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import ClassVar

from cachetools import TTLCache

from bot.metrics import ALERTS_DEDUPLICATED
from bot.store._records import AlertKey
from bot.store._store import Store

__all__ = ["AlertDeduplicator"]


class AlertDeduplicator:
    """``already_handled`` / ``claim`` / ``confirm`` over a :class:`Store`'s alert log.

    ``cache_hits`` and ``cache_misses`` count how ``already_handled`` was answered.

    ``maxsize``: the poller decides an alert again only when the cycle that claimed it could
    not save its state (the next cycle re-decides from the old state), so the keys asked
    again are the last cycle's or two. 10,000 holds ten cycles at 1,000 alerts a cycle for
    ~3 MB; an older key is asked of the log, in the claims' own transaction.
    """

    DEFAULT_MAXSIZE: ClassVar[int] = 10_000

    def __init__(
        self,
        store: Store,
        *,
        maxsize: int = DEFAULT_MAXSIZE,
        ttl: float = 24 * 3600.0,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        if maxsize < 1:
            raise ValueError(f"maxsize must be at least 1, got {maxsize}")
        if ttl <= 0:
            raise ValueError(f"ttl must be positive seconds, got {ttl}")
        self._store = store
        self._handled: TTLCache[AlertKey, bool] = TTLCache(maxsize=maxsize, ttl=ttl, timer=timer)
        self.cache_hits = 0
        self.cache_misses = 0

    async def already_handled(self, key: AlertKey) -> bool:
        """True when the alert was claimed, sent, failed or suppressed by anyone, ever."""
        if key in self._handled:
            self.cache_hits += 1
            ALERTS_DEDUPLICATED.labels(layer="cache").inc()
            return True
        self.cache_misses += 1
        if await self._store.alert_state(key) is None:
            return False
        self._handled[key] = True
        ALERTS_DEDUPLICATED.labels(layer="database").inc()
        return True

    async def claim(self, key: AlertKey, project_id: str, claimed_by: str) -> bool:
        """Claim durably; True when this caller must send it. The key is cached either way."""
        won = await self._store.claim_alert(key, project_id, claimed_by)
        if not won:
            ALERTS_DEDUPLICATED.labels(layer="database").inc()
        self._handled[key] = True
        return won

    async def claim_batch(
        self,
        claims: Mapping[AlertKey, str],
        claimed_by: str,
        *,
        suppressed: Mapping[AlertKey, str] | None = None,
    ) -> tuple[list[AlertKey], set[AlertKey]]:
        """The keys this caller must send, of alerts of any projects (key -> project id), in one
        transaction (a key logged before, by anyone, is refused by the log itself).

        ``suppressed`` (muted) alerts are logged in the same transaction, never to be sent.
        Keys cached as handled are skipped without a query; every key is cached afterwards
        (only once the transaction committed). Returns the claims this caller must send (in
        ``claims``' order) and the suppressions it logged.
        """
        fresh = {key: project for key, project in claims.items() if key not in self._handled}
        quiet = {
            key: project
            for key, project in (suppressed or {}).items()
            if key not in self._handled and key not in claims
        }
        skipped = len(claims) - len(fresh)
        if skipped:
            self.cache_hits += skipped
            ALERTS_DEDUPLICATED.labels(layer="cache").inc(skipped)
        if not fresh and not quiet:
            return [], set()
        self.cache_misses += len(fresh)
        won, logged = await self._store.log_alerts(fresh, claimed_by, suppressed=quiet)
        lost = len(fresh) - len(won)
        if lost:
            ALERTS_DEDUPLICATED.labels(layer="database").inc(lost)
        for key in (*fresh, *quiet):
            self._handled[key] = True
        return [key for key in fresh if key in won], logged

    async def confirm(self, key: AlertKey, slack_channel: str, slack_ts: str) -> None:
        """Record the posted message (see :meth:`Store.confirm_alert`)."""
        await self._store.confirm_alert(key, slack_channel, slack_ts)
        self._handled[key] = True

    async def confirm_many(self, posted: Sequence[tuple[AlertKey, str, str]]) -> None:
        """Record several posted messages (key, channel, ts) in one transaction
        (see :meth:`Store.confirm_alerts`)."""
        await self._store.confirm_alerts(posted)
        for key, _, _ in posted:
            self._handled[key] = True

    async def fail(self, key: AlertKey, error: str) -> None:
        """Record a permanent failure (see :meth:`Store.fail_alert`)."""
        await self._store.fail_alert(key, error)
        self._handled[key] = True

    def __len__(self) -> int:
        return len(self._handled)
