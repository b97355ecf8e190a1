"""Writing ad copy: prompt in, n clean and distinct variants out.

Junk and near-duplicate variants are dropped and asked for again, up to ``max_rounds`` rounds;
if the model still has not produced n good ones, the user gets the ones that are good.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from engine.cleaning import clean_variant, is_near_duplicate
from engine.generator import BatchingGenerator
from engine.prompts import PromptBook
from engine.types import CopyRequest

logger = logging.getLogger(__name__)

TOKENS_PER_WORD = 1.6  # SmolLM2's tokenizer on English ad copy, with room for punctuation/emoji
TOKEN_SLACK = 16


def token_budget(max_words: int, max_new_tokens: int) -> int:
    """New tokens to allow for copy of ``max_words``, capped at ``max_new_tokens``."""
    return min(max_new_tokens, int(max_words * TOKENS_PER_WORD) + TOKEN_SLACK)


@dataclass(frozen=True)
class Draft:
    messages: list[dict[str, str]]
    texts: list[str]
    model_version: str


class Copywriter:
    def __init__(self, prompts: PromptBook, generator: BatchingGenerator, max_new_tokens: int,
                 max_rounds: int) -> None:
        self.prompts = prompts
        self.generator = generator
        self.max_new_tokens = max_new_tokens
        self.max_rounds = max_rounds

    def token_budget(self, max_words: int) -> int:
        return token_budget(max_words, self.max_new_tokens)

    async def write(self, request: CopyRequest, brand_voice: str | None, examples: list[str]) -> Draft:
        messages = self.prompts.messages(request, brand_voice=brand_voice, examples=examples)
        limits = self.prompts.limits(request)
        budget = self.token_budget(limits.max_words)
        kept: list[str] = []
        version = self.generator.version
        for round_number in range(1, self.max_rounds + 1):
            missing = request.n - len(kept)
            # A retry means this prompt gives junk or repeats often, so it asks for twice what is
            # missing: extra sequences in one batch cost little, a third round costs a whole call.
            wanted = missing if round_number == 1 else 2 * missing
            raw, version = await self.generator.generate(messages, wanted, budget)
            for text in raw:
                cleaned = clean_variant(text, limits)
                if cleaned is None:
                    logger.debug("dropped unusable variant: %r", text[:200])
                elif is_near_duplicate(cleaned, kept + examples):
                    logger.debug("dropped near-duplicate variant: %r", cleaned[:200])
                elif len(kept) < request.n:
                    kept.append(cleaned)
            if len(kept) >= request.n:
                break
            logger.info("round %d kept %d of %d variants; asking again", round_number, len(kept),
                        request.n)
        return Draft(messages=messages, texts=kept[: request.n], model_version=version)
