"""Conversations as the turn service sees them: which thread is which request, and what each turn
showed (the rows and their SQL: ``engine.store.conversations``)."""

from __future__ import annotations

import logging

from engine.store import Store
from engine.store.conversations import ConversationState, ShownVariant, TurnPart
from engine.types import Variant

logger = logging.getLogger(__name__)

__all__ = ["ConversationState", "ConversationStore", "ShownVariant"]


class ConversationStore:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def open_thread(self, workspace: str, channel: str, thread: str, user: str,
                          generation_id: int) -> int:
        """Tie a delivered request to its thread (the thread's conversation if it has one)."""
        return await self.store.open_thread(workspace, channel, thread, user, generation_id)

    async def at_thread(self, workspace: str, channel: str, thread: str) -> int | None:
        return await self.store.conversation_at_thread(workspace, channel, thread)

    async def of_variant(self, workspace: str, variant_id: int) -> int | None:
        return await self.store.conversation_of_variant(workspace, variant_id)

    async def of_message(self, workspace: str, channel: str, message: str) -> int | None:
        """The conversation a posted variant message belongs to (a Discord reply names one)."""
        return await self.store.conversation_of_message(workspace, channel, message)

    async def state(self, workspace: str, conversation_id: int) -> ConversationState | None:
        return await self.store.conversation_state(workspace, conversation_id)

    async def save_turn(self, workspace: str, channel: str, user: str, conversation_id: int,
                        kind: str, instruction: str, model_version: str,
                        parts: list[TurnPart]) -> list[tuple[int, list[Variant]]]:
        """Store one turn in one transaction: per part (request, prompt, texts, source variant) a
        generation and its variants. Returns each generation's id and variants."""
        return await self.store.save_turn(workspace, channel, user, conversation_id, kind,
                                          instruction, model_version, parts)
