"""The line a `/copy … from: reviews` reply shows: which praise the copy used and which complaints
it steered clear of, so the team sees what the reviews changed (each adapter supplies its markup)."""

from __future__ import annotations

from bot.rendering.markup import Markup
from engine import ReviewBrief

MAX_LINE = 400  # labels are a few words; this only bounds a pathological summary


def from_reviews_line(brief: ReviewBrief, markup: Markup) -> str:
    """E.g. "From your reviews — using: sound, comfortable; avoiding: battery (6 complaints)"."""
    def labels(names) -> str:
        return ", ".join(markup.user_text(name) for name in names)

    parts = []
    unused = [p.label for p in brief.praise if p.label not in brief.used]
    if brief.used:
        parts.append(f"using: {labels(brief.used)}")
    if unused:
        parts.append(f"{'also suggested' if brief.used else 'suggested, not used'}: {labels(unused)}")
    if brief.complaints:
        avoided = ", ".join(f"{markup.user_text(p.label)} ({p.count} complaint{'s' if p.count != 1 else ''})"
                            for p in brief.complaints)
        parts.append(f"avoiding: {avoided}")
    else:
        parts.append("no complaints to avoid")
    if brief.left_out:
        parts.append("left out of the brief: " + ", ".join(f"“{markup.user_text(part)}”"
                                                           for part in brief.left_out))
    line = f"{markup.bold('From your reviews')} — {'; '.join(parts)}"
    return line if len(line) <= MAX_LINE else line[: MAX_LINE - 1] + "…"
