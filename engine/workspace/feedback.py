"""Approvals and rejections: stored once per person and variant, idempotently, whether they come as a
reaction on a posted variant or by number (``/approve 12``)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from engine.errors import UserError
from engine.runtime.journal import InboundEvent
from engine.store import Store
from engine.types import Feedback, FeedbackOutcome, Origin

logger = logging.getLogger(__name__)


class Verdicts:
    def __init__(self, store: Store, finish_event: Callable[[InboundEvent, str], Awaitable[None]],
                 changed: Callable[[str, Feedback], None]) -> None:
        self.store = store
        self.finish_event = finish_event
        self.changed = changed  # (workspace, feedback) that changed what was recorded: metrics, A/B tests

    async def record(self, feedback: Feedback, event: InboundEvent | None = None) -> FeedbackOutcome | None:
        """Store ``feedback``; ``None`` for a message that is not one of our variants. ``event``:
        the journaled reaction it carries out, finished in the same transaction."""
        workspace = feedback.origin.workspace_key
        variant_id = feedback.variant_id
        if variant_id is None:
            if feedback.message is None:
                raise ValueError("feedback names neither a variant nor a message")
            variant_id = await self.store.variant_for_message(
                workspace, feedback.origin.channel, feedback.message
            )
            if variant_id is None:
                if event is not None:
                    await self.finish_event(event, "ignored")
                return None
        elif not await self.store.variant_visible(workspace, variant_id, feedback.origin.channel,
                                                  feedback.origin.user):
            # The same answer whether it does not exist or was posted where this person may not
            # look: a number must not reveal another channel's copy.
            raise UserError(f"There is no variant #{variant_id} in this channel; check the number, "
                            "or react to the variant where it was posted.")
        outcome = await self.store.set_feedback(
            variant_id, feedback.origin.user, feedback.verdict, feedback.added,
            finishing_event=None if event is None else event.id,
        )
        if outcome.changed:
            self.changed(workspace, feedback)
        logger.info("feedback on variant %d: %s %s (changed=%s)", variant_id, feedback.verdict.value,
                    "added" if feedback.added else "withdrawn", outcome.changed)
        return outcome

    async def on_message(self, origin: Origin, message: str,
                         reactions: list[tuple[InboundEvent, Feedback | None]]
                         ) -> list[tuple[InboundEvent, Feedback]]:
        """Of journaled reactions on one message, those that are verdicts on a variant of ours;
        every other one is finished as ignored here."""
        verdicts = [(event, feedback) for event, feedback in reactions if feedback is not None]
        if verdicts and await self.store.variant_for_message(origin.workspace_key, origin.channel,
                                                             message) is None:
            logger.debug("reactions on message %s: not a variant; ignored", message)
            verdicts = []
        kept = {id(event) for event, _ in verdicts}
        for event, _ in reactions:
            if id(event) not in kept:
                await self.finish_event(event, "ignored")
        return verdicts
