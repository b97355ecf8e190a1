"""``copybot export``: what the team approved, as JSONL files other trainers take. Each file is written
beside its target and renamed into place, so a reader never sees half of one."""

from __future__ import annotations

import json
from pathlib import Path

from engine.conversations.pairs import preference_pairs
from engine.store import Store


async def write_approved(store: Store, path: Path, workspace: str | None = None) -> int:
    """Approved examples as chat-format JSONL (``{"messages": [...]}`` per line); how many."""
    examples = await store.approved_examples(workspace)
    partial = path.with_name(path.name + ".partial")
    with partial.open("w", encoding="utf-8") as out:
        for example in examples:
            messages = example.messages + [{"role": "assistant", "content": example.text}]
            out.write(json.dumps({"messages": messages}, ensure_ascii=False) + "\n")
    partial.replace(path)
    return len(examples)


async def write_pairs(store: Store, path: Path, workspace: str | None = None) -> int:
    """Preference pairs (prompt, chosen, rejected; TRL's conversational format) as JSONL; how many."""
    pairs = await preference_pairs(store, workspace)
    partial = path.with_name(path.name + ".partial")
    with partial.open("w", encoding="utf-8") as out:
        for pair in pairs:
            out.write(json.dumps(pair, ensure_ascii=False) + "\n")
    partial.replace(path)
    return len(pairs)
