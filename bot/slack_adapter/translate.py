"""Slack payloads -> the platform-neutral Origin, Command and Feedback. Pure: no I/O, no clock.

A Slack workspace is its team id (an Enterprise Grid org-wide install reports the team the event
happened in), so two workspaces never share a store key even when the same bot token serves both.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.commands import Command, ReviewsCommand, parse_command
from bot.flow.verdicts import verdict_for_emoji
from engine import Feedback, Origin, Verdict

PLATFORM = "slack"
# `/copybot <command> …` reaches every command of the grammar (`/copybot settings`, `/copybot help`)
# without claiming generic slash-command names a workspace's other apps may already use.
UMBRELLA_COMMAND = "copybot"
# The slash commands the app registers (deploy/slack-manifest.yml declares exactly these).
SLASH_COMMANDS = ("/copy", "/reviews", f"/{UMBRELLA_COMMAND}")
# What the buttons under a variant do; their action_id is "copybot_<action>", their value the variant.
BUTTON_ACTIONS = ("approve", "reject", "shorter", "like")
ACTION_PREFIX = "copybot_"

_FIRST_WORD = re.compile(r"\s*(\S+)[ \t]*\n?(.*)", re.DOTALL)
_USER_MENTION = re.compile(r"<@([A-Z0-9]+)(?:\|[^>]*)?>")

Payload = Mapping[str, Any]


@dataclass(frozen=True)
class SlashCommand:
    origin: Origin
    command: Command


@dataclass(frozen=True)
class Reaction:
    origin: Origin  # origin.channel is where the reacted-to message is
    event_id: str
    emoji: str  # as Slack sent it, e.g. "+1::skin-tone-2"
    message: str  # the message's ts
    added: bool  # False for reaction_removed


@dataclass(frozen=True)
class SharedFile:
    id: str
    name: str
    url: str | None  # None when the app may not see the file (no files:read)
    size: int
    filetype: str
    mimetype: str


@dataclass(frozen=True)
class Mention:
    """A message addressed to copybot: an app mention, a DM, or a reply in one of its threads."""

    origin: Origin
    event_id: str
    thread: str  # ts to answer under: the mention's thread, or the mention itself
    command: ReviewsCommand | None  # reviews to summarise; None: copy (a request or a turn)
    file: SharedFile | None
    text: str = ""  # what was written, without the mention of copybot
    in_thread: str | None = None  # the thread it was written in; None at the top level
    direct: bool = False  # a DM


@dataclass(frozen=True)
class Button:
    """A press of one of the buttons under a variant message (Block Kit ``block_actions``)."""

    origin: Origin  # origin.channel is where the variant message is
    action: str  # one of BUTTON_ACTIONS
    variant_id: int
    message: str  # the variant message's ts
    thread: str | None  # the thread it is in
    blocks: list  # the message's blocks as Slack has them now (the tally is redrawn in them)
    text: str


def workspace_id(body: Payload) -> str:
    """The team id of a slash command or an Events API envelope."""
    team = (body.get("team_id") or body.get("context_team_id")
            or (body.get("team") or {}).get("id") or (body.get("user") or {}).get("team_id"))
    if not team:
        for authorization in body.get("authorizations") or ():
            team = authorization.get("team_id")
            if team:
                break
    team = team or body.get("enterprise_id")
    if not team:
        raise ValueError("Slack payload names no team")
    return str(team)


def _split_first_word(text: str) -> tuple[str, str]:
    match = _FIRST_WORD.match(text)
    if not match:
        return "", ""
    return match.group(1), match.group(2)


def command_origin(body: Payload) -> Origin:
    """Who typed a slash command, and where."""
    return Origin(PLATFORM, workspace_id(body), str(body["channel_id"]), str(body["user_id"]))


def slash_command(body: Payload) -> SlashCommand:
    """A slash command's form fields -> who asked where, and the parsed command (or UserError)."""
    origin = command_origin(body)
    name = str(body["command"]).lstrip("/").lower()
    text = str(body.get("text") or "")
    if name == UMBRELLA_COMMAND:
        word, text = _split_first_word(text)
        name = word.lstrip("/") or "help"
    return SlashCommand(origin, parse_command(name, text))


def command_id(body: Payload) -> str:
    """The id that names one invocation of a slash command: Slack's ``trigger_id`` (new for every
    invocation; the same in a replay, an HTTP retry or a repeated Socket Mode envelope)."""
    trigger = body.get("trigger_id")
    if trigger:
        return f"trigger:{trigger}"
    fields = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return "command:" + hashlib.sha256(fields.encode()).hexdigest()


def by_bot(body: Payload) -> bool:
    """True for an event another app's bot caused: a bot's reaction is not a person's verdict."""
    event = body.get("event") or {}
    return bool(event.get("bot_id") or event.get("bot_profile") or event.get("subtype") == "bot_message")


def event_origin(body: Payload) -> Origin:
    """Who did what where, for events whose ``event`` has ``user`` and ``channel``."""
    event = body["event"]
    return Origin(PLATFORM, workspace_id(body), str(event["channel"]), str(event["user"]))


