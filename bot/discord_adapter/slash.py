"""copybot's slash commands as Discord application commands.

The callbacks' parameters declare each command's options (types, bounds, autocomplete) for Discord's
command picker. The values are then read from the raw interaction data by ``translate`` — the one
tested translation — so every callback just hands the interaction to ``on_command`` (the client's).
The client is passed in as callables, so this module does not depend on the client module.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import discord
from discord import app_commands

from bot.discord_adapter import translate

OnCommand = Callable[[discord.Interaction], Awaitable[None]]
OnForm = Callable[[discord.Interaction, str], Awaitable[None]]

REVIEWS_FORM_LIMIT = 4000  # Discord's maximum for a text box
FORM_TIMEOUT = 15 * 60.0  # an abandoned form is forgotten after Discord's interaction lifetime


class ReviewsForm(discord.ui.Modal, title="Reviews to summarise"):
    """The multi-line box `/reviews` opens when given neither text nor a file: slash command
    options are a single line, and pasted reviews need one line each."""

    reviews = discord.ui.TextInput(label="Reviews, one per line", style=discord.TextStyle.paragraph,
                                   max_length=REVIEWS_FORM_LIMIT)

    def __init__(self, submitted: OnForm) -> None:
        super().__init__(timeout=FORM_TIMEOUT)
        self.submitted = submitted

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await self.submitted(interaction, self.reviews.value)


def _choices(names: list[str]) -> list[app_commands.Choice[str]]:
    return [app_commands.Choice(name=name, value=name) for name in names]


def build_command_tree(client: discord.Client, on_command: OnCommand,
                       preset_names: Callable[[], dict[str, list[str]]]) -> app_commands.CommandTree:
    """copybot's commands on ``client``; each invocation goes to ``on_command``, autocomplete
    reads ``preset_names()`` (the engine's tones, channels and lengths)."""
    tree = app_commands.CommandTree(client)

    def presets(kind: str, typed: str) -> list[app_commands.Choice[str]]:
        return _choices(translate.matching_presets(preset_names()[kind], typed))

    @tree.command(name="copy", description="Write ad copy variants for a product")
    @app_commands.describe(
        product="What to write about: the product and what makes it good",
        tone="A preset such as playful or professional, or your own words",
        audience="Who the copy speaks to, e.g. busy parents",
        channel="Where it will appear, e.g. instagram, tweet, email subject",
        length="short, medium, long, or a number of words",
        language="English or Chinese (default: the description's language)",
        n="How many variants (1-10)",
        from_="Write from this server's latest /reviews summary: use the praise, avoid the complaints",
    )
    @app_commands.rename(from_="from")  # `from` is the grammar's name; Python reserves it
    @app_commands.choices(language=[app_commands.Choice(name="English", value="en"),
                                    app_commands.Choice(name="中文 (Chinese)", value="zh")],
                          from_=[app_commands.Choice(name="reviews (your latest /reviews summary)",
                                                     value="reviews")])
    async def copy(interaction: discord.Interaction, product: str, tone: str | None = None,
                   audience: str | None = None, channel: str | None = None,
                   length: str | None = None, language: str | None = None,
                   n: app_commands.Range[int, 1, 10] = 3, from_: str | None = None) -> None:
        await on_command(interaction)

    @copy.autocomplete("tone")
    async def complete_tone(interaction: discord.Interaction, typed: str):
        return presets("tone", typed)

    @copy.autocomplete("channel")
    async def complete_channel(interaction: discord.Interaction, typed: str):
        return presets("channel", typed)

    @copy.autocomplete("length")
    async def complete_length(interaction: discord.Interaction, typed: str):
        typed = typed.strip()
        extra = [f"{typed} words"] if typed.isdigit() else []
        return _choices(extra) + presets("length", typed)[: translate.AUTOCOMPLETE_LIMIT - len(extra)]

    @tree.command(name="reviews", description="Summarise the sentiment of customer reviews")
    @app_commands.describe(
        text="One review (leave empty to paste many, one per line, in a form)",
        file="A CSV or text file of reviews",
        column="The CSV column that holds the review text",
    )
    async def reviews(interaction: discord.Interaction, text: str | None = None,
                      file: discord.Attachment | None = None, column: str | None = None) -> None:
        await on_command(interaction)

    @tree.command(name="settings", description="Show or change this server's copybot settings")
    @app_commands.describe(change="name: value to change one, reset <name> to reset it; empty to show all")
    async def settings(interaction: discord.Interaction, change: str | None = None) -> None:
        await on_command(interaction)

    @tree.command(name="report", description="The weekly report: copies made, approvals, reviews")
    @app_commands.describe(week="Which week (default: this week so far)")
    @app_commands.choices(week=[app_commands.Choice(name="this week so far", value="this"),
                                app_commands.Choice(name="last week", value="last")])
    async def report(interaction: discord.Interaction, week: str | None = None) -> None:
        await on_command(interaction)

    @tree.command(name="models", description="List model versions, use one, or roll back")
    @app_commands.describe(action="list, use <version>, or rollback")
    async def models(interaction: discord.Interaction, action: str | None = None) -> None:
        await on_command(interaction)

    @tree.command(name="finetune", description="Start a fine-tune on approved copy, or see its status")
    @app_commands.describe(action="status (default), or start now")
    @app_commands.choices(action=[app_commands.Choice(name="status", value="status"),
                                  app_commands.Choice(name="start now", value="now")])
    async def finetune(interaction: discord.Interaction, action: str | None = None) -> None:
        await on_command(interaction)

    @tree.command(name="help", description="How to use copybot")
    async def help_(interaction: discord.Interaction) -> None:
        await on_command(interaction)

    return tree
