"""Background work that shutdown can wait for: generation and posting leave the receive path."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

logger = logging.getLogger(__name__)

HARD_STOP_SECONDS = 5.0  # how long cancelled work gets to say goodbye


class TaskTracker:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task] = set()
        self.closing = False

    def spawn(self, work: Coroutine[Any, Any, Any], name: str) -> asyncio.Task:
        if self.closing:
            work.close()
            raise RuntimeError("shutting down: no new work is started")
        task = asyncio.get_running_loop().create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        # The work carries its own error boundary; anything escaping it is a bug worth a traceback.
        if not task.cancelled() and task.exception() is not None:
            logger.error("background task %s failed", task.get_name(), exc_info=task.exception())

    async def close(self) -> None:
        """Refuse new work and wait for the running work. Cancelled while waiting (the service's
        stop deadline passed): cancel the running work, give it a moment, and re-raise."""
        self.closing = True
        try:
            while self._tasks:
                await asyncio.wait(set(self._tasks))
        except asyncio.CancelledError:
            running = set(self._tasks)
            for task in running:
                logger.warning("stopping now: cancelling %s", task.get_name())
                task.cancel()
            if running:
                await asyncio.wait(running, timeout=HARD_STOP_SECONDS)
            raise
