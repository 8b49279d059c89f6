"""Which Slack OAuth bot scopes the bot needs, and why: one entry per thing it does.

``manifest.yaml`` must ask for exactly ``required_scopes(...)`` of what the code calls and
listens to; ``tests/test_manifest.py`` reads the code to find that out, so a new Web API call
without an entry here, or a scope nothing uses any more, fails the tests.

Sources: each method's "Scopes" fact on docs.slack.dev/reference/methods/<method>, each scope's
"Compatible API methods" on docs.slack.dev/reference/scopes/<scope>, and each event's
"Required Scopes" on docs.slack.dev/reference/events/<event>.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = [
    "BOLT_HELPER_METHODS",
    "EVENT_SCOPES",
    "METHOD_SCOPES",
    "SLASH_COMMAND_SCOPE",
    "required_scopes",
]

# Web API method -> the bot-token scopes it needs (all of them; an empty tuple needs none).
METHOD_SCOPES: dict[str, tuple[str, ...]] = {
    # chat:write covers posting, ephemeral replies, and editing/deleting the bot's own
    # messages. Posting works only where the bot is a member; chat:write.public is not asked
    # for, so a channel must /invite the bot before it can get alerts.
    "chat.postMessage": ("chat:write",),
    "chat.postEphemeral": ("chat:write",),
    "chat.update": ("chat:write",),
    "chat.delete": ("chat:write",),
    "chat.getPermalink": (),
    # A 1:1 DM with one user (owner-only download links). mpim:write is not a bot-token
    # scope, so group DMs are out of reach anyway.
    "conversations.open": ("im:write",),
    # Re-finding the bot's own messages by their metadata after a crash between posting and
    # logging: channel alerts (public and private channels) and owner DMs. Never group DMs,
    # so no mpim:history. A bot token reads only conversations the bot is a member of.
    "conversations.history": ("channels:history", "groups:history", "im:history"),
    "conversations.replies": ("channels:history", "groups:history", "im:history"),
    # Channel details (name, is_member) for `subscribe`, public and private channels alike.
    "conversations.info": ("channels:read", "groups:read"),
    # The bot reads users only to match them to Peaka job owners by email, and Slack leaves
    # `profile.email` out of users.info unless users:read.email is granted too.
    "users.info": ("users:read", "users:read.email"),
    # Slack: users:read.email "must be requested at the same time as users:read".
    "users.lookupByEmail": ("users:read", "users:read.email"),
    "bots.info": ("users:read",),
    "team.info": ("team:read",),
    "reactions.add": ("reactions:write",),
    # Views (modals and the Home tab) and the token check need no scope.
    "views.open": (),
    "views.push": (),
    "views.update": (),
    "views.publish": (),
    "auth.test": (),
}

# Bolt's listener helpers -> the Web API methods they call. ``say`` posts with chat.postMessage;
# ``respond`` posts to the interaction's response_url (a webhook, no token, no scope); ``ack``
# is the HTTP/Socket Mode reply to Slack itself.
BOLT_HELPER_METHODS: dict[str, tuple[str, ...]] = {
    "say": ("chat.postMessage",),
    "respond": (),
    "ack": (),
}

# Events API subscription -> the scopes Slack requires to deliver it.
EVENT_SCOPES: dict[str, tuple[str, ...]] = {
    "message.im": ("im:history",),
    "app_home_opened": (),
}

# Any slash command (or shortcut) in the manifest needs this one scope.
SLASH_COMMAND_SCOPE = "commands"


def required_scopes(
    methods: Iterable[str], events: Iterable[str], *, slash_commands: bool
) -> frozenset[str]:
    """The bot scopes needed to call ``methods``, receive ``events`` and offer slash commands.

    Raises KeyError naming the first method or event that has no entry here.
    """
    scopes: set[str] = set()
    for method in methods:
        if method not in METHOD_SCOPES:
            raise KeyError(f"Slack method {method!r} has no entry in METHOD_SCOPES")
        scopes.update(METHOD_SCOPES[method])
    for event in events:
        if event not in EVENT_SCOPES:
            raise KeyError(f"Slack event {event!r} has no entry in EVENT_SCOPES")
        scopes.update(EVENT_SCOPES[event])
    if slash_commands:
        scopes.add(SLASH_COMMAND_SCOPE)
    return frozenset(scopes)
