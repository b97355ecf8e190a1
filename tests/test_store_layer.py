"""The persistence layer's two rules: SQL lives in engine/store/ only, and a unit of work is
invisible to every other coroutine until it commits."""

from __future__ import annotations

import asyncio
import re

import pytest

from engine.store import Store
from tests.models import REPO

WS = "slack:T1"

# A statement or a handle on a connection, in code outside engine/store/.
SQL = re.compile(r"store\.db\b|\.execute(many|script|_fetchall)?\(|\b(SELECT\s.*\bFROM|INSERT\s+(OR\s+\w+\s+)?INTO"
                 r"|UPDATE\s+\w+\s+SET|DELETE\s+FROM|PRAGMA\s+\w+|BEGIN(\s+IMMEDIATE)?|SAVEPOINT|ROLLBACK|COMMIT)\b")
FILE_LEVEL_TOOLS = {
    # File-level tools that open the database file themselves (sqlite3's backup API, integrity
    # checks, taking the write lock to prove it can be taken); they hold no aggregate's rows.
    "bot/ops/backup.py", "bot/ops/doctor.py",
}


def test_sql_is_issued_only_inside_engine_store():
    found = []
    for path in sorted([*(REPO / "engine").rglob("*.py"), *(REPO / "bot").rglob("*.py")]):
        name = path.relative_to(REPO).as_posix()
        if name.startswith("engine/store/") or name in FILE_LEVEL_TOOLS:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if SQL.search(line):
                found.append(f"{name}:{number}: {line.strip()}")
    assert found == []


@pytest.fixture
async def store(tmp_path):
    store = await Store.open(tmp_path / "copybot.db")
    yield store
    await store.close()


async def test_a_read_never_sees_another_coroutines_open_transaction(store):
    inside, release = asyncio.Event(), asyncio.Event()

    async def unit_of_work():
        async with store.transaction() as db:
            await db.execute("INSERT INTO workspaces(id, platform) VALUES (?, 'slack')", (WS,))
            inside.set()
            await release.wait()  # other coroutines run while this transaction is open
            raise RuntimeError("a later step of the unit of work fails")

    writing = asyncio.create_task(unit_of_work())
    await inside.wait()
    assert await store.workspace_ids() == []  # not the insert that is about to be rolled back
    assert await store.settings(WS) == {}
    release.set()
    with pytest.raises(RuntimeError, match="later step"):
        await writing
    assert await store.workspace_ids() == []


async def test_a_commit_is_seen_by_the_next_read_and_a_failed_unit_leaves_nothing(store):
    await store.ensure_workspace(WS, "slack")
    assert await store.workspace_ids() == [WS]  # the read connection sees the commit at once
    inside, release = asyncio.Event(), asyncio.Event()

    async def failing():
        async with store.transaction() as db:
            await db.execute("UPDATE workspaces SET platform = 'discord' WHERE id = ?", (WS,))
            inside.set()
            await release.wait()
            raise RuntimeError("fails")

    first = asyncio.create_task(failing())
    await inside.wait()
    # Another coroutine's write waits for the open unit of work instead of joining it ...
    second = asyncio.create_task(store.set_setting(WS, "timezone", "Europe/Berlin", by="U1"))
    release.set()
    with pytest.raises(RuntimeError):
        await first
    await second  # ... so the rollback of the first takes nothing of the second with it
    assert await store.settings(WS) == {"timezone": "Europe/Berlin"}
    assert (await store.fetch_one("SELECT platform FROM workspaces WHERE id = ?", (WS,)))["platform"] == "slack"


async def test_the_read_connection_refuses_writes(store):
    with pytest.raises(Exception, match="readonly"):
        await store.db.execute("INSERT INTO workspaces(id, platform) VALUES ('slack:T2', 'slack')")
