"""What ``copybot doctor`` asks of the engine before anything runs: do the prompts load, which
schema is current, and does the configured model answer. The doctor (``bot/ops/doctor.py``) words
the findings; this module only looks."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace

from engine.config import EngineConfig
from engine.errors import UserError

PROBE_MESSAGES = [{"role": "user", "content": "Say OK."}]


@dataclass(frozen=True)
class PromptsSummary:
    tones: int
    channels: int


@dataclass(frozen=True)
class ModelProbe:
    version: str  # the model that answered
    server: str | None  # the OpenAI-compatible server's address, shown without secrets; None: this machine


def prompts_summary(config: EngineConfig) -> PromptsSummary:
    """The prompt files' presets; raises whatever a missing folder or a TOML typo raises."""
    from engine.copy.prompts import PromptBook

    book = PromptBook.load(config.prompts_dir)
    return PromptsSummary(len(book.tones), len(book.channels))


def latest_schema_version() -> int:
    """The schema version this copybot migrates a database to."""
    from engine.store import migrations

    return len(migrations())


async def probe_model(config: EngineConfig) -> ModelProbe:
    """A few tokens from the configured model: the OpenAI-compatible server (no retries, at most
    30 s: the admin wants the answer now), or the local model loaded here (assembling the bundled
    one on first use). Raises ``UserError`` with one sentence when it does not answer."""
    if config.backend == "openai":
        from engine.generation.openai_compatible import RemoteGenerator

        remote = RemoteGenerator.from_config(
            replace(config, openai_retries=0, openai_timeout=min(config.openai_timeout, 30.0)))
        try:
            await remote.generate(PROBE_MESSAGES, 1, 4)
        except UserError as exc:
            raise UserError(f"server {remote.shown_url}: {exc} Run with COPYBOT_LOG_LEVEL=WARNING "
                            "to see why.") from exc
        finally:
            await remote.stop()
        return ModelProbe(remote.version, remote.shown_url)
    from engine.generation.serving import load_generator

    generator = await asyncio.to_thread(load_generator, config)
    generator.start()
    try:
        await generator.generate(PROBE_MESSAGES, 1, 4)
        return ModelProbe(generator.version, None)
    finally:
        await generator.stop()
