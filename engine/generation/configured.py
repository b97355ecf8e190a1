"""Which generator an engine opens with: the configured one, or a synchronous backend that a test
or benchmark passes in, behind the batching worker."""

from __future__ import annotations

from engine.config import EngineConfig
from engine.generation.batching import BatchingGenerator
from engine.generation.contract import Generator
from engine.generation.transformers_backend import GenerationBackend
from engine.learning.versions import load_serving_generator
from engine.store import Store


async def open_configured_generator(config: EngineConfig, store: Store) -> Generator:
    """The configured generator: an OpenAI-compatible server (COPYBOT_BACKEND=openai), or the local
    model serving each workspace the version that was active when the bot last ran (fine-tunes
    survive restarts)."""
    if config.backend == "openai":
        from engine.generation.openai_compatible import RemoteGenerator

        return RemoteGenerator.from_config(config)
    return await load_serving_generator(config, store)


def batching_generator(backend: GenerationBackend, config: EngineConfig) -> Generator:
    """A synchronous transformers-style backend (tests, benchmarks) behind the batching worker,
    started on the running loop."""
    generator = BatchingGenerator(backend, max_batch=config.max_batch, queue_size=config.queue_size)
    generator.start()
    return generator
