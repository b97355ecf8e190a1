"""The real bolt app in Socket Mode: apps.connections.open points it at the fake's websocket."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from bot.slack_adapter import run_slack
from engine import UserError
from tests.bot.slack import recorded
from tests.bot.slack.fake_slack import APP_TOKEN
from tests.bot.slack.helpers import statuses, variant_messages
from tests.bot.slack.running import http_config, socket_config, started

CHANNEL = recorded.CHANNEL


async def test_copy_and_approval_over_the_websocket(engine, fake_slack):
    bot = await started(engine, socket_config(fake_slack))
    try:
        await fake_slack.wait_for(lambda: fake_slack.socket_connections == 1)
        opened = fake_slack.calls_to("apps.connections.open")
        assert [call.token for call in opened] == [APP_TOKEN]  # the issued URL is used, once

        fields = recorded.slash("oat milk tone: calm n: 2", response_url=fake_slack.response_url("s"))
        ack = await fake_slack.socket_ack(await fake_slack.send_envelope("slash_commands", fields))
        assert "payload" not in ack  # a bare ack; the note follows through the response_url
        await bot.tasks.wait_idle(60)
        assert fake_slack.ephemeral() == ["Writing 2 variants…"]
        posted = fake_slack.posted(CHANNEL)
        assert len(posted) == 3 and posted[0]["text"].startswith("<@U0ALICE> asked for copy")
        (first, _), (second, second_ts) = variant_messages(posted)

        approve = recorded.reaction("white_check_mark", second_ts)
        fake_slack.react(CHANNEL, second_ts, "white_check_mark", "U0BRUNO")
        await fake_slack.socket_ack(await fake_slack.send_envelope("events_api", approve))
        await bot.tasks.wait_idle(10)
        assert await statuses(engine) == {first: "pending", second: "approved"}

        withdraw = recorded.reaction("white_check_mark", second_ts, added=False)
        fake_slack.react(CHANNEL, second_ts, "white_check_mark", "U0BRUNO", present=False)
        await fake_slack.socket_ack(await fake_slack.send_envelope("events_api", withdraw))
        # Slack redelivers the approval (retry_attempt 1): acknowledged, not applied again.
        retried = await fake_slack.send_envelope("events_api", approve, retry_attempt=1)
        await fake_slack.socket_ack(retried)
        await bot.tasks.wait_idle(10)
        assert await statuses(engine) == {first: "pending", second: "pending"}
    finally:
        await bot.stop()


async def test_run_slack_serves_until_cancelled(engine, fake_slack):
    running = asyncio.create_task(run_slack(engine, socket_config(fake_slack)))
    await fake_slack.wait_for(lambda: fake_slack.socket_connections == 1)
    fields = recorded.slash("help", command="/copybot", response_url=fake_slack.response_url("h"))
    await fake_slack.socket_ack(await fake_slack.send_envelope("slash_commands", fields))
    await fake_slack.wait_for(lambda: fake_slack.responses)
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running
    await fake_slack.wait_for(lambda: not fake_slack.socket_open)  # the bot hung up


async def test_rejected_tokens_stop_the_start_with_a_sentence(engine, fake_slack):
    wrong_bot = replace(http_config(fake_slack), bot_token="xoxb-revoked")
    with pytest.raises(UserError, match="Slack refused SLACK_BOT_TOKEN \\(invalid_auth\\)"):
        await started(engine, wrong_bot)
    wrong_app = replace(socket_config(fake_slack), app_token="xapp-revoked")
    with pytest.raises(UserError, match="Slack refused SLACK_APP_TOKEN \\(invalid_auth\\)"):
        await started(engine, wrong_app)
    assert fake_slack.socket_connections == 0
