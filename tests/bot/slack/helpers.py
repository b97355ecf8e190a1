"""Reading what the bot stored (real SQLite) and what it said, for assertions; and a /copy or a
reaction sent as Slack would."""

from __future__ import annotations

import re
import time

from engine import Engine
from tests.bot.slack import recorded

VARIANT_ID = re.compile(r"^\*#(\d+)\*")


async def rows(engine: Engine, sql: str, *args) -> list[tuple]:
    async with engine.store.db.execute(sql, args) as cursor:
        return [tuple(row) async for row in cursor]


async def statuses(engine: Engine) -> dict[int, str]:
    return dict(await rows(engine, "SELECT variant_id, status FROM variant_status"))


async def feedback_rows(engine: Engine) -> int:
    return (await rows(engine, "SELECT COUNT(*) FROM feedback"))[0][0]


async def generations(engine: Engine) -> list[tuple[str, str, str]]:
    """(workspace, channel, user) of every stored generation."""
    return await rows(engine, "SELECT workspace_id, channel, user_id FROM generations ORDER BY id")


def variant_messages(posted: list[dict]) -> list[tuple[int, str]]:
    """(variant id, ts) of each posted variant message, in posting order."""
    return [(int(match.group(1)), message["ts"]) for message in posted
            if (match := VARIANT_ID.match(message["text"]))]


async def react(sender, fake, emoji: str, ts: str, *, added: bool = True,
                channel: str = recorded.CHANNEL, user: str = "U0BRUNO", **ids):
    """Someone reacts in Slack: the message's reactions change (what reactions.get reports),
    then Slack sends the event. Returns the bot's HTTP answer."""
    fake.react(channel, ts, emoji, user, present=added)
    return await sender.event(recorded.reaction(emoji, ts, added=added, channel=channel, user=user,
                                                **ids))


def errors(fake) -> list[str]:
    """Private messages other than the "Writing 3 variants…" progress note."""
    return [text for text in fake.ephemeral() if not text.startswith("Writing ")]


async def copy(sender, bot, fake, text="bamboo toothbrush tone: playful n: 3", **ids):
    """Run one /copy to the end; returns the (variant id, ts) of the posted variants."""
    channel = ids.get("channel", recorded.CHANNEL)
    before = len(fake.posted(channel))
    key = f"r{time.monotonic_ns()}"
    answer = await sender.command(recorded.slash(text, response_url=fake.response_url(key), **ids))
    assert answer.status == 200
    await bot.tasks.wait_idle(60)
    return variant_messages(fake.posted(channel)[before:])
