"""The transformers generator: one queue, one model thread, batches built from whatever is waiting.

Used for models llama.cpp does not serve (any Hugging Face id or folder in ``COPYBOT_MODEL``) and
in tests with a tiny random model. A `/copy` with n=3 asks for three sequences; concurrent requests
share batches up to ``max_batch`` sequences. The model runs in a single worker thread so the event
loop never blocks; tokens are streamed back to each caller's ``on_text`` as the batch decodes.
The queue is bounded in requests: when it is full, ``generate`` fails at once with ``BusyError``
instead of letting the user wait without end.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from engine.errors import BusyError
from engine.generation.contract import Completions, OnText
from engine.generation.transformers_backend import GenerationBackend, Messages

SHUTDOWN_MESSAGE = "The bot is shutting down; try again in a minute."

logger = logging.getLogger(__name__)


@dataclass(eq=False)  # jobs are compared by identity
class _Job:
    messages: Messages
    n: int
    max_new_tokens: int
    future: asyncio.Future
    on_text: OnText | None = None
    scheduled: int = 0  # sequences already handed to a batch
    results: dict[int, str] = field(default_factory=dict)  # sequence index -> finished text
    tokens: int | None = 0  # generated for this job (None: the backend does not say)
    truncated: dict[int, bool] = field(default_factory=dict)  # sequence index -> budget ran out


@dataclass
class GeneratorStats:
    model_calls: int = 0
    sequences: int = 0
    largest_batch: int = 0


class BatchingGenerator:
    def __init__(self, backend: GenerationBackend, max_batch: int = 8, queue_size: int = 32,
                 gather_seconds: float = 0.01,
                 on_batch: Callable[[float, list[str]], None] | None = None) -> None:
        self.backend = backend
        # Told (seconds, texts) after each batch: the engine's metrics count them.
        self.on_batch = on_batch
        self.max_batch = max_batch
        self.queue_size = queue_size
        # After the first request arrives, wait this long for others sent at the same moment.
        self.gather_seconds = gather_seconds
        self.stats = GeneratorStats()
        self._waiting: deque[_Job] = deque()
        self._wakeup = asyncio.Event()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="copybot-model")
        self._worker: asyncio.Task | None = None
        self._running: list[_Job] = []  # the jobs of the batch the model is working on

    @property
    def version(self) -> str:
        return self.backend.version

    @property
    def queue_depth(self) -> int:
        return len(self._waiting)

    @property
    def running(self) -> bool:
        return self._worker is not None and not self._worker.done()

    @property
    def served(self) -> frozenset[str]:
        return frozenset()  # one model per worker: versions get workers of their own (VersionRouter)

    def start(self) -> None:
        if self._worker is None:
            self._worker = asyncio.create_task(self._run(), name="copybot-generator")

    async def stop(self) -> None:
        """Fail every waiting and running caller with ``BusyError`` and let the model thread finish
        its batch on its own; never blocks the event loop."""
        if self._worker is not None:
            self._worker.cancel()
            try:
                await self._worker
            except asyncio.CancelledError:
                pass
            self._worker = None
        for job in [*self._running, *self._waiting]:
            if not job.future.done():
                job.future.set_exception(BusyError(SHUTDOWN_MESSAGE))
        self._running = []
        self._waiting.clear()
        self._executor.shutdown(wait=False, cancel_futures=True)

    def check_capacity(self) -> None:
        if self._worker is None:
            raise BusyError(SHUTDOWN_MESSAGE)
        if len(self._waiting) >= self.queue_size:
            raise BusyError("The copywriter is busy with other requests; try again in a moment.")

    async def warm_up(self, prompts: list[Messages]) -> None:
        """Nothing to warm: transformers keeps no cache between batches."""

    async def run_in_model_thread(self, function, *args):
        """Run other CPU-heavy model work (review sentiment) in the model thread, between batches,
        so two torch jobs never fight over the cores."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, function, *args)

    async def generate(self, messages: Messages, n: int, max_new_tokens: int,
                       on_text: OnText | None = None, model: str | None = None) -> tuple[Completions, str]:
        """``n`` completions of one prompt, and the model version that wrote them. One backend is
        one model: ``model`` is not looked at (``serving.VersionRouter`` routes versions here)."""
        self.check_capacity()
        job = _Job(messages, n, max_new_tokens, asyncio.get_running_loop().create_future(), on_text)
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
            self._running = [job for job, _ in batch]
            backend = self.backend
            prompts = [job.messages for job, _ in batch]
            budgets = [job.max_new_tokens for job, _ in batch]

            def stream(row: int, text: str, batch: list = batch) -> None:  # in the model thread
                job, index = batch[row]
                if job.on_text is not None:
                    loop.call_soon_threadsafe(_deliver, job, index, text)

            started = time.perf_counter()
            try:
                texts = await loop.run_in_executor(self._executor, _generate, backend, prompts, budgets,
                                                   stream)
                if len(texts) != len(batch):  # a broken backend must not leave callers waiting
                    raise RuntimeError(f"the model returned {len(texts)} texts for {len(batch)} prompts")
            except Exception as exc:
                logger.exception("generation failed for a batch of %d", len(batch))
                for job, _ in batch:
                    if not job.future.done():
                        job.future.set_exception(exc)
                continue
            finally:
                self._running = []
            if self.on_batch is not None:
                self.on_batch(time.perf_counter() - started, texts)
            self.stats.model_calls += 1
            self.stats.sequences += len(batch)
            self.stats.largest_batch = max(self.stats.largest_batch, len(batch))
            # A backend may answer with a plain list (tests' stand-ins): nothing known per text.
            per_row = getattr(texts, "lengths", None)
            cut_off = getattr(texts, "truncated", None) or [False] * len(texts)
            for row, ((job, index), text) in enumerate(zip(batch, texts)):
                job.results[index] = text
                job.truncated[index] = cut_off[row]
                job.tokens = None if per_row is None or job.tokens is None else job.tokens + per_row[row]
                if len(job.results) == job.n and not job.future.done():
                    finished = Completions([job.results[i] for i in range(job.n)], tokens=job.tokens,
                                           truncated=[job.truncated[i] for i in range(job.n)])
                    job.future.set_result((finished, backend.version))

    def _take_batch(self) -> list[tuple[_Job, int]]:
        """Up to ``max_batch`` sequences (job, index of the sequence in it) from the waiting jobs,
        oldest first; a job larger than the room left is split across batches."""
        batch: list[tuple[_Job, int]] = []
        while self._waiting and len(batch) < self.max_batch:
            job = self._waiting[0]
            if job.future.done():  # cancelled by its caller
                self._waiting.popleft()
                continue
            take = min(job.n - job.scheduled, self.max_batch - len(batch))
            batch += [(job, job.scheduled + i) for i in range(take)]
            job.scheduled += take
            if job.scheduled == job.n:
                self._waiting.popleft()
        return batch


def _generate(backend: GenerationBackend, prompts, budgets, stream):
    return backend.generate(prompts, budgets, on_text=stream)


def _deliver(job: _Job, index: int, text: str) -> None:
    if job.future.done():
        return
    assert job.on_text is not None  # only jobs with a callback have their text delivered
    try:
        job.on_text(index, text)
    except Exception:  # a display problem must not cost the request its copy
        logger.exception("streaming callback failed")
