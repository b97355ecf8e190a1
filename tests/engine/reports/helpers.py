"""Seeding a store with generations and feedback as they were on a given day, for report tests."""

from __future__ import annotations

from engine.store import utc_text

WS = "slack:T1"


async def seed_generation(store, when, texts, user="U1", workspace=WS):
    async with store.transaction() as db:
        cursor = await db.execute(
            "INSERT INTO generations(workspace_id, channel, user_id, request, prompt, model_version, "
            "created_at) VALUES (?, 'C1', ?, '{}', '[]', 'm', ?)", (workspace, user, utc_text(when)))
        ids = []
        for position, text in enumerate(texts, start=1):
            c = await db.execute("INSERT INTO variants(generation_id, workspace_id, position, text) "
                                 "VALUES (?, ?, ?, ?)", (cursor.lastrowid, workspace, position, text))
            ids.append(c.lastrowid)
    return ids


async def seed_feedback(store, variant_id, user, verdict, when):
    async with store.transaction() as db:
        await db.execute("INSERT INTO feedback(variant_id, user_id, verdict, active, created_at, updated_at) "
                         "VALUES (?, ?, ?, 1, ?, ?)", (variant_id, user, verdict, utc_text(when), utc_text(when)))
