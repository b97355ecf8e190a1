"""The default generator: llama.cpp in this process (the ``xllamacpp`` wheel), on the GGUF as shipped.

Why llama.cpp: it runs the bundled Q4_K_M file directly (no conversion, ~2 GB resident for the 1.5B
model), installs as a wheel, and its server engine does the batching: each request's ``n`` variants
share one prefill (the KV cache is forked into child slots), and concurrent requests are decoded
together (continuous batching over ``parallel`` slots). Fine-tuned versions are LoRA adapters in GGUF
form applied over the unchanged base (``engine.generation.lora_gguf``): one server holds every served
version's adapters and each request switches on those of its own version (workspaces each have
theirs), so serving ten teams' versions costs ten small adapters, not ten models.

``handle_chat_completions`` blocks its thread until the answer is complete, so each request runs in
a worker thread; streamed chunks are handed to the event loop with ``call_soon_threadsafe``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from engine.errors import BusyError
from engine.generation.contract import Completions, Messages, OnText, ServedVersion

logger = logging.getLogger(__name__)

SHUTDOWN_MESSAGE = "The bot is shutting down; try again in a minute."


@dataclass(frozen=True)
class LlamaSettings:
    threads: int = 0  # 0: every core
    parallel: int = 8  # sequences decoded together (slots); one request's n is at most this
    context_per_sequence: int = 1024  # prompt + answer tokens a slot holds
    queue_size: int = 32  # requests waiting or running before new ones are refused
    temperature: float = 0.7
    top_p: float = 0.9
    repeat_penalty: float = 1.1


class _CpuLane:
    """Generation requests share the cores with each other (llama.cpp batches them); other CPU-heavy
    work (review sentiment in torch) runs alone, between them. Two engines spinning on two cores
    collapse each other (measured: a 3-variant /copy goes from 4 s to 25 s beside one busy core),
    so neither may start while the other runs; side work waiting goes first."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._generating = 0
        self._side_waiting = 0
        self._side_running = False

    def generation(self):
        return _Hold(self, exclusive=False)

    def side_work(self):
        return _Hold(self, exclusive=True)


class _Hold:
    def __init__(self, lane: _CpuLane, exclusive: bool) -> None:
        self.lane, self.exclusive = lane, exclusive

    def __enter__(self) -> None:
        lane = self.lane
        with lane._changed:
            if self.exclusive:
                lane._side_waiting += 1
                lane._changed.wait_for(lambda: lane._generating == 0 and not lane._side_running)
                lane._side_waiting -= 1
                lane._side_running = True
            else:
                lane._changed.wait_for(lambda: not lane._side_running and lane._side_waiting == 0)
                lane._generating += 1

    def __exit__(self, *exc) -> None:
        lane = self.lane
        with lane._changed:
            if self.exclusive:
                lane._side_running = False
            else:
                lane._generating -= 1
            lane._changed.notify_all()


# Streams of every server in the process (shared) against destroying one (exclusive).
_ANY_SERVER = _CpuLane()


@dataclass
class LlamaStats:
    requests: int = 0
    sequences: int = 0
    tokens: int = 0


