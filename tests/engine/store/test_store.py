"""The SQLite store: migrations, idempotent feedback, concurrent writers, all-or-nothing writes."""

import asyncio
import sqlite3

import pytest

from engine.store import Store, migrations
from engine.types import Verdict

WS = "console:local"


async def _generation(store: Store, texts=("one", "two", "three"), workspace=WS):
    await store.ensure_workspace(workspace, workspace.split(":")[0])
    return await store.save_generation(workspace, "chan", "alice", {"product": "p"},
                                       [{"role": "user", "content": "p"}], "m1", list(texts))


async def test_migrations_from_empty_create_every_table(tmp_path):
    store = await Store.open(tmp_path / "c.db")
    try:
        assert await store.schema_version() == len(migrations())
        async with store.db.execute("SELECT name FROM sqlite_master WHERE type IN ('table','view')") as cur:
            names = {row[0] async for row in cur}
        assert {"workspaces", "settings", "generations", "variants", "feedback", "variant_status",
                "inbound_events"} <= names
        assert "processed_events" not in names  # written by nothing since the journal; dropped
        async with store.db.execute("PRAGMA journal_mode") as cur:
            assert (await cur.fetchone())[0] == "wal"
    finally:
        await store.close()


async def test_reopening_keeps_data_and_applies_nothing_twice(tmp_path):
    store = await Store.open(tmp_path / "c.db")
    _, variants = await _generation(store)
    await store.set_feedback(variants[0].id, "alice", Verdict.APPROVE, True)
    await store.close()
    store = await Store.open(tmp_path / "c.db")
    try:
        assert await store.recent_approved_texts(WS, 5) == ["one"]
    finally:
        await store.close()


async def test_a_failing_migration_leaves_the_schema_as_it_was(tmp_path):
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "0001_a.sql").write_text("CREATE TABLE a (x INTEGER);")
    (folder / "0002_b.sql").write_text("CREATE TABLE b (x INTEGER); INSERT INTO nowhere VALUES (1);")
    with pytest.raises(sqlite3.OperationalError):
        await Store.open(tmp_path / "c.db", migrations_dir=folder)
    db = sqlite3.connect(tmp_path / "c.db")
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert db.execute("PRAGMA user_version").fetchone()[0] == 1
    assert "a" in tables and "b" not in tables  # 0002 rolled back whole
    db.close()


async def test_feedback_is_idempotent_and_can_be_withdrawn(tmp_path):
    store = await Store.open(tmp_path / "c.db")
    try:
        _, variants = await _generation(store)
        vid = variants[1].id
        first = await store.set_feedback(vid, "alice", Verdict.APPROVE, True)
        again = await store.set_feedback(vid, "alice", Verdict.APPROVE, True)
        assert (first.changed, again.changed) == (True, False)
        assert again.approvals == 1 and again.status == "approved"
        bob = await store.set_feedback(vid, "bob", Verdict.REJECT, True)
        assert (bob.approvals, bob.rejections, bob.status) == (1, 1, "pending")
        withdrawn = await store.set_feedback(vid, "bob", Verdict.REJECT, False)
        assert withdrawn.status == "approved" and withdrawn.rejections == 0
        gone = await store.set_feedback(vid, "alice", Verdict.APPROVE, False)
        assert gone.status == "pending"
        assert await store.approved_examples() == []
    finally:
        await store.close()


async def test_a_transaction_that_fails_stores_nothing(tmp_path):
    store = await Store.open(tmp_path / "c.db")
    try:
        await store.ensure_workspace(WS, "console")
        with pytest.raises(RuntimeError):
            async with store.transaction() as db:
                await db.execute("INSERT INTO generations(workspace_id, channel, user_id, request, prompt, "
                                 "model_version) VALUES (?, 'c', 'u', '{}', '[]', 'm')", (WS,))
                raise RuntimeError("crash half-way")
        async with store.db.execute("SELECT count(*) FROM generations") as cur:
            assert (await cur.fetchone())[0] == 0
    finally:
        await store.close()