def reaction(body: Payload) -> Reaction | None:
    """A reaction_added/reaction_removed envelope; ``None`` for reactions to files and the like."""
    event = body.get("event") or {}
    if event.get("type") not in ("reaction_added", "reaction_removed"):
        return None
    item = event.get("item") or {}
    if item.get("type") != "message" or not item.get("channel") or not item.get("ts"):
        return None
    origin = Origin(PLATFORM, workspace_id(body), str(item["channel"]), str(event["user"]))
    return Reaction(origin, str(body["event_id"]), str(event["reaction"]), str(item["ts"]),
                    added=event["type"] == "reaction_added")


def feedback(reaction_event: Reaction, settings: Mapping[str, str]) -> Feedback | None:
    verdict = verdict_for_emoji(reaction_event.emoji, settings)
    if verdict is None:
        return None
    return Feedback(reaction_event.origin, verdict, added=reaction_event.added,
                    message=reaction_event.message)


def holds_verdict(reactions_get: Payload, user: str, verdict: Verdict,
                  settings: Mapping[str, str]) -> bool:
    """Does ``user`` have, right now, a reaction on the message that gives ``verdict``? Feedback
    follows this, not the event: ✅ and 👍 both approve, so removing one of them keeps the
    approval, and an add delivered after its remove leaves nothing."""
    message = reactions_get.get("message") or {}
    return any(user in (r.get("users") or ()) and verdict_for_emoji(str(r.get("name", "")), settings) is verdict
               for r in message.get("reactions") or ())


def _shared_file(raw: Payload) -> SharedFile:
    return SharedFile(
        id=str(raw.get("id", "")),
        name=str(raw.get("name") or raw.get("title") or "file"),
        url=raw.get("url_private_download") or raw.get("url_private"),
        size=int(raw.get("size") or 0),
        filetype=str(raw.get("filetype") or ""),
        mimetype=str(raw.get("mimetype") or ""),
    )


def _without_own_mention(text: str, bot_user: str | None) -> str:
    # Drop the mention of this bot; other people's mentions are part of what was written.
    return _USER_MENTION.sub(lambda m: "" if bot_user in (None, m.group(1)) else m.group(0), text)


def mention(body: Payload, bot_user: str | None) -> Mention:
    """An app_mention, or a message event ``message`` accepted, -> what it asks: reviews (a
    shared file, or reviews typed after the word "reviews"), or copy (``command`` None)."""
    event = body["event"]
    text = _without_own_mention(str(event.get("text") or ""), bot_user)
    word, rest = _split_first_word(text)
    asked_for_reviews = word.lower().lstrip("/") == "reviews"
    files = [_shared_file(raw) for raw in event.get("files") or ()]
    command = None
    if files or (asked_for_reviews and rest.strip()):
        parsed = parse_command("reviews", rest if asked_for_reviews else text)
        assert isinstance(parsed, ReviewsCommand)
        command = parsed
    in_thread = event.get("thread_ts")
    return Mention(
        origin=event_origin(body),
        event_id=str(body["event_id"]),
        thread=str(in_thread or event["ts"]),
        command=command,
        file=files[0] if files else None,
        text=" ".join(text.split()) if command is None else "",
        in_thread=None if in_thread is None else str(in_thread),
        direct=event.get("channel_type") == "im",
    )


# Message subtypes that are someone writing; the rest (edits, deletions, joins, bot posts) are not.
_WRITTEN = (None, "file_share", "thread_broadcast")


def message(body: Payload, bot_user: str | None) -> Mention | None:
    """A ``message`` event copybot should read, or ``None``: only a person's new message, in a DM
    or as a reply in a thread; never a bot's (copybot's own included), an edit or a join, nor a
    channel message that mentions copybot (its app_mention event carries it)."""
    event = body.get("event") or {}
    if event.get("type") != "message" or event.get("subtype") not in _WRITTEN:
        return None
    if by_bot(body) or not event.get("user") or event.get("user") == bot_user:
        return None
    direct = event.get("channel_type") == "im"
    if not direct:
        if not event.get("thread_ts") or event.get("thread_ts") == event.get("ts"):
            return None
        if bot_user and f"<@{bot_user}" in str(event.get("text") or ""):
            return None
    return mention(body, bot_user)


def button(body: Payload) -> Button | None:
    """A block_actions payload from one of copybot's variant buttons; ``None`` for anything else."""
    actions = body.get("actions") or ()
    container = body.get("container") or {}
    if body.get("type") != "block_actions" or len(actions) != 1 or container.get("type") != "message":
        return None
    action = str(actions[0].get("action_id", "")).removeprefix(ACTION_PREFIX)
    value = str(actions[0].get("value", ""))
    if action not in BUTTON_ACTIONS or not value.isascii() or not value.isdigit():
        return None
    message_body = body.get("message") or {}
    channel = str(container.get("channel_id") or (body.get("channel") or {}).get("id") or "")
    origin = Origin(PLATFORM, workspace_id(body), channel, str((body.get("user") or {})["id"]))
    thread = container.get("thread_ts") or message_body.get("thread_ts")
    return Button(origin, action, int(value), str(container["message_ts"]),
                  None if thread is None else str(thread), list(message_body.get("blocks") or []),
                  str(message_body.get("text") or ""))


def action_id(body: Payload) -> str:
    """The journal key of one button press: its ``trigger_id`` (the same in a resent payload)."""
    trigger = body.get("trigger_id")
    if trigger:
        return f"action:{trigger}"
    fields = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return "action:" + hashlib.sha256(fields.encode()).hexdigest()
