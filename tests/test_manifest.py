"""The Slack app manifests: valid, in step with each other, asking for exactly what the code uses.

The code is read, not run: every Slack Web API method named in bot/ (``client.chat_postMessage``,
``client.api_call("views.open")``, Bolt's ``say``) and every listener registered on ``app``
(``app.event``, ``app.message``, ``app.command``, ``app.action``/``view``/``shortcut``) is found
with ``ast``, and the manifest must match: scopes, events, slash commands, Home tab, interactivity.
"""

from __future__ import annotations

import ast
import copy
import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
import slack_sdk.web.async_client
import yaml

from bot.core.usage import USAGE
from bot.slack_scopes import (
    BOLT_HELPER_METHODS,
    EVENT_SCOPES,
    METHOD_SCOPES,
    SLASH_COMMAND_SCOPE,
    required_scopes,
)

REPO = Path(__file__).resolve().parent.parent
SCHEMA_PATHS = (
    REPO.parent / "shared" / "slack" / "manifest.schema.1.0.0.json",  # CI: shared/ beside the clone
    REPO.parent.parent / "shared" / "slack" / "manifest.schema.1.0.0.json",
)
HTTP_REQUEST_URL = "https://YOUR_HOST/slack/events"

# Bolt registrations that mean "Slack sends this app interactive payloads".
INTERACTIVE_LISTENERS = frozenset(
    {
        "action",
        "block_action",
        "block_suggestion",
        "options",
        "view",
        "view_submission",
        "view_closed",
        "shortcut",
        "global_shortcut",
        "message_shortcut",
    }
)


# --- reading the code ----------------------------------------------------------------------


def _first_str_arg(call: ast.Call, keyword: str) -> str | None:
    node: ast.expr | None = call.args[0] if call.args else None
    for kw in call.keywords:
        if kw.arg == keyword:
            node = kw.value
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def web_client_methods() -> dict[str, frozenset[str]]:
    """slack_sdk's ``AsyncWebClient`` attribute name -> the Web API methods it calls."""
    source = Path(slack_sdk.web.async_client.__file__).read_text(encoding="utf-8")
    tree = ast.parse(source)
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "AsyncWebClient")
    direct: dict[str, set[str]] = defaultdict(set)
    delegates: dict[str, set[str]] = defaultdict(set)
    for fn in cls.body:
        if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(fn):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            if not (isinstance(node.func.value, ast.Name) and node.func.value.id == "self"):
                continue
            literal = _first_str_arg(node, "api_method")
            if node.func.attr == "api_call" and literal is not None:
                direct[fn.name].add(literal)
            else:
                delegates[fn.name].add(node.func.attr)

    def resolve(name: str, seen: frozenset[str]) -> set[str]:
        found = set(direct.get(name, ()))
        for other in delegates.get(name, ()):
            if other not in seen:
                found |= resolve(other, seen | {other})
        return found

    table = {name: frozenset(resolve(name, frozenset({name}))) for name in direct | delegates}
    return {name: methods for name, methods in table.items() if methods}


WEB_CLIENT_METHODS = web_client_methods()
ALL_API_METHODS = frozenset().union(*WEB_CLIENT_METHODS.values())


@dataclass
class SlackUsage:
    """What a body of code does with Slack; each value lists where ("bot/x.py:12")."""

    methods: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    events: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    commands: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    interactive: list[str] = field(default_factory=list)
    unresolved: list[str] = field(default_factory=list)


def _on_app(func: ast.Attribute) -> bool:
    """``app.x(...)`` or ``self.app.x(...)``: the listener-registration receiver by convention."""
    receiver = func.value
    return (isinstance(receiver, ast.Name) and receiver.id == "app") or (
        isinstance(receiver, ast.Attribute) and receiver.attr == "app"
    )


def module_constants(sources: dict[str, str]) -> dict[str, set[str]]:
    """Module-level ``NAME = "text"`` across ``sources``, so ``app.command(COMMAND)`` resolves."""
    constants: dict[str, set[str]] = defaultdict(set)
    for filename, text in sources.items():
        for node in ast.parse(text, filename).body:
            if isinstance(node, ast.Assign):
                targets, value = node.targets, node.value
            elif isinstance(node, ast.AnnAssign) and node.value is not None:
                targets, value = [node.target], node.value
            else:
                continue
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                for target in targets:
                    if isinstance(target, ast.Name):
                        constants[target.id].add(value.value)
    return constants


def _string_value(node: ast.expr | None, constants: dict[str, set[str]]) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    name = node.id if isinstance(node, ast.Name) else getattr(node, "attr", None)
    values = constants.get(name or "", set())
    return next(iter(values)) if len(values) == 1 else None


