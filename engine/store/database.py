"""The connections to the SQLite file and the one rule for using them.

Writes go through one write connection, one unit of work at a time: ``transaction()`` holds an
asyncio lock for ``BEGIN IMMEDIATE`` ... ``COMMIT`` (``ROLLBACK`` on any error), so nothing is
stored half-way and no coroutine's statements land in another's transaction. Reads go through a
second, read-only connection: under WAL it only ever sees committed data, so a read never sees
another coroutine's open transaction (on one shared connection it would, and could act on rows
that are then rolled back). A read that a write depends on belongs inside that write's
transaction, on the connection ``transaction()`` yields. Writers in other processes (the CLI, a
backup) and the inbound journal's own connection wait on SQLite's busy timeout.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path

import aiosqlite

logger = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 10_000  # how long a write waits for another writer before it fails

Params = Iterable | dict


def utc_text(moment: datetime) -> str:
    """The store's time format: ISO-8601 UTC with milliseconds and a Z, sortable as text."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_utc_text(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def inserted_id(cursor: aiosqlite.Cursor) -> int:
    """The rowid of the row the INSERT run on ``cursor`` made."""
    row_id = cursor.lastrowid
    assert row_id is not None  # None only on a cursor that has not inserted anything
    return row_id


async def connect(path: Path, *, read_only: bool = False) -> aiosqlite.Connection:
    # isolation_level=None: we issue BEGIN/COMMIT ourselves, so a transaction is exactly one unit.
    db = await aiosqlite.connect(path, isolation_level=None)
    db.row_factory = sqlite3.Row
    try:
        await db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        if read_only:
            await db.execute("PRAGMA query_only=ON")  # a write here would bypass the lock
        else:
            await db.execute("PRAGMA journal_mode=WAL")
            # FULL: a commit survives a power cut too, not only a killed process (NORMAL under WAL
            # may lose the last commits then, while the journal, FULL, already marked them done).
            await db.execute("PRAGMA synchronous=FULL")
            await db.execute("PRAGMA foreign_keys=ON")
    except BaseException:
        await db.close()
        raise
    return db


class Database:
    """The write connection (``transaction()``) and the read connection (``db``, ``fetch_*``)."""

    def __init__(self, writer: aiosqlite.Connection, reader: aiosqlite.Connection, path: Path) -> None:
        self._writer = writer
        self.db = reader  # read-only: committed data only
        self.path = path
        self._lock = asyncio.Lock()

    async def close(self) -> None:
        await self.db.close()
        await self._writer.close()  # the last connection out checkpoints the WAL

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """One unit of work on the write connection: committed when the block ends, rolled back
        when it raises. Not re-entrant: a unit of work is one block."""
        async with self._lock:
            await self._writer.execute("BEGIN IMMEDIATE")
            try:
                yield self._writer
            except BaseException:
                await self._writer.execute("ROLLBACK")
                raise
            await self._writer.execute("COMMIT")

    # --- reads -----------------------------------------------------------------------------------
    # Each read runs to its end in one step of the connection's thread: no statement stays open
    # across an await, so none holds an old snapshot that would hide a newer commit.

    async def fetch_all(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        return list(await self.db.execute_fetchall(sql, params))

    async def fetch_tuples(self, sql: str, params: Params = ()) -> list[tuple]:
        return [tuple(row) for row in await self.fetch_all(sql, params)]

    async def fetch_one(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        rows = await self.fetch_all(sql, params)
        return rows[0] if rows else None

    async def fetch_value(self, sql: str, params: Params = ()):
        row = await self.fetch_one(sql, params)
        return row[0] if row is not None else None

    async def ping(self) -> None:
        """Raises unless the database answers a trivial read (the health check)."""
        await self.fetch_value("SELECT 1")

    async def schema_version(self) -> int:
        return await self.fetch_value("PRAGMA user_version")
