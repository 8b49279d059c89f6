"""Download links by DM: owner-only, always fresh, never in a channel.

- Ownership (pure): :func:`decide_link_access` (is this Slack user the job's owner?) and
  :func:`choose_key` (which key may fetch their links).
- Keys: ``/exports connect`` checks a pasted Peaka key and stores it encrypted
  (:func:`submit_connect`, :func:`user_key`, :func:`forget_key`); start-up refuses to run
  with linking on and no usable BOT_ENCRYPTION_KEY (:func:`check_linking_settings`).
- Links: :func:`answer_link_request` decides what someone asking for a job's links gets,
  :func:`deliver_answer` posts links into the owner's DM (``send_link_dm``) and
  :func:`refresh_answer` updates that DM in place (``refresh_link_dm``).
- Proactive DMs after each poll cycle: :mod:`bot.links.proactive`.
"""

from __future__ import annotations

from bot.links._connect import open_connect_modal, submit_connect
from bot.links._delivery import DmError, PostedDm, open_dm, refresh_link_dm, send_dm, send_link_dm
from bot.links._dm_text import DmLinkRequest, DmUnclear, parse_dm_text
from bot.links._flow import LinkAnswer, answer_link_request, deliver_answer, refresh_answer
from bot.links._keys import (
    KeyCheck,
    KeyUnreadableError,
    UserKey,
    check_linking_settings,
    clean_key_text,
    forget_key,
    key_cipher,
    remember_key,
    user_key,
    validate_key,
)
from bot.links._replies import ACTION_CONNECT, CONNECT_BLOCK, CONNECT_CALLBACK, CONNECT_INPUT
from bot.links._rules import (
    KEY_PREFIX_LENGTH,
    Access,
    KeyChoice,
    choose_key,
    decide_link_access,
    key_prefix,
    same_email,
)

__all__ = [
    "ACTION_CONNECT",
    "CONNECT_BLOCK",
    "CONNECT_CALLBACK",
    "CONNECT_INPUT",
    "KEY_PREFIX_LENGTH",
    "Access",
    "DmError",
    "DmLinkRequest",
    "DmUnclear",
    "KeyCheck",
    "KeyChoice",
    "KeyUnreadableError",
    "LinkAnswer",
    "PostedDm",
    "UserKey",
    "answer_link_request",
    "check_linking_settings",
    "choose_key",
    "clean_key_text",
    "decide_link_access",
    "deliver_answer",
    "forget_key",
    "key_cipher",
    "key_prefix",
    "open_connect_modal",
    "open_dm",
    "parse_dm_text",
    "refresh_answer",
    "refresh_link_dm",
    "remember_key",
    "same_email",
    "send_dm",
    "send_link_dm",
    "submit_connect",
    "user_key",
    "validate_key",
]