async def test_concurrent_writers_in_two_connections_lose_nothing(tmp_path):
    """Two processes' worth of connections (the bot and the CLI) writing at once."""
    path = tmp_path / "c.db"
    first, second = await Store.open(path), await Store.open(path)
    try:
        _, variants = await _generation(first, texts=[f"text {i}" for i in range(10)])

        async def approve_all(store: Store, user: str):
            for variant in variants:
                await store.set_feedback(variant.id, user, Verdict.APPROVE, True)
                await _generation(store, texts=[f"{user} {variant.id}"])

        await asyncio.gather(*(approve_all(store, f"user{i}") for i, store in
                               enumerate([first, second, first, second])))
        async with first.db.execute("SELECT count(*) FROM feedback WHERE active = 1") as cur:
            assert (await cur.fetchone())[0] == 40
        async with second.db.execute("SELECT count(*) FROM generations") as cur:
            assert (await cur.fetchone())[0] == 41
    finally:
        await first.close()
        await second.close()


async def test_messages_map_back_to_variants_per_workspace(tmp_path):
    store = await Store.open(tmp_path / "c.db")
    try:
        _, ours = await _generation(store, workspace="slack:T1")
        _, theirs = await _generation(store, workspace="slack:T2")
        await store.mark_posted("slack:T1", ours[0].id, "C1", "111.1")
        await store.mark_posted("slack:T2", theirs[0].id, "C1", "111.1")
        assert await store.variant_for_message("slack:T1", "C1", "111.1") == ours[0].id
        assert await store.variant_for_message("slack:T2", "C1", "111.1") == theirs[0].id
        assert await store.variant_for_message("slack:T1", "C1", "999.9") is None
        with pytest.raises(LookupError):  # a workspace cannot claim another's variant
            await store.mark_posted("slack:T1", theirs[1].id, "C1", "222.2")
    finally:
        await store.close()


async def test_a_migration_that_leaves_references_pointing_nowhere_is_refused_whole(tmp_path):
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "0001_a.sql").write_text(
        "CREATE TABLE parent (id INTEGER PRIMARY KEY);"
        "CREATE TABLE child (parent_id INTEGER REFERENCES parent(id));"
        "INSERT INTO parent VALUES (1); INSERT INTO child VALUES (1);")
    (folder / "0002_b.sql").write_text("DELETE FROM parent;")
    with pytest.raises(RuntimeError, match="references point nowhere"):
        await Store.open(tmp_path / "c.db", migrations_dir=folder)
    db = sqlite3.connect(tmp_path / "c.db")
    assert db.execute("PRAGMA user_version").fetchone()[0] == 1
    assert db.execute("SELECT id FROM parent").fetchall() == [(1,)]
    db.close()


async def test_pooled_model_versions_from_before_0007_are_kept_but_served_to_nobody(tmp_path):
    from engine.learning.versions import VersionStore

    old = tmp_path / "old-migrations"
    old.mkdir()
    for _, path in migrations()[:6]:
        (old / path.name).write_text(path.read_text())
    store = await Store.open(tmp_path / "c.db", migrations_dir=old)
    await store.ensure_workspace(WS, "console")
    async with store.transaction() as db:
        await db.execute("""INSERT INTO model_versions(id, name, base, path, status, train_examples,
                            valid_examples) VALUES (1, 'v1', 'base', 'versions/v1', 'promoted', 30, 5)""")
        await db.execute("INSERT INTO model_activations(base, version_id, reason, by) "
                         "VALUES ('base', 1, 'promoted', 'schedule')")
    await store.close()
    store = await Store.open(tmp_path / "c.db")  # 0007 and later applied
    try:
        versions = VersionStore(store, tmp_path)
        assert await versions.known_paths() == {"versions/v1"}  # kept: its folder is not removed
        assert await versions.active_everywhere("base") == []
        assert await versions.active(WS, "base") is None and await versions.all(WS, "base") == []
        assert await versions.next_name(WS, "base") == "v1"
    finally:
        await store.close()
