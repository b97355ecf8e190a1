"""``SentimentAnalyzer``: one object the engine owns, holding the loaded models, turning a
``ReviewBatch`` into a ``ReviewSummary``.

The default model is multilingual-e5-small with the project's head (English and Chinese,
``multilingual.py``); ``minilm`` is the earlier English-only MiniLM adapter, kept for comparison;
anything else is a Hugging Face text-classification model. ``summarize`` is synchronous and
CPU-bound: run it in a worker thread. Calls are serialised by a lock (the MiniLM model switches its
adapter off while it embeds theme phrases).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import threading
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from engine.errors import UserError
from engine.reviews.alerts import alerts_in_dated_reviews
from engine.reviews.aspects import Clause, clause_phrases, find_aspects, has_contrast, split_clauses
from engine.reviews.classifier import BUNDLED, BundledSentimentModel, HFSentimentModel, Prediction, SentenceEmbedder
from engine.reviews.language import detect_language, language_name
from engine.reviews.multilingual import E5SentimentModel
from engine.reviews.second_opinion import revised
from engine.reviews.summary import LabelledReview, ReviewBatch, ReviewSummary
from engine.reviews.trend import build_trend

#: the earlier English-only model (all-MiniLM-L6-v2 + LoRA adapter), by name
MINILM = "minilm"
#: cosine similarity at which two theme phrases may share a theme, per embedder: e5's vectors sit
#: much closer together than MiniLM's (unrelated words ~0.86, synonyms ~0.92)
SIMILARITY = {"e5": 0.91, "minilm": 0.62}

logger = logging.getLogger(__name__)


@dataclass
class Labelling:
    """What ``label`` found, for ``finish``: the reviews, which of them were analysed (indices into
    ``labelled``) and the classifier's prediction for each of those, in the same order."""

    labelled: list[LabelledReview]
    analysed: list[int]
    predictions: list[Prediction]
    skipped_language: Counter[str]
    started: float  # monotonic, for the summary's time
    second_opinions: tuple[int, int] | None = None  # (answered, labels changed) by the language model

    def revise(self, verdicts: dict[int, str]) -> None:
        """Take the language model's label for the predictions ``verdicts`` names (by position)."""
        if not verdicts:
            return
        changed = 0
        for k, verdict in verdicts.items():
            changed += verdict != self.predictions[k].label
            self.predictions[k] = revised(self.predictions[k], verdict)
        self.second_opinions = (len(verdicts), changed)


