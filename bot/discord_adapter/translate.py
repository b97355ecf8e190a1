"""What Discord sends, translated into copybot's platform-neutral terms. Pure: no I/O.

Slash commands arrive as the raw interaction ``data`` (``Interaction.data``: command name, options,
resolved attachments); reactions as discord.py's ``RawReactionActionEvent``, a one-to-one parse of the
gateway payload. A Discord guild is the workspace; ids become strings.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import discord

from bot.commands import Command, CopyCommand, from_reviews_option, parse_command
from bot.flow.verdicts import verdict_for_emoji
from engine import CopyRequest, Feedback, Origin, UserError

PLATFORM = "discord"
AUTOCOMPLETE_LIMIT = 25  # Discord shows at most 25 choices
REVIEW_FILE_SUFFIXES = (".csv", ".tsv", ".txt")
# Refused before downloading; the engine checks what the file holds.
MAX_REVIEW_FILE_BYTES = 25 * 1024 * 1024
_CHANNEL_MENTION = re.compile(r"^<#(\d+)>$")


@dataclass(frozen=True)
class AttachmentRef:
    """A file attached to a slash command, not yet downloaded."""

    filename: str
    size: int
    url: str


@dataclass(frozen=True)
class Invocation:
    command: Command
    attachment: AttachmentRef | None = None  # /reviews file: the adapter downloads it into the command


def role_ids(member: Any) -> tuple[str, ...]:
    """A guild member's role ids (not @everyone); a plain ``User`` (no guild) has none."""
    return tuple(str(role.id) for role in getattr(member, "roles", ()) if not role.is_default())


def origin_for(guild_id: int | None, channel_id: int | None, user_id: int,
               roles: Iterable[str] = ()) -> Origin:
    return Origin(platform=PLATFORM, workspace=str(guild_id or ""), channel=str(channel_id or ""),
                  user=str(user_id), roles=tuple(roles))


def channel_id(text: str, channels_by_name: Mapping[str, int]) -> int | None:
    """A channel as people write it in settings ("<#123>" as Discord inserts it, "123",
    "#marketing" or "marketing") -> its id; ``None`` when no such channel is known."""
    text = text.strip()
    if mention := _CHANNEL_MENTION.match(text):
        return int(mention.group(1))
    if text.isascii() and text.isdigit():
        return int(text)
    return channels_by_name.get(text.lstrip("#").lower())


def _options(data: Mapping[str, Any]) -> dict[str, Any]:
    return {option["name"]: option["value"] for option in data.get("options") or ()
            if "value" in option}


def review_file(raw: Mapping[str, Any]) -> AttachmentRef:
    """Check an attachment is a review file worth downloading; ``UserError`` says why not."""
    filename = str(raw.get("filename") or "")
    size = int(raw.get("size") or 0)
    content_type = str(raw.get("content_type") or "")
    if not (filename.lower().endswith(REVIEW_FILE_SUFFIXES) or content_type.startswith("text/")):
        raise UserError(f"{filename or 'That file'} is not a CSV or text file; attach reviews as "
                        ".csv, .tsv or .txt.")
    if size > MAX_REVIEW_FILE_BYTES:
        raise UserError(f"{filename} is {size / 1048576:.0f} MB; review files can be at most "
                        f"{MAX_REVIEW_FILE_BYTES // 1048576} MB.")
    return AttachmentRef(filename=filename, size=size, url=str(raw["url"]))


def command_from_interaction(data: Mapping[str, Any]) -> Invocation:
    """A slash command's raw ``data`` -> the command it asks for. Raises ``UserError``."""
    name = str(data.get("name", ""))
    options = _options(data)
    if name == "copy":
        # Typed options need no parsing: Discord already split them, so a colon in the
        # description is just a colon.
        return Invocation(CopyCommand(CopyRequest(
            product=str(options.get("product", "")),
            tone=options.get("tone"),
            audience=options.get("audience"),
            ad_channel=options.get("channel"),
            length=options.get("length"),
            language=options.get("language"),
            n=int(options.get("n", 3)),
            from_reviews=from_reviews_option(options.get("from")),
        )))
    if name == "reviews":
        command = parse_command("reviews", str(options.get("text", "")))
        if "column" in options:
            command = replace(command, column=str(options["column"]))
        attachment = None
        if "file" in options:
            resolved = (data.get("resolved") or {}).get("attachments") or {}
            raw = resolved.get(str(options["file"]))
            if raw is None:
                raise UserError("The attached file did not arrive; attach it again.")
            attachment = review_file(raw)
        return Invocation(command, attachment)
    # The other commands take the same text as in the console, in one text option.
    return Invocation(parse_command(name, " ".join(str(value) for value in options.values())))


