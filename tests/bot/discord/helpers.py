"""Helpers for the Discord tests: run a /copy through the fake Discord, find the variant messages
and their numbers, and read what the bot stored (real SQLite)."""

from __future__ import annotations

import json
import re

VARIANT_ID = re.compile(r"^\*\*#(\d+)\*\*")


async def verdicts(engine, variant_id: int) -> tuple[int, int]:
    async with engine.store.db.execute(
        "SELECT approvals, rejections FROM variant_status WHERE variant_id = ?", (variant_id,)
    ) as cursor:
        row = await cursor.fetchone()
    return (row["approvals"], row["rejections"]) if row else (0, 0)


async def run_copy(fake, n: int = 2, **interaction_args) -> tuple[dict, dict, list[dict]]:
    """Send /copy; wait until its header and ``n`` variant messages are posted and the bot has
    put its approve/reject emoji under each. Returns the interaction, header and variants."""
    payload = fake.interaction("interaction_copy", **interaction_args)
    for option in payload["data"]["options"]:
        if option["name"] == "n":
            option["value"] = n
    await fake.dispatch("INTERACTION_CREATE", payload)
    # The messages appear at the first text and are edited while written; done = final texts.
    await fake.wait_for(lambda: len(fake.live_posts(payload["token"])) == n + 1 and all(
        VARIANT_ID.match(m["content"]) for m in fake.live_posts(payload["token"])[1:]))
    header, *variants = fake.live_posts(payload["token"])
    await fake.wait_for(lambda: all(len(fake.seeded(v["id"])) == 2 for v in variants))
    return payload, header, variants


def variant_id(message: dict) -> int:
    return int(VARIANT_ID.match(message["content"]).group(1))


def variants(fake, channel_id: str) -> list[dict]:
    return [m for m in fake.messages.values() if m["channel_id"] == channel_id
            and not m.get("deleted") and VARIANT_ID.match(m["content"])]


def number(message: dict) -> int:
    return int(VARIANT_ID.match(message["content"]).group(1))


async def generations(engine) -> list[tuple]:
    async with engine.store.db.execute(
            "SELECT request, prompt, turn_kind, conversation_id FROM generations ORDER BY id") as cursor:
        return [(json.loads(r), json.loads(p), k, c) async for r, p, k, c in cursor]
