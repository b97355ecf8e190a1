"""Inbound events: the journal's rows (``inbound_events``).

The journal (``engine.runtime.journal``) writes through a connection of its own, synchronously in a thread
of its own, so its statements here take a plain ``sqlite3.Connection`` already in a transaction.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager

import aiosqlite

from engine.store.database import Database

logger = logging.getLogger(__name__)

LOCK_POLL_SECONDS = 0.0005  # SQLite's own busy handler backs off to 100 ms sleeps: too coarse


async def mark_event_finished(db: aiosqlite.Connection, event_id: int, outcome: str) -> None:
    """Inside a unit of work: the journaled event is carried out (once; a second mark is a no-op)."""
    await db.execute(
        """UPDATE inbound_events SET outcome = ?, finished_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
           WHERE id = ? AND finished_at IS NULL""", (outcome, event_id))


class EventRecords(Database):
    async def finish_event(self, event_id: int, outcome: str) -> None:
        """Mark a journaled inbound event carried out (``engine.runtime.journal``)."""
        async with self.transaction() as db:
            await mark_event_finished(db, event_id, outcome)


# --- the journal's statements (synchronous, on its own connection, inside its transaction) -------

def insert_inbound(db: sqlite3.Connection, rows: list[tuple], prune_before: str | None) -> list[int | None]:
    """Journal each (key, platform, workspace, kind, payload) row; per row its id, or None when
    the key was journaled before. Finished rows older than ``prune_before`` go first."""
    if prune_before is not None:
        db.execute("DELETE FROM inbound_events WHERE finished_at < ?", (prune_before,))
    ids = []
    for row in rows:
        found = db.execute(
            """INSERT INTO inbound_events(key, platform, workspace, kind, payload)
               VALUES (?, ?, ?, ?, ?) ON CONFLICT(key) DO NOTHING RETURNING id""", row
        ).fetchone()
        ids.append(found[0] if found else None)
    return ids


def restart_unfinished(db: sqlite3.Connection, platform: str, finished_before: str,
                       max_starts: int) -> tuple[list[tuple], list[tuple]]:
    """One start of ``platform``: events unfinished at ``max_starts`` starts are abandoned (their
    (key, kind) returned first), the others count one more start and are returned as (id, key,
    workspace, kind, payload), oldest first; finished rows older than ``finished_before`` go."""
    unfinished = "platform = ? AND finished_at IS NULL"
    abandoned = db.execute(f"SELECT key, kind FROM inbound_events WHERE {unfinished} "
                           "AND starts >= ?", (platform, max_starts)).fetchall()
    db.execute(f"""UPDATE inbound_events SET outcome = 'abandoned',
                   finished_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
                   WHERE {unfinished} AND starts >= ?""", (platform, max_starts))
    db.execute(f"UPDATE inbound_events SET starts = starts + 1 WHERE {unfinished}", (platform,))
    db.execute("DELETE FROM inbound_events WHERE platform = ? AND finished_at < ?",
               (platform, finished_before))
    rows = db.execute(f"SELECT id, key, workspace, kind, payload FROM inbound_events "
                      f"WHERE {unfinished} ORDER BY id", (platform,)).fetchall()
    return abandoned, rows


def connect_journal(path) -> sqlite3.Connection:
    """The journal's own connection: no busy timeout (``journal_transaction`` polls for the lock
    itself, finely) and ``synchronous=FULL`` (an acknowledged event survives a power cut too)."""
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA busy_timeout=0")
    db.execute("PRAGMA synchronous=FULL")
    return db


@contextmanager
def journal_transaction(db: sqlite3.Connection, deadline_seconds: float) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE ... COMMIT (ROLLBACK on error), polling for the write lock every half
    millisecond: the store's short transactions come and go all the time, and an acknowledgement
    should get the lock the moment one ends, not after SQLite's busy handler has backed off to
    100 ms naps."""
    deadline = time.monotonic() + deadline_seconds
    while True:
        try:
            db.execute("BEGIN IMMEDIATE")
            break
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
        time.sleep(LOCK_POLL_SECONDS)
    try:
        yield db
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
