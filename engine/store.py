"""SQLite storage (aiosqlite, WAL) with versioned migrations applied at start.

Every write happens inside ``transaction()``: ``BEGIN IMMEDIATE`` ... ``COMMIT``, or ``ROLLBACK`` on
any error, so nothing is ever stored half-way. Writers in this process are serialised by a lock;
writers in other processes (the CLI, a backup) wait on SQLite's busy timeout.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path

import aiosqlite

from engine.types import ApprovedExample, FeedbackOutcome, Variant, Verdict

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
BUSY_TIMEOUT_MS = 10_000  # how long a write waits for another writer before it fails
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


def utc_text(moment: datetime) -> str:
    """The store's time format: ISO-8601 UTC with milliseconds and a Z, sortable as text."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_utc_text(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class Store:
    def __init__(self, db: aiosqlite.Connection, path: Path) -> None:
        self.db = db
        self.path = path
        self._lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: Path, migrations_dir: Path = MIGRATIONS_DIR) -> "Store":
        path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: we issue BEGIN/COMMIT ourselves, so a transaction is exactly one unit.
        db = await aiosqlite.connect(path, isolation_level=None)
        db.row_factory = sqlite3.Row
        await db.execute("PRAGMA journal_mode=WAL")
        await db.execute("PRAGMA foreign_keys=ON")
        await db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        await db.execute("PRAGMA synchronous=NORMAL")  # safe with WAL: a crash loses no commit
        store = cls(db, path)
        try:
            await store.migrate(migrations_dir)
        except BaseException:
            await db.close()
            raise
        return store

    async def close(self) -> None:
        await self.db.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        async with self._lock:
            await self._begin()
            try:
                yield self.db
            except BaseException:
                await self.db.execute("ROLLBACK")
                raise
            await self.db.execute("COMMIT")

    async def _begin(self) -> None:
        """BEGIN IMMEDIATE. SQLite says "database is locked" at once, without waiting out the busy
        timeout, when a read of this connection is still in progress on a snapshot older than
        another connection's last commit (the journal writes through its own connection): the
        read ends at the next await, so wait for it and try again, up to the busy timeout."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + BUSY_TIMEOUT_MS / 1000
        delay = 0.001
        while True:
            try:
                await self.db.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or loop.time() >= deadline:
                    raise
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.05)

    async def schema_version(self) -> int:
        async with self.db.execute("PRAGMA user_version") as cursor:
            return (await cursor.fetchone())[0]

    async def migrate(self, directory: Path = MIGRATIONS_DIR) -> None:
        current = await self.schema_version()
        for number, path in migrations(directory):
            if number <= current:
                continue
            logger.info("applying schema migration %s", path.name)
            async with self._lock:
                await self._apply(number, path.read_text())

    async def _apply(self, number: int, script: str) -> None:
        """One migration in one transaction. Foreign keys are off while it runs, as SQLite's
        procedure for rebuilding a table asks (a DROP would otherwise cascade or fail), and
        checked in full before it commits."""
        await self.db.execute("PRAGMA foreign_keys=OFF")  # a no-op inside a transaction: set first
        try:
            # executescript would COMMIT before running; the file runs inside our transaction.
            await self.db.executescript(f"BEGIN IMMEDIATE;\n{script}")
            async with self.db.execute("PRAGMA foreign_key_check") as cursor:
                broken = await cursor.fetchall()
            if broken:
                raise RuntimeError(f"schema migration {number} leaves {len(broken)} rows whose "
                                   f"references point nowhere (first: {tuple(broken[0])})")
            await self.db.execute(f"PRAGMA user_version = {number}")
            await self.db.execute("COMMIT")
        except BaseException:
            if self.db.in_transaction:
                await self.db.execute("ROLLBACK")
            raise
        finally:
            await self.db.execute("PRAGMA foreign_keys=ON")

    # --- workspaces and settings ---------------------------------------------------------------

    async def ensure_workspace(self, workspace_id: str, platform: str) -> None:
        async with self.transaction() as db:
            await db.execute(
                "INSERT OR IGNORE INTO workspaces(id, platform) VALUES (?, ?)", (workspace_id, platform)
            )

    async def workspace_ids(self) -> list[str]:
        async with self.db.execute("SELECT id FROM workspaces ORDER BY id") as cursor:
            return [row["id"] async for row in cursor]

    async def settings(self, workspace_id: str) -> dict[str, str]:
        async with self.db.execute(
            "SELECT key, value FROM settings WHERE workspace_id = ?", (workspace_id,)
        ) as cursor:
            return {row["key"]: row["value"] async for row in cursor}

    async def set_setting(self, workspace_id: str, key: str, value: str | None, by: str) -> None:
        """Store a workspace setting; ``None`` removes it (back to the deployment default)."""
        async with self.transaction() as db:
            if value is None:
                await db.execute(
                    "DELETE FROM settings WHERE workspace_id = ? AND key = ?", (workspace_id, key)
                )
                return
            await db.execute(
                """INSERT INTO settings(workspace_id, key, value, updated_by) VALUES (?, ?, ?, ?)
                   ON CONFLICT(workspace_id, key) DO UPDATE SET value = excluded.value,
                   updated_by = excluded.updated_by,
                   updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')""",
                (workspace_id, key, value, by),
            )

    async def prune_events(self, older_than: datetime) -> int:
        """Forget ``processed_events`` rows (handled events as recorded before the inbound journal,
        which prunes itself) older than ``older_than``."""
        async with self.transaction() as db:
            cursor = await db.execute("DELETE FROM processed_events WHERE created_at < ?",
                                      (utc_text(older_than),))
            return cursor.rowcount

    async def finish_event(self, event_id: int, outcome: str) -> None:
        """Mark a journaled inbound event carried out (``engine.journal``)."""
        async with self.transaction() as db:
            await self._finish_event(db, event_id, outcome)

    @staticmethod
    async def _finish_event(db: aiosqlite.Connection, event_id: int, outcome: str) -> None:
        await db.execute(
            """UPDATE inbound_events SET outcome = ?, finished_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
               WHERE id = ? AND finished_at IS NULL""", (outcome, event_id))

    # --- generations and variants --------------------------------------------------------------

    async def save_generation(
        self,
        workspace_id: str,
        channel: str,
        user: str,
        request: dict,
        prompt: list[dict[str, str]],
        model_version: str,
        texts: list[str],
        authors: list[tuple[str, int | None]] | None = None,
    ) -> tuple[int, list[Variant]]:
        """Store a generation and its variants in one transaction; returns their ids. ``authors``:
        per variant, the model that wrote it and the A/B test it is evidence in (default: all by
        ``model_version``, none in a test)."""
        authors = authors or [(model_version, None)] * len(texts)
        async with self.transaction() as db:
            cursor = await db.execute(
                """INSERT INTO generations(workspace_id, channel, user_id, request, prompt, model_version)
                   VALUES (?, ?, ?, ?, ?, ?)""",
                (workspace_id, channel, user, json.dumps(request), json.dumps(prompt), model_version),
            )
            generation_id = cursor.lastrowid
            variants = []
            for position, (text, (model, trial_id)) in enumerate(zip(texts, authors, strict=True), start=1):
                cursor = await db.execute(
                    """INSERT INTO variants(generation_id, workspace_id, position, text, model_version,
                       trial_id) VALUES (?, ?, ?, ?, ?, ?)""",
                    (generation_id, workspace_id, position, text, model, trial_id),
                )
                variants.append(Variant(id=cursor.lastrowid, text=text, position=position))
        return generation_id, variants

    async def discard_unposted(self, workspace_id: str, generation_id: int) -> int:
        """Remove the variants of a generation that were never posted (and the generation when none
        was): a /copy whose delivery failed leaves nothing behind to approve or train on. Returns
        how many variants went."""
        async with self.transaction() as db:
            cursor = await db.execute(
                """DELETE FROM variants WHERE generation_id = ? AND workspace_id = ?
                   AND posted_message IS NULL
                   AND NOT EXISTS (SELECT 1 FROM feedback f WHERE f.variant_id = variants.id)""",
                (generation_id, workspace_id))
            removed = cursor.rowcount
            await db.execute(
                """DELETE FROM generations WHERE id = ? AND workspace_id = ?
                   AND NOT EXISTS (SELECT 1 FROM variants v WHERE v.generation_id = generations.id)""",
                (generation_id, workspace_id))
        return removed

    async def mark_posted(self, workspace_id: str, variant_id: int, channel: str, message: str) -> None:
        async with self.transaction() as db:
            cursor = await db.execute(
                """UPDATE variants SET posted_channel = ?, posted_message = ?
                   WHERE id = ? AND workspace_id = ?""",
                (channel, message, variant_id, workspace_id),
            )
            if cursor.rowcount != 1:
                raise LookupError(f"variant {variant_id} is not in workspace {workspace_id}")

    async def variant_for_message(self, workspace_id: str, channel: str, message: str) -> int | None:
        async with self.db.execute(
            """SELECT id FROM variants
               WHERE workspace_id = ? AND posted_channel = ? AND posted_message = ?""",
            (workspace_id, channel, message),
        ) as cursor:
            row = await cursor.fetchone()
        return row["id"] if row else None

    async def variant_visible(self, workspace_id: str, variant_id: int, channel: str, user: str) -> bool:
        """Whether someone in ``channel`` may name this variant by number: it was posted (or asked
        for) in that channel, or it is their own. A variant in someone's private channel is not."""
        async with self.db.execute(
            """SELECT 1 FROM variants v JOIN generations g ON g.id = v.generation_id
               WHERE v.id = ? AND v.workspace_id = ?
                 AND (v.posted_channel = ? OR g.channel = ? OR g.user_id = ?)""",
            (variant_id, workspace_id, channel, channel, user),
        ) as cursor:
            return await cursor.fetchone() is not None

    # --- feedback ------------------------------------------------------------------------------

    async def set_feedback(
        self, variant_id: int, user: str, verdict: Verdict, active: bool,
        finishing_event: int | None = None,
    ) -> FeedbackOutcome:
        """Record that ``user`` has (or no longer has) ``verdict`` on a variant. Idempotent.
        ``finishing_event``: the journaled inbound event this carries out, marked finished in the
        same transaction (a crash leaves both undone, and the event is carried out again)."""
        async with self.transaction() as db:
            if finishing_event is not None:
                await self._finish_event(db, finishing_event, "done")
            async with db.execute(
                "SELECT active FROM feedback WHERE variant_id = ? AND user_id = ? AND verdict = ?",
                (variant_id, user, verdict.value),
            ) as cursor:
                row = await cursor.fetchone()
            changed = (row["active"] if row else 0) != int(active)
            if changed:
                await db.execute(
                    """INSERT INTO feedback(variant_id, user_id, verdict, active) VALUES (?, ?, ?, ?)
                       ON CONFLICT(variant_id, user_id, verdict) DO UPDATE SET active = excluded.active,
                       updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')""",
                    (variant_id, user, verdict.value, int(active)),
                )
            async with db.execute(
                "SELECT approvals, rejections FROM variant_status WHERE variant_id = ?", (variant_id,)
            ) as cursor:
                status = await cursor.fetchone()
        return FeedbackOutcome(variant_id, status["approvals"], status["rejections"], changed)

    async def recent_approved_texts(self, workspace_id: str, limit: int) -> list[str]:
        if limit <= 0:
            return []
        async with self.db.execute(
            """SELECT v.text FROM variant_status s JOIN variants v ON v.id = s.variant_id
               WHERE s.workspace_id = ? AND s.status = 'approved'
               ORDER BY s.approved_at DESC, v.id DESC LIMIT ?""",
            (workspace_id, limit),
        ) as cursor:
            return [row["text"] async for row in cursor]

    async def approved_examples(
        self, workspace_id: str | None = None, since: datetime | None = None
    ) -> list[ApprovedExample]:
        """Approved variants with their prompts, oldest approval first."""
        query = """SELECT v.id, v.workspace_id, v.text, g.prompt, g.request, s.approved_at
                   FROM variant_status s JOIN variants v ON v.id = s.variant_id
                   JOIN generations g ON g.id = v.generation_id
                   WHERE s.status = 'approved'"""
        params: list = []
        if workspace_id is not None:
            query += " AND v.workspace_id = ?"
            params.append(workspace_id)
        if since is not None:
            query += " AND s.approved_at > ?"
            params.append(utc_text(since))
        query += " ORDER BY s.approved_at, v.id"
        async with self.db.execute(query, params) as cursor:
            return [
                ApprovedExample(
                    variant_id=row["id"],
                    workspace=row["workspace_id"],
                    messages=json.loads(row["prompt"]),
                    text=row["text"],
                    approved_at=parse_utc_text(row["approved_at"]),
                    request=json.loads(row["request"]),
                )
                async for row in cursor
            ]