def reviews_from_form(text: str) -> Invocation:
    """Reviews pasted into the /reviews form (a multi-line box), one per line."""
    return Invocation(parse_command("reviews", text))


def matching_presets(names: Iterable[str], typed: str, limit: int = AUTOCOMPLETE_LIMIT) -> list[str]:
    """Autocomplete choices: names starting with what was typed first, then names containing it."""
    typed = typed.strip().lower()
    names = list(names)
    starts = [name for name in names if name.lower().startswith(typed)]
    contains = [name for name in names if typed in name.lower() and name not in starts]
    return (starts + contains)[:limit]


def reaction_record(event: discord.RawReactionActionEvent) -> dict[str, Any]:
    """What the journal keeps of a reaction event (JSON), enough to act on it after a restart."""
    return {
        "type": event.event_type,  # REACTION_ADD or REACTION_REMOVE
        "guild_id": event.guild_id, "channel_id": event.channel_id,
        "message_id": event.message_id, "user_id": event.user_id,
        "emoji": {"name": event.emoji.name, "id": event.emoji.id},
        "roles": list(role_ids(event.member)),
    }


def record_origin(record: Mapping[str, Any]) -> Origin:
    """Who reacted where, from a ``reaction_record``."""
    return origin_for(record["guild_id"], record["channel_id"], record["user_id"], record["roles"])


def feedback_from_record(record: Mapping[str, Any], settings: Mapping[str, str]) -> Feedback | None:
    """A reaction added or removed -> approval/rejection of the message it is on, or ``None``
    for an emoji that is neither. Whether the message is a variant is the engine's to say."""
    verdict = verdict_for_emoji(record["emoji"]["name"], settings)
    if verdict is None:
        return None
    return Feedback(record_origin(record), verdict, added=record["type"] == "REACTION_ADD",
                    message=str(record["message_id"]))


def reaction_key(emoji: Mapping[str, Any]) -> str:
    """An emoji of a message's ``reactions`` as the reactions route names it: the character, or
    ``name:id`` for a server's custom emoji."""
    return str(emoji["name"]) if not emoji.get("id") else f"{emoji['name']}:{emoji['id']}"


def interaction_record(interaction: discord.Interaction, *, private: bool,
                       form_text: str | None = None) -> dict[str, Any]:
    """What the journal keeps of a slash command or form (JSON): enough to rebuild the
    interaction (its follow-up token lives 15 minutes) and the command after a restart."""
    channel = interaction.channel
    return {
        "interaction": {
            "id": str(interaction.id), "type": interaction.type.value, "token": interaction.token,
            "version": interaction.version, "application_id": str(interaction.application_id),
            "guild_id": None if interaction.guild_id is None else str(interaction.guild_id),
            "channel_id": str(interaction.channel_id),
            # As a plain text channel (a thread's id works the same for posting): rebuilt before
            # the guild is cached, discord.py makes the channel from this alone.
            "channel": {"id": str(interaction.channel_id), "type": 0, "position": 0,
                        "name": str(getattr(channel, "name", None) or "")},
            "attachment_size_limit": interaction.filesize_limit,
            "data": interaction.data,
        },
        "user_id": interaction.user.id,
        "roles": list(role_ids(interaction.user)),
        "private": private,
        "form_text": form_text,  # the /reviews form's text; None for a slash command
    }


def invocation_from_record(record: Mapping[str, Any]) -> Invocation:
    if record["form_text"] is not None:
        return reviews_from_form(record["form_text"])
    return command_from_interaction(record["interaction"]["data"] or {})


def interaction_origin(record: Mapping[str, Any]) -> Origin:
    raw = record["interaction"]
    return origin_for(raw["guild_id"], raw["channel_id"], record["user_id"], record["roles"])


_OWN_MENTION = "<@{id}>", "<@!{id}>"


