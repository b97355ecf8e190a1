"""kill -9 of a real `copybot run` (Slack HTTP mode) while reactions arrive: every reaction it
answered 200 to is stored after the restart."""

from __future__ import annotations

import asyncio

import aiohttp

from tests.bot.slack import recorded
from tests.bot.slack.fake_slack import SlackSender
from tests.bot.slack.running import (
    CopybotProcess,
    approved_messages,
    free_port,
    query,
    seed_variants,
    slack_http_env,
    until_journal_finished,
)

REACTIONS = 80


async def test_acknowledged_reactions_survive_kill_9(tmp_path, fake_slack, tiny_model_dir):
    data_dir = tmp_path / "data"
    database = data_dir / "copybot.db"
    timestamps = await seed_variants(database, REACTIONS)
    for ts in timestamps:
        fake_slack.react(recorded.CHANNEL, ts, "white_check_mark", "U0BRUNO")
    env = slack_http_env(fake_slack.api_url, free_port(), data_dir, tiny_model_dir)
    bot = await CopybotProcess.start(env)

    acknowledged: list[str] = []
    async with SlackSender(bot.events_url) as sender:
        async def approve(ts: str) -> None:
            try:
                answer = await sender.event(recorded.reaction("white_check_mark", ts))
            except aiohttp.ClientError:
                return  # the process died first: Slack would send it again
            if answer.status == 200:
                acknowledged.append(ts)
                if len(acknowledged) == REACTIONS // 2:
                    bot.kill()  # right after an acknowledgement, mid-burst

        await asyncio.gather(*(approve(ts) for ts in timestamps))
    await bot.wait()
    assert len(acknowledged) >= REACTIONS // 2

    bot = await CopybotProcess.start(env)
    try:
        await until_journal_finished(database)
        approved = approved_messages(database)
        assert sorted(set(acknowledged) - approved) == []  # not one acknowledged approval lost
        assert query(database, "PRAGMA integrity_check") == [("ok",)]
    finally:
        assert await bot.stop() == 0