class LlamaGenerator:
    def __init__(self, server, name: str, settings: LlamaSettings,
                 versions: tuple[ServedVersion, ...] = (), adapter_files: tuple[Path, ...] = ()) -> None:
        self._server = server
        self.name = name
        self.settings = settings
        # Each served version's key -> (its name, the server's ids of its chain's adapters).
        self._versions = {v.key: (v.name, [adapter_files.index(p) for p in v.adapters]) for v in versions}
        self._adapter_count = len(adapter_files)
        self.stats = LlamaStats()
        self._in_flight = 0
        self._stopping = threading.Event()
        # One thread per request the server can hold; more wait in the executor's queue.
        self._requests = ThreadPoolExecutor(max_workers=settings.queue_size,
                                            thread_name_prefix="copybot-llama")
        # Other CPU work (review sentiment) runs one job at a time, between generations.
        self._side_work = ThreadPoolExecutor(max_workers=1, thread_name_prefix="copybot-cpu")
        self._lane = _CpuLane()

    @classmethod
    def load(cls, model_path: Path, name: str, settings: LlamaSettings,
             versions: tuple[ServedVersion, ...] = ()) -> LlamaGenerator:
        """Load the model (seconds: run it in a thread) with the adapters of ``versions`` (GGUF
        LoRA files), each applied only to the requests of its version."""
        import xllamacpp

        params = xllamacpp.CommonParams()
        params.model.path = str(model_path)
        params.n_parallel = settings.parallel
        params.n_ctx = settings.parallel * settings.context_per_sequence
        threads = settings.threads or os.cpu_count() or 2
        params.cpuparams.n_threads = threads
        params.cpuparams_batch.n_threads = threads
        params.verbosity = -1  # llama.cpp's own log lines would flood ours
        params.warmup = True
        # Versions of one chain share their ancestors' files: each file is loaded once.
        files = tuple(dict.fromkeys(path for version in versions for path in version.adapters))
        lora = []
        for path in files:
            info = xllamacpp.CommonAdapterLoraInfo()
            info.path = str(path)
            info.scale = 0.0  # off unless a request turns it on
            lora.append(info)
        params.lora_adapters = lora
        server = xllamacpp.Server(params)
        logger.info("llama.cpp serves %s (%d threads, %d slots) and %d version(s) over %d adapter(s)",
                    name, threads, settings.parallel, len(versions), len(files))
        return cls(server, name, settings, versions, files)

    @property
    def served(self) -> frozenset[str]:
        """Keys of the versions this generator serves beside the base model."""
        return frozenset(self._versions)

    @property
    def version(self) -> str:
        return self.name

    @property
    def queue_depth(self) -> int:
        return self._in_flight

    @property
    def running(self) -> bool:
        return self._server is not None and not self._stopping.is_set()

    def start(self) -> None:
        """Nothing to start: the server thread runs from ``load``."""

    def check_capacity(self) -> None:
        if self._stopping.is_set():
            raise BusyError(SHUTDOWN_MESSAGE)
        if self._in_flight >= self.settings.queue_size:
            raise BusyError("The copywriter is busy with other requests; try again in a moment.")

    async def generate(self, messages: Messages, n: int, max_new_tokens: int,
                       on_text: OnText | None = None, model: str | None = None) -> tuple[Completions, str]:
        self.check_capacity()
        name, adapter_ids = self._versions.get(model, (self.name, [])) if model is not None else (self.name, [])
        if model is not None and model not in self._versions:
            logger.warning("model version %s is not served (a switch is under way); the base model "
                           "writes this request", model)
        loop = asyncio.get_running_loop()
        self._in_flight += 1
        self.stats.requests += 1
        # n above the slot count goes as several calls; each call's choices fork one prefill.
        calls = []
        first = 0
        while first < n:
            size = min(self.settings.parallel, n - first)
            calls.append(self._call(loop, messages, size, first, max_new_tokens, on_text, adapter_ids))
            first += size
        try:
            parts = await asyncio.gather(*calls)
        finally:
            self._in_flight -= 1
        texts = Completions([text for part in parts for text in part],
                            tokens=sum(part.tokens or 0 for part in parts),  # _call always counts them
                            truncated=[cut for part in parts for cut in part.truncated])
        self.stats.sequences += len(texts)
        return texts, name

    async def _call(self, loop, messages: Messages, n: int, offset: int, max_new_tokens: int,
                    on_text: OnText | None, adapter_ids: list[int]) -> Completions:
        texts = [""] * n
        tokens = [0]  # streamed pieces: llama.cpp sends one per token
        truncated = [False] * n  # stopped by the token budget, not by the model
        errors: list = []
        abandoned = threading.Event()  # the caller went away: stop generating for it
        request = {
            "messages": messages, "n": n, "max_tokens": max_new_tokens, "stream": True,
            "temperature": self.settings.temperature, "top_p": self.settings.top_p,
            "repeat_penalty": self.settings.repeat_penalty,
        }
        if self._adapter_count:
            # Every adapter named, on for this request's version and off otherwise: llama.cpp drops a
            # slot's cached prompt only when the adapters it names change, and an empty list would
            # mean "as loaded" and keep a prompt cached under another version's adapters.
            request["lora"] = [{"id": index, "scale": 1.0 if index in adapter_ids else 0.0}
                               for index in range(self._adapter_count)]

        def on_chunk(chunk) -> bool:
            if not isinstance(chunk, dict):
                return False
            if "error" in chunk:
                errors.append(chunk["error"])
                return True
            for choice in chunk.get("choices", ()):
                delta = (choice.get("delta") or {}).get("content")
                index = choice.get("index", 0)
                if choice.get("finish_reason") == "length" and 0 <= index < n:
                    truncated[index] = True
                if delta and 0 <= index < n:
                    texts[index] += delta
                    tokens[0] += 1
                    self.stats.tokens += 1
                    if on_text is not None:
                        loop.call_soon_threadsafe(_deliver, on_text, offset + index, texts[index])
            return abandoned.is_set() or self._stopping.is_set()

        def run() -> None:
            with self._lane.generation(), _ANY_SERVER.generation():
                if self._stopping.is_set():
                    raise BusyError(SHUTDOWN_MESSAGE)
                answer = self._server.handle_chat_completions(request, on_chunk)
            if isinstance(answer, dict) and "error" in answer:
                errors.append(answer["error"])

        try:
            await loop.run_in_executor(self._requests, run)
        except asyncio.CancelledError:
            abandoned.set()
            raise
        except RuntimeError as exc:  # the executor was shut down under us
            raise BusyError(SHUTDOWN_MESSAGE) from exc
        if self._stopping.is_set():
            raise BusyError(SHUTDOWN_MESSAGE)
        if errors:
            raise RuntimeError(f"llama.cpp refused the request: {errors[0]}")
        return Completions(texts, tokens=tokens[0], truncated=truncated)

    async def warm_up(self, prompts: list[Messages]) -> None:
        def run() -> None:
            with _ANY_SERVER.generation():
                for messages in prompts:
                    self._server.handle_chat_completions({"messages": messages, "max_tokens": 1})

        await asyncio.get_running_loop().run_in_executor(self._requests, run)

    async def run_in_model_thread(self, function, *args):
        def run():
            with self._lane.side_work():
                return function(*args)

        return await asyncio.get_running_loop().run_in_executor(self._side_work, run)

    async def stop(self) -> None:
        """Abort running streams, refuse new ones, release the model; waits in a thread, never on
        the event loop."""
        self._stopping.set()
        self._requests.shutdown(wait=False, cancel_futures=True)
        self._side_work.shutdown(wait=False, cancel_futures=True)
        if self._server is not None:
            # The last reference goes in the worker thread: never on the event loop (the server's
            # destructor joins its threads).
            holder, self._server = [self._server], None
            await asyncio.to_thread(_release, holder, self._requests)


def _deliver(on_text: OnText, index: int, text: str) -> None:
    try:
        on_text(index, text)
    except Exception:  # a display problem must not cost the request its copy
        logger.exception("streaming callback failed")


def _release(holder: list, requests: ThreadPoolExecutor) -> None:
    requests.shutdown(wait=True)  # running streams end at their next token (they were told to stop)
    # A server is destroyed only while no server in this process streams: its destructor runs
    # holding the GIL, and a stream of another server (a model switch keeps the old one until its
    # requests finish) needs the GIL for each chunk, which hung a test in a fresh clone.
    with _ANY_SERVER.side_work():
        holder.clear()
