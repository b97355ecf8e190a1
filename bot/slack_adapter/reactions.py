"""Reactions on a variant message, reconciled: each event sets the reacting person's verdict to
what the message shows now (one ``reactions.get`` for every event queued on that message), so
repeats, an add delivered after its remove, and removing one of two approving emoji all end as the
channel shows them. Lookups are limited per workspace, never across workspaces: Slack rate-limits
each workspace on its own, and one waiting out 429s must not hold up another.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Mapping

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.flow.reactions import reconcile
from bot.slack_adapter import translate
from engine import Engine, Feedback, InboundEvent, Origin

logger = logging.getLogger(__name__)

LOOKUPS_PER_WORKSPACE = 4  # reactions.get calls in flight together for one workspace


class Reactions:
    def __init__(self, engine: Engine, web: AsyncWebClient) -> None:
        self.engine = engine
        self.web = web
        self._lookups: defaultdict[str, asyncio.Semaphore] = defaultdict(
            lambda: asyncio.Semaphore(LOOKUPS_PER_WORKSPACE))

    async def apply(self, events: list[InboundEvent]) -> None:
        """Reactions on one message, in the order accepted. Each sets the reacting person's
        verdict to what the message's reactions say now (one ``reactions.get`` for all of them),
        so repeats, an add delivered after its remove, and removing one of two approving emoji
        all end as the channel shows."""
        first = translate.reaction(events[0].payload)
        assert first is not None, "only message reactions are journaled"

        def feedback_of(event: InboundEvent, settings: Mapping[str, str]) -> Feedback | None:
            reaction = translate.reaction(event.payload)
            return None if reaction is None else translate.feedback(reaction, settings)

        async def holds(current: dict, feedback: Feedback, settings: Mapping[str, str]) -> bool:
            return translate.holds_verdict(current, feedback.origin.user, feedback.verdict, settings)

        await reconcile(self.engine, first.origin, first.message, events, feedback_of,
                        lambda: self._current(first.origin, first.message), holds)

    async def _current(self, origin: Origin, message: str) -> dict | None:
        """The message's reactions now, or ``None`` (and the events are taken as they came) when
        Slack will not say. Only this message's lane waits while a 429 is waited out."""
        async with self._lookups[origin.workspace_key]:
            try:
                answer = await self.web.reactions_get(channel=origin.channel, timestamp=message,
                                                      full=True)
            except SlackApiError as exc:
                logger.info("reactions.get failed (%s); taking the reactions as they came",
                            exc.response.get("error"))
                return None
            except (TimeoutError, aiohttp.ClientError) as exc:
                logger.info("reactions.get failed (%s); taking the reactions as they came",
                            type(exc).__name__)
                return None
        return answer.data
