"""Slack payloads -> the platform-neutral Origin, Command and Feedback. Pure: no I/O, no clock.

A Slack workspace is its team id (an Enterprise Grid org-wide install reports the team the event
happened in), so two workspaces never share a store key even when the same bot token serves both.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any, Mapping

from bot.commands import Command, ReviewsCommand, parse_command
from bot.slack_adapter.emoji import canonical, canonical_set
from engine import Feedback, Origin, UserError, Verdict

PLATFORM = "slack"
# `/copybot <command> …` reaches every command of the grammar (`/copybot settings`, `/copybot help`)
# without claiming generic slash-command names a workspace's other apps may already use.
UMBRELLA_COMMAND = "copybot"
MENTION_HINT = ("Mention me in a message with a CSV or text file of reviews attached (you may add "
                "column: <name>), or write reviews after the word reviews; for copy use /copy.")

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
    origin: Origin
    event_id: str
    thread: str  # ts to answer under: the mention's thread, or the mention itself
    command: ReviewsCommand
    file: SharedFile | None


def workspace_id(body: Payload) -> str:
    """The team id of a slash command or an Events API envelope."""
    team = body.get("team_id") or body.get("context_team_id")
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


def verdict_for(emoji: str, settings: Mapping[str, str]) -> Verdict | None:
    """What a reaction means under a workspace's approve/reject emoji settings (``None``: nothing)."""
    name = canonical(emoji)
    approves = name in canonical_set(settings.get("approve_emoji", ""))
    rejects = name in canonical_set(settings.get("reject_emoji", ""))
    if approves == rejects:  # neither, or configured as both: it says nothing we can use
        return None
    return Verdict.APPROVE if approves else Verdict.REJECT


def feedback(reaction_event: Reaction, settings: Mapping[str, str]) -> Feedback | None:
    verdict = verdict_for(reaction_event.emoji, settings)
    if verdict is None:
        return None
    return Feedback(reaction_event.origin, verdict, added=reaction_event.added,
                    message=reaction_event.message)


def feedback_from_reaction(body: Payload, settings: Mapping[str, str]) -> Feedback | None:
    """A reaction envelope -> approval/rejection added or withdrawn, or ``None`` if it is neither."""
    event = reaction(body)
    return None if event is None else feedback(event, settings)


def holds_verdict(reactions_get: Payload, user: str, verdict: Verdict,
                  settings: Mapping[str, str]) -> bool:
    """Does ``user`` have, right now, a reaction on the message that gives ``verdict``? Feedback
    follows this, not the event: ✅ and 👍 both approve, so removing one of them keeps the
    approval, and an add delivered after its remove leaves nothing."""
    message = reactions_get.get("message") or {}
    return any(user in (r.get("users") or ()) and verdict_for(str(r.get("name", "")), settings) is verdict
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


def mention(body: Payload, bot_user: str | None) -> Mention:
    """An app_mention envelope -> a /reviews request (a shared file, or reviews typed after the word
    "reviews"). Raises ``UserError`` with a hint for any other mention."""
    event = body["event"]
    text = str(event.get("text") or "")
    # Drop the mention of this bot; other people's mentions are part of what was written.
    text = _USER_MENTION.sub(lambda m: "" if bot_user in (None, m.group(1)) else m.group(0), text)
    word, rest = _split_first_word(text)
    asked_for_reviews = word.lower().lstrip("/") == "reviews"
    if asked_for_reviews:
        text = rest
    files = [_shared_file(raw) for raw in event.get("files") or ()]
    if not files and not (asked_for_reviews and text.strip()):
        raise UserError(MENTION_HINT)
    command = parse_command("reviews", text)
    assert isinstance(command, ReviewsCommand)
    return Mention(
        origin=event_origin(body),
        event_id=str(body["event_id"]),
        thread=str(event.get("thread_ts") or event["ts"]),
        command=command,
        file=files[0] if files else None,
    )
