"""Background work off the receive path (generation, posting), tracked so that shutdown can let
it finish or cancel it. Both platform adapters use one ``TaskTracker``."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

logger = logging.getLogger(__name__)

HARD_STOP_SECONDS = 5.0  # how long cancelled work gets to tell its user and unwind


class TaskTracker:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task] = set()
        self._idle = asyncio.Event()
        self._idle.set()
        self.closing = False

    def __len__(self) -> int:
        return len(self._tasks)

    def spawn(self, work: Coroutine[Any, Any, Any], name: str) -> asyncio.Task:
        if self.closing:
            work.close()
            raise RuntimeError("shutting down: no new work is started")
        task = asyncio.get_running_loop().create_task(work, name=name)
        self._tasks.add(task)
        self._idle.clear()
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        # The work carries its own error boundary; anything escaping it is a bug worth a traceback.
        if not task.cancelled() and task.exception() is not None:
            logger.error("background task %s failed", task.get_name(), exc_info=task.exception())
        if not self._tasks:
            self._idle.set()

    async def wait_idle(self, timeout: float | None = None) -> None:
        """Until no task is running (``TimeoutError`` after ``timeout`` seconds)."""
        async with asyncio.timeout(timeout):
            await self._idle.wait()

    async def close(self, grace_seconds: float | None = None) -> None:
        """Refuse new work and wait for the running work (at most ``grace_seconds`` when given).
        When the wait runs out, or this call is cancelled (the bot's stop deadline), the running
        work is cancelled; a cancellation is then re-raised."""
        self.closing = True
        try:
            async with asyncio.timeout(grace_seconds):
                while self._tasks:
                    await asyncio.wait(set(self._tasks))
        except TimeoutError:
            await self._cancel_running()
        except asyncio.CancelledError:
            await self._cancel_running()
            raise

    async def _cancel_running(self) -> None:
        running = set(self._tasks)
        for task in running:
            logger.warning("stopping now: cancelling %s", task.get_name())
            task.cancel()
        if running:
            await asyncio.wait(running, timeout=HARD_STOP_SECONDS)
