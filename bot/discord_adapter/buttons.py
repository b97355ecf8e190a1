"""The buttons under each variant message: Approve, Reject, Shorter, More like this.

Each button's ``custom_id`` is ``copybot:<action>:<variant id>`` (``translate.button_id``), and the
class below is a discord.py ``DynamicItem`` registered with ``Client.add_dynamic_items``: discord.py's
documented way for buttons that keep working after a restart (no view is kept in memory; a press
on any message, however old, is matched by its ``custom_id``). A press goes to the client's
``ButtonPresses`` (``bot/discord_adapter/presses.py``).
"""

from __future__ import annotations

import re

import discord

from bot.discord_adapter import render, translate

_LABELS = {action: (label, getattr(discord.ButtonStyle, style)) for action, label, style in render.BUTTONS}


class VariantButton(discord.ui.DynamicItem[discord.ui.Button],
                    template=translate.BUTTON_ID):
    def __init__(self, action: str, variant_id: int) -> None:
        label, style = _LABELS[action]
        super().__init__(discord.ui.Button(label=label, style=style,
                                           custom_id=translate.button_id(action, variant_id)))

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button,
                             match: re.Match[str]) -> VariantButton:
        return cls(match["action"], int(match["variant"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.client.presses.take(interaction)


def variant_view(variant_id: int) -> discord.ui.View:
    """The four buttons of one variant, in one row (no timeout: they never stop working)."""
    view = discord.ui.View(timeout=None)
    for action, _, _ in render.BUTTONS:
        view.add_item(VariantButton(action, variant_id))
    return view
