"""Weekly reports from a seeded database: the numbers, the chart, exactly-once posting, time zones."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from bot.rendering.report import report_text
from bot.slack_adapter.render import MARKUP as SLACK
from engine.reports.figures import DecidedTrial, FinishedRun, ModelNews, WeeklyReport
from engine.reports.periods import completed_period, current_period, report_trigger
from engine.reports.service import ReportService
from engine.store import Store, utc_text
from tests.engine.reports.helpers import WS, seed_feedback, seed_generation

UTC = UTC
# Monday 9 Nov 2026 09:00 in Berlin is 08:00 UTC; the week before it is the one reported on the 9th.
REPORT_DUE = datetime(2026, 11, 9, 8, 0, tzinfo=UTC)


class Channel:
    """What the adapter's publisher received; can be told to fail, as a platform outage would."""

    def __init__(self):
        self.posts = []
        self.down = False

    async def publish(self, announcement):
        if self.down:
            return False
        self.posts.append(announcement)
        return True


@pytest.fixture
async def store(tmp_path):
    store = await Store.open(tmp_path / "c.db")
    await store.ensure_workspace(WS, "slack")
    await store.set_setting(WS, "timezone", "Europe/Berlin", by="UADMIN")
    yield store
    await store.close()


def service(store, channel, tmp_path):
    return ReportService(store, "0 9 * * mon", tmp_path / "charts", model_version=lambda workspace: "v7",
                         announce=channel.publish)


async def seed_two_weeks(store):
    week = REPORT_DUE - timedelta(days=3)  # inside the reported week
    before = REPORT_DUE - timedelta(days=10)  # the week before
    a = await seed_generation(store, week, ["Cold at noon.", "Still cold at midnight.", "Ice for days."])
    b = await seed_generation(store, week, ["Brew tonight, sip tomorrow.", "Coffee, zero effort."])
    await seed_feedback(store, a[0], "UALICE", "approve", week)
    await seed_feedback(store, a[0], "UBOB", "approve", week)
    await seed_feedback(store, b[1], "UALICE", "approve", week)
    await seed_feedback(store, a[2], "UBOB", "reject", week)
    old = await seed_generation(store, before, ["Old one.", "Older one."])
    await seed_feedback(store, old[0], "UALICE", "approve", before)


async def test_the_report_numbers_match_the_seeded_week(store, tmp_path):
    await seed_two_weeks(store)
    report = await service(store, Channel(), tmp_path).on_demand(WS, last_week=True,
                                                                now=REPORT_DUE + timedelta(hours=1))
    text = report_text(report, SLACK)
    assert text.splitlines()[0] == "Weekly report: Mon 02 Nov – Mon 09 Nov 2026"
    assert "Copy: 2 requests, 5 variants (last week 1 / 2)" in text
    assert "Approved 40% (-10 pts vs last week); rejected 20% (+20 pts vs last week)" in text
    assert "1. “Cold at noon.” (2 approvals)" in text
    assert "Most approvals given: <@UALICE> (2), <@UBOB> (1)" in text
    assert "Model: v7." in text
    assert report.chart.stat().st_size > 5_000 and report.chart.read_bytes()[:4] == b"\x89PNG"


async def test_review_sentiment_of_the_week_is_in_the_report(store, tmp_path):
    week = utc_text(REPORT_DUE - timedelta(days=2))
    async with store.transaction() as db:
        cursor = await db.execute(
            "INSERT INTO review_batches(workspace_id, created_at, source, model, analysed, positive, "
            "negative, neutral, score, found) VALUES (?, ?, 'reviews.csv', 'm', 10, 7, 2, 1, 50, 10)",
            (WS, week))
        await db.execute("INSERT INTO review_themes(batch_id, kind, rank, label, mentions, quote, line) "
                         "VALUES (?, 'praise', 1, 'battery life', 4, 'q', 1)",
                         (cursor.lastrowid,))
        await db.execute("INSERT INTO review_themes(batch_id, kind, rank, label, mentions, quote, line) "
                         "VALUES (?, 'complaint', 1, 'shipping', 2, 'q', 2)",
                         (cursor.lastrowid,))
    report = await service(store, Channel(), tmp_path).on_demand(WS, last_week=True,
                                                                now=REPORT_DUE + timedelta(hours=1))
    assert ("Reviews: 10 analysed, 70% positive, 2 negative. Praised: battery life (4). "
            "Complaints: shipping (2).") in report_text(report, SLACK)


