"""The generator worker: one queue, one model thread, batches built from whatever is waiting.

A `/copy` with n=3 asks for three sequences; concurrent requests share batches up to
``max_batch`` sequences. The model runs in a single worker thread so the event loop never blocks.
The queue is bounded in requests: when it is full, ``generate`` fails at once with ``BusyError``
instead of letting the user wait without end.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from engine.errors import BusyError
from engine.local_backend import GenerationBackend, Messages
from engine.metrics import Metrics

logger = logging.getLogger(__name__)


@dataclass(eq=False)  # jobs are compared by identity
class _Job:
    messages: Messages
    n: int
    max_new_tokens: int
    future: asyncio.Future
    scheduled: int = 0  # sequences already handed to a batch
    results: list[str] = field(default_factory=list)


@dataclass
class GeneratorStats:
    model_calls: int = 0
    sequences: int = 0
    largest_batch: int = 0


class BatchingGenerator:
    def __init__(self, backend: GenerationBackend, max_batch: int = 8, queue_size: int = 32,
                 gather_seconds: float = 0.01, metrics: Metrics | None = None) -> None:
        self.backend = backend
        self.metrics = metrics or Metrics()
        self.max_batch = max_batch
        self.queue_size = queue_size
        # After the first request arrives, wait this long for others sent at the same moment.
        self.gather_seconds = gather_seconds
        self.stats = GeneratorStats()
        self._waiting: deque[_Job] = deque()
        self._wakeup = asyncio.Event()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="copybot-model")
        self._worker: asyncio.Task | None = None

    @property
    def version(self) -> str:
        return self.backend.version

    @property
    def queue_depth(self) -> int:
        return len(self._waiting)

    @property
    def running(self) -> bool:
        return self._worker is not None and not self._worker.done()

    def use_backend(self, backend: GenerationBackend) -> None:
        """Switch models; batches already running finish on the old one, the next uses the new."""
        logger.info("generator switches from %s to %s", self.backend.version, backend.version)
        self.backend = backend

    def start(self) -> None:
        if self._worker is None:
            self._worker = asyncio.create_task(self._run(), name="copybot-generator")

    async def stop(self) -> None:
        close = getattr(self.backend, "close", None)
        if close is not None:  # a remote backend fails its in-flight requests now, not at timeout
            close()
        if self._worker is not None:
            self._worker.cancel()
            try:
                await self._worker
            except asyncio.CancelledError:
                pass
            self._worker = None
        for job in self._waiting:
            if not job.future.done():
                job.future.set_exception(BusyError("The bot is shutting down; try again in a minute."))
        self._waiting.clear()
        self._executor.shutdown(wait=True)

    async def run_in_model_thread(self, function, *args):
        """Run other CPU-heavy model work (review sentiment) in the model thread, between batches,
        so two torch jobs never fight over the cores."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, function, *args)

    async def generate(self, messages: Messages, n: int, max_new_tokens: int) -> tuple[list[str], str]:
        """``n`` completions of one prompt, and the model version that wrote them."""
        if self._worker is None:
            raise RuntimeError("generator is not started")
        if len(self._waiting) >= self.queue_size:
            raise BusyError("The copywriter is busy with other requests; try again in a moment.")
        job = _Job(messages, n, max_new_tokens, asyncio.get_running_loop().create_future())
        self._waiting.append(job)
        self._wakeup.set()
        try:
            return await job.future
        finally:
            if job in self._waiting:  # cancelled before it ran: free its place
                self._waiting.remove(job)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            if not self._waiting:
                self._wakeup.clear()
                await self._wakeup.wait()
                await asyncio.sleep(self.gather_seconds)
            batch = self._take_batch()
            if not batch:
                continue
            backend = self.backend
            prompts = [job.messages for job in batch]
            budgets = [job.max_new_tokens for job in batch]
            started = time.perf_counter()
            try:
                texts = await loop.run_in_executor(self._executor, backend.generate, prompts, budgets)
            except Exception as exc:
                logger.exception("generation failed for a batch of %d", len(batch))
                self.metrics.count_error("generator")
                for job in set(batch):  # each job once (hashed by identity)
                    if not job.future.done():
                        job.future.set_exception(exc)
                continue
            self.metrics.observe_batch(time.perf_counter() - started, texts)
            self.stats.model_calls += 1
            self.stats.sequences += len(batch)
            self.stats.largest_batch = max(self.stats.largest_batch, len(batch))
            for job, text in zip(batch, texts):
                job.results.append(text)
                if len(job.results) == job.n and not job.future.done():
                    job.future.set_result((job.results, backend.version))

    def _take_batch(self) -> list[_Job]:
        """Up to ``max_batch`` sequences from the waiting jobs, oldest first (a job appears once per
        sequence); a job larger than the room left is split across batches."""
        batch: list[_Job] = []
        while self._waiting and len(batch) < self.max_batch:
            job = self._waiting[0]
            if job.future.done():  # cancelled by its caller
                self._waiting.popleft()
                continue
            take = min(job.n - job.scheduled, self.max_batch - len(batch))
            batch += [job] * take
            job.scheduled += take
            if job.scheduled == job.n:
                self._waiting.popleft()
        return batch
