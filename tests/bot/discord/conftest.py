"""Fixtures for the Discord adapter: a local fake Discord, a real engine whose model can be held,
and the real adapter (``run_discord``) connected to the fake over 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from bot.discord_adapter import DiscordConfig, run_discord
from engine import Engine, EngineConfig
from tests.bot.discord.fake_discord import ADMIN_ROLE, FakeDiscord
from tests.models import REPO, GatedBackend


@pytest.fixture
def engine_config(tmp_path) -> EngineConfig:
    # Admins by Discord role, as a team would configure them. Short answers: these tests are
    # about the conversation with Discord, and a busy 2-core machine makes long ones slow.
    # grounding off: the tiny model never names the product (these tests are about Discord).
    return EngineConfig(data_dir=tmp_path / "data", prompts_dir=REPO / "prompts", max_rounds=2, grounding=False,
                        max_new_tokens=24, admins=(f"discord:role:{ADMIN_ROLE}",))


@pytest.fixture
def gate(tiny_backend) -> GatedBackend:
    return GatedBackend(tiny_backend)


@pytest.fixture
async def engine(engine_config, gate):
    engine = await Engine.open(engine_config, backend=gate)
    yield engine
    gate.open()
    await engine.close()


@pytest.fixture
async def fake():
    fake = FakeDiscord()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
def discord_config(fake) -> DiscordConfig:
    return DiscordConfig(token="fake-bot-token", api_base=fake.api_base, gateway_url=fake.gateway_url,
                         guild_ready_timeout=0.05)


@pytest.fixture
async def bot(fake, engine, discord_config):
    """The adapter, running until the test ends; ready once its commands are registered."""
    task = asyncio.create_task(run_discord(engine, discord_config))
    guild_commands = f"/applications/{fake.app_id}/guilds/{fake.guild_id}/commands"
    await fake.wait_for(lambda: task.done() or fake.calls("PUT", guild_commands))
    if task.done():
        task.result()  # raises what stopped it
    yield task
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