def scan(sources: dict[str, str]) -> SlackUsage:
    """Find Slack calls and listener registrations in ``sources`` (file name -> Python text)."""
    usage = SlackUsage()
    constants = module_constants(sources)
    for filename, text in sorted(sources.items()):
        for node in ast.walk(ast.parse(text, filename)):
            where = f"{filename}:{getattr(node, 'lineno', '?')}"
            if isinstance(node, ast.Attribute) and node.attr in WEB_CLIENT_METHODS:
                for method in WEB_CLIENT_METHODS[node.attr]:
                    usage.methods[method].append(where)
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            if name in BOLT_HELPER_METHODS:
                for method in BOLT_HELPER_METHODS[name]:
                    usage.methods[method].append(f"{where} ({name})")
            if not isinstance(func, ast.Attribute):
                continue
            if name == "api_call":
                called = _first_str_arg(node, "api_method")
                if called is None:
                    usage.unresolved.append(f"{where}: api_call with a non-literal method name")
                else:
                    usage.methods[called].append(where)
            elif _on_app(func):
                _scan_registration(usage, name, node, where, constants)
    return usage


def _scan_registration(
    usage: SlackUsage, name: str, call: ast.Call, where: str, constants: dict[str, set[str]]
) -> None:
    first = call.args[0] if call.args else None
    if name == "message":
        usage.events["message"].append(where)
    elif name == "event":
        if isinstance(first, ast.Dict):
            keyed = dict(zip(first.keys, first.values, strict=True))
            first = next(
                (v for k, v in keyed.items() if isinstance(k, ast.Constant) and k.value == "type"),
                None,
            )
        event = _string_value(first, constants)
        if event is None:
            usage.unresolved.append(f"{where}: app.event with an event type not known statically")
        else:
            usage.events[event].append(where)
    elif name == "command":
        command = _string_value(first, constants)
        if command is None:
            usage.unresolved.append(f"{where}: app.command with a name not known statically")
        else:
            usage.commands[command].append(where)
    elif name in INTERACTIVE_LISTENERS:
        usage.interactive.append(f"{where} (app.{name})")


def bot_sources() -> dict[str, str]:
    return {
        str(path.relative_to(REPO)): path.read_text(encoding="utf-8")
        for path in sorted((REPO / "bot").rglob("*.py"))
    }


# --- the manifests ---------------------------------------------------------------------------


def load(name: str) -> dict[str, Any]:
    loaded = yaml.safe_load((REPO / name).read_text(encoding="utf-8"))
    assert isinstance(loaded, dict), f"{name} is not a YAML mapping"
    return loaded


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    return load("manifest.yaml")


@pytest.fixture(scope="module")
def usage() -> SlackUsage:
    found = scan(bot_sources())
    assert not found.unresolved, "cannot tell statically:\n" + "\n".join(found.unresolved)
    return found


@pytest.mark.parametrize("name", ["manifest.yaml", "manifest.http.yaml"])
def test_manifest_is_valid_against_slacks_schema(name: str) -> None:
    schema_path = next((p for p in SCHEMA_PATHS if p.exists()), SCHEMA_PATHS[0])
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    validator_cls = jsonschema.validators.validator_for(schema, jsonschema.Draft7Validator)
    validator_cls.check_schema(schema)
    errors = [
        f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}"
        for e in validator_cls(schema).iter_errors(load(name))
    ]
    assert not errors, f"{name} does not match Slack's manifest schema:\n" + "\n".join(errors)


def test_http_manifest_differs_only_in_transport() -> None:
    socket, http = load("manifest.yaml"), load("manifest.http.yaml")
    assert socket["settings"]["socket_mode_enabled"] is True
    assert http["settings"]["socket_mode_enabled"] is False
    stripped = copy.deepcopy(http)
    urls = [stripped["settings"]["event_subscriptions"].pop("request_url", None)]
    urls.append(stripped["settings"]["interactivity"].pop("request_url", None))
    urls += [c.pop("url", None) for c in stripped["features"]["slash_commands"]]
    assert urls == [HTTP_REQUEST_URL] * len(urls), "every HTTP request URL is the events URL"
    stripped["settings"]["socket_mode_enabled"] = True
    assert stripped == socket, "manifest.http.yaml drifted from manifest.yaml beyond transport"


def test_every_web_api_method_the_code_calls_has_scopes(usage: SlackUsage) -> None:
    missing = [
        f"{where[0]} calls Slack method {method!r}, which has no entry in "
        f"bot/slack_scopes.py METHOD_SCOPES (see docs.slack.dev/reference/methods/{method})"
        for method, where in sorted(usage.methods.items())
        if method not in METHOD_SCOPES
    ]
    assert not missing, "\n".join(missing)


def test_bot_scopes_are_exactly_the_scopes_the_code_uses(
    manifest: dict[str, Any], usage: SlackUsage
) -> None:
    declared = manifest["oauth_config"]["scopes"]["bot"]
    assert len(declared) == len(set(declared)), f"duplicate bot scopes: {declared}"
    events = manifest["settings"]["event_subscriptions"]["bot_events"]
    commands = bool(manifest["features"].get("slash_commands"))
    needed = required_scopes(usage.methods, events, slash_commands=commands)
    why: dict[str, list[str]] = defaultdict(list)
    for method, where in usage.methods.items():
        for scope in METHOD_SCOPES[method]:
            why[scope].append(f"{method} at {where[0]}")
    for event in events:
        for scope in EVENT_SCOPES[event]:
            why[scope].append(f"the {event} event")
    if commands:
        why[SLASH_COMMAND_SCOPE].append("the slash command")
    problems = [
        f"scope {s!r} is needed by {', '.join(why[s])} but manifest.yaml does not ask for it"
        for s in sorted(needed - set(declared))
    ] + [
        f"manifest.yaml asks for scope {s!r}, but no method, event or command the code uses "
        "needs it"
        for s in sorted(set(declared) - needed)
    ]
    assert not problems, "\n".join(problems)


