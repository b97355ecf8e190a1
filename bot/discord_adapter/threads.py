"""Copy in Discord threads: a mention or a DM starts a request, its variants go in a thread made
on the header (as replies where no thread can be made: a DM, a channel without the permission),
and messages there that mention copybot (or reply to one of its messages, pinging it) are turns.

Without the privileged ``message_content`` intent Discord sends a bot the text of DMs, of messages
that mention it and of replies that ping it, and nothing else: the turns are designed around
that. With the intent (``COPYBOT_DISCORD_MESSAGE_CONTENT=on``) any message in copybot's own
threads is a turn.
"""

from __future__ import annotations

import logging
from typing import Any

import discord

from bot.conversation import parse_request, parse_turn
from bot.discord_adapter import render, translate
from bot.discord_adapter.delivery import edit_message, send_extras
from bot.flow.live import LiveCopy
from bot.flow.runs import run_request, run_turn
from engine import CopyResult, Engine, Origin, Refinement, Thread

logger = logging.getLogger(__name__)

THREAD_NAME_CHARS = 90  # Discord allows 100


class DiscordThreads:
    def __init__(self, client: discord.Client, engine: Engine, stream_interval: float) -> None:
        self.client = client
        self.engine = engine
        self.stream_interval = stream_interval

    async def conversation_of(self, record: dict) -> int | None:
        origin = translate.message_origin(record)
        channel = str(record["channel_id"])
        reference = None if record["reference"] is None else str(record["reference"])
        found = await self.engine.conversation(origin, Thread(channel, channel))
        if found is None and reference is not None:  # a reply to a header or a variant
            found = await self.engine.conversation(origin, Thread(channel, reference),
                                                   replied_to=reference)
        return found

    def _live(self, channel: discord.abc.Messageable, n: int, header: render.Outgoing,
              reply_to: int, thread_name: str | None) -> tuple[LiveCopy, dict]:
        """The header as a reply to the person's message, then a thread on it (when
        ``thread_name`` and the channel allow), the variants in the thread or as replies."""
        where: dict[str, Any] = {}

        async def create(message: render.Outgoing) -> discord.Message:
            extras = send_extras(message)
            if "header" not in where:
                reference = discord.MessageReference(message_id=reply_to, channel_id=channel.id,
                                                     fail_if_not_exists=False)
                posted = await channel.send(message.content, reference=reference, **extras)
                where["header"] = posted
                where["target"] = channel
                if thread_name:
                    try:
                        where["target"] = await posted.create_thread(name=thread_name)
                    except (discord.HTTPException, ValueError) as exc:
                        logger.info("no thread on the header (%s); variants go as replies", exc)
                return posted
            if where["target"] is channel:
                reference = where["header"].to_reference(fail_if_not_exists=False)
                return await channel.send(message.content, reference=reference, **extras)
            return await where["target"].send(message.content, **extras)

        async def delete(posted: discord.Message) -> None:
            await posted.delete()

        live = LiveCopy(n, create=create, edit=edit_message, delete=delete,
                        render_preview=render.preview_message, header=header,
                        message_interval=0.0, channel_interval=self.stream_interval)
        return live, where

    @staticmethod
    def location(message: discord.Message) -> tuple[str, str]:
        return str(message.channel.id), str(message.id)

    def channel_for(self, channel_id: int, guild_id: int | None) -> discord.abc.Messageable:
        """Where to post in ``channel_id``: the cached channel (a thread there can be made) or,
        in a DM or before the guild is cached, a partial one."""
        partial = self.client.get_partial_messageable(channel_id, guild_id=guild_id)
        return (self.client.get_channel(channel_id) or partial) if guild_id is not None else partial

    async def turn(self, origin: Origin, conversation: int, turn: Refinement,
                   channel: discord.abc.Messageable, reply_to: int) -> list[discord.Message]:
        """A turn of ``conversation`` in ``channel``: a header answering ``reply_to`` (the
        person's message, or the variant whose button was pressed), then the new variants."""
        instruction = discord.utils.escape_markdown(turn.instruction[:200])

        def header(result: CopyResult) -> render.Outgoing:
            count = len(result.variants)
            return render.Outgoing(f"*{instruction}*: {count} new variant{'s' if count != 1 else ''}")

        return await run_turn(
            self.engine, origin, conversation, turn,
            open_live=lambda count: self._live(channel, count, render.Outgoing(f"*{instruction}*: writing…"),
                                               reply_to, None)[0],
            header=header, render_variant=render.variant_message, location=self.location)

    async def message(self, record: dict) -> list[discord.Message]:
        """A message written to copybot: a turn in one of its threads, or a new request."""
        origin = translate.message_origin(record)
        channel = self.channel_for(record["channel_id"], None if record["direct"] else record["guild_id"])
        conversation = await self.conversation_of(record)
        if conversation is not None:
            turn = parse_turn(record["text"], self.engine.presets())
            return await self.turn(origin, conversation, turn, channel, record["message_id"])
        command = parse_request(record["text"], self.engine.presets())
        request = command.request
        makes_thread = isinstance(channel, discord.TextChannel)
        live, where = self._live(channel, request.n,
                                 render.writing_header(request.product, request.n),
                                 record["message_id"],
                                 request.product[:THREAD_NAME_CHARS] if makes_thread else None)

        def thread_of(posted: list[discord.Message]) -> Thread:
            target = where["target"]
            if isinstance(target, discord.Thread):
                return Thread(str(target.id), str(target.id))
            return Thread(str(record["channel_id"]), str(where["header"].id))

        _, posted, _ = await run_request(
            self.engine, origin, command, live,
            header=lambda result, settings: render.copy_header(result, request.product, settings),
            render_variant=render.variant_message, location=self.location, thread_of=thread_of)
        return posted
