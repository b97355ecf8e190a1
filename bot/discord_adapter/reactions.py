"""Reactions on a variant message: journaled the moment they arrive (the gateway has no per-event
ack), then applied per message, each setting the person's verdict to what the message's reactions
say now (✅ and 👍 both approve: removing one keeps the approval)."""

from __future__ import annotations

import logging
import uuid

import discord

from bot.discord_adapter import translate
from bot.dispatch import failure_text
from bot.flow.reactions import reconcile
from bot.flow.verdicts import verdict_for_emoji
from engine import Engine, EventNotStored, Feedback, InboundEvent

logger = logging.getLogger(__name__)


class DiscordReactions:
    def __init__(self, client: discord.Client, engine: Engine) -> None:
        # ``client``: the copybot client (its config, http, user and submit_event); passed in, so
        # this module does not import the client module.
        self.client = client
        self.engine = engine

    async def take(self, event: discord.RawReactionActionEvent) -> None:
        # The channel allow-list needs no check: variants exist only where commands were allowed.
        if not self.client.config.serves_guild(event.guild_id):
            return
        if self.client.user is not None and event.user_id == self.client.user.id:
            return  # our own click-to-approve seeds
        if event.member is not None and event.member.bot:
            return  # other bots' reactions are not a person's verdict
        record = translate.reaction_record(event)
        try:  # the gateway has no per-event ack: journal it the moment it arrives
            accepted = await self.engine.accept_event(translate.record_origin(record),
                                                      f"reaction:{uuid.uuid4().hex}", "reaction", record)
        except EventNotStored:
            logger.warning("reaction on message %s not recorded: the database is busy",
                           event.message_id)
            return
        if accepted is not None:
            self.client.submit_event(accepted)

    async def apply(self, events: list[InboundEvent]) -> None:
        """Reactions on one message, in the order accepted. Each sets the person's verdict to what
        the message's reactions say now (✅ and 👍 both approve: removing one keeps the approval)."""
        first = events[0].payload
        origin = translate.record_origin(first)
        try:
            await reconcile(
                self.engine, origin, str(first["message_id"]), events,
                lambda event, settings: translate.feedback_from_record(event.payload, settings),
                lambda: self._current_message(first["channel_id"], first["message_id"]),
                lambda message, feedback, settings: self._holds_verdict(
                    message, int(feedback.origin.user), feedback, settings))
        except Exception as exc:  # nobody to tell: log it; the events stay for the next start
            logger.warning("reactions on message %s not recorded: %s", first["message_id"],
                           failure_text(exc))

    async def _current_message(self, channel_id: int, message_id: int) -> dict | None:
        try:
            return await self.client.http.get_message(channel_id, message_id)
        except discord.HTTPException as exc:
            logger.info("could not read message %s (%s); taking its reactions as they came",
                        message_id, exc.status)
            return None

    async def _holds_verdict(self, message: dict, user_id: int, feedback: Feedback,
                             settings: dict[str, str]) -> bool | None:
        """Does the person have, right now, a reaction on ``message`` giving ``feedback``'s verdict?
        ``None`` when Discord will not say."""
        for reaction in message.get("reactions") or ():
            emoji = reaction.get("emoji") or {}
            if verdict_for_emoji(emoji.get("name"), settings) is not feedback.verdict:
                continue
            try:  # reactors come sorted by id: the first after id-1 is this person, if they reacted
                users = await self.client.http.get_reaction_users(message["channel_id"], message["id"],
                                                           translate.reaction_key(emoji), limit=1,
                                                           after=user_id - 1)
            except discord.HTTPException as exc:
                logger.info("could not read reactions of message %s (%s)", message["id"], exc.status)
                return None
            if users and int(users[0]["id"]) == user_id:
                return True
        return False
