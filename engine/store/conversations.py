"""Conversations: which thread is which request, and what each turn showed.

Every query is scoped to one workspace: a thread id, a message id or a variant number from one
workspace never finds another's conversation.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from engine.store.database import Database, inserted_id
from engine.types import Variant

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ShownVariant:
    """A variant delivered in a conversation, with what the team said about it."""

    id: int
    text: str
    generation_id: int
    request: dict  # the CopyRequest (as JSON) its generation carried out
    status: str  # approved | rejected | pending
    source_variant_id: int | None
    turn: int


@dataclass(frozen=True)
class ConversationState:
    id: int
    channel: str
    thread: str
    variants: list[ShownVariant]  # oldest first
    latest_turn: int  # the last turn's number (0: the opening request)

    def latest(self) -> list[ShownVariant]:
        return [v for v in self.variants if v.turn == self.latest_turn]

    def variant(self, variant_id: int) -> ShownVariant | None:
        return next((v for v in self.variants if v.id == variant_id), None)

    def with_status(self, status: str) -> list[ShownVariant]:
        return [v for v in self.variants if v.status == status]


# One turn's part: (request, prompt, variant texts, the variant it rewrites or None).
TurnPart = tuple[dict, list[dict[str, str]], list[str], int | None]


class ConversationRecords(Database):
    async def open_thread(self, workspace: str, channel: str, thread: str, user: str,
                          generation_id: int) -> int:
        """Tie a delivered request to its thread (the thread's conversation if it has one)."""
        async with self.transaction() as db:
            await db.execute(
                """INSERT INTO conversations(workspace_id, channel, thread, user_id) VALUES (?, ?, ?, ?)
                   ON CONFLICT(workspace_id, channel, thread) DO NOTHING""",
                (workspace, channel, thread, user))
            async with db.execute(
                "SELECT id FROM conversations WHERE workspace_id = ? AND channel = ? AND thread = ?",
                (workspace, channel, thread)) as cursor:
                row = await cursor.fetchone()
            assert row is not None  # inserted above unless it was already there
            conversation_id = row["id"]
            # A request opened in a thread that already has turns becomes its newest turn.
            cursor = await db.execute(
                """UPDATE generations SET conversation_id = ?, turn = (
                       SELECT COALESCE(MAX(turn) + 1, 0) FROM generations WHERE conversation_id = ?)
                   WHERE id = ? AND workspace_id = ?""",
                (conversation_id, conversation_id, generation_id, workspace))
            if cursor.rowcount != 1:
                raise LookupError(f"generation {generation_id} is not in workspace {workspace}")
        return conversation_id

    async def conversation_at_thread(self, workspace: str, channel: str, thread: str) -> int | None:
        return await self.fetch_value(
            "SELECT id FROM conversations WHERE workspace_id = ? AND channel = ? AND thread = ?",
            (workspace, channel, thread))

    async def conversation_of_variant(self, workspace: str, variant_id: int) -> int | None:
        return await self.fetch_value(
            """SELECT g.conversation_id FROM variants v JOIN generations g ON g.id = v.generation_id
               WHERE v.id = ? AND v.workspace_id = ?""", (variant_id, workspace))

    async def conversation_of_message(self, workspace: str, channel: str, message: str) -> int | None:
        """The conversation a posted variant message belongs to (a Discord reply names one)."""
        return await self.fetch_value(
            """SELECT g.conversation_id FROM variants v JOIN generations g ON g.id = v.generation_id
               WHERE v.workspace_id = ? AND v.posted_channel = ? AND v.posted_message = ?""",
            (workspace, channel, message))

    async def conversation_state(self, workspace: str, conversation_id: int) -> ConversationState | None:
        conversation = await self.fetch_one(
            "SELECT id, channel, thread FROM conversations WHERE id = ? AND workspace_id = ?",
            (conversation_id, workspace))
        if conversation is None:
            return None
        # Only delivered variants: what was never posted was never shown to anyone.
        rows = await self.fetch_all(
            """SELECT v.id, v.text, v.generation_id, g.request, s.status, v.source_variant_id,
                      COALESCE(g.turn, 0) AS turn
               FROM variants v JOIN generations g ON g.id = v.generation_id
               JOIN variant_status s ON s.variant_id = v.id
               WHERE g.conversation_id = ? AND v.workspace_id = ? AND v.posted_message IS NOT NULL
               ORDER BY v.id""", (conversation_id, workspace))
        variants = [ShownVariant(row["id"], row["text"], row["generation_id"], json.loads(row["request"]),
                                 row["status"], row["source_variant_id"], row["turn"]) for row in rows]
        latest = max((v.turn for v in variants), default=0)
        return ConversationState(conversation["id"], conversation["channel"], conversation["thread"],
                                 variants, latest)

    async def save_turn(self, workspace: str, channel: str, user: str, conversation_id: int,
                        kind: str, instruction: str, model_version: str,
                        parts: list[TurnPart]) -> list[tuple[int, list[Variant]]]:
        """Store one turn in one transaction: per part a generation and its variants. Returns each
        generation's id and variants."""
        saved = []
        async with self.transaction() as db:
            async with db.execute(
                "SELECT COALESCE(MAX(turn), 0) + 1 FROM generations WHERE conversation_id = ?",
                (conversation_id,)) as cursor:
                row = await cursor.fetchone()
            assert row is not None  # an aggregate without GROUP BY has one row
            turn = row[0]
            for request, prompt, texts, source in parts:
                cursor = await db.execute(
                    """INSERT INTO generations(workspace_id, channel, user_id, request, prompt,
                           model_version, conversation_id, turn_kind, instruction, turn)
                       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                    (workspace, channel, user, json.dumps(request), json.dumps(prompt), model_version,
                     conversation_id, kind, instruction, turn))
                generation_id = inserted_id(cursor)
                variants = []
                for position, text in enumerate(texts, start=1):
                    cursor = await db.execute(
                        """INSERT INTO variants(generation_id, workspace_id, position, text,
                               source_variant_id, model_version) VALUES (?, ?, ?, ?, ?, ?)""",
                        (generation_id, workspace, position, text, source, model_version))
                    variants.append(Variant(id=inserted_id(cursor), text=text, position=position))
                saved.append((generation_id, variants))
        return saved
