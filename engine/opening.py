"""Which generator an engine opens with: the configured one, or one a test or benchmark passes in."""

from __future__ import annotations

from engine.config import EngineConfig
from engine.generation import Generator
from engine.generator import BatchingGenerator
from engine.learning.versions import load_serving_generator
from engine.local_backend import GenerationBackend
from engine.store import Store


async def open_configured_generator(config: EngineConfig, store: Store) -> Generator:
    """The configured generator: an OpenAI-compatible server (COPYBOT_BACKEND=openai), or the local
    model serving each workspace the version that was active when the bot last ran (fine-tunes
    survive restarts)."""
    if config.backend == "openai":
        from engine.remote_backend import RemoteGenerator

        return RemoteGenerator.from_config(config)
    return await load_serving_generator(config, store)


def as_generator(backend: Generator | GenerationBackend, config: EngineConfig) -> Generator:
    """A generator as it is, or a synchronous transformers-style backend (tests, benchmarks) behind
    the batching worker."""
    if hasattr(backend, "check_capacity"):
        return backend
    generator = BatchingGenerator(backend, max_batch=config.max_batch, queue_size=config.queue_size)
    generator.start()
    return generator
