"""Fixtures for the learning loop: an engine whose base model is the tiny random model, so a real
LoRA fine-tune in a real training process takes seconds, and helpers that seed team feedback."""

from __future__ import annotations

import asyncio
import time
from dataclasses import asdict, replace

import pytest

from engine import CopyRequest, EngineConfig, Feedback, Origin, Verdict
from tests.models import REPO

ADMIN = Origin(platform="console", workspace="local", channel="terminal", user="owner")
# An admin of another workspace on the same bot: its data, models and announcements are its own.
OTHER_TEAM = Origin(platform="slack", workspace="T2", channel="C2", user="UADMIN")
PRODUCTS = ["bamboo toothbrush", "steel water bottle", "linen bed sheets", "trail running shoes",
            "cold brew coffee", "vegan leather backpack", "smart plant pot", "wool winter socks",
            "solar garden lamp", "ceramic pour-over kettle"]


def approved_copy(product: str) -> str:
    """Copy in one house style, so what is learned from some examples carries over to the others."""
    return f"Meet the {product}: made to last, made for you. Order yours today!"


@pytest.fixture
def learning_config(tmp_path, tiny_model_dir) -> EngineConfig:
    return EngineConfig(
        data_dir=tmp_path / "data", model=str(tiny_model_dir), prompts_dir=REPO / "prompts",
        max_new_tokens=24, max_rounds=1, admins=("slack:UADMIN",), grounding=False,  # tiny model
        finetune_min_examples=6, finetune_epochs=6, finetune_learning_rate=1e-2,
        finetune_batch_size=4, finetune_threads=1, finetune_clean_samples=2, finetune_margin=0.02,
        finetune_cron="off", ab_share=0.0)  # promotion on the offline check; A/B tests set it


def with_settings(config: EngineConfig, **changes) -> EngineConfig:
    return replace(config, **changes)


async def seed(engine, approved: list[str], rejected: list[tuple[str, str]] = (),
               origin: Origin = ADMIN) -> list[int]:
    """Store generations as /copy does (the prompt the generator would use) and the team's verdicts:
    ``approved`` products get house-style copy approved; ``rejected`` (product, text) are rejected."""
    ids = []
    await engine.store.ensure_workspace(origin.workspace_key, origin.platform)
    for product, text, verdict in ([(p, approved_copy(p), Verdict.APPROVE) for p in approved]
                                   + [(p, t, Verdict.REJECT) for p, t in rejected]):
        request = CopyRequest(product=product)
        messages = engine.prompts.messages(request)
        _, variants = await engine.store.save_generation(
            origin.workspace_key, origin.channel, origin.user,
            asdict(request),
            messages, engine.generator.version, [text])
        await engine.record_feedback(Feedback(origin, verdict, variant_id=variants[0].id))
        ids.append(variants[0].id)
    return ids


async def wait_until(predicate, timeout: float = 60.0, what: str = "condition") -> None:
    """Wait for ``predicate()`` to hold, checking often, failing after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


class Channel:
    """A platform adapter's publisher: records what the engine announced."""

    def __init__(self):
        self.posts = []

    async def publish(self, announcement):
        self.posts.append(announcement)
