"""Preference pairs from what teams chose, for DPO-style trainers (TRL's conventions).

One JSON object per line, in TRL's conversational preference format: the same ``prompt`` messages
for both answers, ``chosen`` and ``rejected`` each one assistant message:

    {"prompt": [{"role": "system", ...}, {"role": "user", ...}],
     "chosen": [{"role": "assistant", "content": "…"}],
     "rejected": [{"role": "assistant", "content": "…"}]}

A pair says "for this prompt, the team preferred this copy to that one", and comes from
- one generation (one prompt): an approved variant against one that was rejected, or that the team
  asked to change (a rewrite turn on it) without approving it;
- a rewrite: the approved rewrite against the variant it rewrote, for the prompt that variant
  answered, when the rewrite kept the language and the placement (a Chinese translation is not a
  better answer to an English request; a shorter one is: the team asked for it).
Pairs never cross workspaces: both answers come from one generation or one conversation.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from dataclasses import dataclass

from engine.copy.brief_checks import language_of
from engine.store import Store

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Row:
    id: int
    workspace: str
    generation_id: int
    text: str
    status: str
    source: int | None
    kind: str | None
    prompt: list[dict[str, str]]
    request: dict

    @property
    def placement(self) -> tuple[str, str | None]:
        language = self.request.get("language") or language_of(self.request.get("product", ""))
        return language, self.request.get("ad_channel")


def _answer(text: str) -> list[dict[str, str]]:
    return [{"role": "assistant", "content": text}]


async def _rows(store: Store, workspace: str | None) -> list[_Row]:
    return [_Row(row["id"], row["workspace_id"], row["generation_id"], row["text"], row["status"],
                 row["source_variant_id"], row["turn_kind"], json.loads(row["prompt"]), json.loads(row["request"]))
            for row in await store.delivered_variants(workspace)]


@dataclass(frozen=True)
class Preference:
    """For ``prompt``, the team preferred ``chosen`` (variant ``chosen_id``) to ``rejected``."""

    prompt: list[dict[str, str]]
    chosen: str
    rejected: str
    chosen_id: int
    kind: str  # "same request" | "rewrite"

    def trl(self) -> dict:
        return {"prompt": self.prompt, "chosen": _answer(self.chosen), "rejected": _answer(self.rejected)}


async def team_preferences(store: Store, workspace: str | None = None) -> list[Preference]:
    rows = await _rows(store, workspace)
    by_id = {row.id: row for row in rows}
    rewritten = {row.source for row in rows if row.kind == "rewrite" and row.source is not None}
    by_generation: dict[int, list[_Row]] = defaultdict(list)
    for row in rows:
        by_generation[row.generation_id].append(row)
    pairs: list[Preference] = []
    seen: set[str] = set()

    def add(prompt: list[dict[str, str]], chosen: _Row, rejected: _Row, kind: str) -> None:
        if chosen.workspace != rejected.workspace or chosen.text == rejected.text:
            return
        pair = Preference(prompt, chosen.text, rejected.text, chosen.id, kind)
        key = json.dumps(pair.trl(), sort_keys=True, ensure_ascii=False)
        if key not in seen:
            seen.add(key)
            pairs.append(pair)

    for generation in by_generation.values():
        chosen = [row for row in generation if row.status == "approved"]
        worse = [row for row in generation if row.status == "rejected"
                 or (row.status == "pending" and row.id in rewritten)]
        for better in chosen:
            for other in worse:
                add(better.prompt, better, other, "same request")
    for row in rows:
        source = by_id.get(row.source) if row.source is not None else None
        if (row.kind == "rewrite" and row.status == "approved" and source is not None
                and source.status != "approved" and source.placement == row.placement):
            add(source.prompt, row, source, "rewrite")
    logger.info("%d preference pairs from %d delivered variants", len(pairs), len(rows))
    return pairs


async def preference_pairs(store: Store, workspace: str | None = None) -> list[dict]:
    """The export's rows, in TRL's conversational preference format."""
    return [pair.trl() for pair in await team_preferences(store, workspace)]
