"""Conversations in the engine and the console: turns keep the brief, are stored as turns, and
what the team picked becomes preference pairs in TRL's format, one workspace at a time."""

from __future__ import annotations

import asyncio
import io
import json
import re

from bot.console import ConsoleSession, handle_line
from engine import CopyRequest, Feedback, Origin, Refinement, Thread, Verdict
from tests.processes import COPYBOT, console_session


async def session_lines(engine, origin, *lines: str) -> list[str]:
    session, out = ConsoleSession(), io.StringIO()
    return [await handle_line(engine, origin, line.encode(), out, session) for line in lines]


def numbers(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"^\s+#(\d+)\s", text, re.MULTILINE)]


async def test_console_refine_rewrites_the_named_variant_of_the_session(engine, console_origin):
    copied, shorter, again, wrong = await session_lines(
        engine, console_origin, "/copy insulated steel water bottle n: 2", "/refine 1 shorter",
        "/refine again", "/refine 99 in Chinese")
    assert numbers(copied) == [1, 2] and "Session 1: change one with /refine" in copied
    assert numbers(shorter) == [3, 4] and shorter.count("(from #1)") == 2
    assert numbers(again) == [5, 6]
    assert wrong == "There is no #99 in this thread; the variants here are #1, #2, #3, #4, #5, #6."
    async with engine.store.db.execute(
            "SELECT prompt, turn_kind, turn FROM generations ORDER BY id") as cursor:
        generations = [(json.loads(p), k, t) async for p, k, t in cursor]
    assert [(kind, turn) for _, kind, turn in generations] == [(None, 0), ("rewrite", 1), ("again", 2)]
    rewrite_prompt = generations[1][0]
    assert "insulated steel water bottle" in rewrite_prompt[1]["content"]
    again_prompt = generations[2][0][-1]["content"]
    assert "from a new angle" in again_prompt


async def test_pairs_export_has_chosen_and_rejected_rows_for_an_approved_rewrite(
        engine, console_origin, tmp_path):
    await session_lines(engine, console_origin, "/copy cold brew coffee in cans n: 2",
                        "/refine 1 shorter", "/approve 3", "/reject 4", "/refine 2 in Chinese",
                        "/approve 5")
    # Another workspace's picks stay its own.
    other = Origin("slack", "T0OTHER", "C1", "U1")
    result = await engine.copy(other, CopyRequest("rival soda", n=2))
    for variant in result.variants:
        await engine.mark_posted(other, variant.id, f"m{variant.id}")
    conversation = await engine.open_thread(other, result.generation_id, Thread("C1", "t1"))
    await engine.refine(other, conversation, Refinement("#7 shorter", targets=(7,), length_change=-1))
    await engine.record_feedback(Feedback(other, Verdict.APPROVE, variant_id=9))

    path = tmp_path / "pairs.jsonl"
    count = await engine.export_pairs(path, workspace="console:local")
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert count == len(rows) and rows
    texts = dict(await (await engine.store.db.execute("SELECT id, text FROM variants")).fetchall())
    for row in rows:  # exactly TRL's conversational preference format
        assert set(row) == {"prompt", "chosen", "rejected"}
        assert [m["role"] for m in row["chosen"]] == [m["role"] for m in row["rejected"]] == ["assistant"]
        assert row["prompt"][-1]["role"] == "user"
    pairs = {(row["chosen"][0]["content"], row["rejected"][0]["content"]) for row in rows}
    # #3 (the approved shorter #1) beats #4 (its rejected sibling) and #1 itself.
    assert (texts[3], texts[4]) in pairs and (texts[3], texts[1]) in pairs
    # The Chinese #5 is no better answer to the English request than #2: no pair of them.
    assert (texts[5], texts[2]) not in pairs
    original = next(row for row in rows if row["rejected"][0]["content"] == texts[1])
    assert [m["role"] for m in original["prompt"]] == ["system", "user"]
    assert all(texts[n] not in json.dumps(rows, ensure_ascii=False) for n in (7, 8, 9))
    assert len([row for row in rows if row["chosen"][0]["content"] == texts[9]]) == 0


async def test_copybot_export_pairs_writes_the_file(cli_env, tmp_path):
    async with console_session(cli_env, "console") as console:
        await console.send(b"/copy bamboo toothbrush n: 2")
        await console.read_until("Session 1")
        await console.send(b"/refine 1 shorter")
        await console.read_until("Session 1")
        await console.send(b"/approve 3")
        await console.read_until("approved")
    out = tmp_path / "pairs.jsonl"
    process = await asyncio.create_subprocess_exec(
        *COPYBOT, "export", "--pairs", str(out), env=cli_env, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    stdout, stderr = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0, stderr.decode()
    assert stdout.decode().startswith("Wrote ") and "preference pair" in stdout.decode()
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert rows and all(set(row) == {"prompt", "chosen", "rejected"} for row in rows)
