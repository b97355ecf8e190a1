"""The persistence layer: every SQL statement copybot issues is in this package.

``Store`` is the SQLite database (aiosqlite, WAL, migrations applied at open) with one set of
methods per aggregate, each in its own module: workspaces and settings (``workspaces``),
generations, variants and feedback (``generations``), conversations, inbound events (``events``,
also the journal's statements), review batches (``reviews``), weekly reports (``reports``),
scheduled jobs (``jobs``) and model versions, activations, A/B tests and fine-tune runs
(``models``). How writes and reads use the connections: ``engine.store.database``.
"""

from __future__ import annotations

import logging
from pathlib import Path

from engine.store.conversations import ConversationRecords
from engine.store.database import BUSY_TIMEOUT_MS, connect, parse_utc_text, utc_text
from engine.store.events import EventRecords
from engine.store.generations import GenerationRecords
from engine.store.jobs import JobRecords
from engine.store.migrations import MIGRATIONS_DIR, migrate, migrations
from engine.store.models import ModelRecords
from engine.store.reports import ReportRecords
from engine.store.workspaces import WorkspaceRecords

logger = logging.getLogger(__name__)

__all__ = ["BUSY_TIMEOUT_MS", "MIGRATIONS_DIR", "Store", "migrations", "parse_utc_text", "utc_text"]


class Store(WorkspaceRecords, GenerationRecords, ConversationRecords, EventRecords, ReportRecords,
            JobRecords, ModelRecords):
    @classmethod
    async def open(cls, path: Path, migrations_dir: Path = MIGRATIONS_DIR) -> Store:
        path.parent.mkdir(parents=True, exist_ok=True)
        writer = await connect(path)
        try:
            await migrate(writer, migrations_dir)
            # Opened after the migrations, so it never holds a schema older than the file's.
            reader = await connect(path, read_only=True)
        except BaseException:
            await writer.close()
            raise
        return cls(writer, reader, path)
