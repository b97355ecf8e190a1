"""Presses of the buttons under a variant (``buttons.py``), taken like every other Discord event:
committed to the engine's journal under the interaction's id, then acknowledged (a deferred
update, within Discord's 3 seconds, which changes nothing on screen), then carried out from the
journal, live or after a restart.

Approve and Reject set the person's verdict once (Approve takes back their Reject, and the other
way round; the same interaction delivered twice is journaled once) and redraw the tally on the
variant's message; a message's presses are carried out in order, so the newest count is drawn
last. Shorter and More like this are turns of the variant's conversation, answered under it.
Presses by bots do nothing. A press that names no variant of that message gets one private
sentence; nothing else is ever said about a failure but ``failure_text``'s one sentence.
"""

from __future__ import annotations

import logging

import discord

from bot.discord_adapter import render, translate
from bot.discord_adapter.delivery import journaled_interaction
from bot.discord_adapter.threads import DiscordThreads
from bot.dispatch import failure_text
from bot.flow.lanes import message_lane
from bot.flow.messages import NO_CONVERSATION, PRESS_NOT_TAKEN, UNKNOWN_VARIANT
from bot.flow.verdicts import VERDICT_BUTTONS, button_turn, give_button_verdict
from engine import Engine, EventNotStored, FeedbackOutcome, InboundEvent, UserError

logger = logging.getLogger(__name__)



class ButtonPresses:
    def __init__(self, client: discord.Client, engine: Engine, threads: DiscordThreads) -> None:
        self.client = client
        self.engine = engine
        self.threads = threads

    # --- arriving: journal, then acknowledge --------------------------------------------------

    async def take(self, interaction: discord.Interaction) -> None:
        """A press arrived on the gateway. People only; committed before it is acknowledged."""
        record = translate.press_record(interaction)
        press = translate.button_press(record)
        if press is None or press.by_bot:
            return  # a bot's press is not a person's verdict: no answer, nothing stored
        if interaction.guild_id is not None and not self.client.config.serves_guild(interaction.guild_id):
            return
        try:
            event = await self.engine.accept_event(press.origin, f"interaction:{press.interaction_id}",
                                                   "button", record)
        except EventNotStored:
            await self._answer_now(interaction, PRESS_NOT_TAKEN)
            return
        if event is None:  # delivered again (a gateway RESUME): already taken
            logger.info("dropping repeated button press %s", press.interaction_id)
            return
        try:
            await interaction.response.defer()  # a component's deferred update: nothing shown
        except discord.HTTPException as exc:  # journaled all the same: it is carried out below
            logger.warning("could not acknowledge button press %s: %s", press.interaction_id, exc)
        self.client.submit_event(event)

    async def _answer_now(self, interaction: discord.Interaction, text: str) -> None:
        try:
            await interaction.response.send_message(text, ephemeral=True)
        except discord.HTTPException as exc:
            logger.warning("could not answer button press %s: %s", interaction.id, exc)

    def lane(self, event: InboundEvent) -> str:
        """Verdicts on one message in order (each redraws its tally); a turn in a lane of its own."""
        press = translate.button_press(event.payload)
        if press is None or press.action not in VERDICT_BUTTONS:
            return event.key
        return message_lane("button", press.origin.workspace_key, press.origin.channel, press.message)

    # --- carrying out, from the journal -------------------------------------------------------

    async def carry_out(self, event: InboundEvent) -> None:
        """A journaled press, carried out and finished; the error boundary for presses."""
        press = translate.button_press(event.payload)
        if press is None:  # only presses are journaled as "button"
            logger.warning("journaled button event %s is not a press; ignored", event.key)
            await self.engine.finish_event(event, "ignored")
            return
        try:
            if await self.engine.posted_variant(press.origin, press.message) != press.variant_id:
                # Not this message's variant here (another server's, or one this database never
                # had): the same answer either way.
                raise UserError(UNKNOWN_VARIANT.format(id=press.variant_id))
            if press.action in VERDICT_BUTTONS:
                outcome = await give_button_verdict(self.engine, press.origin, VERDICT_BUTTONS[press.action],
                                                    press.message, event)
                assert outcome is not None, "the message was checked to show the variant"
                await self._redraw_tally(press, outcome)
            else:
                await self._turn(press)
                await self.engine.finish_event(event)
        except Exception as exc:
            await self._tell_privately(event.payload, failure_text(exc))
            await self.engine.finish_event(event, "failed")

    async def _redraw_tally(self, press: translate.ButtonPress, outcome: FeedbackOutcome) -> None:
        """The tally on the variant's message, in place (its buttons and embed stay)."""
        message = self.client.get_partial_messageable(int(press.origin.channel)).get_partial_message(
            int(press.message))
        try:
            await message.edit(content=render.with_tally(press.content, outcome.approvals,
                                                         outcome.rejections))
        except discord.HTTPException as exc:  # the verdict is stored; only the count is not shown
            logger.warning("could not redraw the tally on message %s: %s", press.message, exc)

    async def _turn(self, press: translate.ButtonPress) -> None:
        conversation = await self.engine.conversation(press.origin, None, replied_to=press.message)
        if conversation is None:
            raise UserError(NO_CONVERSATION)
        turn = button_turn(press.action, press.variant_id)
        channel = self.threads.channel_for(int(press.origin.channel), press.guild_id)
        posted = await self.threads.turn(press.origin, conversation, turn, channel,
                                         reply_to=int(press.message))
        settings = await self.engine.settings(press.origin)
        await self.client.seed_reactions(posted, render.seed_reactions(settings))

    async def _tell_privately(self, record: dict, text: str) -> None:
        """One sentence only the person who pressed sees, through the interaction (while its
        token lives; after that there is no private way to say it, and it is logged)."""
        interaction = journaled_interaction(self.client, translate.followup_interaction(record))
        if discord.utils.utcnow() >= interaction.expires_at:
            logger.info("button press %s: too late to answer privately: %s", record["id"], text)
            return
        try:
            await interaction.followup.send(text, ephemeral=True)
        except discord.HTTPException as exc:
            logger.warning("could not tell the user their press failed: %s", exc)
