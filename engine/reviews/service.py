"""The engine's `/reviews`: read, analyse (in the model thread, with the language model's second
opinion on the least-sure reviews), store, all or nothing.

The sentiment model loads on first use (a few seconds), so a bot that never sees `/reviews` never
pays for it. Analysis runs in the same worker thread as generation: on a small CPU machine two torch
jobs at once slow each other down many times over, one after the other they do not.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from engine.reviews.analyzer import SentimentAnalyzer
from engine.reviews.reading import read_reviews
from engine.reviews.second_opinion import SecondOpinion
from engine.reviews.storage import save_review_summary
from engine.reviews.summary import ReviewSummary
from engine.store import Store
from engine.types import Origin

logger = logging.getLogger(__name__)

RunInModelThread = Callable[..., Awaitable[Any]]


class ReviewService:
    def __init__(self, store: Store, model: str | None, run_in_model_thread: RunInModelThread,
                 second_opinion: SecondOpinion | None = None) -> None:
        self.store = store
        self.model = model
        self.run_in_model_thread = run_in_model_thread
        self.second_opinion = second_opinion
        self._analyzer: SentimentAnalyzer | None = None
        self._loading = asyncio.Lock()

    async def analyzer(self) -> SentimentAnalyzer:
        async with self._loading:
            if self._analyzer is None:
                logger.info("loading the sentiment model %s", self.model or "bundled")
                self._analyzer = await asyncio.to_thread(SentimentAnalyzer, self.model)
        return self._analyzer

    async def summarize(self, origin: Origin, text: str | None, data: bytes | None,
                        filename: str | None, column: str | None) -> ReviewSummary:
        """Summarise pasted text or an uploaded file and store the result; raises UserError."""
        # Decoding and parsing a big upload is seconds of CPU: not on the loop every chat shares.
        batch = await asyncio.to_thread(read_reviews, text=text, data=data, filename=filename,
                                        column=column)
        analyzer = await self.analyzer()
        labelling = await self.run_in_model_thread(analyzer.label, batch)
        if self.second_opinion is not None:
            # Between the two model-thread steps, which hold the cores the language model needs.
            reviews = [labelling.labelled[i] for i in labelling.analysed]
            labelling.revise(await self.second_opinion.verdicts(
                [r.text for r in reviews], [r.language for r in reviews], labelling.predictions))
        summary = await self.run_in_model_thread(analyzer.finish, batch, labelling)
        await self.store.ensure_workspace(origin.workspace_key, origin.platform)
        async with self.store.transaction() as db:
            await save_review_summary(db, origin.workspace_key, summary, channel=origin.channel,
                                      user=origin.user)
        logger.info("reviews: %d analysed for %s in %.1f s", summary.analysed, origin.workspace_key,
                    summary.seconds)
        return summary
