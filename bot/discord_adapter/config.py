"""The Discord adapter's settings, read from the environment.

    DISCORD_TOKEN               the bot token (Developer Portal -> Bot -> Reset Token); unset: no Discord
    COPYBOT_DISCORD_GUILDS      comma-separated guild (server) ids the bot serves; empty: every guild
    COPYBOT_DISCORD_CHANNELS    comma-separated channel ids where commands work; empty: every channel
    COPYBOT_DISCORD_API_BASE    REST base URL, e.g. a rate-limit proxy; default Discord's own
    COPYBOT_DISCORD_GATEWAY     gateway websocket URL; default Discord's own
    COPYBOT_DISCORD_MESSAGE_CONTENT  on: ask for the privileged message_content intent, so every
                                message in copybot's threads is a turn (off: only mentions of it)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from engine import UserError, shown_value


def _id_list(variable: str, raw: str) -> frozenset[int]:
    ids = set()
    for part in raw.replace(" ", ",").split(","):
        if not part:
            continue
        if not (part.isascii() and part.isdigit()):
            raise UserError(f"{variable} takes comma-separated Discord ids (numbers); {shown_value(part)} is not one.")
        ids.add(int(part))
    return frozenset(ids)


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
        env = os.environ if env is None else env
        token = env.get("DISCORD_TOKEN", "").strip()
        if not token:
            return None
        return cls(
            token=token,
            guilds=_id_list("COPYBOT_DISCORD_GUILDS", env.get("COPYBOT_DISCORD_GUILDS", "")),
            channels=_id_list("COPYBOT_DISCORD_CHANNELS", env.get("COPYBOT_DISCORD_CHANNELS", "")),
            api_base=env.get("COPYBOT_DISCORD_API_BASE", "").strip().rstrip("/") or None,
            gateway_url=env.get("COPYBOT_DISCORD_GATEWAY", "").strip() or None,
            message_content=env.get("COPYBOT_DISCORD_MESSAGE_CONTENT", "").strip().lower()
            in ("1", "on", "true", "yes"),
        )

    def serves_guild(self, guild_id: int | None) -> bool:
        return guild_id is not None and (not self.guilds or guild_id in self.guilds)

    def serves_channel(self, guild_id: int | None, channel_id: int | None,
                       parent_id: int | None = None) -> bool:
        """Commands work here; a thread counts as its parent channel."""
        if not self.serves_guild(guild_id):
            return False
        return not self.channels or channel_id in self.channels or parent_id in self.channels
