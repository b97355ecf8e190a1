"""Review summaries in SQLite (schema: ``engine/migrations/0002_reviews.sql``, aspects ``0008``).

Every function takes an open ``aiosqlite.Connection`` and a workspace id. Writes happen in one
transaction (a savepoint, so they also nest inside a caller's transaction): all or nothing. The
caller must not interleave other writes on the same connection while one runs (the store's write
lock does that).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass, field

import aiosqlite

from engine.reviews.export import summary_to_dict
from engine.reviews.summary import ReviewSummary, Theme

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
        moment = moment.replace(tzinfo=dt.timezone.utc)
    moment = moment.astimezone(dt.timezone.utc)
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
    await db.execute("SAVEPOINT save_review_summary")
    try:
        cursor = await db.execute(
            """INSERT INTO review_batches (workspace_id, created_at, source, model, channel, user_id,
                   analysed, positive, negative, neutral, score, average_rating, rating_scale, found,
                   skipped, trend_unit, trend_direction, details_json)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (
                workspace_id, _utc_text(summary.created_at), summary.source, summary.model, channel, user,
                summary.analysed, summary.positive, summary.negative, summary.neutral, summary.score,
                summary.average_rating, summary.rating_scale, summary.found, summary.skipped,
                summary.trend_unit, summary.trend_direction, json.dumps(details, ensure_ascii=False),
            ),
        )
        batch_id = cursor.lastrowid
        await db.executemany(
            """INSERT INTO review_labels (batch_id, position, line, text, label, confidence, rating,
                   review_date, skipped, language, aspects_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [
                (batch_id, i, r.line, r.text, r.label, r.confidence, r.rating,
                 r.date.isoformat() if r.date else None, r.skipped, r.language,
                 json.dumps(r.aspects, ensure_ascii=False))
                for i, r in enumerate(summary.reviews)
            ],
        )
        await db.executemany(
            """INSERT INTO review_themes (batch_id, kind, rank, label, mentions, quote, line, positive, negative,
                   neutral) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [
                (batch_id, kind, rank, t.label, t.mentions, t.quote, t.line, t.positive, t.negative, t.neutral)
                for kind, themes in (("praise", summary.praise), ("complaint", summary.complaints))
                for rank, t in enumerate(themes, start=1)
            ],
        )
    except BaseException:
        await db.execute("ROLLBACK TO save_review_summary")
        await db.execute("RELEASE save_review_summary")
        raise
    # releasing the outermost savepoint commits; inside a caller's transaction the caller commits
    await db.execute("RELEASE save_review_summary")
    logger.info("saved review summary %s for workspace %s (%d reviews)", batch_id, workspace_id, len(summary.reviews))
    return int(batch_id)


_BATCH_COLUMNS = """id, workspace_id, created_at, source, model, channel, user_id, analysed, positive,
                  negative, neutral, score, average_rating, rating_scale, found, skipped, trend_unit,
                  trend_direction, details_json"""


async def latest_review_summary(db: aiosqlite.Connection, workspace_id: str) -> StoredReviewSummary | None:
    """The newest batch of ``workspace_id`` (none of another workspace's), with its themes."""
    found = await _summaries(
        db,
        f"""SELECT {_BATCH_COLUMNS} FROM review_batches WHERE workspace_id = ?
           ORDER BY created_at DESC, id DESC LIMIT 1""",
        (workspace_id,),
    )
    return found[0] if found else None


async def _summaries(db: aiosqlite.Connection, sql: str, params: tuple) -> list[StoredReviewSummary]:
    rows = await _fetch(db, sql, params)
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
        marks = ",".join("?" * len(by_id))
        themes = await _fetch(
            db,
            f"SELECT batch_id, kind, label, mentions, quote, line, positive, negative, neutral FROM review_themes "
            f"WHERE batch_id IN ({marks}) ORDER BY batch_id, kind, rank",
            tuple(by_id),
        )
        for batch_id, kind, label, mentions, quote, line, pos, neg, neu in themes:
            target = by_id[batch_id].praise if kind == "praise" else by_id[batch_id].complaints
            target.append(Theme(label=label, mentions=mentions, quote=quote, line=line, positive=pos, negative=neg,
                                neutral=neu))
    return result


async def _fetch(db: aiosqlite.Connection, sql: str, params: tuple) -> list[tuple]:
    async with db.execute(sql, params) as cursor:
        return [tuple(row) for row in await cursor.fetchall()]
