"""The batching generator worker: shared batches, fair results, a bounded queue, no blocking."""

import asyncio
import threading

import pytest

from engine.errors import BusyError
from engine.generation.batching import BatchingGenerator


class EchoBackend:
    """A stand-in model that answers with the prompt's text and a sequence number, and can be held
    mid-batch, so tests can see exactly which caller got which completion and when batches run."""

    version = "echo-1"

    def __init__(self) -> None:
        self.calls: list[int] = []  # batch sizes, in order
        self.release = threading.Event()
        self.release.set()
        self.running = threading.Event()
        self.released: list[bool] = []  # per call: let go by ``release`` (False: by the timeout)
        self.threads: list[int] = []  # per call: the thread the model ran in

    def generate(self, prompts, max_new_tokens, on_text=None):
        self.threads.append(threading.get_ident())
        self.running.set()
        self.released.append(self.release.wait(timeout=10))
        self.calls.append(len(prompts))
        return [f"{p[-1]['content']}|{i}" for i, p in enumerate(prompts)]


def _prompt(text):
    return [{"role": "user", "content": text}]


async def until(condition, seconds: float = 10.0) -> None:
    """Let the loop run until ``condition()`` holds; fail, naming it, after ``seconds``."""
    deadline = asyncio.get_running_loop().time() + seconds
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition never held"
        await asyncio.sleep(0)


async def test_concurrent_requests_share_batches_and_each_gets_its_own_variants():
    backend = EchoBackend()
    generator = BatchingGenerator(backend, max_batch=8, queue_size=32)
    generator.start()
    try:
        results = await asyncio.gather(*(generator.generate(_prompt(f"req{i}"), 2, 16) for i in range(8)))
    finally:
        await generator.stop()
    for i, (texts, version) in enumerate(results):
        assert len(texts) == 2 and version == "echo-1"
        assert all(text.startswith(f"req{i}|") for text in texts)
    assert sum(backend.calls) == 16
    assert len(backend.calls) < 8  # 8 requests, 16 sequences: fewer model calls than requests
    assert max(backend.calls) == 8


async def test_a_request_larger_than_a_batch_is_split_and_completed():
    backend = EchoBackend()
    generator = BatchingGenerator(backend, max_batch=4)
    generator.start()
    try:
        texts, _ = await generator.generate(_prompt("big"), 10, 16)
    finally:
        await generator.stop()
    assert len(texts) == 10 and backend.calls == [4, 4, 2]


async def test_a_full_queue_says_busy_at_once_instead_of_hanging():
    backend = EchoBackend()
    backend.release.clear()  # hold the model mid-batch
    generator = BatchingGenerator(backend, max_batch=1, queue_size=2)
    generator.start()
    try:
        first = asyncio.create_task(generator.generate(_prompt("a"), 1, 8))
        await asyncio.to_thread(backend.running.wait, 10)  # the model is busy with "a"
        waiting = [asyncio.create_task(generator.generate(_prompt(x), 1, 8)) for x in "bc"]
        await until(lambda: generator.queue_depth == 2)  # both wait: the queue is full
        with pytest.raises(BusyError, match="busy"):
            await generator.generate(_prompt("d"), 1, 8)
        backend.release.set()
        assert [t[0][0] for t in await asyncio.gather(first, *waiting)] == ["a|0", "b|0", "c|0"]
    finally:
        backend.release.set()
        await generator.stop()


async def test_the_event_loop_keeps_running_while_the_model_works():
    backend = EchoBackend()
    backend.release.clear()
    generator = BatchingGenerator(backend)
    generator.start()
    try:
        pending = asyncio.create_task(generator.generate(_prompt("slow"), 1, 8))
        assert await asyncio.to_thread(backend.running.wait, 10)
        assert not pending.done()
        # The model is let go by a callback of the loop: only a loop the model does not block runs it.
        asyncio.get_running_loop().call_soon(backend.release.set)
        assert (await pending)[0] == ["slow|0"]
        assert backend.released == [True]  # by the loop's callback, not by the model's own timeout
        assert threading.get_ident() not in backend.threads  # the model ran off the loop's thread
    finally:
        backend.release.set()
        await generator.stop()


async def test_a_failing_batch_fails_its_callers_and_the_worker_goes_on():
    class FlakyBackend(EchoBackend):
        def generate(self, prompts, max_new_tokens, on_text=None):
            if any("boom" in p[-1]["content"] for p in prompts):
                raise RuntimeError("out of memory")
            return super().generate(prompts, max_new_tokens, on_text)

    generator = BatchingGenerator(FlakyBackend(), gather_seconds=0)
    generator.start()
    try:
        with pytest.raises(RuntimeError):
            await generator.generate(_prompt("boom"), 1, 8)
        assert (await generator.generate(_prompt("fine"), 1, 8))[0] == ["fine|0"]
    finally:
        await generator.stop()


async def test_the_real_tiny_model_batches_concurrent_requests(tiny_backend):
    generator = BatchingGenerator(tiny_backend, max_batch=8)
    generator.start()
    try:
        results = await asyncio.gather(*(generator.generate(_prompt(f"product {i}"), 2, 8)
                                         for i in range(4)))
    finally:
        await generator.stop()
    assert all(len(texts) == 2 and all(isinstance(t, str) for t in texts) for texts, _ in results)
    assert generator.stats.sequences == 8 and generator.stats.model_calls < 4
