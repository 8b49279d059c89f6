"""One link request, start to finish: read the job, check the owner, fetch links, deliver.

Every way of asking (the button, ``/exports link ID``, a DM, Refresh links, the proactive DMs)
comes through :func:`answer_link_request`, so the ownership rules are applied in one place:

1. Read the job with the bot's key (its state and owner); an id not in the given project is
   looked for in the other configured projects.
2. If the user linked a key, read it again with that key: Peaka says ``downloadable=true`` and
   hands out ``files`` only to the owner's key.
3. :func:`~bot.links.decide_link_access` says whether they own it; non-owners get an answer
   naming the owner and no link. Not SUCCEEDED: why there is nothing to download (yet).
4. Links come only from a key :func:`~bot.links.choose_key` allows, and go only into the
   owner's DM (:func:`deliver_answer`); where the request came from gets "sent you a DM".
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from bot import metrics
from bot.core.blocks import Reply, inline_code, section
from bot.core.job_replies import render_job_not_found
from bot.core.messages import render_job_state_for_link, render_link_dm, render_not_owner
from bot.handlers.peaka_errors import failure_reply
from bot.handlers.people import caller_email
from bot.handlers.show_job import owner_mention
from bot.links._delivery import DmError, PostedDm, refresh_link_dm, send_link_dm
from bot.links._keys import KeyUnreadableError, UserKey, user_key
from bot.links._replies import (
    render_can_not_tell,
    render_connect_needed,
    render_key_rejected,
    render_key_unreadable,
    render_link_failure,
    render_sent_to_dm,
)
from bot.links._rules import Access, KeyChoice, choose_key, decide_link_access, key_prefix
from bot.peaka import (
    ExportJob,
    ForbiddenError,
    InvalidKeyError,
    NotFoundError,
    PeakaClient,
    PeakaError,
    Status,
)

if TYPE_CHECKING:
    from bot.app import Services

__all__ = ["LinkAnswer", "answer_link_request", "deliver_answer", "refresh_answer"]

log = logging.getLogger(__name__)

LinkKind = Literal["links", "answer", "failure"]


@dataclass(frozen=True, slots=True)
class LinkAnswer:
    """What a link request comes to.

    ``links``: ``reply`` holds download links; it may only go into the owner's DM.
    ``answer``: why there are no links (not the owner, still running, failed...), for
    wherever the request came from. ``failure``: Peaka or the store could not be asked; a
    message that replaces nothing.
    """

    kind: LinkKind
    reply: Reply
    job: ExportJob | None = None
    project_id: str | None = None
    owner: bool = False  # the asker owns the job (decide_link_access said OWNER)


async def answer_link_request(
    services: Services, user_id: str, project_id: str, job_id: str
) -> LinkAnswer:
    """Decide what ``user_id`` gets when asking for ``job_id``'s download links."""
    email = await caller_email(services, user_id)
    key: UserKey | None = None
    unreadable = False
    try:
        key = await user_key(services, user_id)
    except KeyUnreadableError:
        unreadable = True
    try:
        found = await _find_job(services, project_id, job_id, key)
    except PeakaError as exc:
        return LinkAnswer("failure", failure_reply(exc, "link"))
    if found is None:
        label = services.projects.label(project_id)
        return LinkAnswer("answer", render_job_not_found(job_id, label, "link"))
    job, where = found

    mine: ExportJob | None = None
    rejected = False
    if key is not None and job.status is Status.SUCCEEDED:
        try:
            mine = await services.peaka_for(key.value).read_export(where, job.id)
        except InvalidKeyError:
            rejected = True
        except (ForbiddenError, NotFoundError):
            mine = None
        except PeakaError as exc:
            return LinkAnswer("failure", failure_reply(exc, "link"), job, where)
        if mine is not None and mine.status is not Status.SUCCEEDED:
            job, mine = mine, None  # it expired between the two reads: the newer one counts
    via_linked = mine is not None and mine.downloadable

    access = decide_link_access(job, email, via_linked)
    if access is Access.NOT_OWNER:
        mention = await owner_mention(services, job)
        return LinkAnswer("answer", render_not_owner(job, mention), job, where)
    if access is Access.UNKNOWN:
        if unreadable:
            return LinkAnswer("answer", render_key_unreadable(), job, where)
        if rejected and key is not None:
            return LinkAnswer("answer", render_key_rejected(key.prefix), job, where)
        return LinkAnswer("answer", render_can_not_tell(job.id), job, where)
    if job.status is not Status.SUCCEEDED:
        state = render_job_state_for_link(job, project_id=where)
        return LinkAnswer("answer", state, job, where, owner=True)
    return _owner_links(services, job, where, email, key, mine, rejected, unreadable)


