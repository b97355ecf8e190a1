"""``SentimentAnalyzer``: one object the engine owns, holding the loaded models, turning a
``ReviewBatch`` into a ``ReviewSummary``.

``summarize`` is synchronous and CPU-bound: run it in a worker thread. Calls are serialised by a
lock, because the bundled model switches its adapter off while it embeds theme phrases.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Iterable, Sequence

from engine.errors import UserError
from engine.reviews.classifier import BUNDLED, BundledSentimentModel, HFSentimentModel, Prediction, SentenceEmbedder
from engine.reviews.language import detect_language, language_name
from engine.reviews.summary import LabelledReview, ReviewBatch, ReviewSummary
from engine.reviews.themes import find_themes
from engine.reviews.trend import build_trend

logger = logging.getLogger(__name__)


class SentimentAnalyzer:
    """Loads a sentiment model once and summarises batches of reviews.

    ``model``: ``None``/``"bundled"`` for the project's MiniLM adapter (offline, English), or a Hugging
    Face text-classification model id or local folder (e.g. a DistilBERT SST-2 model).
    ``languages``: language codes the model reads (reviews in others are skipped and reported);
    ``None`` turns the check off, for multilingual models.
    """

    def __init__(
        self,
        model: str | None = None,
        *,
        languages: Iterable[str] | None = ("en",),
        head_path: Path | None = None,
    ) -> None:
        spec = model or BUNDLED
        started = time.monotonic()
        if spec == BUNDLED:
            self._model = BundledSentimentModel(head_path)
            self._embedder = self._model
        else:
            self._model = HFSentimentModel(spec)
            self._embedder = SentenceEmbedder()
        self.model_name: str = self._model.name
        self.languages = frozenset(languages) if languages is not None else None
        self._lock = threading.Lock()
        logger.info("sentiment analyser ready (%s) in %.1f s", self.model_name, time.monotonic() - started)

    def classify(self, texts: Sequence[str]) -> list[Prediction]:
        """Label each text positive / negative / neutral, with the model's probabilities."""
        if not texts:
            return []
        with self._lock:
            return self._model.predict(list(texts))

    def summarize(self, batch: ReviewBatch) -> ReviewSummary:
        started = time.monotonic()
        if not batch.reviews:
            raise UserError(
                "There are no reviews to analyse: paste one review per line after /reviews, or attach a CSV or text file."
            )
        labelled: list[LabelledReview] = []
        analysed: list[int] = []
        skipped_language: Counter[str] = Counter()
        for review in batch.reviews:
            item = LabelledReview(line=review.line, text=review.text, label=None, confidence=None,
                                  rating=review.rating, date=review.date)
            if self.languages is not None:
                lang = detect_language(review.text)
                if lang is not None and lang not in self.languages:
                    item.language = lang
                    item.skipped = f"language not supported ({language_name(lang)})"
                    skipped_language[language_name(lang)] += 1
            if item.skipped is None:
                analysed.append(len(labelled))
            labelled.append(item)

        supported = ", ".join(sorted(language_name(c) for c in self.languages or ()))
        if not analysed:
            names = ", ".join(name for name, _ in skipped_language.most_common(3))
            raise UserError(
                f"None of these reviews is in a language the sentiment model reads (they look like {names}); "
                f"it reads {supported} only."
            )

        with self._lock:
            predictions = self._model.predict([labelled[i].text for i in analysed])
            for i, p in zip(analysed, predictions):
                labelled[i].label = p.label
                labelled[i].confidence = round(p.confidence, 4)
            praise, complaints = self._themes(labelled, analysed, predictions)

        counts = Counter(labelled[i].label for i in analysed)
        trend, unit, direction = build_trend(labelled)
        ratings = [labelled[i].rating for i in analysed if labelled[i].rating is not None]
        notes = list(batch.notes)
        if skipped_language:
            total = sum(skipped_language.values())
            detail = ", ".join(f"{name} {n:,}" for name, n in skipped_language.most_common())
            notes.append(
                f"Skipped {total:,} review{'s' if total != 1 else ''} not in {supported} ({detail}): "
                "the sentiment model cannot read them."
            )
        if len(analysed) == 1:
            notes.append("Only one review: themes and trends need more reviews.")
        elif len(analysed) < 5 and not (praise or complaints):
            notes.append("Too few reviews to find recurring themes.")
        if batch.date_column and not trend:
            notes.append("Too few dated reviews for a trend.")

        summary = ReviewSummary(
            source=batch.source,
            model=self.model_name,
            created_at=dt.datetime.now(dt.timezone.utc),
            analysed=len(analysed),
            positive=counts["positive"],
            negative=counts["negative"],
            neutral=counts["neutral"],
            praise=praise,
            complaints=complaints,
            reviews=labelled,
            trend=trend,
            trend_unit=unit,
            trend_direction=direction,
            average_rating=round(sum(ratings) / len(ratings), 2) if ratings else None,
            rating_scale=batch.rating_scale if ratings else None,
            found=batch.found or len(batch.reviews),
            skipped_over_cap=batch.skipped_over_cap,
            skipped_language=dict(skipped_language),
            notes=notes,
        )
        summary.seconds = round(time.monotonic() - started, 2)
        logger.info(
            "summarised %d reviews (%d skipped) in %.1f s", summary.analysed, summary.skipped, summary.seconds
        )
        return summary

    def _themes(self, labelled: list[LabelledReview], analysed: list[int], predictions: list[Prediction]):
        result = []
        for label, other, weight in (
            ("positive", "negative", lambda p: p.positive),
            ("negative", "positive", lambda p: p.negative),
        ):
            picked = [(labelled[i], p) for i, p in zip(analysed, predictions) if p.label == label]
            result.append(
                find_themes(
                    [r.text for r, _ in picked],
                    [r.line for r, _ in picked],
                    [weight(p) for _, p in picked],
                    self._embedder.embed,
                    others=[labelled[i].text for i, p in zip(analysed, predictions) if p.label == other],
                )
            )
        return result[0], result[1]
