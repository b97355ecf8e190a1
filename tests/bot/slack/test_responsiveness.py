"""Slack is answered within its 3 seconds even while the engine reads a big upload for someone else
(a Discord user's 20 MB export, say): reading files happens off the event loop."""

from __future__ import annotations

import asyncio
import time

from engine import Origin
from tests.bot.slack import recorded

DISCORD_USER = Origin(platform="discord", workspace="1001", channel="2002", user="3003")


def shop_export(megabytes: int = 20) -> bytes:
    """A star-rating export where most customers left no comment: big, few reviews to analyse."""
    rows = ["review,stars,date", '"Love it, my teeth feel cleaner",5,2024-03-01',
            "Bristles fell out after a week,1,2024-03-02", "Does the job,3,2024-03-03"]
    filler = ",5,2024-03-04"
    return ("\n".join(rows + [filler] * (megabytes * 2**20 // (len(filler) + 1))) + "\n").encode()


async def test_a_slack_command_is_acknowledged_at_once_while_a_big_file_is_read(
        http_bot, sender, fake_slack):
    engine = http_bot.engine
    await engine.reviews.analyzer()  # loaded beforehand: this is about reading the file
    upload = shop_export()
    reading = asyncio.create_task(engine.summarize_reviews(DISCORD_USER, data=upload,
                                                           filename="ratings.csv"))
    try:
        started = time.monotonic()
        answer = await sender.command(recorded.slash(
            "help", command="/copybot", response_url=fake_slack.response_url("help")))
        acknowledged = time.monotonic() - started
    finally:
        summary = await reading
    assert answer.status == 200
    assert acknowledged < 1.0, f"Slack waited {acknowledged:.1f} s for its acknowledgement"
    assert (summary.analysed, summary.positive >= 1, summary.negative >= 1) == (3, True, True)
