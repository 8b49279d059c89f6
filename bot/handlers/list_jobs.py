"""``/exports [STATUS...] [project X] [limit N] [mine] [share]`` and its "Older" button.

One page per call: the newest matching jobs (or the ones after a keyset cursor), rendered
as a job list with an Older button that carries the query and the next cursor, so the next
page works on any replica.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from bot.core.button_values import OlderPage, encode_older_value
from bot.core.cards import MAX_LIST_LIMIT, render_job_list
from bot.core.command_types import ListJobs
from bot.core.job_replies import render_mine_unavailable, render_no_older
from bot.core.statuses import ALL_STATUSES
from bot.handlers._context import CommandContext
from bot.handlers.peaka_errors import failure_reply
from bot.handlers.people import caller_email, mentions_for
from bot.handlers.replies import Outcome, send
from bot.peaka import (
    ExportJob,
    PageCursor,
    PeakaClient,
    PeakaError,
    Status,
    format_timestamp,
    parse_timestamp,
)

if TYPE_CHECKING:
    from bot.app import Services

__all__ = ["handle", "list_reply"]

log = logging.getLogger(__name__)

# `mine` filters client-side: scan up to this many pages of this size per reply.
MINE_PAGE_SIZE = 100
MINE_MAX_PAGES = 5
_MICROSECOND = timedelta(microseconds=1)


async def handle(command: ListJobs, ctx: CommandContext) -> None:
    """Reply with the first page of the list."""
    mine_user = ctx.user_id if command.mine else None
    outcome = await list_reply(ctx.services, command, cursor=None, mine_user=mine_user)
    await send(ctx, outcome.reply)


async def list_reply(
    services: Services, query: ListJobs, *, cursor: PageCursor | None, mine_user: str | None
) -> Outcome:
    """One page of ``query`` (the newest, or the one after ``cursor``) as a reply."""
    query = _bounded(query)
    label = services.projects.label(query.project_id)
    position = cursor
    email: str | None = None
    if query.mine:
        email = await caller_email(services, mine_user or "")
        if email is None:
            return Outcome(render_mine_unavailable(), ok=False)
    client = services.peaka_for()
    try:
        if email is not None:
            jobs, next_cursor = await _mine_page(client, query, email, position)
        else:
            page = await client.list_page(
                query.project_id,
                statuses=_statuses(query),
                limit=query.limit,
                cursor=position,
            )
            jobs, next_cursor = page.jobs, page.next_cursor
    except PeakaError as exc:
        return Outcome(failure_reply(exc, "list"), ok=False)
    if not jobs and position is not None:
        return Outcome(render_no_older(query, label), ok=True)
    older: str | None = None
    if next_cursor is not None:
        older = encode_older_value(OlderPage(query, next_cursor.encode(), mine_user))
        if older is None:
            log.warning("the Older button's value would not fit; leaving the button out")
    mentions = await mentions_for(services, jobs)
    reply = render_job_list(jobs, query, project_label=label, mentions=mentions, older_value=older)
    return Outcome(reply, ok=True)


def _bounded(query: ListJobs) -> ListJobs:
    """The query with its page size within what one message can show."""
    if 1 <= query.limit <= MAX_LIST_LIMIT:
        return query
    limit = min(max(query.limit, 1), MAX_LIST_LIMIT)
    return ListJobs(query.statuses, query.project_id, limit, query.mine, query.share)


def _statuses(query: ListJobs) -> frozenset[Status] | None:
    # No filter at all for "every status", so statuses Peaka adds later are shown too.
    return None if query.statuses >= ALL_STATUSES else query.statuses


async def _mine_page(
    client: PeakaClient, query: ListJobs, email: str, position: PageCursor | None
) -> tuple[list[ExportJob], PageCursor | None]:
    """Up to ``query.limit`` jobs started by ``email``, and the cursor after the last one.

    Peaka cannot filter by user, so this walks status-filtered pages and keeps the caller's
    jobs; it stops after MINE_MAX_PAGES pages and hands back a cursor where it stopped.
    """
    found: list[ExportJob] = []
    # The cursor each shown job was read after: the next cursor may have to carry its ids.
    read_after: dict[str, PageCursor | None] = {}
    for _ in range(MINE_MAX_PAGES):
        page = await client.list_page(
            query.project_id, statuses=_statuses(query), limit=MINE_PAGE_SIZE, cursor=position
        )
        for job in page.jobs:
            if (job.user_name or "").strip().lower() != email:
                continue
            if len(found) == query.limit:  # one more of theirs exists: stop after the last
                return found, _cursor_after(found, read_after[found[-1].id])
            found.append(job)
            read_after[job.id] = position
        if page.next_cursor is None:
            return found, None
        position = page.next_cursor
    return found, position


def _cursor_after(shown: list[ExportJob], position: PageCursor | None) -> PageCursor:
    """The cursor continuing right after ``shown[-1]``, which was read after ``position``.

    Jobs sharing its ``createdAt`` come back on the next request; the ones already shown
    (on this page, or carried by ``position`` at that same instant) are named so they are
    skipped.
    """
    last = shown[-1]
    seen = [job.id for job in shown if job.created_at == last.created_at]
    if position is not None and parse_timestamp(position.created_before) - _MICROSECOND == (
        last.created_at
    ):
        seen = [*position.seen_ids, *(i for i in seen if i not in position.seen_ids)]
    return PageCursor(format_timestamp(last.created_at + _MICROSECOND), tuple(seen))
