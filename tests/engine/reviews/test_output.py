"""--out export and storage, on summaries built by hand (no model needed). Chat rendering is the
adapters' (tests/bot/test_rendering.py)."""

from __future__ import annotations

import csv
import datetime as dt
import json
import sqlite3
from pathlib import Path

import aiosqlite
import pytest

from engine.errors import UserError
from engine.reviews import (
    latest_review_summary,
    save_review_summary,
    write_labels,
)
from tests.engine.reviews.helpers import WHEN, make_summary

MIGRATIONS = [Path(__file__).resolve().parents[3] / "engine" / "migrations" / name
              for name in ("0002_reviews.sql", "0008_review_aspects.sql")]


# ------------------------------------------------------------------ --out


def test_write_labels_csv_has_a_row_per_review(tmp_path):
    path = write_labels(make_summary(n=6), tmp_path / "labels.csv")
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 7
    assert rows[0] == {"line": "1", "text": "Review 0 about the battery and the strap", "label": "positive",
                       "confidence": "0.9", "rating": "1.0", "date": "2026-01-01", "skipped": "",
                       "language": "", "aspects": ""}
    assert rows[-1]["label"] == "" and rows[-1]["skipped"] == "language not supported (Spanish)"


def test_write_labels_json_has_the_summary_and_the_reviews(tmp_path):
    data = json.loads(write_labels(make_summary(n=6), tmp_path / "labels.json").read_text(encoding="utf-8"))
    assert data["analysed"] == 6 and data["score"] == 0 and len(data["reviews"]) == 7
    assert data["praise"][0]["label"] == "battery life 0" and data["trend"][0]["period"] == "2025-01"


@pytest.mark.parametrize("name", ["labels.xlsx", "labels"])
def test_write_labels_refuses_other_formats(tmp_path, name):
    with pytest.raises(UserError) as error:
        write_labels(make_summary(n=2), tmp_path / name)
    assert ".csv or .json" in str(error.value)


def test_write_labels_into_a_missing_folder_is_a_user_error(tmp_path):
    with pytest.raises(UserError):
        write_labels(make_summary(n=2), tmp_path / "nope" / "labels.csv")


# ------------------------------------------------------------------ storage


@pytest.fixture(params=["deferred", "autocommit"])
async def db(tmp_path, request):
    """A real SQLite file, opened with the sqlite3 default transactions or in autocommit mode."""
    isolation = "" if request.param == "deferred" else None
    conn = await aiosqlite.connect(tmp_path / "copybot.db", isolation_level=isolation)
    conn.row_factory = sqlite3.Row
    await conn.execute("PRAGMA foreign_keys = ON")
    await conn.execute("CREATE TABLE workspaces(id TEXT PRIMARY KEY)")
    for migration in MIGRATIONS:
        await conn.executescript(migration.read_text(encoding="utf-8"))
    await conn.executemany("INSERT INTO workspaces(id) VALUES (?)", [("slack:T1",), ("discord:42",)])
    await conn.commit()
    yield conn
    await conn.close()


async def count(db, table: str) -> int:
    async with db.execute(f"SELECT count(*) FROM {table}") as cursor:
        return (await cursor.fetchone())[0]


async def test_summary_is_saved_and_read_back_for_copy_from_reviews(db, tmp_path):
    batch_id = await save_review_summary(db, "slack:T1", make_summary(n=30), channel="C1", user="U1")
    await save_review_summary(db, "discord:42", make_summary(n=9))

    # a fresh connection sees it: it was committed
    async with aiosqlite.connect(tmp_path / "copybot.db") as other:
        async with other.execute("SELECT label, skipped FROM review_labels WHERE batch_id = ? ORDER BY position",
                                 (batch_id,)) as c:
            labels = await c.fetchall()
    assert len(labels) == 31 and labels[0][0] == "positive" and labels[-1][1].startswith("language")

    stored = await latest_review_summary(db, "slack:T1")  # what `/copy … from: reviews` reads
    assert stored.id == batch_id
    assert (stored.analysed, stored.positive, stored.negative, stored.neutral, stored.score) == (30, 10, 10, 10, 0)
    assert stored.created_at == WHEN and stored.source == "shop-export.csv" and stored.channel == "C1"
    assert stored.skipped == 101 and stored.found == 131 and stored.trend_direction == "improving"
    assert [t.label for t in stored.praise] == [f"battery life {k}" for k in range(5)]
    assert stored.complaints[0].quote == "The strap snapped after a week."
    assert stored.details["skipped_language"] == {"Spanish": 1} and len(stored.details["trend"]) == 12

    later = await save_review_summary(db, "slack:T1", make_summary(n=3, created=WHEN + dt.timedelta(days=8)))
    assert (await latest_review_summary(db, "slack:T1")).id == later
    assert (await latest_review_summary(db, "discord:42")).analysed == 9  # each workspace its own
    assert await latest_review_summary(db, "slack:T9") is None


async def test_a_failed_save_leaves_nothing_behind(db):
    broken = make_summary(n=5)
    broken.reviews[3].label = "ecstatic"  # violates the CHECK on review_labels.label
    with pytest.raises(sqlite3.IntegrityError):
        await save_review_summary(db, "slack:T1", broken)
    counts = (await count(db, "review_batches"), await count(db, "review_labels"), await count(db, "review_themes"))
    assert counts == (0, 0, 0)
    assert not db.in_transaction
    # and the connection is still usable
    await save_review_summary(db, "slack:T1", make_summary(n=5))
    assert await count(db, "review_batches") == 1


async def test_an_unknown_workspace_is_refused_by_the_foreign_key(db):
    with pytest.raises(sqlite3.IntegrityError):
        await save_review_summary(db, "slack:NOPE", make_summary(n=2))
    assert await count(db, "review_batches") == 0


async def test_the_stores_migrations_create_the_tables_and_a_store_transaction_saves(tmp_path):
    from engine.store import Store

    store = await Store.open(tmp_path / "data" / "copybot.db")
    try:
        await store.ensure_workspace("slack:T1", "slack")
        async with store.transaction() as conn:
            batch_id = await save_review_summary(conn, "slack:T1", make_summary(n=4))
        found = await latest_review_summary(store.db, "slack:T1")
        assert found.id == batch_id and found.analysed == 4
        with pytest.raises(RuntimeError):
            async with store.transaction() as conn:  # the caller's transaction fails after the save
                await save_review_summary(conn, "slack:T1", make_summary(n=4))
                raise RuntimeError("later step failed")
        assert await count(store.db, "review_batches") == 1  # the failed transaction saved nothing
        assert (await latest_review_summary(store.db, "slack:T1")).id == batch_id
    finally:
        await store.close()
