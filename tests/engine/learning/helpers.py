"""Helpers for the learning-loop tests: the workspaces and products, seeding team feedback as /copy
and the team would leave it, admin commands, and waiting for the training process."""

from __future__ import annotations

import asyncio
import time
from dataclasses import asdict, replace

from bot.commands import parse_line
from bot.dispatch import execute
from engine import CopyRequest, EngineConfig, Feedback, Origin, Verdict

ADMIN = Origin(platform="console", workspace="local", channel="terminal", user="owner")
# An admin of another workspace on the same bot: its data, models and announcements are its own.
OTHER_TEAM = Origin(platform="slack", workspace="T2", channel="C2", user="UADMIN")
PRODUCTS = ["bamboo toothbrush", "steel water bottle", "linen bed sheets", "trail running shoes",
            "cold brew coffee", "vegan leather backpack", "smart plant pot", "wool winter socks",
            "solar garden lamp", "ceramic pour-over kettle"]


def approved_copy(product: str) -> str:
    """Copy in one house style, so what is learned from some examples carries over to the others."""
    return f"Meet the {product}: made to last, made for you. Order yours today!"


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


async def command(engine, line, origin=ADMIN) -> str:
    return (await execute(engine, origin, parse_line(line))).text


async def copy_model(engine, origin=ADMIN) -> str:
    """The model that writes ``origin``'s workspace's next /copy, as the stored generation says."""
    return (await engine.copy(origin, CopyRequest(product="desk lamp", n=1))).model_version
