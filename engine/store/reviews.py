"""Review batches (one /reviews request), their per-review labels and their themes (schema:
``engine/migrations/0002_reviews.sql``, aspects ``0008``). Rows in and out as tuples:
``engine.reviews.storage`` turns them into summaries and back."""

from __future__ import annotations

import logging

import aiosqlite

from engine.store.database import Database, inserted_id

logger = logging.getLogger(__name__)

_BATCH_COLUMNS = """id, workspace_id, created_at, source, model, channel, user_id, analysed, positive,
                  negative, neutral, score, average_rating, rating_scale, found, skipped, trend_unit,
                  trend_direction, details_json"""


async def insert_review_batch(db: aiosqlite.Connection, batch: tuple, labels: list[tuple],
                              themes: list[tuple]) -> int:
    """Store a batch (workspace_id, created_at, source, model, channel, user_id, analysed,
    positive, negative, neutral, score, average_rating, rating_scale, found, skipped, trend_unit,
    trend_direction, details_json), its labels (position, line, text, label, confidence, rating,
    review_date, skipped, language, aspects_json) and themes (kind, rank, label, mentions, quote,
    line, positive, negative, neutral); returns the batch id. All or nothing: a savepoint, so it
    also nests inside a caller's transaction (releasing the outermost savepoint commits)."""
    await db.execute("SAVEPOINT save_review_summary")
    try:
        cursor = await db.execute(
            """INSERT INTO review_batches (workspace_id, created_at, source, model, channel, user_id,
                   analysed, positive, negative, neutral, score, average_rating, rating_scale, found,
                   skipped, trend_unit, trend_direction, details_json)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""", batch)
        batch_id = inserted_id(cursor)
        await db.executemany(
            """INSERT INTO review_labels (batch_id, position, line, text, label, confidence, rating,
                   review_date, skipped, language, aspects_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [(batch_id, *label) for label in labels])
        await db.executemany(
            """INSERT INTO review_themes (batch_id, kind, rank, label, mentions, quote, line, positive,
                   negative, neutral) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [(batch_id, *theme) for theme in themes])
    except BaseException:
        await db.execute("ROLLBACK TO save_review_summary")
        await db.execute("RELEASE save_review_summary")
        raise
    await db.execute("RELEASE save_review_summary")
    return batch_id


# A Store reads on its read connection; a connection given instead (a caller's unit of work, a
# test's own database) is read on directly.
Reader = Database | aiosqlite.Connection


async def _tuples(reader: Reader, sql: str, params: tuple) -> list[tuple]:
    db = reader.db if isinstance(reader, Database) else reader
    return [tuple(row) for row in await db.execute_fetchall(sql, params)]


async def latest_review_batch(reader: Reader, workspace_id: str) -> tuple | None:
    found = await _tuples(
        reader,
        f"""SELECT {_BATCH_COLUMNS} FROM review_batches WHERE workspace_id = ?
            ORDER BY created_at DESC, id DESC LIMIT 1""", (workspace_id,))
    return found[0] if found else None


async def review_themes_of(reader: Reader, batch_ids: list[int]) -> list[tuple]:
    """(batch_id, kind, label, mentions, quote, line, positive, negative, neutral), in rank order."""
    marks = ",".join("?" * len(batch_ids))
    return await _tuples(
        reader,
        f"SELECT batch_id, kind, label, mentions, quote, line, positive, negative, neutral "
        f"FROM review_themes WHERE batch_id IN ({marks}) ORDER BY batch_id, kind, rank",
        tuple(batch_ids))


