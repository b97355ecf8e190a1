"""The Discord adapter: a discord.py client that answers copybot's slash commands and records
approvals given as reactions or with the buttons under each variant (``presses.py``).

Receive path: every command is committed to the engine's journal, then deferred (or answered)
within Discord's 3 seconds, before the model is asked anything; generation and posting run in
tracked tasks that carry the journaled command out and mark it finished. Reactions are journaled
as they arrive and applied per message (``EventLanes``), each set to what the message's current
reactions say. At start, what was journaled but not finished before a crash is carried out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from dataclasses import replace

import discord
import yarl

from bot.commands import CopyCommand, ReportCommand, ReviewsCommand
from bot.discord_adapter import render, translate
from bot.discord_adapter.buttons import VariantButton
from bot.discord_adapter.config import DiscordConfig
from bot.discord_adapter.delivery import InteractionReplies, edit_message, journaled_interaction, post_to_channel
from bot.discord_adapter.presses import ButtonPresses
from bot.discord_adapter.reactions import DiscordReactions
from bot.discord_adapter.slash import ReviewsForm, build_command_tree
from bot.discord_adapter.threads import DiscordThreads
from bot.dispatch import execute, failure_text
from bot.flow.lanes import EventLanes, message_lane, resubmit_unfinished
from bot.flow.live import HEADER, LiveCopy
from bot.flow.messages import INTERRUPTED, NOT_SERVED, NOT_TAKEN, RESTARTING
from bot.flow.runs import run_request
from bot.tasks import TaskTracker
from engine import (
    Announcement,
    CopyRequest,
    Engine,
    EventNotStored,
    InboundEvent,
    Origin,
    Thread,
    UserError,
)

logger = logging.getLogger(__name__)

# Answers the whole channel should see; everything else goes only to the person who asked.
PUBLIC_COMMANDS = (CopyCommand, ReviewsCommand, ReportCommand)


class CopybotClient(discord.Client):
    def __init__(self, engine: Engine, config: DiscordConfig) -> None:
        intents = discord.Intents.none()
        intents.guilds = True  # guilds, channels and roles (admin checks); per-guild command sync
        intents.guild_reactions = True  # approvals; not a privileged intent
        # Mentions, DMs and replies that ping copybot: their text comes without message_content.
        intents.guild_messages = True
        intents.dm_messages = True
        intents.message_content = config.message_content  # privileged: only when configured
        super().__init__(intents=intents, guild_ready_timeout=config.guild_ready_timeout,
                         # Model output must never ping @everyone, a role or a person.
                         allowed_mentions=discord.AllowedMentions.none())
        self.engine = engine
        self.config = config
        self.tasks = TaskTracker()
        self.tree = build_command_tree(self, self.handle_command, engine.presets)
        self._synced_guilds: set[int] = set()
        # Journaled events are carried out in lanes: one per message for reactions.
        self.lanes = EventLanes(self.tasks, self._carry_out, name="discord")
        self.threads = DiscordThreads(self, engine, config.stream_interval)
        self.presses = ButtonPresses(self, engine, self.threads)
        self.reactions = DiscordReactions(self, engine)

    async def setup_hook(self) -> None:
        """After login, before the gateway connects: take presses of every variant's buttons,
        however old, and finish what an earlier run journaled."""
        self.add_dynamic_items(VariantButton)
        self.engine.set_publisher(translate.PLATFORM, self.publish)
        await resubmit_unfinished(self.engine, translate.PLATFORM, self.submit_event)

    # --- command registration: per guild, so commands show up at once ------------------------

    async def on_guild_available(self, guild: discord.Guild) -> None:
        self._register_commands(guild)

    async def on_guild_join(self, guild: discord.Guild) -> None:
        self._register_commands(guild)

    def _register_commands(self, guild: discord.Guild) -> None:
        if guild.id in self._synced_guilds or not self.config.serves_guild(guild.id) or self.tasks.closing:
            return
        self._synced_guilds.add(guild.id)
        self.tasks.spawn(self._sync_guild(guild), name=f"discord:sync:{guild.id}")

    async def _sync_guild(self, guild: discord.Guild) -> None:
        self.tree.copy_global_to(guild=guild)
        try:
            commands = await self.tree.sync(guild=guild)
        except discord.HTTPException as exc:
            self._synced_guilds.discard(guild.id)  # try again when the guild next becomes available
            logger.warning("could not register slash commands in guild %s: %s", guild.id, exc)
            return
        logger.info("registered %d slash commands in guild %s", len(commands), guild.id)

    # --- slash commands ------------------------------------------------------------------------

    def _serves(self, interaction: discord.Interaction) -> bool:
        parent_id = getattr(interaction.channel, "parent_id", None)  # a thread counts as its channel
        return self.config.serves_channel(interaction.guild_id, interaction.channel_id, parent_id)

    async def handle_command(self, interaction: discord.Interaction) -> None:
        """A slash command arrived: check, translate, defer, and start the work."""
        if not self._serves(interaction):
            await interaction.response.send_message(NOT_SERVED, ephemeral=True)
            return
        try:
            invocation = translate.command_from_interaction(interaction.data or {})
        except Exception as exc:  # a bad option: say so at once, nothing to defer
            await interaction.response.send_message(failure_text(exc), ephemeral=True)
            return
        command = invocation.command
        if isinstance(command, ReviewsCommand) and not command.text.strip() and invocation.attachment is None:
            await interaction.response.send_modal(ReviewsForm(self.handle_form))
            return
        await self._defer_and_start(interaction, invocation)

    async def handle_form(self, interaction: discord.Interaction, text: str) -> None:
        """The /reviews form was submitted."""
        try:
            invocation = translate.reviews_from_form(text)
        except Exception as exc:
            await interaction.response.send_message(failure_text(exc), ephemeral=True)
            return
        await self._defer_and_start(interaction, invocation, form_text=text)

    async def _defer_and_start(self, interaction: discord.Interaction,
                               invocation: translate.Invocation, form_text: str | None = None) -> None:
        if self.tasks.closing:
            await interaction.response.send_message(RESTARTING, ephemeral=True)
            return
        private = not isinstance(invocation.command, PUBLIC_COMMANDS)
        record = translate.interaction_record(interaction, private=private, form_text=form_text)
        try:  # committed before the defer: a deferred command is finished even after a crash
            event = await self.engine.accept_event(translate.interaction_origin(record),
                                                   f"interaction:{interaction.id}", "interaction",
                                                   record)
        except EventNotStored:
            await interaction.response.send_message(NOT_TAKEN, ephemeral=True)
            return
        if event is None:
            logger.info("dropping repeated interaction %s", interaction.id)
            return
        # Within Discord's 3 seconds and before any model work: the generator may be busy.
        await interaction.response.defer(ephemeral=private, thinking=True)
        self.submit_event(event)

    # --- carrying out journaled events ---------------------------------------------------------

    def submit_event(self, event: InboundEvent) -> None:
        if event.kind == "reaction":
            record = event.payload
            lane = message_lane("reaction", translate.record_origin(record).workspace_key,
                                str(record["channel_id"]), str(record["message_id"]))
        elif event.kind == "button":
            lane = self.presses.lane(event)
        else:
            lane = event.key
        self.lanes.submit(lane, event)

    async def _carry_out(self, events: list[InboundEvent]) -> None:
        if events[0].kind == "reaction":  # a lane's reactions are all on one message
            await self.reactions.apply(events)
            return
        for event in events:
            record = event.payload
            if event.kind == "button":
                await self.presses.carry_out(event)  # finishes the event
                continue
            if event.kind == "message":
                await self._answer_message(record)
                await self.engine.finish_event(event)
                continue
            # Rebuilt from the journal, live or after a restart: the same path either way.
            interaction = journaled_interaction(self, record["interaction"])
            replies = InteractionReplies(self, interaction, deferred_private=record["private"])
            try:
                invocation = translate.invocation_from_record(record)
            except Exception as exc:  # parsed fine when accepted; a grammar change since
                await replies.send(render.Outgoing(failure_text(exc)), private=True)
            else:
                await self._complete(replies, translate.interaction_origin(record), invocation)
            await self.engine.finish_event(event)

    async def _complete(self, replies: InteractionReplies, origin: Origin,
                        invocation: translate.Invocation) -> None:
        """Run the command and post its answer; the adapter's error boundary."""
        try:
            command = invocation.command
            if invocation.attachment is not None:
                data = await self.http.get_from_cdn(invocation.attachment.url)
                command = replace(command, data=data, filename=invocation.attachment.filename)
            if isinstance(command, CopyCommand):
                await self._run_copy(replies, origin, command)
                return
            reply = await execute(self.engine, origin, command)
            for message in render.reply_messages(reply):
                await replies.send(message, private=reply.ephemeral)
        except asyncio.CancelledError:  # stopped at the shutdown deadline: say so, briefly
            with contextlib.suppress(Exception):
                await asyncio.wait_for(replies.send(render.Outgoing(INTERRUPTED), private=True), 2)
            raise
        except Exception as exc:
            text = failure_text(exc)
            try:
                await replies.send(render.Outgoing(text), private=True)
            except discord.HTTPException as send_error:
                logger.warning("could not tell the user a command failed: %s", send_error)

    def _live_copy(self, replies: InteractionReplies, request: CopyRequest) -> LiveCopy:
        """The /copy messages, posted at the first text and edited while the model writes, at
        Discord's pace for one channel."""
        async def create(message: render.Outgoing) -> discord.Message:
            return await replies.send(message, private=False)

        async def delete(posted: discord.Message) -> None:
            await posted.delete()

        return LiveCopy(request.n, create=create, edit=edit_message, delete=delete,
                        render_preview=render.preview_message,
                        header=render.writing_header(request.product, request.n),
                        message_interval=0.0, channel_interval=self.config.stream_interval)

    async def _run_copy(self, replies: InteractionReplies, origin: Origin, command: CopyCommand) -> None:
        """Each variant as its own message (with its buttons), its id given to the engine so
        reactions can name it; the header's replies are the request's thread, where a Shorter or
        More like this press is answered."""
        live = self._live_copy(replies, command.request)

        def thread_of(posted: list[discord.Message]) -> Thread:
            header = live.handles[HEADER]
            return Thread(str(header.channel.id), str(header.id))

        _, posted, settings = await run_request(
            self.engine, origin, command, live,
            header=lambda result, settings: render.copy_header(result, command.request.product, settings),
            render_variant=render.variant_message, location=self.threads.location, thread_of=thread_of)
        await self.seed_reactions(posted, render.seed_reactions(settings))

    async def seed_reactions(self, messages: list[discord.Message], faces: list[str]) -> None:
        """Put the approve and reject emoji under each variant, so approving is one click."""
        for message in messages:
            target = self.get_partial_messageable(message.channel.id).get_partial_message(message.id)
            for face in faces:
                try:
                    await target.add_reaction(face)
                except discord.HTTPException as exc:  # e.g. no Add Reactions permission: still usable
                    logger.warning("could not add %s under message %s: %s", face, message.id, exc)
                    return

    # --- messages: mentions, DMs, turns in copybot's threads ----------------------------------

    async def on_message(self, message: discord.Message) -> None:
        if message.author.bot or self.user is None:
            return  # other bots and copybot itself are never answered
        direct = message.guild is None
        parent_id = getattr(message.channel, "parent_id", None)
        if not direct and not self.config.serves_channel(message.guild.id, message.channel.id,
                                                         parent_id):
            return
        record = translate.message_record(message, self.user.id)
        if not direct and not any(user.id == self.user.id for user in message.mentions):
            # Without message_content the text is empty here: only its own threads, and only
            # with the intent, make such a message a turn.
            if not (self.config.message_content and record["in_thread"]
                    and await self.threads.conversation_of(record) is not None):
                return
        try:  # no ack on the gateway: journaled the moment it arrives (RESUME replays: same id)
            event = await self.engine.accept_event(translate.message_origin(record),
                                                   f"message:{message.id}", "message", record)
        except EventNotStored:
            logger.warning("message %s not taken: the database is busy", message.id)
            return
        if event is not None:
            self.submit_event(event)

    async def _answer_message(self, record: dict) -> None:
        """The error boundary for messages: one sentence in reply, never the exception text."""
        try:
            posted = await self.threads.message(record)
            settings = await self.engine.settings(translate.message_origin(record))
            await self.seed_reactions(posted, render.seed_reactions(settings))
        except Exception as exc:
            text = failure_text(exc)
            try:
                channel = self.get_partial_messageable(record["channel_id"])
                await channel.send(text, reference=discord.MessageReference(
                    message_id=record["message_id"], channel_id=record["channel_id"],
                    fail_if_not_exists=False))
            except discord.HTTPException as send_error:
                logger.warning("could not tell the user a message failed: %s", send_error)

    # --- reactions -----------------------------------------------------------------------------

    async def on_raw_reaction_add(self, event: discord.RawReactionActionEvent) -> None:
        await self.reactions.take(event)

    async def on_raw_reaction_remove(self, event: discord.RawReactionActionEvent) -> None:
        await self.reactions.take(event)

    # --- the engine's own posts ------------------------------------------------------------------

    async def publish(self, announcement: Announcement) -> None:
        """Post a weekly report (or other announcement) to a guild's channel; the engine calls this."""
        guild_id = int(announcement.workspace.split(":", 1)[1])
        guild = self.get_guild(guild_id)
        names = {channel.name.lower(): channel.id for channel in guild.text_channels} if guild else {}
        channel_id = translate.channel_id(announcement.channel, names)
        if channel_id is None:
            raise UserError(f"There is no channel {announcement.channel!r} in this server; set "
                            "report_channel to one, e.g. #marketing.")
        await post_to_channel(self.get_partial_messageable(channel_id, guild_id=guild_id),
                              render.announcement_messages(announcement),
                              skip=announcement.skip_parts, posted=announcement.part_posted)

    # --- lifecycle -----------------------------------------------------------------------------

    async def shutdown(self) -> None:
        """Take nothing new; finish the queued reactions and running commands, then disconnect.
        Cancelled meanwhile (the stop deadline): cancel that work and disconnect at once; what it
        did not finish stays journaled for the next start."""
        try:
            await self.tasks.close()
        finally:
            await self.close()


@contextlib.contextmanager
def _pointed_at(config: DiscordConfig) -> Iterator[None]:
    """Discord's addresses as configured (a proxy, or a local fake in tests) while the client
    runs, and discord.py's own afterwards. discord.py keeps them as class attributes, so one
    process talks to one Discord at a time; restoring them keeps one run from leaking into the
    next in the same process."""
    saved = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    if config.api_base:
        discord.http.Route.BASE = config.api_base
    if config.gateway_url:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(config.gateway_url)
    try:
        yield
    finally:
        discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = saved


async def run_discord(engine: Engine, config: DiscordConfig) -> None:
    """Serve Discord until cancelled (or until Discord ends the session for good).

    First cancellation: no new commands; running ones finish and reply. A second one: stop now."""
    with _pointed_at(config):
        client = CopybotClient(engine, config)
        try:
            await client.start(config.token)
        except discord.LoginFailure:
            raise UserError("Discord refused DISCORD_TOKEN; copy the bot token again from the Developer "
                            "Portal (your application -> Bot -> Reset Token).") from None
        finally:
            await client.shutdown()
