"""The inbound-events journal: every platform event copybot acknowledges is committed here first.

Adapters call ``Engine.accept_event`` before they acknowledge an event (Slack's HTTP 200 or Socket
Mode ack, Discord's defer). The write has a deadline (Slack waits 3 s), so it goes through its own
connection with a short busy timeout, in a thread of its own, and never queues behind the store's
longer transactions. ``synchronous=FULL``: an acknowledged event survives a power cut as well as a
killed process. Events that arrive together are committed together (one fsync per burst).

A row is unfinished until the adapter's worker has carried the event out; ``Store`` marks it
finished, for a reaction in the same transaction as the feedback it records. At start-up the
unfinished rows are handed to the worker again. Its statements are in ``engine.store.events``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from engine.errors import EventNotStored
from engine.store.database import utc_text
from engine.store.events import connect_journal, insert_inbound, journal_transaction, restart_unfinished

logger = logging.getLogger(__name__)

ACCEPT_DEADLINE_SECONDS = 2.0  # waiting for the write lock, well inside Slack's 3 s for the ack
KEEP_FINISHED = timedelta(days=7)  # retries and replays arrive within minutes
MAX_STARTS = 3  # an event that was unfinished at this many starts is given up (it may crash us)
PRUNE_EVERY_SECONDS = 3600.0  # finished rows past KEEP_FINISHED go, with the next write after this


@dataclass(frozen=True)
class InboundEvent:
    id: int
    key: str  # "<platform>:<the platform's id for it>"
    platform: str
    workspace: str  # the store's workspace key, "slack:T0123"
    kind: str  # "reaction", "command", "mention", "interaction"
    payload: dict[str, Any]


class Journal:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="copybot-journal")
        self._db: sqlite3.Connection | None = None
        self._waiting: list[tuple[tuple, asyncio.Future]] = []
        self._writer: asyncio.Task | None = None
        self._pruned_at = time.monotonic()  # recover() prunes at start

    @classmethod
    async def open(cls, path: Path) -> Journal:
        """Open the journal on an already migrated database (``Store.open`` migrates it)."""
        journal = cls(path)
        await journal._run(journal._connect)
        return journal

    async def close(self) -> None:
        if self._writer is not None:
            await asyncio.gather(self._writer, return_exceptions=True)
        if self._db is not None:
            await self._run(self._db.close)
            self._db = None
        self._executor.shutdown(wait=True)

    async def _run(self, function, *args):
        return await asyncio.get_running_loop().run_in_executor(self._executor, function, *args)

    def _connect(self) -> None:
        self._db = connect_journal(self.path)

    # --- accepting -----------------------------------------------------------------------------

    async def accept(self, key: str, platform: str, workspace: str, kind: str,
                     payload: dict[str, Any]) -> InboundEvent | None:
        """Commit one event; ``None`` when its key is already journaled (a retry or replay).
        Raises ``EventNotStored`` when it could not be committed."""
        row = (key, platform, workspace, kind, json.dumps(payload, separators=(",", ":")))
        future = asyncio.get_running_loop().create_future()
        self._waiting.append((row, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_waiting(), name="journal writer")
        event_id = await future
        if event_id is None:
            return None
        return InboundEvent(event_id, key, platform, workspace, kind, payload)

    async def _write_waiting(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, []
            prune_before = None
            if time.monotonic() - self._pruned_at > PRUNE_EVERY_SECONDS:
                prune_before = utc_text(datetime.now(UTC) - KEEP_FINISHED)
                self._pruned_at = time.monotonic()
            try:
                ids = await self._run(self._insert, [row for row, _ in batch], prune_before)
            except sqlite3.Error as exc:
                logger.warning("could not journal %d inbound event(s), not acknowledging them: %s",
                               len(batch), exc)
                for _, future in batch:
                    if not future.done():
                        future.set_exception(EventNotStored(str(exc)))
                continue
            for (_, future), event_id in zip(batch, ids):
                if not future.done():
                    future.set_result(event_id)

    def _insert(self, rows: list[tuple], prune_before: str | None) -> list[int | None]:
        assert self._db is not None, "journal is closed"
        with journal_transaction(self._db, ACCEPT_DEADLINE_SECONDS) as db:
            return insert_inbound(db, rows, prune_before)

    # --- start-up --------------------------------------------------------------------------------

    async def recover(self, platform: str) -> list[InboundEvent]:
        """The unfinished events of ``platform``, oldest first, for the worker to finish. Each call
        counts as a start; an event still unfinished after ``MAX_STARTS`` starts is given up (it
        may be what kills the process). Finished rows older than ``KEEP_FINISHED`` are removed."""
        finished_before = utc_text(datetime.now(UTC) - KEEP_FINISHED)
        abandoned, rows = await self._run(self._recover, platform, finished_before)
        for key, kind in abandoned:
            logger.warning("inbound event %s (%s) was still unfinished after %d starts; giving it up",
                           key, kind, MAX_STARTS)
        return [InboundEvent(event_id, key, platform, workspace, kind, json.loads(payload))
                for event_id, key, workspace, kind, payload in rows]

    def _recover(self, platform: str, finished_before: str) -> tuple[list[tuple], list[tuple]]:
        assert self._db is not None, "journal is closed"
        with journal_transaction(self._db, 10.0) as db:  # a start-up step: no acknowledgement waits
            return restart_unfinished(db, platform, finished_before, MAX_STARTS)
