"""Fixtures for the Slack adapter: a fake Slack on 127.0.0.1 and the real bot (bolt) against it."""

from __future__ import annotations

from dataclasses import replace

import pytest

from engine import Engine
from tests.bot.slack.fake_slack import FakeSlack, SlackSender
from tests.bot.slack.running import http_config, started
from tests.models import GatedBackend


@pytest.fixture
async def fake_slack():
    fake = FakeSlack()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def http_bot(engine, fake_slack):
    bot = await started(engine, http_config(fake_slack))
    yield bot
    await bot.stop()


@pytest.fixture
async def sender(http_bot):
    async with SlackSender(f"http://127.0.0.1:{http_bot.port}/slack/events") as sender:
        yield sender


@pytest.fixture
async def gated(engine_config, tiny_backend):
    backend = GatedBackend(tiny_backend, shut=True)
    engine = await Engine.open(engine_config, backend=backend)
    yield engine, backend
    backend.open()  # let a blocked model thread finish so the engine can close
    await engine.close()


@pytest.fixture
def engine_config(engine_config):
    # Short answers: these tests are about the protocol, not about the copy's length.
    # Extra rounds run only when the random tiny model wrote junk, so n variants arrive reliably.
    return replace(engine_config, max_new_tokens=16, max_rounds=4)
