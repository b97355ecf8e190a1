"""`/copy … from: reviews`: what the workspace's latest review summary tells the copy.

Praise themes become phrases to build on (with a short quote in the customers' words); complaint
themes become claims the copy must not make (the brief checks drop a variant that names one).
Only the asking workspace's own summary is read, and only themes in the copy's language: an
English theme in a Chinese prompt (or the reverse) would pull the other language into the copy,
which the language check then drops.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from engine.copy.brief_checks import description_parts, language_of, names_theme, product_names
from engine.errors import UserError
from engine.reviews.storage import StoredReviewSummary, latest_review_summary
from engine.reviews.summary import Theme
from engine.store import Store
from engine.types import CopyRequest, ReviewBrief, ReviewPoint

# A theme is praise to use when most of the reviews mentioning it praise it...
PRAISE_SHARE = 0.6
# ...and a complaint to avoid when a good part criticise it: an ad boasting about what two in five
# buyers complain about invites the complaint, so the bar is lower than for praise.
COMPLAINT_SHARE = 0.4
MIN_COMPLAINTS = 2  # one unhappy review is an anecdote, not a theme to steer copy by
# A 1.5B model follows a short list; more themes dilute the prompt.
MAX_PRAISE = 3
MAX_COMPLAINTS = 3
QUOTE_CHARS = 80

NO_SUMMARY = "No review summary yet in this workspace; run /reviews with your reviews first."
NO_THEMES = ("Your latest review summary found no praised or criticised themes (a theme needs two "
             "reviews that mention it); run /reviews with more reviews first.")


async def review_brief(store: Store, workspace: str, request: CopyRequest) -> ReviewBrief:
    """The praise and complaints of ``workspace``'s latest review summary, for ``request``'s copy;
    ``UserError`` (one sentence) when there is no summary or nothing in it to write from."""
    summary = await latest_review_summary(store, workspace)
    if summary is None:
        raise UserError(NO_SUMMARY)
    return brief_from(summary, request.product, request.language or language_of(request.product))


def brief_from(summary: StoredReviewSummary, product: str, language: str) -> ReviewBrief:
    themes = _distinct(summary.praise + summary.complaints)
    if not themes:
        raise UserError(NO_THEMES)
    name = product_names(product)[0] if product.strip() else ""
    usable = [t for t in themes if _in_language(t.label, language)
              # The product's own name is no theme to use or avoid: the copy must name it.
              and not (name and names_theme(name, t.label))]
    if not usable:
        other = "Chinese" if language == "en" else "English"
        raise UserError(
            f"Your latest review summary has no themes in {'English' if language == 'en' else 'Chinese'} "
            f"(they are in {other}); write this copy in {other} with language: "
            f"{'zh' if language == 'en' else 'en'}, or run /reviews with reviews in the copy's language.")
    complaints = [t for t in usable if t.negative_share >= COMPLAINT_SHARE and t.negative >= MIN_COMPLAINTS]
    avoided = {t.label for t in complaints}
    praise = [t for t in usable if t.positive_share >= PRAISE_SHARE and t.label not in avoided]
    if not praise and not complaints:
        raise UserError(NO_THEMES)
    # most praised first; ties keep the summary's own order
    praise.sort(key=lambda t: (-t.positive, -t.mentions))
    complaints.sort(key=lambda t: (-t.negative, -t.mentions))
    complaints = complaints[:MAX_COMPLAINTS]
    description, left_out = without_claims_on(product, [t.label for t in complaints])
    return ReviewBrief(
        summary_id=summary.id, summarised_at=summary.created_at, reviews=summary.analysed,
        praise=tuple(ReviewPoint(t.label, t.mentions, t.positive_share, short_quote(t.quote))
                     for t in praise[:MAX_PRAISE]),
        complaints=tuple(ReviewPoint(t.label, t.mentions, t.negative_share) for t in complaints),
        description=description, left_out=left_out,
    )


def without_claims_on(description: str, complaints: list[str]) -> tuple[str, tuple[str, ...]]:
    """``description`` without its parts that name a complaint theme, and those parts.

    Measured on the 1.5B model: given "智能手环：可监测心率和睡眠，续航14天" and told that customers
    complain about 续航, all 18 candidates still wrote 续航14天; a prompt cannot both show a claim
    and forbid it. The first part (the product's name) always stays."""
    parts = description_parts(description)
    claims, separators = parts[::2], parts[1::2] + [""]  # separators[i] follows claims[i]
    dropped = [i > 0 and bool(claim.strip()) and any(names_theme(claim, label) for label in complaints)
               for i, claim in enumerate(claims)]
    left_out = [claim.strip() for claim, drop in zip(claims, dropped) if drop]
    kept = []
    for i, claim in enumerate(claims):
        if dropped[i]:
            continue
        # A dropped claim takes the separator after it ("with A and B" -> "with B"); the last
        # one takes the separator before it, which is dropped with it.
        follows_last = i + 1 < len(claims) and all(dropped[i + 1:])
        kept += [claim, "" if follows_last else separators[i]]
    text = "".join(kept).strip(" ,，;；:：、")
    return (text if left_out else description), tuple(left_out)


def with_used(brief: ReviewBrief, texts: Iterable[str]) -> ReviewBrief:
    """``brief`` with the praise the delivered copy actually names."""
    texts = list(texts)
    return replace(brief, used=tuple(p.label for p in brief.praise
                                     if any(names_theme(text, p.label) for text in texts)))


def short_quote(quote: str, limit: int = QUOTE_CHARS) -> str:
    """A quote cut at a word (or, in Chinese, a character) to at most ``limit`` characters."""
    quote = " ".join(quote.split()).strip("“”\"")
    if len(quote) <= limit:
        return quote
    cut = quote[:limit]
    if " " in cut and not language_of(cut) == "zh":
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:，；：") + "…"


def _in_language(label: str, language: str) -> bool:
    return language_of(label) == language


def _distinct(themes: list[Theme]) -> list[Theme]:
    """Each label once (a theme may be listed on both sides of a summary: the first one wins)."""
    seen: dict[str, Theme] = {}
    for theme in themes:
        seen.setdefault(theme.label.lower(), theme)
    return list(seen.values())