def test_bot_events_are_exactly_the_events_the_code_listens_to(
    manifest: dict[str, Any], usage: SlackUsage
) -> None:
    events = manifest["settings"]["event_subscriptions"]["bot_events"]
    unknown = [e for e in events if e not in EVENT_SCOPES]
    assert not unknown, f"events {unknown} have no entry in bot/slack_scopes.py EVENT_SCOPES"
    subscribed_types = {e.split(".")[0] for e in events}  # message.im arrives as "message"
    unheard = sorted(subscribed_types - set(usage.events))
    assert not unheard, f"manifest subscribes to {unheard} but no app.event/app.message handles it"
    unsubscribed = {t: w for t, w in usage.events.items() if t not in subscribed_types}
    assert not unsubscribed, f"the code listens to events the manifest never sends: {unsubscribed}"


def test_slash_commands_match_the_code(manifest: dict[str, Any], usage: SlackUsage) -> None:
    declared = {c["command"] for c in manifest["features"].get("slash_commands", [])}
    assert declared == set(usage.commands), (
        f"manifest declares {sorted(declared)}, the code registers {dict(usage.commands)}"
    )


def test_usage_hint_names_only_real_verbs(manifest: dict[str, Any]) -> None:
    for command in manifest["features"]["slash_commands"]:
        forms = [part.strip() for part in command["usage_hint"].split("·")]
        verbs = [form.split()[0] for form in forms[1:]]
        assert set(verbs) <= set(USAGE), f"usage_hint names unknown verbs {set(verbs) - set(USAGE)}"


def test_app_home_and_interactivity_follow_the_code(
    manifest: dict[str, Any], usage: SlackUsage
) -> None:
    home = manifest["features"]["app_home"]
    events = manifest["settings"]["event_subscriptions"]["bot_events"]
    assert home["home_tab_enabled"] is ("views.publish" in usage.methods), (
        "home_tab_enabled must be true exactly when the code publishes a Home tab (views.publish)"
    )
    dms = "message.im" in events
    assert home["messages_tab_enabled"] is dms, "people DM the bot exactly when message.im is on"
    assert home["messages_tab_read_only_enabled"] is False
    enabled = manifest["settings"]["interactivity"]["is_enabled"]
    assert enabled or not usage.interactive, (
        f"interactivity is off, but the code handles interactions at {usage.interactive}"
    )
    assert usage.interactive or not enabled, (
        "interactivity is on, but the code registers no app.action/view/shortcut listener"
    )
    assert manifest["settings"]["org_deploy_enabled"] is False
    assert manifest["settings"]["token_rotation_enabled"] is False


def test_scope_table_names_real_methods() -> None:
    typos = sorted(set(METHOD_SCOPES) - ALL_API_METHODS)
    assert not typos, f"METHOD_SCOPES names methods slack_sdk does not know: {typos}"
    helpers = {m for methods in BOLT_HELPER_METHODS.values() for m in methods}
    assert helpers <= set(METHOD_SCOPES)
    assert required_scopes(["users.lookupByEmail"], [], slash_commands=False) == {
        "users:read",
        "users:read.email",
    }
    with pytest.raises(KeyError, match=r"chat\.scheduleMessage"):
        required_scopes(["chat.scheduleMessage"], [], slash_commands=False)


def test_scanner_finds_calls_helpers_and_listeners() -> None:
    source = """
COMMAND = "/exports"
async def handler(ack, say, respond, client):
    await ack()
    await say("hi")
    await respond("only you")
    await client.users_lookupByEmail(email="a@b.c")
    await client.api_call("views.open", json={})
    fn = client.conversations_open
def register(app):
    app.command(COMMAND)(handler)
    app.event("app_home_opened")(handler)
    app.event({"type": "message", "subtype": None})(handler)
    app.action("cancel")(handler)
    app.command(make_name())(handler)
    other.event("ignored")
"""
    found = scan({"bot/x.py": source})
    assert set(found.methods) == {
        "chat.postMessage",
        "users.lookupByEmail",
        "views.open",
        "conversations.open",
    }
    assert found.methods["chat.postMessage"] == ["bot/x.py:5 (say)"]
    assert set(found.events) == {"app_home_opened", "message"}
    assert set(found.commands) == {"/exports"}
    assert found.interactive == ["bot/x.py:14 (app.action)"]
    assert found.unresolved == ["bot/x.py:15: app.command with a name not known statically"]
