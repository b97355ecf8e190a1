"""Scheduled jobs: when each last started and finished, so a run missed while the bot was down is
caught up once at start-up."""

from __future__ import annotations

import logging
from typing import NamedTuple

from engine.store.database import Database

logger = logging.getLogger(__name__)

_JOB_TIMES = ("last_started_at", "last_finished_at")


class JobTimes(NamedTuple):
    started: str | None  # store time text
    finished: str | None


class JobRecords(Database):
    async def job_times(self, name: str) -> JobTimes | None:
        """When the job last started and finished; None: never recorded."""
        row = await self.fetch_one(
            "SELECT last_started_at, last_finished_at FROM scheduled_jobs WHERE name = ?", (name,))
        return JobTimes(row["last_started_at"], row["last_finished_at"]) if row else None

    async def record_job_time(self, name: str, column: str, stamp: str) -> None:
        """Set the job's ``last_started_at`` or ``last_finished_at``."""
        if column not in _JOB_TIMES:
            raise ValueError(f"not a job time: {column}")
        async with self.transaction() as db:
            await db.execute(
                f"""INSERT INTO scheduled_jobs(name, {column}) VALUES (?, ?)
                    ON CONFLICT(name) DO UPDATE SET {column} = excluded.{column}""", (name, stamp))
