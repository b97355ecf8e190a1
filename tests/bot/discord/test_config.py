"""DiscordConfig from the environment."""

from __future__ import annotations

import logging
import re

import discord
import pytest

from bot.discord_adapter import DiscordConfig, run_discord
from engine import UserError
from tests.models import REPO


def test_no_token_means_no_discord():
    assert DiscordConfig.from_env({}) is None
    assert DiscordConfig.from_env({"DISCORD_TOKEN": "  "}) is None


def test_allow_lists_and_overrides():
    config = DiscordConfig.from_env({
        "DISCORD_TOKEN": "secret-token", "COPYBOT_DISCORD_GUILDS": "111, 222",
        "COPYBOT_DISCORD_CHANNELS": "333", "COPYBOT_DISCORD_API_BASE": "http://127.0.0.1:9/api/v10/",
        "COPYBOT_DISCORD_GATEWAY": "ws://127.0.0.1:9/"})
    assert config.guilds == {111, 222} and config.channels == {333}
    assert config.api_base == "http://127.0.0.1:9/api/v10"
    assert "secret-token" not in repr(config)  # reprs end up in logs
    assert config.serves_channel(111, 333) and config.serves_channel(222, 444, parent_id=333)
    assert not config.serves_channel(111, 444) and not config.serves_channel(999, 333)
    assert not config.serves_guild(None)  # direct messages


def test_empty_allow_lists_serve_everywhere():
    config = DiscordConfig.from_env({"DISCORD_TOKEN": "t"})
    assert config.serves_channel(1, 2) and config.api_base is None


def test_a_bad_id_is_named():
    with pytest.raises(UserError, match="COPYBOT_DISCORD_CHANNELS.*'general'"):
        DiscordConfig.from_env({"DISCORD_TOKEN": "t", "COPYBOT_DISCORD_CHANNELS": "123,general"})


def test_the_setup_guide_invite_link_grants_exactly_the_permissions_it_lists():
    guide = (REPO / "deploy" / "discord-setup.md").read_text(encoding="utf-8")
    listed = re.findall(r"^\| (View Channel|Send Messages|Read Message History|Add Reactions|Embed Links"
                        r"|Attach Files|Create Public Threads|Send Messages in Threads) \|", guide,
                        flags=re.M)
    wanted = discord.Permissions(**{name.lower().replace(" ", "_"): True for name in listed})
    (link,) = re.findall(r"https://discord.com/oauth2/authorize\?\S+", guide)
    assert link.endswith(f"scope=bot+applications.commands&permissions={wanted.value}")
    assert len(listed) == 8 and f"`{wanted.value}`" in guide


async def test_a_refused_token_stops_the_adapter_with_one_sentence(fake, engine, discord_config, caplog):
    caplog.set_level(logging.DEBUG)
    fake.token_revoked = True
    with pytest.raises(UserError, match="Discord refused DISCORD_TOKEN"):
        await run_discord(engine, discord_config)
    assert discord_config.token not in caplog.text  # not even in debug logs