async def test_a_report_is_posted_once_per_period_across_restarts(store, tmp_path):
    await seed_two_weeks(store)
    await store.set_setting(WS, "report_channel", "C-REPORTS", by="UADMIN")
    async with store.transaction() as db:  # the channel was set up during the reported week
        await db.execute("UPDATE settings SET updated_at = ? WHERE key = 'report_channel'",
                         (utc_text(REPORT_DUE - timedelta(days=5)),))
    channel = Channel()
    now = REPORT_DUE + timedelta(minutes=1)
    assert await service(store, channel, tmp_path).post_due_reports(now) == 1
    assert await service(store, channel, tmp_path).post_due_reports(now + timedelta(minutes=1)) == 0
    path = store.path
    await store.close()
    reopened = await Store.open(path)  # the bot restarts around the scheduled time
    try:
        assert await service(reopened, channel, tmp_path).post_due_reports(now + timedelta(minutes=5)) == 0
    finally:
        await reopened.close()
    assert len(channel.posts) == 1
    post = channel.posts[0]
    assert (post.workspace, post.channel) == (WS, "C-REPORTS")
    assert "posted late" not in report_text(post.report, SLACK) and post.image.is_file()


async def test_missed_reports_are_posted_at_start_up_marked_late_and_failed_posts_retried(store, tmp_path):
    await store.set_setting(WS, "report_channel", "C-REPORTS", by="UADMIN")
    async with store.transaction() as db:
        await db.execute("UPDATE settings SET updated_at = ? WHERE key = 'report_channel'",
                         (utc_text(REPORT_DUE - timedelta(days=1)),))
    channel = Channel()
    channel.down = True  # the platform is unreachable at first
    two_weeks_later = REPORT_DUE + timedelta(days=14, minutes=10)  # back just after the third
    assert await service(store, channel, tmp_path).post_due_reports(two_weeks_later) == 0
    channel.down = False
    # Retried a minute later (the first retry's wait), not at once.
    assert await service(store, channel, tmp_path).post_due_reports(two_weeks_later) == 0
    a_minute_later = two_weeks_later + timedelta(minutes=1)
    assert await service(store, channel, tmp_path).post_due_reports(a_minute_later) == 3
    assert [("posted late" in report_text(p.report, SLACK)) for p in channel.posts] == [True, True, False]
    assert await service(store, channel, tmp_path).post_due_reports(a_minute_later) == 0


def test_weeks_follow_the_workspace_clock_across_dst():
    berlin = report_trigger("0 9 * * mon", "Europe/Berlin")
    # Clocks went forward on Sunday 29 March 2026: that week is 167 hours long.
    spring = completed_period(berlin, datetime(2026, 3, 31, 12, tzinfo=UTC))
    assert spring.end == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)  # 09:00 CEST
    assert spring.start == datetime(2026, 3, 23, 8, 0, tzinfo=UTC)  # 09:00 CET
    assert spring.end - spring.start == timedelta(hours=167)
    new_york = report_trigger("0 9 * * mon", "America/New_York")
    so_far = current_period(new_york, datetime(2026, 11, 4, 12, tzinfo=UTC))
    assert so_far.start == datetime(2026, 11, 2, 14, 0, tzinfo=UTC)  # 09:00 EST, after the change


def test_a_bad_schedule_is_one_clear_sentence():
    from engine import UserError
    with pytest.raises(UserError, match="needs five fields"):
        report_trigger("every monday", "UTC")
    # crontab numbering, not APScheduler's: 1 is Monday
    monday = report_trigger("0 9 * * 1", "UTC")
    assert completed_period(monday, datetime(2026, 11, 4, tzinfo=UTC)).end.weekday() == 0


