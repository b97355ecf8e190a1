"""What a weekly report says, computed from the store for one workspace and one period."""

from __future__ import annotations

import json

import aiosqlite

from engine.reports.figures import ActivityFigures, Period, RisingComplaint, SentimentFigures, WeeklyReport
from engine.reviews.alerts import find_alerts, theme_week_counts
from engine.store import utc_text

TOP_VARIANTS = 3


async def _one(db: aiosqlite.Connection, sql: str, params: tuple) -> tuple:
    async with db.execute(sql, params) as cursor:
        return tuple(await cursor.fetchone())


async def _all(db: aiosqlite.Connection, sql: str, params: tuple) -> list[tuple]:
    async with db.execute(sql, params) as cursor:
        return [tuple(row) async for row in cursor]


async def activity(db: aiosqlite.Connection, workspace: str, period: Period) -> ActivityFigures:
    """Copies made in the period, and how the team judged the variants made in it."""
    span = (workspace, utc_text(period.start), utc_text(period.end))
    (copies,) = await _one(db, """SELECT count(*) FROM generations
                                  WHERE workspace_id = ? AND created_at >= ? AND created_at < ?""", span)
    variants, approved, rejected = await _one(db, """
        SELECT count(*), COALESCE(SUM(s.status = 'approved'), 0), COALESCE(SUM(s.status = 'rejected'), 0)
        FROM variants v JOIN generations g ON g.id = v.generation_id
        JOIN variant_status s ON s.variant_id = v.id
        WHERE g.workspace_id = ? AND g.created_at >= ? AND g.created_at < ?""", span)
    return ActivityFigures(copies, variants, approved, rejected)


async def top_variants(db: aiosqlite.Connection, workspace: str, period: Period) -> list[tuple[str, int]]:
    """The most approved variants among those approved during the period."""
    return await _all(db, """
        SELECT v.text, s.approvals FROM variant_status s JOIN variants v ON v.id = s.variant_id
        WHERE s.workspace_id = ? AND s.status = 'approved' AND s.approved_at >= ? AND s.approved_at < ?
        ORDER BY s.approvals DESC, s.approved_at DESC LIMIT ?""",
        (workspace, utc_text(period.start), utc_text(period.end), TOP_VARIANTS))


async def top_approvers(db: aiosqlite.Connection, workspace: str, period: Period) -> list[tuple[str, int]]:
    return await _all(db, """
        SELECT f.user_id, count(*) AS n FROM feedback f JOIN variants v ON v.id = f.variant_id
        WHERE v.workspace_id = ? AND f.verdict = 'approve' AND f.active = 1
          AND f.updated_at >= ? AND f.updated_at < ?
        GROUP BY f.user_id ORDER BY n DESC, f.user_id LIMIT 3""",
        (workspace, utc_text(period.start), utc_text(period.end)))


async def sentiment(db: aiosqlite.Connection, workspace: str, period: Period) -> SentimentFigures:
    """Review sentiment of the batches analysed during the period (all /reviews requests together)."""
    span = (workspace, utc_text(period.start), utc_text(period.end))
    batches, reviews, positive, negative, neutral = await _one(db, """
        SELECT count(*), COALESCE(SUM(analysed), 0), COALESCE(SUM(positive), 0),
               COALESCE(SUM(negative), 0), COALESCE(SUM(neutral), 0)
        FROM review_batches WHERE workspace_id = ? AND created_at >= ? AND created_at < ?""", span)
    figures = SentimentFigures(batches, reviews, positive, negative, neutral)
    for kind, target in (("praise", figures.praise), ("complaint", figures.complaints)):
        target += await _all(db, """
            SELECT t.label, SUM(t.mentions) AS n FROM review_themes t
            JOIN review_batches b ON b.id = t.batch_id
            WHERE b.workspace_id = ? AND b.created_at >= ? AND b.created_at < ? AND t.kind = ?
            GROUP BY lower(t.label) ORDER BY n DESC LIMIT 3""", span + (kind,))
    return figures


async def rising_complaints(db: aiosqlite.Connection, workspace: str, period: Period,
                            last: Period) -> list[RisingComplaint]:
    """Themes whose negative share rose clearly: across the reviews analysed in ``last`` and in
    ``period`` (by theme label), and those found inside a dated file analysed in ``period``."""
    items = []
    for name, span in (("before", last), ("now", period)):
        rows = await _all(db, """
            SELECT l.aspects_json, l.text FROM review_labels l JOIN review_batches b ON b.id = l.batch_id
            WHERE b.workspace_id = ? AND b.created_at >= ? AND b.created_at < ? AND l.aspects_json != '{}'""",
            (workspace, utc_text(span.start), utc_text(span.end)))
        for aspects_json, text in rows:
            aspects = {k.lower(): v for k, v in json.loads(aspects_json).items()}
            items.append((aspects, name, text))
    counts = theme_week_counts(((a, w) for a, w, _ in items), ("before", "now"))
    quotes: dict[str, str] = {}
    for aspects, when, text in items:
        for theme, sentiment in aspects.items():
            if when == "now" and sentiment == "negative":
                quotes.setdefault(theme, text)
    found = [RisingComplaint(a.theme, a.negative, a.mentions, a.previous_negative, a.previous_mentions,
                             a.p_value, a.quote, "reviews analysed this week vs last week")
             for a in find_alerts(counts, ("before", "now"), quotes)]
    seen = {a.theme for a in found}
    rows = await _all(db, """SELECT source, details_json FROM review_batches
                             WHERE workspace_id = ? AND created_at >= ? AND created_at < ? ORDER BY created_at""",
                      (workspace, utc_text(period.start), utc_text(period.end)))
    for source, details in rows:
        for a in json.loads(details).get("alerts", []):
            if a["theme"].lower() not in seen:
                seen.add(a["theme"].lower())
                found.append(RisingComplaint(a["theme"], a["negative"], a["mentions"], a["previous_negative"],
                                             a["previous_mentions"], a["p_value"], a.get("quote", ""),
                                             f"{source}, {a['previous_week']} → {a['week']}"))
    return found


async def build_report(db: aiosqlite.Connection, workspace: str, period: Period, last: Period,
                       model_version: str, finetune: str | None) -> WeeklyReport:
    return WeeklyReport(
        workspace=workspace,
        period=period,
        this_week=await activity(db, workspace, period),
        last_week=await activity(db, workspace, last),
        top_variants=await top_variants(db, workspace, period),
        top_approvers=await top_approvers(db, workspace, period),
        model_version=model_version,
        finetune=finetune,
        sentiment=await _sentiment_with_alerts(db, workspace, period, last),
        sentiment_last_week=await sentiment(db, workspace, last),
    )


async def _sentiment_with_alerts(db: aiosqlite.Connection, workspace: str, period: Period,
                                 last: Period) -> SentimentFigures:
    figures = await sentiment(db, workspace, period)
    figures.alerts = await rising_complaints(db, workspace, period, last)
    return figures