def _owner_links(
    services: Services,
    job: ExportJob,
    where: str,
    email: str | None,
    key: UserKey | None,
    mine: ExportJob | None,
    rejected: bool,
    unreadable: bool,
) -> LinkAnswer:
    """The owner of a SUCCEEDED job: links from a key they own, or what stands in the way."""
    label = services.projects.label(where)
    if mine is not None and mine.downloadable and mine.files:
        return LinkAnswer(
            "links", render_link_dm(mine, label, project_id=where), mine, where, owner=True
        )
    bot_prefix = key_prefix(services.settings.peaka_api_key.get_secret_value())
    # Their linked key didn't give links: the bot's key still may, for a job it started for them.
    if choose_key(job, email, has_linked_key=False, bot_key_prefix=bot_prefix) is KeyChoice.BOT:
        if job.files:
            return LinkAnswer(
                "links", render_link_dm(job, label, project_id=where), job, where, owner=True
            )
        return LinkAnswer(
            "answer", render_job_state_for_link(job, project_id=where), job, where, owner=True
        )
    if unreadable:
        return LinkAnswer("answer", render_key_unreadable(), job, where, owner=True)
    if key is None:
        enabled = services.settings.linking_enabled
        reply = render_connect_needed(job, linking_enabled=enabled)
        return LinkAnswer("answer", reply, job, where, owner=True)
    if rejected:
        return LinkAnswer("answer", render_key_rejected(key.prefix), job, where, owner=True)
    reply = _not_your_key(job, key, label, reachable=mine is not None)
    return LinkAnswer("answer", reply, job, where, owner=True)


def _not_your_key(job: ExportJob, key: UserKey, label: str, *, reachable: bool) -> Reply:
    """Their e-mail matches, but Peaka won't give their linked key this export's files."""
    shown = inline_code(key.prefix + "…", 20)
    if not reachable:
        text = (
            f":key: Your linked key {shown} can't read exports in *{label}* (a project key for "
            "another project?). Link a partner key or this project's key with "
            "`/exports connect`."
        )
    else:
        started = inline_code((job.api_key_prefix or "?") + "…", 20)
        text = (
            f":key: Peaka says your linked key {shown} doesn't own export {inline_code(job.id, 60)}"
            f" (it was started with key {started}). Link the key of the Peaka user who started "
            "it with `/exports connect`."
        )
    return Reply(text="Your linked key can't download this export.", blocks=[section(text)])


async def _find_job(
    services: Services, project_id: str, job_id: str, key: UserKey | None
) -> tuple[ExportJob, str] | None:
    """The job and the project it is in, read with the bot's key (then the user's), or None."""
    others = [p.id for p in services.projects.all if p.id != project_id]
    clients: list[PeakaClient] = [services.peaka_for()]
    if key is not None:
        clients.append(services.peaka_for(key.value))
    for client in clients:
        for candidate in (project_id, *others):
            try:
                job = await client.read_export(candidate, job_id)
            except (NotFoundError, ForbiddenError):
                continue
            except InvalidKeyError:
                if client is clients[0]:
                    raise  # the bot's own key: an admin must fix it
                break
            return job, candidate
    return None


async def deliver_answer(
    services: Services, user_id: str, answer: LinkAnswer, *, asked_in: str | None
) -> Reply | None:
    """Post links into the owner's DM; return what to answer where they asked (None: nothing).

    ``asked_in`` is the channel of the request: when it is that same DM, the links are the
    answer and nothing else is said.
    """
    if answer.kind != "links":
        metrics.COMMANDS.labels("GetLink", answer.kind).inc()
        return answer.reply
    assert answer.job is not None
    if services.slack is None:
        return render_link_failure("I can't reach Slack to DM you.", "Try again in a minute.")
    try:
        dm = await send_link_dm(services.slack, user_id, answer.reply)
    except DmError as exc:
        return render_link_failure(
            "I couldn't send you a DM with the links.",
            f"Slack said {exc.code}. Open a DM with the bot (Apps > Peaka Exports) and try again.",
        )
    metrics.COMMANDS.labels("GetLink", "links").inc()
    if asked_in == dm.channel:
        return None
    return render_sent_to_dm(answer.job.id)


async def refresh_answer(
    services: Services, user_id: str, dm: PostedDm, project_id: str, job_id: str
) -> Reply | None:
    """Refresh links: read the export again and update the DM at ``dm`` in place.

    The DM gets fresh links, or (expired, no longer yours) the reason there are none, so old
    links never linger there; a Peaka outage leaves it alone and is returned to tell the user.
    """
    answer = await answer_link_request(services, user_id, project_id, job_id)
    if answer.kind == "failure":
        return answer.reply
    if services.slack is None:
        return render_link_failure("I can't reach Slack to update the DM.", "Try again later.")
    try:
        await refresh_link_dm(services.slack, dm, answer.reply)
    except DmError as exc:
        return render_link_failure(
            "I couldn't update the links message.", f"Slack said {exc.code}. Try again."
        )
    metrics.COMMANDS.labels("RefreshLinks", answer.kind).inc()
    return None