async def _seed_battery_reviews(store, when, negative: int, total: int) -> None:
    async with store.transaction() as db:
        cursor = await db.execute(
            "INSERT INTO review_batches(workspace_id, created_at, source, model, analysed, positive, "
            "negative, neutral, score, found) VALUES (?, ?, 'reviews.csv', 'm', ?, ?, ?, 0, 0, ?)",
            (WS, utc_text(when), total, total - negative, negative, total))
        for i in range(total):
            sentiment = "negative" if i < negative else "positive"
            text = "The battery dies by noon." if sentiment == "negative" else "The battery lasts all day."
            await db.execute(
                "INSERT INTO review_labels(batch_id, position, line, text, label, aspects_json) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (cursor.lastrowid, i, i + 1, text, sentiment, f'{{"battery": "{sentiment}"}}'))


async def test_a_jump_in_a_themes_complaints_is_the_first_thing_the_report_says(store, tmp_path):
    await _seed_battery_reviews(store, REPORT_DUE - timedelta(days=9), negative=1, total=12)
    await _seed_battery_reviews(store, REPORT_DUE - timedelta(days=2), negative=10, total=12)
    report = await service(store, Channel(), tmp_path).on_demand(WS, last_week=True,
                                                                now=REPORT_DUE + timedelta(hours=1))
    lines = report_text(report, SLACK).split("\n")
    assert lines[1].startswith("⚠ Alert: complaints about battery rose to 83% negative (10 of 12) from 8% (1 of 12)")
    assert "Fisher exact p = " in lines[1] and "“The battery dies by noon.”" in lines[1]


async def test_a_small_volume_wobble_raises_no_alert_in_the_report(store, tmp_path):
    await _seed_battery_reviews(store, REPORT_DUE - timedelta(days=9), negative=1, total=4)
    await _seed_battery_reviews(store, REPORT_DUE - timedelta(days=2), negative=3, total=5)
    report = await service(store, Channel(), tmp_path).on_demand(WS, last_week=True,
                                                                now=REPORT_DUE + timedelta(hours=1))
    assert "Alert" not in report_text(report, SLACK) and report.sentiment.alerts == []


async def test_the_weeks_fine_tune_is_said_in_the_report_and_survives_its_stored_claim(store, tmp_path):
    news = ModelNews(run=FinishedRun(name="v2", status="trial", train_examples=40, nll_before=2.5, nll_after=2.0,
                                     parent="v1"),
                     trial=DecidedTrial(candidate="v2", incumbent="v1", won=True, candidate_approved=9,
                                        candidate_verdicts=10, incumbent_approved=3, incumbent_verdicts=10,
                                        p_value=0.0099))

    async def model_news(workspace, period):
        return news

    reports = ReportService(store, "0 9 * * mon", tmp_path / "charts", model_version=lambda workspace: "v2",
                            announce=Channel().publish, model_news=model_news)
    report = await reports.on_demand(WS, last_week=True, now=REPORT_DUE + timedelta(hours=1))
    line = next(text for text in report_text(report, SLACK).splitlines() if text.startswith("Model:"))
    assert line == ("Model: v2. Last fine-tune: candidate v2, trained on 40 approved examples (approved-copy NLL "
                    "2.50 → 2.00 (-20.0%)), went into a blind A/B test against v1. v2 won its A/B test against v1: "
                    "9 of 10 approved (90%) vs 3 of 10 approved (30%) (p = 0.010).")
    # A retried post renders the report from what was stored with its claim: the same words.
    assert report_text(WeeklyReport.from_json(report.to_json()), SLACK) == report_text(report, SLACK)
    # A claim stored by a version that kept the sentence as words still shows it.
    legacy = json.loads(report.to_json()) | {"finetune": "v1 went live, trained on 12 approved examples."}
    assert "Last fine-tune: v1 went live, trained on 12 approved examples." in report_text(
        WeeklyReport.from_json(json.dumps(legacy)), SLACK)
