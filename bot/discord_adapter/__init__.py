"""The Discord adapter (discord.py 2.x): slash commands, variants as messages, approval by
reaction or button.

    config = DiscordConfig.from_env()      # None when DISCORD_TOKEN is not set
    await run_discord(engine, config)      # runs until cancelled
"""

from bot.discord_adapter.client import run_discord
from bot.discord_adapter.config import DiscordConfig

__all__ = ["DiscordConfig", "run_discord"]
