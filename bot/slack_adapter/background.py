"""Slow work off the receive path: tracked tasks, so shutdown can let them finish or cancel them."""

from __future__ import annotations

import asyncio
import logging
from typing import Coroutine

logger = logging.getLogger(__name__)


class BackgroundTasks:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task] = set()
        self._idle = asyncio.Event()
        self._idle.set()

    def __len__(self) -> int:
        return len(self._tasks)

    def spawn(self, work: Coroutine, name: str) -> asyncio.Task:
        task = asyncio.create_task(work, name=name)
        self._tasks.add(task)
        self._idle.clear()
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            # Every job has its own error boundary; reaching here is a bug worth a traceback.
            logger.error("background task %s failed", task.get_name(), exc_info=task.exception())
        if not self._tasks:
            self._idle.set()

    async def wait_idle(self, timeout: float | None = None) -> None:
        """Until no task is running (raises ``TimeoutError`` after ``timeout`` seconds)."""
        async with asyncio.timeout(timeout):
            await self._idle.wait()

    async def shutdown(self, grace_seconds: float) -> None:
        """Let running tasks finish for up to ``grace_seconds``, then cancel the rest."""
        if not self._tasks:
            return
        done, pending = await asyncio.wait(set(self._tasks), timeout=grace_seconds)
        if pending:
            logger.warning("cancelling %d unfinished Slack task(s) at shutdown", len(pending))
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
