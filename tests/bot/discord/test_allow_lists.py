"""Allow-lists: copybot answers only in the guilds and channels a team lists."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from bot.discord_adapter import DiscordConfig, run_discord
from bot.flow.messages import NOT_SERVED
from tests.bot.discord.fake_discord import EPHEMERAL, GUILD

MARKETING, RANDOM = (int(channel["id"]) for channel in GUILD["channels"])


def config_for(fake, **allow) -> DiscordConfig:
    return DiscordConfig(token="fake-bot-token", api_base=fake.api_base, gateway_url=fake.gateway_url,
                         guild_ready_timeout=0.05, **allow)


@pytest.fixture
def discord_config(fake) -> DiscordConfig:
    return config_for(fake, guilds=frozenset({int(GUILD["id"])}), channels=frozenset({MARKETING}))


async def generations(engine) -> int:
    async with engine.store.db.execute("SELECT COUNT(*) AS n FROM generations") as cursor:
        return (await cursor.fetchone())["n"]


async def test_commands_outside_the_listed_channels_are_declined_privately(bot, fake, engine):
    payload = fake.interaction("interaction_copy", channel_id=str(RANDOM))
    await fake.dispatch("INTERACTION_CREATE", payload)
    (callback,) = await fake.wait_for(lambda: fake.callbacks(payload))
    assert callback.body["type"] == 4
    assert (callback.body["data"]["content"], callback.body["data"]["flags"]) == (NOT_SERVED, EPHEMERAL)
    assert await generations(engine) == 0  # the model was never asked

    payload = fake.interaction("interaction_copy", channel_id=str(MARKETING))
    await fake.dispatch("INTERACTION_CREATE", payload)
    await fake.wait_for(lambda: len(fake.webhook_posts(payload["token"])) == 3)
    assert fake.callbacks(payload)[0].body["type"] == 5


async def test_a_guild_not_listed_gets_no_commands_and_is_declined(fake, engine):
    other_guild = int(GUILD["id"]) + 1
    task = asyncio.create_task(run_discord(engine, config_for(fake, guilds=frozenset({other_guild}))))
    try:
        await fake.wait_for(lambda: fake.history and fake.history[-1][1] == "GUILD_CREATE")
        payload = fake.interaction("interaction_copy")
        await fake.dispatch("INTERACTION_CREATE", payload)
        (callback,) = await fake.wait_for(lambda: fake.callbacks(payload))
        assert callback.body["data"]["content"] == NOT_SERVED
        assert not fake.calls("PUT", f"/applications/{fake.app_id}/")  # no commands registered
        assert await generations(engine) == 0
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
