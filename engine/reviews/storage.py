"""Review summaries as the store keeps them (the SQL: ``engine.store.reviews``).

``save_review_summary`` takes the connection of an open unit of work (``Store.transaction()``):
the batch, its labels and themes are written all or nothing, as part of the caller's transaction.
The reads take the ``Store`` (or a connection: ``engine.store.reviews.Reader``).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass, field

import aiosqlite

from engine.reviews.export import summary_to_dict
from engine.reviews.summary import ReviewSummary, Theme
from engine.store.reviews import (
    Reader,
    insert_review_batch,
    latest_review_batch,
    review_themes_of,
)

logger = logging.getLogger(__name__)


@dataclass
class StoredReviewSummary:
    """A saved batch as ``/copy … from: reviews`` reads it back (``latest_review_summary``)."""

    id: int
    workspace_id: str
    created_at: dt.datetime
    source: str
    model: str
    analysed: int
    positive: int
    negative: int
    neutral: int
    score: int
    average_rating: float | None
    rating_scale: float | None
    found: int
    skipped: int
    trend_unit: str | None
    trend_direction: str | None
    channel: str | None = None
    user_id: str | None = None
    praise: list[Theme] = field(default_factory=list)
    complaints: list[Theme] = field(default_factory=list)
    details: dict = field(default_factory=dict)


def _utc_text(moment: dt.datetime | str) -> str:
    if isinstance(moment, str):
        moment = dt.datetime.fromisoformat(moment.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    moment = moment.astimezone(dt.UTC)
    # the store's format: "2026-11-28T21:15:49.123Z", which sorts as text
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


async def save_review_summary(
    db: aiosqlite.Connection,
    workspace_id: str,
    summary: ReviewSummary,
    *,
    channel: str | None = None,
    user: str | None = None,
) -> int:
    """Store the batch, every per-review label and the themes in one transaction; return the batch id."""
    details = summary_to_dict(summary, with_reviews=False)
    details = {k: details[k] for k in ("trend", "skipped_language", "skipped_over_cap", "notes", "seconds",
                                       "alerts", "languages")}
    batch = (
        workspace_id, _utc_text(summary.created_at), summary.source, summary.model, channel, user,
        summary.analysed, summary.positive, summary.negative, summary.neutral, summary.score,
        summary.average_rating, summary.rating_scale, summary.found, summary.skipped,
        summary.trend_unit, summary.trend_direction, json.dumps(details, ensure_ascii=False),
    )
    labels = [(i, r.line, r.text, r.label, r.confidence, r.rating, r.date.isoformat() if r.date else None,
               r.skipped, r.language, json.dumps(r.aspects, ensure_ascii=False))
              for i, r in enumerate(summary.reviews)]
    themes = [(kind, rank, t.label, t.mentions, t.quote, t.line, t.positive, t.negative, t.neutral)
              for kind, found in (("praise", summary.praise), ("complaint", summary.complaints))
              for rank, t in enumerate(found, start=1)]
    batch_id = await insert_review_batch(db, batch, labels, themes)
    logger.info("saved review summary %s for workspace %s (%d reviews)", batch_id, workspace_id, len(summary.reviews))
    return batch_id


async def latest_review_summary(reader: Reader, workspace_id: str) -> StoredReviewSummary | None:
    """The newest batch of ``workspace_id`` (none of another workspace's), with its themes."""
    row = await latest_review_batch(reader, workspace_id)
    return (await _summaries(reader, [row]))[0] if row else None


async def _summaries(reader: Reader, rows: list[tuple]) -> list[StoredReviewSummary]:
    result = []
    for row in rows:
        (batch_id, ws, created, source, model, channel, user_id, analysed, pos, neg, neu, score,
         avg, scale, found, skipped, unit, direction, details) = row
        result.append(
            StoredReviewSummary(
                id=batch_id, workspace_id=ws, created_at=dt.datetime.fromisoformat(created), source=source,
                model=model, analysed=analysed, positive=pos, negative=neg, neutral=neu, score=score,
                average_rating=avg, rating_scale=scale, found=found, skipped=skipped, trend_unit=unit,
                trend_direction=direction, channel=channel, user_id=user_id, details=json.loads(details),
            )
        )
    if result:
        by_id = {s.id: s for s in result}
        for batch_id, kind, label, mentions, quote, line, pos, neg, neu in await review_themes_of(reader, list(by_id)):
            target = by_id[batch_id].praise if kind == "praise" else by_id[batch_id].complaints
            target.append(Theme(label=label, mentions=mentions, quote=quote, line=line, positive=pos, negative=neg,
                                neutral=neu))
    return result


