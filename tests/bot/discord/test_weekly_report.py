"""The weekly report through the real Discord client: a report too long for one message is posted
in parts, each part once, however often a post fails; and after a bounded number of tries, never."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from engine.store import utc_text
from tests.bot.discord.fake_discord import FakeDiscord
from tests.engine.reports.helpers import seed_feedback, seed_generation

DUE = datetime(2026, 11, 9, 9, 0, tzinfo=UTC)  # a Monday, 09:00 UTC: "0 9 * * mon"
LONG_LABEL = "battery that lasts through a whole weekend of hiking " * 5  # ~270 characters
LONG_COPY = "Brush brighter with bamboo: charcoal bristles that keep going for a whole year. " * 3


async def a_long_report_is_due(engine, fake: FakeDiscord) -> str:
    """A workspace with a report channel and a week whose report is two Discord messages long."""
    workspace = f"discord:{fake.guild_id}"
    channel = next(c for c in fake.guild["channels"] if c["name"] == "random")
    week = utc_text(DUE - timedelta(days=2))
    await engine.store.ensure_workspace(workspace, "discord")
    await engine.store.set_setting(workspace, "report_channel", f"<#{channel['id']}>", by="1000")
    async with engine.store.transaction() as db:
        await db.execute("UPDATE settings SET updated_at = ? WHERE key = 'report_channel'",
                         (utc_text(DUE - timedelta(days=5)),))
        batch = await db.execute(
            "INSERT INTO review_batches(workspace_id, created_at, source, model, analysed, positive, "
            "negative, neutral, score, found) VALUES (?, ?, 'reviews.csv', 'm', 10, 7, 2, 1, 50, 10)",
            (workspace, week))
        for rank, kind in enumerate(["praise"] * 3 + ["complaint"] * 3):
            await db.execute("INSERT INTO review_themes(batch_id, kind, rank, label, mentions, quote, line) "
                             "VALUES (?, ?, ?, ?, 2, 'q', 1)",
                             (batch.lastrowid, kind, rank, f"{rank} {LONG_LABEL}"))
    variants = await seed_generation(engine.store, DUE - timedelta(days=2),
                                     [f"{n}. {LONG_COPY}" for n in range(3)], workspace=workspace)
    for variant in variants:
        await seed_feedback(engine.store, variant, "1097200143112716310", "approve", DUE - timedelta(days=1))
    return channel["id"]


def delivered(fake: FakeDiscord, channel_id: str) -> list:
    return [r for r in fake.calls("POST", f"/channels/{channel_id}/messages") if r.status == 200]


async def test_a_failed_second_part_is_retried_alone_and_the_first_is_never_repeated(bot, fake, engine):
    channel_id = await a_long_report_is_due(engine, fake)
    fake.refuse("POST", f"/channels/{channel_id}/messages", times=2, after=1)  # part 2 fails twice

    assert await engine.reports.post_due_reports(DUE + timedelta(minutes=1)) == 0
    [first] = delivered(fake, channel_id)
    assert first.body["content"].startswith("Weekly report: Mon 02 Nov – Mon 09 Nov 2026")
    assert len(first.body["content"]) <= 2000 and not first.files

    # The scheduler checks every minute; the retries wait 1, then 2 minutes.
    assert await engine.reports.post_due_reports(DUE + timedelta(minutes=1, seconds=30)) == 0
    assert await engine.reports.post_due_reports(DUE + timedelta(minutes=2)) == 0  # refused again
    assert await engine.reports.post_due_reports(DUE + timedelta(minutes=3)) == 0  # not due yet
    assert await engine.reports.post_due_reports(DUE + timedelta(minutes=4)) == 1
    first_again, second = delivered(fake, channel_id)
    assert first_again is first  # posted once
    assert "Complaints:" in second.body["content"] and list(second.files) == [
        f"discord_{fake.guild_id}-20261102T0900-20261109T0900.png"]
    assert list(second.files.values())[0].startswith(b"\x89PNG")
    assert len(fake.calls("POST", f"/channels/{channel_id}/messages")) == 4  # 2 posted, 2 refused

    assert await engine.reports.post_due_reports(DUE + timedelta(hours=1)) == 0  # done for the week
    assert len(fake.calls("POST", f"/channels/{channel_id}/messages")) == 4


async def test_a_report_that_cannot_be_posted_is_given_up_with_one_log_line(bot, fake, engine, caplog):
    channel_id = await a_long_report_is_due(engine, fake)
    fake.refuse("POST", f"/channels/{channel_id}/messages", times=1000)  # the bot lost its permission

    moment, wait = DUE + timedelta(minutes=1), timedelta(minutes=1)
    with caplog.at_level(logging.ERROR, logger="engine.reports.service"):
        for _ in range(12):  # the scheduler keeps checking, far past the last retry
            assert await engine.reports.post_due_reports(moment) == 0
            moment, wait = moment + wait, wait * 2
    assert len(fake.calls("POST", f"/channels/{channel_id}/messages")) == 8  # 8 tries, no more
    gave_up = [r for r in caplog.records if r.name == "engine.reports.service"]
    assert [r.getMessage() for r in gave_up] == [
        f"gave up posting the weekly report for discord:{fake.guild_id} (2026-11-09T09:00:00.000Z) "
        f"to <#{channel_id}> after 8 tries; it is not posted"]
