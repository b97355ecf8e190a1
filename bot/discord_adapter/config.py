"""The Discord adapter's settings, made from the validated ``Settings`` (engine/config.py):

    DISCORD_TOKEN               the bot token (Developer Portal -> Bot -> Reset Token); unset: no Discord
    COPYBOT_DISCORD_GUILDS      comma-separated guild (server) ids the bot serves; empty: every guild
    COPYBOT_DISCORD_CHANNELS    comma-separated channel ids where commands work; empty: every channel
    COPYBOT_DISCORD_API_BASE    REST base URL, e.g. a rate-limit proxy; default Discord's own
    COPYBOT_DISCORD_GATEWAY     gateway websocket URL; default Discord's own
    COPYBOT_DISCORD_MESSAGE_CONTENT  on: ask for the privileged message_content intent, so every
                                message in copybot's threads is a turn (off: only mentions of it)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from engine import Settings, load_settings


@dataclass(frozen=True)
class DiscordConfig:
    token: str = field(repr=False)  # a secret: never in logs or reprs
    guilds: frozenset[int] = frozenset()  # empty: every guild the bot is invited to
    channels: frozenset[int] = frozenset()  # empty: every channel of those guilds
    api_base: str | None = None
    gateway_url: str | None = None
    # discord.py waits this long after the last GUILD_CREATE before it calls the client ready.
    guild_ready_timeout: float = 2.0
    # Seconds between two edits in one channel while a /copy streams: Discord allows five message
    # edits per five seconds per channel.
    stream_interval: float = 1.0
    # The privileged intent (enable it in the Developer Portal first): without it, only DMs,
    # mentions of copybot and replies that ping it carry their text.
    message_content: bool = False

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> DiscordConfig | None:
        """The configuration, or ``None`` when ``DISCORD_TOKEN`` is not set (Discord stays off)."""
        return cls.from_settings(load_settings(env))

    @classmethod
    def from_settings(cls, settings: Settings) -> DiscordConfig | None:
        if settings.discord_token is None:
            return None
        return cls(
            token=settings.discord_token.get_secret_value(),
            guilds=settings.discord_guilds,
            channels=settings.discord_channels,
            api_base=settings.discord_api_base or None,
            gateway_url=settings.discord_gateway or None,
            message_content=settings.discord_message_content,
        )

    def serves_guild(self, guild_id: int | None) -> bool:
        return guild_id is not None and (not self.guilds or guild_id in self.guilds)

    def serves_channel(self, guild_id: int | None, channel_id: int | None,
                       parent_id: int | None = None) -> bool:
        """Commands work here; a thread counts as its parent channel."""
        if not self.serves_guild(guild_id):
            return False
        return not self.channels or channel_id in self.channels or parent_id in self.channels
