"""What a weekly report says, computed from the store for one workspace and one period."""

from __future__ import annotations

import json

from engine.reports.figures import ActivityFigures, ModelNews, Period, RisingComplaint, SentimentFigures, WeeklyReport
from engine.reviews.alerts import find_alerts, theme_week_counts
from engine.store import Store, utc_text

TOP_VARIANTS = 3


async def activity(store: Store, workspace: str, period: Period) -> ActivityFigures:
    """Copies made in the period, and how the team judged the variants made in it."""
    span = (workspace, utc_text(period.start), utc_text(period.end))
    return ActivityFigures(await store.copies_made(*span), *await store.verdict_counts(*span))


async def top_variants(store: Store, workspace: str, period: Period) -> list[tuple[str, int]]:
    """The most approved variants among those approved during the period."""
    return await store.most_approved(workspace, utc_text(period.start), utc_text(period.end), TOP_VARIANTS)


async def top_approvers(store: Store, workspace: str, period: Period) -> list[tuple[str, int]]:
    return await store.top_approvers(workspace, utc_text(period.start), utc_text(period.end))


async def sentiment(store: Store, workspace: str, period: Period) -> SentimentFigures:
    """Review sentiment of the batches analysed during the period (all /reviews requests together)."""
    span = (workspace, utc_text(period.start), utc_text(period.end))
    figures = SentimentFigures(*await store.review_counts(*span))
    for kind, target in (("praise", figures.praise), ("complaint", figures.complaints)):
        target += await store.top_themes(*span, kind)
    return figures


async def rising_complaints(store: Store, workspace: str, period: Period,
                            last: Period) -> list[RisingComplaint]:
    """Themes whose negative share rose clearly: across the reviews analysed in ``last`` and in
    ``period`` (by theme label), and those found inside a dated file analysed in ``period``."""
    items = []
    for name, span in (("before", last), ("now", period)):
        for aspects_json, text in await store.reviews_with_aspects(workspace, utc_text(span.start),
                                                                   utc_text(span.end)):
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
    for source, details in await store.review_batch_details(workspace, utc_text(period.start),
                                                            utc_text(period.end)):
        for a in json.loads(details).get("alerts", []):
            if a["theme"].lower() not in seen:
                seen.add(a["theme"].lower())
                found.append(RisingComplaint(a["theme"], a["negative"], a["mentions"], a["previous_negative"],
                                             a["previous_mentions"], a["p_value"], a.get("quote", ""),
                                             f"{source}, {a['previous_week']} → {a['week']}"))
    return found


async def build_report(store: Store, workspace: str, period: Period, last: Period,
                       model_version: str, finetune: ModelNews | None) -> WeeklyReport:
    return WeeklyReport(
        workspace=workspace,
        period=period,
        this_week=await activity(store, workspace, period),
        last_week=await activity(store, workspace, last),
        top_variants=await top_variants(store, workspace, period),
        top_approvers=await top_approvers(store, workspace, period),
        model_version=model_version,
        finetune=finetune,
        sentiment=await _sentiment_with_alerts(store, workspace, period, last),
        sentiment_last_week=await sentiment(store, workspace, last),
    )


async def _sentiment_with_alerts(store: Store, workspace: str, period: Period,
                                 last: Period) -> SentimentFigures:
    figures = await sentiment(store, workspace, period)
    figures.alerts = await rising_complaints(store, workspace, period, last)
    return figures
