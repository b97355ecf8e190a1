"""Sending messages: the answers to one deferred interaction (follow-ups while the token lives, the
channel after), and posts of the bot's own to a channel.

After ``defer()`` the first follow-up replaces the "thinking…" message and takes its visibility;
later follow-ups are new messages. Discord keeps an interaction's token for 15 minutes; a slow
answer after that goes to the channel as an ordinary bot message.
"""

from __future__ import annotations

import datetime
from collections.abc import Awaitable, Callable

import discord

from bot.discord_adapter.buttons import variant_view
from bot.discord_adapter.render import Outgoing

# Stop using the token a little before Discord does, so a request in flight does not race expiry.
TOKEN_MARGIN = datetime.timedelta(seconds=30)


def send_extras(message: Outgoing) -> dict:
    """The embed, file and buttons of a message, as discord.py's send() takes them."""
    extras = {}
    if message.embed:
        extras["embed"] = discord.Embed(description=message.embed)
    if message.image:
        extras["file"] = discord.File(message.image)
    if message.buttons_for is not None:
        extras["view"] = variant_view(message.buttons_for)
    return extras


async def edit_message(posted: discord.Message, message: Outgoing) -> None:
    """Show ``message`` in place of what ``posted`` shows (a preview becoming its final variant:
    the buttons come with the final text; an edit without them keeps those already there)."""
    extras = {"view": variant_view(message.buttons_for)} if message.buttons_for is not None else {}
    embeds = [discord.Embed(description=message.embed)] if message.embed else []
    await posted.edit(content=message.content, embeds=embeds, **extras)


async def post_to_channel(channel: discord.abc.Messageable, messages: list[Outgoing], *, skip: int = 0,
                          posted: Callable[[int], Awaitable[None]] | None = None) -> None:
    """Send ``messages`` in order, leaving out the first ``skip``; ``posted(count)`` after each."""
    for count, message in enumerate(messages, start=1):
        if count <= skip:
            continue
        await channel.send(message.content, **send_extras(message))
        if posted is not None:
            await posted(count)


def journaled_interaction(client: discord.Client, data: dict) -> discord.Interaction:
    """An interaction rebuilt from what the journal kept of it, so the same code answers it live and
    after a restart (through its token, for 15 minutes). discord.py offers no public way to make an
    ``Interaction`` from its payload, nor an application-type webhook (the only kind that may send
    ephemeral messages) from a token: the client's connection state is the one private name this
    adapter uses, here and nowhere else."""
    return discord.Interaction(data=data, state=client._connection)


class InteractionReplies:
    """Sends the messages that answer one interaction deferred as public or private."""

    def __init__(self, client: discord.Client, interaction: discord.Interaction, *,
                 deferred_private: bool) -> None:
        self.client = client
        self.interaction = interaction
        self.deferred_private = deferred_private
        self.thinking = True  # the deferred "thinking…" message has not been replaced yet

    def token_expired(self) -> bool:
        return discord.utils.utcnow() >= self.interaction.expires_at - TOKEN_MARGIN

    async def send(self, message: Outgoing, *, private: bool) -> discord.Message:
        """Post ``message``; a ``private`` one (or any answer to a privately deferred command) only
        the person who asked sees, while the token lives. Returns the posted message (its id is
        what reactions name)."""
        if self.token_expired():  # private answers too: the token was the only way to be private
            channel = self.client.get_partial_messageable(
                self.interaction.channel_id, guild_id=self.interaction.guild_id)
            return await channel.send(message.content, **send_extras(message))
        private = private or self.deferred_private
        if self.thinking and private and not self.deferred_private:
            # A private answer (an error, say) to a public "thinking…": that message would take
            # the answer and show it to everyone, so it goes, and the answer comes privately.
            await self.interaction.delete_original_response()
        self.thinking = False
        return await self.interaction.followup.send(message.content, ephemeral=private, wait=True,
                                                    **send_extras(message))
