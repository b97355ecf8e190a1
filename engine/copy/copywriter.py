"""Writing ad copy: prompt in, n clean, on-brief and distinct variants out, streamed as written.

Each round asks the model for a few more candidates than are missing (extra sequences of one
request share its prefill and its batch, so they cost little), cleans them, checks them against
the brief (``engine.copy.brief_checks``) and keeps the best. Variants that fail are asked for again, up to
``max_rounds`` rounds; if the model still has not produced n good ones, the user gets the good ones.
While the first round is written, ``on_preview(slot, text)`` shows candidate ``slot`` (0..n-1) as it
grows; the final variants then replace the previews.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from engine.copy.brief import Brief, read_brief
from engine.copy.brief_checks import Check, check_variant, language_of, rank, settled_preview
from engine.copy.cleaning import CopyLimits, clean_variant, ends_sentence, preview_text
from engine.copy.compliance import ComplianceRules, StyleGuide, apply_spellings
from engine.copy.prompts import PromptBook
from engine.copy.stock_phrases import StockPhrases
from engine.errors import BusyError
from engine.generation.contract import Generator
from engine.types import CopyRequest, ReviewBrief

logger = logging.getLogger(__name__)

# Placements shorter than this many words (a search headline, an email subject) are not held to
# naming the product.
NAMING_MIN_WORDS = 10

# Tokens per word of ad copy, with room for punctuation and emoji: Qwen's and SmolLM2's tokenizers
# on English; a Chinese "word" here is two characters, about 1.5 tokens. The budget is tight on
# purpose: it bounds the wall time of a /copy, and a sentence the budget cut off is dropped by
# the cleaning (the copy ends at the last complete sentence that fits).
TOKENS_PER_WORD = {"en": 1.1, "zh": 1.4}
TOKEN_SLACK = 8
# Copy this long or longer must end as a sentence: one cut off by the token budget is dropped.
# Shorter placements (subject lines, search ads) are often written without a full stop.
MIN_WORDS_FOR_SENTENCES = 12

OnPreview = Callable[[int, str], None]


def token_budget(max_words: int, max_new_tokens: int, language: str = "en") -> int:
    """New tokens to allow for copy of ``max_words``, capped at ``max_new_tokens``."""
    return min(max_new_tokens, int(max_words * TOKENS_PER_WORD.get(language, 1.6)) + TOKEN_SLACK)


def extra_candidates(n: int) -> int:
    """Candidates asked for beyond ``n`` in the first round: one per three variants."""
    return max(1, (n + 2) // 3)


@dataclass(frozen=True)
class Draft:
    messages: list[dict[str, str]]
    texts: list[str]
    model_version: str
    language: str = "en"
    # Every candidate checked, kept or not, with why it was dropped (benchmarks count these).
    checks: list[Check] = field(default_factory=list)
    rounds: int = 1


class Copywriter:
    def __init__(self, prompts: PromptBook, generator: Generator, max_new_tokens: int,
                 max_rounds: int, grounding: bool = True, rules: ComplianceRules | None = None,
                 stock: StockPhrases | None = None) -> None:
        self.prompts = prompts
        self.stock = stock  # the stock phrases the ranking puts last
        self.rules = rules  # the advertising-law terms and unsupported claims every variant is held to
        # Off: every clean variant counts, whatever the brief checks say (they are still recorded).
        self.grounding = grounding
        self.generator = generator
        self.max_new_tokens = max_new_tokens
        self.max_rounds = max_rounds

    def token_budget(self, max_words: int, language: str = "en") -> int:
        return token_budget(max_words, self.max_new_tokens, language)

    async def write(self, request: CopyRequest, brand_voice: str | None, examples: list[str],
                    on_preview: OnPreview | None = None, model: str | None = None,
                    reviews: ReviewBrief | None = None, brief: Brief | None = None,
                    style: StyleGuide | None = None) -> Draft:
        """``model``: the served version to write with (the workspace's fine-tune; None: base).
        ``reviews`` (``from: reviews``): praise for the prompt, complaints it must not claim.
        ``brief``: the description as read (``engine.copy.brief``): the prompt asks for its name,
        and only a brief that names something holds the copy to naming it."""
        language = request.language or language_of(request.product)
        # From reviews, the prompt shows the description without its complained-about claims;
        # the checks below still hold the copy to the whole description.
        brief = brief or read_brief(request.product)
        # A pasted page is shown distilled (engine.copy.brief); the checks still read all of it.
        shown = replace(request, product=reviews.description if reviews and reviews.description
                        else brief.prompt_text)
        messages = self.prompts.messages(shown, brand_voice=brand_voice, examples=examples,
                                         language=language, reviews=reviews, product_name=brief.name)
        complaints = [p.label for p in reviews.complaints] if reviews else []
        return await self.complete(messages, request.product, language, self.prompts.limits(request),
                                   request.n, avoid=list(examples), on_preview=on_preview, model=model,
                                   complaints=complaints, names=brief.required_names, style=style,
                                   kind=brief.kind)

    async def complete(self, messages: list[dict[str, str]], product: str, language: str,
                       limits: CopyLimits, n: int, avoid: Sequence[str] = (),
                       on_preview: OnPreview | None = None, model: str | None = None,
                       complaints: Sequence[str] = (), names: Sequence[str] | None = None,
                       style: StyleGuide | None = None, kind: str = "") -> Draft:
        """``n`` clean, on-brief, distinct variants for a prompt already built (a /copy, or a turn
        of a conversation): the same cleaning and brief checks against ``product`` (the
        description) either way, and nothing like ``avoid``; ``complaints``: review themes a
        variant must not claim."""
        budget = self.token_budget(limits.max_words, language)
        if limits.max_words < NAMING_MIN_WORDS:
            names = ()  # a 30-character headline or a subject line may leave the name to the ad around it
        kept: list[Check] = []
        checks: list[Check] = []
        version = self.generator.version
        round_number = 0
        for round_number in range(1, self.max_rounds + 1):
            missing = n - len(kept)
            # A retry means this prompt often gives junk or repeats: ask for twice what is missing.
            # Spares only while the model is idle: under load every sequence costs someone time.
            spare = extra_candidates(missing) if self.generator.queue_depth == 0 else 0
            wanted = missing + spare if round_number == 1 else 2 * missing
            stream = None
            if on_preview is not None and round_number == 1:
                refused: set[int] = set()  # slots whose text already breaks the brief

                def stream(index: int, raw: str, refused: set[int] = refused) -> None:
                    # People in the channel read the preview: a variant that states an invented
                    # offer or number stops growing before it shows one; the final post replaces it.
                    if index < n and index not in refused:
                        text = settled_preview(preview_text(raw, limits), product, complaints, language,
                                               self.rules, style)
                        if text is None:
                            refused.add(index)
                        elif text:
                            on_preview(index, text)
            try:
                raw, version = await self.generator.generate(messages, wanted, budget, stream, model=model)
            except BusyError:
                if not kept:
                    raise
                # The queue filled up meanwhile: the good variants already written are delivered.
                logger.info("busy during round %d; delivering %d of %d", round_number, len(kept), n)
                break
            round_checks = []
            for text, truncated in zip(raw, raw.truncated):
                if truncated:  # the budget ran out mid-word, perhaps mid-hashtag: that word goes
                    text = text.rsplit(None, 1)[0] if len(text.split()) > 1 else text
                cleaned = clean_variant(text, limits)
                if cleaned is None:
                    logger.debug("dropped unusable variant: %r", text[:200])
                    continue
                if style is not None:  # the team's spellings, in what is checked and delivered
                    cleaned = apply_spellings(cleaned, style)
                check = check_variant(cleaned, product, language, complaints, names, self.rules, style, kind)
                if limits.max_words >= MIN_WORDS_FOR_SENTENCES and not ends_sentence(cleaned):
                    check = Check(check.text, check.problems + ("is cut off mid-sentence",), check.words)
                round_checks.append(check)
            for check in round_checks:
                if not check.ok:
                    logger.debug("dropped off-brief variant (%s): %r", "; ".join(check.problems),
                                 check.text[:200])
            checks += round_checks
            if not self.grounding:
                round_checks = [Check(c.text, (), c.words) for c in round_checks]
            kept += rank(round_checks, missing, limits.max_words,
                         avoid=[c.text for c in kept] + list(avoid), description=product, stock=self.stock)
            if len(kept) >= n:
                break
            logger.info("round %d kept %d of %d variants; asking again", round_number, len(kept), n)
        return Draft(messages=messages, texts=[c.text for c in kept[:n]],
                     model_version=version, language=language, checks=checks, rounds=round_number)