def message_record(message: discord.Message, bot_id: int | None) -> dict[str, Any]:
    """What the journal keeps of a message written to copybot (JSON): enough to answer it after a
    restart. The text is without copybot's mention; other people's mentions stay."""
    content = message.content or ""
    if bot_id is not None:
        for form in _OWN_MENTION:
            content = content.replace(form.format(id=bot_id), " ")
    reference = message.reference.message_id if message.reference is not None else None
    return {
        "message_id": message.id, "channel_id": message.channel.id,
        "guild_id": None if message.guild is None else message.guild.id,
        "user_id": message.author.id, "roles": list(role_ids(message.author)),
        "text": " ".join(content.split()), "reference": reference,
        # A thread copybot made on a request's header: replies there are turns.
        "in_thread": isinstance(message.channel, discord.Thread),
        "direct": message.guild is None,
    }


def message_origin(record: Mapping[str, Any]) -> Origin:
    return origin_for(record["guild_id"] or record["channel_id"], record["channel_id"],
                      record["user_id"], record["roles"])


# --- buttons under variants (message components) ----------------------------------------------

BUTTON_ACTIONS = ("approve", "reject", "shorter", "like")
BUTTON_ID = re.compile(r"copybot:(?P<action>approve|reject|shorter|like):(?P<variant>[0-9]{1,18})")
_COMPONENT_INTERACTION = 3
_BUTTON = 2


@dataclass(frozen=True)
class ButtonPress:
    """A press of one of the buttons under a variant message."""

    origin: Origin  # origin.channel is where the variant message is
    guild_id: int | None  # None in a DM
    interaction_id: str  # the journal key: the same when Discord delivers the press again
    action: str  # one of BUTTON_ACTIONS
    variant_id: int  # the variant the button names
    message: str  # the id of the message the button is on
    content: str  # that message's text as Discord has it now (the tally is redrawn in it)
    by_bot: bool


def button_id(action: str, variant_id: int) -> str:
    """A variant button's ``custom_id``: stable, so a press works after any restart."""
    return f"copybot:{action}:{variant_id}"


def _presser(payload: Mapping[str, Any]) -> tuple[Mapping[str, Any], tuple[str, ...]]:
    """Who pressed: in a server ``member.user`` (with roles), in a DM ``user``."""
    member = payload.get("member") or {}
    user = member.get("user") or payload.get("user") or {}
    return user, tuple(str(role) for role in member.get("roles") or ())


def button_press(payload: Mapping[str, Any]) -> ButtonPress | None:
    """An INTERACTION_CREATE (or its ``press_record``) from one of copybot's variant buttons;
    ``None`` for any other interaction."""
    data = payload.get("data") or {}
    if payload.get("type") != _COMPONENT_INTERACTION or data.get("component_type") != _BUTTON:
        return None
    match = BUTTON_ID.fullmatch(str(data.get("custom_id") or ""))
    message = payload.get("message") or {}
    user, roles = _presser(payload)
    if match is None or not message.get("id") or not user.get("id"):
        return None
    channel = payload.get("channel_id") or message.get("channel_id")
    guild = payload.get("guild_id")
    # As for messages: a DM (no guild) is a workspace of its own, the DM channel.
    origin = origin_for(guild or channel, channel, int(user["id"]), roles)
    return ButtonPress(origin, None if guild is None else int(guild), str(payload["id"]),
                       match["action"], int(match["variant"]), str(message["id"]),
                       str(message.get("content") or ""), bool(user.get("bot")))


def press_record(interaction: discord.Interaction) -> dict[str, Any]:
    """What the journal keeps of a button press (JSON): the INTERACTION_CREATE fields that
    ``button_press`` reads, in Discord's own shape, and what rebuilds the interaction for a
    private answer (its token lives 15 minutes)."""
    user = interaction.user
    presser = {"id": str(user.id), "bot": bool(user.bot)}
    message = interaction.message
    record = interaction_record(interaction, private=True)["interaction"]
    record["message"] = {"id": str(message.id), "channel_id": str(message.channel.id),
                         "content": message.content} if message is not None else None
    if interaction.guild_id is None:
        record["user"] = presser
    else:
        record["member"] = {"user": presser, "roles": list(role_ids(user))}
    return record


def followup_interaction(record: Mapping[str, Any]) -> dict[str, Any]:
    """A ``press_record`` as discord.py rebuilds an interaction from it (without the message and
    the person, whose full payloads the journal does not keep): enough to answer privately."""
    return {key: value for key, value in record.items() if key not in ("message", "member", "user")}
