"""The language model's second opinion on the reviews the sentiment classifier is least sure of.

The classifier is a linear head on frozen multilingual-e5-small vectors. On Chinese review lines it
tops out near 83 %, and a head fitted on that very source scored no better, so more training
sentences cannot lift it much. The bundled 1.5B model reads Chinese better but costs about half a
second a review on two cores, minutes for a whole file. So it is asked only about the least-sure
share of a batch, most doubtful first, until a time budget is spent. Behind a GPU model server
(``COPYBOT_BACKEND=openai``) the same budget covers many more reviews.

An answer that is not one of the three labels is ignored, and so is a failed or late request: the
classifier's label stands.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from string import Template

from engine.copy.prompts import load_templates
from engine.errors import BusyError, UserError
from engine.generation.contract import Generator
from engine.reviews.classifier import Prediction

logger = logging.getLogger(__name__)

#: words of an answer -> label (the prompts ask for exactly one of these)
VERDICTS = {"positive": "positive", "negative": "negative", "neutral": "neutral",
            "正面": "positive", "负面": "negative", "中性": "neutral",
            "積極": "positive", "积极": "positive", "消极": "negative", "負面": "negative"}
_WORDS = re.compile("|".join(sorted(map(re.escape, VERDICTS), key=len, reverse=True)), re.IGNORECASE)
#: new tokens an answer may take ("negative" is one or two tokens; a Chinese label two or three)
ANSWER_TOKENS = 4
#: characters of a review in the prompt: the verdict shows early, and a slot holds 1,024 tokens
MAX_CHARS = 600
#: requests in flight at once: the local model batches them, a remote server takes them in parallel
CONCURRENCY = 4


@dataclass(frozen=True)
class SecondOpinionSettings:
    """COPYBOT_REVIEWS_SECOND_OPINION_SECONDS and _SHARE (their defaults are in EngineConfig)."""

    seconds: float  # per batch of reviews; 0 turns the second opinion off
    share: float  # of a batch's analysed reviews, the least sure, at most


def least_sure(predictions: Sequence[Prediction], share: float) -> list[int]:
    """Indices of the ``share`` of ``predictions`` with the lowest confidence, least sure first."""
    count = min(len(predictions), math.ceil(share * len(predictions)))
    return sorted(range(len(predictions)), key=lambda i: predictions[i].confidence)[:count]


def parse_verdict(answer: str) -> str | None:
    """The label an answer gives, or None when it gives none or more than one."""
    found = {VERDICTS[m.group(0).lower()] for m in _WORDS.finditer(answer)}
    return found.pop() if len(found) == 1 else None


class SecondOpinion:
    def __init__(self, generator: Generator, prompts_dir: Path, settings: SecondOpinionSettings) -> None:
        self.generator = generator
        self.settings = settings
        templates = load_templates(prompts_dir, "second_opinion")
        if "en" not in templates:
            raise ValueError(f"{prompts_dir}/second_opinion.toml is missing")
        self._prompts = {language: (keys["system"], Template(keys["user"])) for language, keys in templates.items()}

    @property
    def enabled(self) -> bool:
        return self.settings.seconds > 0 and self.settings.share > 0

    async def verdicts(self, texts: Sequence[str], languages: Sequence[str | None],
                       predictions: Sequence[Prediction]) -> dict[int, str]:
        """Index -> the model's label, for the least-sure reviews it answered about within the budget."""
        if not self.enabled or not texts:
            return {}
        order = least_sure(predictions, self.settings.share)
        found: dict[int, str] = {}
        slots = asyncio.Semaphore(CONCURRENCY)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settings.seconds
        took: list[float] = []
        first = asyncio.Event()  # the first answer has come: how long one takes is known
        in_flight = [0]

        async def ask(i: int) -> None:
            if i != order[0]:
                await first.wait()
            async with slots:
                # A request cut off at the deadline still finishes its prefill, and the rest of the
                # summary waits for the cores: one goes alone first, and each later one starts only
                # when it can end in time beside those running (on a CPU they share the cores).
                started = loop.time()
                if took and started + max(took) * (in_flight[0] + 1) > deadline:
                    return
                in_flight[0] += 1
                try:
                    verdict = await self._ask(texts[i], languages[i])
                finally:
                    in_flight[0] -= 1
                    took.append((loop.time() - started) / (in_flight[0] + 1))
                    first.set()
            if verdict is not None:
                found[i] = verdict

        tasks = [asyncio.ensure_future(ask(i)) for i in order]
        done, late = await asyncio.wait(tasks, timeout=self.settings.seconds)
        for task in late:
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)
        failed = [t.exception() for t in done if t.exception() is not None]
        if failed:
            logger.warning("second opinion: %d of %d requests failed", len(failed), len(order),
                           exc_info=failed[0] if not isinstance(failed[0], (BusyError, UserError)) else None)
        logger.info("second opinion on %d of %d least-sure reviews within %.0f s (%d answered)",
                    len(done) - len(failed), len(order), self.settings.seconds, len(found))
        return found

    async def _ask(self, text: str, language: str | None) -> str | None:
        if language is None:  # too short to tell: a Chinese character decides
            language = "zh" if re.search(r"[\u4e00-\u9fff]", text) else "en"
        system, user = self._prompts.get(language, self._prompts["en"])
        messages = [{"role": "system", "content": system},
                    {"role": "user", "content": user.substitute(review=text[:MAX_CHARS])}]
        completions, _ = await self.generator.generate(messages, n=1, max_new_tokens=ANSWER_TOKENS)
        return parse_verdict(completions[0]) if completions else None


def revised(prediction: Prediction, verdict: str) -> Prediction:
    """``prediction`` with the model's label; confidence stays the classifier's probability of it."""
    probability = {"positive": prediction.positive, "negative": prediction.negative,
                   "neutral": max(0.0, 1.0 - prediction.positive - prediction.negative)}[verdict]
    return Prediction(label=verdict, confidence=probability, positive=prediction.positive,
                      negative=prediction.negative)
