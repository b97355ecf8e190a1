"""Schema migrations: ``engine/migrations/NNNN_name.sql``, applied in order at start, each in one
transaction, with the number applied kept in ``PRAGMA user_version``."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import aiosqlite

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


def migrations(directory: Path = MIGRATIONS_DIR) -> list[tuple[int, Path]]:
    """The schema migrations in order: ``NNNN_name.sql`` files, numbered from 1 without gaps."""
    found = sorted(
        (int(m.group(1)), p) for p in directory.iterdir() if (m := _MIGRATION_NAME.match(p.name))
    )
    numbers = [n for n, _ in found]
    if numbers != list(range(1, len(numbers) + 1)):
        raise RuntimeError(f"migrations in {directory} are not numbered 1..n: {numbers}")
    return found


async def migrate(db: aiosqlite.Connection, directory: Path = MIGRATIONS_DIR) -> None:
    """Apply the migrations ``db`` has not seen yet; the caller holds the write lock (or no one
    else has the connection yet)."""
    async with db.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    assert row is not None  # a PRAGMA that reads a value answers with one row
    current = row[0]
    for number, path in migrations(directory):
        if number > current:
            logger.info("applying schema migration %s", path.name)
            await _apply(db, number, path.read_text())


async def _apply(db: aiosqlite.Connection, number: int, script: str) -> None:
    """One migration in one transaction. Foreign keys are off while it runs, as SQLite's procedure
    for rebuilding a table asks (a DROP would otherwise cascade or fail), and checked in full
    before it commits."""
    await db.execute("PRAGMA foreign_keys=OFF")  # a no-op inside a transaction: set first
    try:
        # executescript would COMMIT before running; the file runs inside our transaction.
        await db.executescript(f"BEGIN IMMEDIATE;\n{script}")
        async with db.execute("PRAGMA foreign_key_check") as cursor:
            broken = list(await cursor.fetchall())  # aiosqlite types its list as an Iterable
        if broken:
            raise RuntimeError(f"schema migration {number} leaves {len(broken)} rows whose "
                               f"references point nowhere (first: {tuple(broken[0])})")
        await db.execute(f"PRAGMA user_version = {number}")
        await db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            await db.execute("ROLLBACK")
        raise
    finally:
        await db.execute("PRAGMA foreign_keys=ON")