class SentimentAnalyzer:
    """Loads a sentiment model once and summarises batches of reviews.

    ``model``: ``None``/``"bundled"`` for multilingual-e5-small + the project's head (offline,
    English and Chinese), ``"minilm"`` for the earlier English MiniLM adapter, or a Hugging Face
    text-classification model id or local folder (e.g. a DistilBERT SST-2 model).
    ``languages``: language codes the model reads (reviews in others are skipped and reported);
    by default the model's own (English and Chinese for the bundled one, English otherwise);
    ``None`` turns the check off, for multilingual models.
    """

    def __init__(
        self,
        model: str | None = None,
        *,
        languages: Iterable[str] | None | str = "model",
        head_path: Path | None = None,
    ) -> None:
        spec = model or BUNDLED
        started = time.monotonic()
        self.model: E5SentimentModel | BundledSentimentModel | HFSentimentModel
        self._embedder: E5SentimentModel | BundledSentimentModel | SentenceEmbedder
        if spec == BUNDLED:
            # The sentiment model itself: ``model.predict(texts)`` labels texts one by one (benchmarks).
            self.model = E5SentimentModel(head_path)
            self._embedder = self.model
            self.similarity = SIMILARITY["e5"]
        elif spec == MINILM:
            self.model = BundledSentimentModel(head_path)
            self._embedder = self.model
            self.similarity = SIMILARITY["minilm"]
        else:
            self.model = HFSentimentModel(spec)
            self._embedder = SentenceEmbedder()
            self.similarity = SIMILARITY["minilm"]
        self.model_name: str = self.model.name
        if languages == "model":
            languages = getattr(self.model, "languages", ("en",))
        self.languages = frozenset(languages) if languages is not None else None
        self._lock = threading.Lock()
        logger.info("sentiment analyser ready (%s) in %.1f s", self.model_name, time.monotonic() - started)

    def summarize(self, batch: ReviewBatch) -> ReviewSummary:
        """The whole summary in one call (benchmarks, tests); the engine runs ``label`` and
        ``finish`` itself, with the language model's second opinion between them."""
        return self.finish(batch, self.label(batch))

    def label(self, batch: ReviewBatch) -> Labelling:
        """Each review's language and the classifier's label; raises UserError when none can be read."""
        started = time.monotonic()
        if not batch.reviews:
            raise UserError(
                "There are no reviews to analyse: paste one review per line after /reviews, or attach a CSV "
                "or text file."
            )
        labelled: list[LabelledReview] = []
        analysed: list[int] = []
        skipped_language: Counter[str] = Counter()
        for review in batch.reviews:
            item = LabelledReview(line=review.line, text=review.text, label=None, confidence=None,
                                  rating=review.rating, date=review.date, language=detect_language(review.text))
            if self.languages is not None and item.language is not None and item.language not in self.languages:
                item.skipped = f"language not supported ({language_name(item.language)})"
                skipped_language[language_name(item.language)] += 1
            if item.skipped is None:
                analysed.append(len(labelled))
            labelled.append(item)

        if not analysed:
            names = ", ".join(name for name, _ in skipped_language.most_common(3))
            raise UserError(
                f"None of these reviews is in a language the sentiment model reads (they look like {names}); "
                f"it reads {self._supported()} only."
            )
        with self._lock:
            predictions = self.model.predict([labelled[i].text for i in analysed])
        return Labelling(labelled, analysed, predictions, skipped_language, started)

    def finish(self, batch: ReviewBatch, labelling: Labelling) -> ReviewSummary:
        """Aspects, themes, trend and alerts from ``labelling`` (its predictions as revised)."""
        labelled, analysed, predictions = labelling.labelled, labelling.analysed, labelling.predictions
        skipped_language = labelling.skipped_language
        for i, p in zip(analysed, predictions):
            labelled[i].label = p.label
            labelled[i].confidence = round(p.confidence, 4)
        memo = getattr(self.model, "memo", None)
        with self._lock, (memo() if memo else contextlib.nullcontext()):
            praise, complaints = self._aspects(labelled, analysed, predictions)
        alerts = alerts_in_dated_reviews(labelled)

        counts = Counter(labelled[i].label for i in analysed)
        trend, unit, direction = build_trend(labelled)
        ratings = [rating for i in analysed if (rating := labelled[i].rating) is not None]
        notes = list(batch.notes)
        if skipped_language:
            total = sum(skipped_language.values())
            detail = ", ".join(f"{name} {n:,}" for name, n in skipped_language.most_common())
            notes.append(
                f"Skipped {total:,} review{'s' if total != 1 else ''} not in {self._supported()} ({detail}): "
                "the sentiment model cannot read them."
            )
        if labelling.second_opinions:
            asked, changed = labelling.second_opinions
            notes.append(
                f"The language model gave a second opinion on the {asked:,} review{'s' if asked != 1 else ''} "
                f"the classifier was least sure of and changed {changed:,} label{'s' if changed != 1 else ''}."
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
            created_at=dt.datetime.now(dt.UTC),
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
            alerts=alerts,
            languages=dict(Counter(language_name(labelled[i].language or "en") for i in analysed)),
        )
        summary.seconds = round(time.monotonic() - labelling.started, 2)
        logger.info(
            "summarised %d reviews (%d skipped) in %.1f s", summary.analysed, summary.skipped, summary.seconds
        )
        return summary

    def _supported(self) -> str:
        return ", ".join(sorted(language_name(c) for c in self.languages or ()))

    def _aspects(self, labelled: list[LabelledReview], analysed: list[int], predictions: list[Prediction]):
        """Praise and complaint themes from clause-level sentiment; sets each review's ``aspects``.

        Every clause starts with its review's label. A review with a contrast word ("but", 但是, …)
        has its clauses read by the model again, one by one, but only those that name a candidate
        phrase found in at least two reviews: a theme needs two reviews, so the other clauses
        cannot change one, and reading them was a third of a Chinese summary's time."""
        clauses: list[Clause] = []
        contrast: list[int] = []
        for i, p in zip(analysed, predictions):
            parts = split_clauses(i, labelled[i].text)
            for part in parts:
                part.label, part.weight = p.label, p.confidence
            if len(parts) > 1 and has_contrast(labelled[i].text):
                contrast += range(len(clauses), len(clauses) + len(parts))
            clauses += parts
        phrases_of = [clause_phrases(c) for c in clauses]
        reviews_of: dict[str, set[int]] = {}
        for clause, phrases in zip(clauses, phrases_of):
            for phrase in phrases:
                reviews_of.setdefault(phrase, set()).add(clause.review)
        to_label = [k for k in contrast if any(len(reviews_of[p]) >= 2 for p in phrases_of[k])]
        for k, p in zip(to_label, self.model.predict([clauses[k].text for k in to_label])):
            clauses[k].label, clauses[k].weight = p.label, p.confidence
        texts = [r.text for r in labelled]
        lines = [r.line for r in labelled]
        praise, complaints, verdicts = find_aspects(clauses, texts, lines, self._embedder.embed, self.similarity,
                                                    phrases_of=phrases_of)
        for i, aspects in verdicts.items():
            labelled[i].aspects = aspects
        return praise, complaints
