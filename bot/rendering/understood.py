"""The lines above a /copy's variants that say what copybot understood and why fewer came than
asked, laid out once for every platform (each adapter supplies its markup)."""

from __future__ import annotations

from bot.rendering.markup import Markup
from engine import CopyResult

MAX_FACT = 60  # a fact is a few words; a long one is cut, the line stays one line


def understood_line(result: CopyResult, markup: Markup) -> str | None:
    """E.g. "Read as: **卫衣** — 宽松 · 宝蓝色 · 休闲", so a wrong reading is seen at once."""
    understood = result.understood
    if understood is None or not (understood.subject or understood.facts):
        return None
    subject = markup.bold(markup.user_text(understood.subject)) if understood.subject else "no product name"
    facts = [fact if len(fact) <= MAX_FACT else fact[: MAX_FACT - 1] + "…" for fact in understood.facts]
    shown = " · ".join(markup.user_text(fact) for fact in facts)
    return f"Read as: {subject}" + (f" — {shown}" if shown else "")


def shortfall_line(result: CopyResult) -> str | None:
    """E.g. "Only 2 of 3 variants were good enough to show; the others stated numbers the
    description does not give." ``None`` when all came."""
    count = len(result.variants)
    if count >= result.requested:
        return None
    because = f"; the others {result.shortfall}" if result.shortfall else ""
    return f"Only {count} of {result.requested} variants were good enough to show{because}."
