"""The inbound-events journal on a real SQLite file: accepted once, kept across a restart until
finished, finished together with the feedback it carries, given up after repeated starts."""

from __future__ import annotations

import asyncio
import logging

from engine import Engine, Feedback, Origin, Verdict
from engine.runtime.journal import MAX_STARTS

ORIGIN = Origin("slack", "T0ACME01", "C0MARKETING", "U0BRUNO")


async def reopened(engine: Engine, config, backend) -> Engine:
    await engine.close()
    return await Engine.open(config, backend=backend)


async def test_an_event_is_accepted_once_and_kept_until_finished(engine_config, tiny_backend):
    engine = await Engine.open(engine_config, backend=tiny_backend)
    try:
        first = await engine.accept_event(ORIGIN, "Ev1", "reaction", {"event_id": "Ev1"})
        assert first is not None and first.payload == {"event_id": "Ev1"}
        assert await engine.accept_event(ORIGIN, "Ev1", "reaction", {"event_id": "Ev1"}) is None
        done = await engine.accept_event(ORIGIN, "Ev2", "command", {"trigger_id": "t"})
        await engine.finish_event(done)

        engine = await reopened(engine, engine_config, tiny_backend)  # a crash or a stop
        assert [event.key for event in await engine.unfinished_events("slack")] == ["slack:Ev1"]
        assert await engine.unfinished_events("discord") == []
        # Still a repeat after the restart: Slack's retry of it is not carried out twice.
        assert await engine.accept_event(ORIGIN, "Ev1", "reaction", {"event_id": "Ev1"}) is None
    finally:
        await engine.close()


async def test_feedback_and_the_event_it_carries_out_are_finished_together(engine_config,
                                                                           tiny_backend):
    engine = await Engine.open(engine_config, backend=tiny_backend)
    try:
        store = engine.store
        await store.ensure_workspace(ORIGIN.workspace_key, "slack")
        _, [variant] = await store.save_generation(ORIGIN.workspace_key, ORIGIN.channel, "U0ALICE",
                                                   {}, [], "m", ["copy"])
        await store.mark_posted(ORIGIN.workspace_key, variant.id, ORIGIN.channel, "1.0001")
        event = await engine.accept_event(ORIGIN, "Ev9", "reaction", {})
        outcome = await engine.record_feedback(
            Feedback(ORIGIN, Verdict.APPROVE, added=True, message="1.0001"), event=event)
        assert outcome.status == "approved"
        engine = await reopened(engine, engine_config, tiny_backend)
        assert await engine.unfinished_events("slack") == []
        assert await engine.store.recent_approved_texts(ORIGIN.workspace_key, 5) == ["copy"]
    finally:
        await engine.close()


async def test_an_event_unfinished_at_every_start_is_given_up(engine_config, tiny_backend, caplog):
    engine = await Engine.open(engine_config, backend=tiny_backend)
    try:
        await engine.accept_event(ORIGIN, "EvPoison", "mention", {})
        for _ in range(MAX_STARTS):  # each start finds it, and the process dies on it again
            assert len(await engine.unfinished_events("slack")) == 1
            engine = await reopened(engine, engine_config, tiny_backend)
        with caplog.at_level(logging.WARNING):
            assert await engine.unfinished_events("slack") == []
        assert "slack:EvPoison (mention) was still unfinished after 3 starts" in caplog.text
    finally:
        await engine.close()


async def test_a_write_is_not_held_up_by_a_read_begun_before_the_journal_committed(engine_config,
                                                                                   tiny_backend):
    engine = await Engine.open(engine_config, backend=tiny_backend)
    try:
        store = engine.store
        for name in ("brand_voice", "report_channel", "timezone"):
            await store.ensure_workspace(ORIGIN.workspace_key, "slack")
            await store.set_setting(ORIGIN.workspace_key, name, "x", by="U0ADMIN")
        reading = await store.db.execute("SELECT key FROM settings")  # e.g. settings() mid-way
        await reading.fetchone()
        await engine.accept_event(ORIGIN, "Ev5", "reaction", {})  # committed meanwhile
        # Reads have their own connection (WAL): the write neither fails with "database is
        # locked" nor waits for the open read to end. The timeout only bounds a failure.
        await asyncio.wait_for(store.set_setting(ORIGIN.workspace_key, "timezone", "Europe/Berlin",
                                                 by="U0ADMIN"), 30)
        await reading.close()
        assert (await store.settings(ORIGIN.workspace_key))["timezone"] == "Europe/Berlin"
    finally:
        await engine.close()
