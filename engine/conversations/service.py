"""Turns of a conversation: a reply in a copybot thread rewrites, imitates or adds variants.

The thread's request (its product brief and options) carries over to every turn; the turn changes
only what it says (shorter, another language or channel, a tone, free words). What the model
writes goes through the copywriter's cleaning and brief checks against the same description, and
is stored as a turn: which variant it rewrote, by what instruction.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import asdict, replace

from engine.conversations.prompts import TurnContext, TurnPrompts
from engine.conversations.store import ConversationState, ConversationStore, ShownVariant
from engine.copy.brief import read_brief
from engine.copy.brief_checks import language_of
from engine.copy.cleaning import word_count
from engine.copy.compliance import StyleGuide
from engine.copy.copywriter import Copywriter
from engine.copy.prompts import MAX_WORDS, PromptBook
from engine.copy.validation import validate_copy_request
from engine.errors import UserError
from engine.types import CopyPreview, CopyRequest, CopyResult, Origin, Refinement, Thread, TurnKind

logger = logging.getLogger(__name__)

MAX_TARGETS = 5  # variants one turn rewrites at most ("make them formal" after n: 10)
REWRITES_OF_ONE = 2  # "#2 shorter": two takes to choose from (and a pair to learn from)
SHORTER = 0.6  # "shorter": at most this share of the variant's words
LONGER = 1.5
MIN_WORDS = 4


def _request(stored: dict) -> CopyRequest:
    fields = {name: stored[name] for name in CopyRequest.__dataclass_fields__ if name in stored}
    return CopyRequest(**fields)


def _numbers(variants: list[ShownVariant]) -> str:
    return ", ".join(f"#{v.id}" for v in variants)


class Conversations:
    def __init__(self, store: ConversationStore, book: PromptBook, prompts: TurnPrompts,
                 copywriter: Copywriter, model_for: Callable[[str], str | None] = lambda workspace: None) -> None:
        self.store = store
        self.book = book
        self.prompts = prompts
        self.copywriter = copywriter
        self.model_for = model_for  # workspace -> the served version that writes its copy

    async def find(self, origin: Origin, thread: Thread | None, replied_to: str | None = None,
                   targets: tuple[int, ...] = ()) -> int | None:
        """The conversation a message belongs to: its thread's, the one of the message it replies
        to (a Discord reply to a variant), or (the console) the one of the variant it names."""
        workspace = origin.workspace_key
        if thread is not None:
            found = await self.store.at_thread(workspace, thread.channel, thread.thread)
            if found is not None:
                return found
        if replied_to is not None:
            found = await self.store.of_message(workspace, origin.channel, replied_to)
            if found is not None:
                return found
        if thread is None and targets:
            return await self.store.of_variant(workspace, targets[0])
        return None

    def _targets(self, state: ConversationState, turn: Refinement) -> list[ShownVariant]:
        if not state.variants:
            raise UserError("Nothing has been delivered in this thread yet; wait for the variants, "
                            "then reply with what to change.")
        if turn.targets:
            found = [state.variant(number) for number in turn.targets]
            missing = [number for number, v in zip(turn.targets, found) if v is None]
            if missing:
                raise UserError(f"There is no #{missing[0]} in this thread; the variants here are "
                                f"{_numbers(state.variants)}.")
            chosen = [v for v in found if v is not None]  # all of them, as none is missing
            return chosen[:MAX_TARGETS]
        if turn.kind is TurnKind.LIKE:
            liked = state.with_status("approved")
            if not liked:
                raise UserError("Say which variant to write more like, e.g. more like "
                                f"#{state.variants[0].id}.")
            return liked[-1:]
        if turn.kind is TurnKind.AGAIN:
            return state.latest()[:1]
        return state.latest()[:MAX_TARGETS]

    def _changed_request(self, source: ShownVariant, turn: Refinement) -> tuple[CopyRequest, int]:
        """The request the new copy answers, and its length in words."""
        request = _request(source.request)
        if turn.language is not None:
            request = replace(request, language=turn.language)
        if turn.ad_channel is not None:  # a new placement's own length, unless one was asked for
            request = replace(request, ad_channel=turn.ad_channel, length=None)
        if turn.tone is not None:
            request = replace(request, tone=turn.tone)
        if turn.name is not None:
            request = replace(request, name=turn.name)
        if turn.length_change:
            factor = SHORTER if turn.length_change < 0 else LONGER
            words = max(MIN_WORDS, min(MAX_WORDS, round(word_count(source.text) * factor)))
            request = replace(request, length=str(words))
        request = validate_copy_request(request)
        return request, self.book.limits(request).max_words

    async def refine(self, origin: Origin, conversation_id: int, turn: Refinement,
                     brand_voice: str | None,
                     on_accepted: Callable[[int], Awaitable[None]] | None = None,
                     on_preview: Callable[[CopyPreview], None] | None = None,
                     style: StyleGuide | None = None) -> CopyResult:
        workspace = origin.workspace_key
        state = await self.store.state(workspace, conversation_id)
        if state is None:
            raise UserError("That thread is not one of copybot's; start one with /copy.")
        targets = self._targets(state, turn)
        liked = tuple(v.text for v in state.with_status("approved"))
        rejected = tuple(v.text for v in state.with_status("rejected"))
        shown = tuple(v.text for v in state.variants)
        plans = []  # (request, prompt, language, limits, n, source id)
        for target in targets:
            request, max_words = self._changed_request(target, turn)
            language = request.language or language_of(request.product)
            opening = _request(target.request)
            context = TurnContext(
                opening=opening, target=request, language=language, max_words=max_words,
                source=None if turn.kind is TurnKind.AGAIN else target.text, shown=shown,
                liked=tuple(t for t in liked if t != target.text),
                rejected=tuple(t for t in rejected if t != target.text), brand_voice=brand_voice)
            if turn.kind is TurnKind.REWRITE:
                n = REWRITES_OF_ONE if len(targets) == 1 else 1
            elif turn.kind is TurnKind.LIKE:
                n = REWRITES_OF_ONE
            else:
                n = request.n
            plans.append((request, self.prompts.messages(turn, context), language,
                          self.book.limits(request), n,
                          None if turn.kind is TurnKind.AGAIN else target.id))
        self.copywriter.generator.check_capacity()
        total = sum(plan[4] for plan in plans)
        if on_accepted is not None:
            await on_accepted(total)

        offsets = [sum(plan[4] for plan in plans[:i]) for i in range(len(plans))]

        def preview_for(offset: int):
            if on_preview is None:
                return None
            return lambda slot, text: on_preview(CopyPreview(offset + slot, text))

        drafts = await asyncio.gather(*(
            self.copywriter.complete(prompt, request.product, language, limits, n,
                                     avoid=list(shown), on_preview=preview_for(offset),
                                     model=self.model_for(workspace), names=_names(request), style=style)
            for (request, prompt, language, limits, n, _), offset in zip(plans, offsets)))
        if not any(draft.texts for draft in drafts):
            raise UserError("The model could not write usable copy for that; say it another way, "
                            "or ask for something else.")
        parts = [(asdict(plan[0]), draft.messages, draft.texts, plan[5])
                 for plan, draft in zip(plans, drafts) if draft.texts]
        saved = await self.store.save_turn(workspace, origin.channel, origin.user, conversation_id,
                                           turn.kind.value, turn.instruction,
                                           drafts[0].model_version, parts)
        variants = [variant for _, generated in saved for variant in generated]
        sources = tuple(part[3] for part, (_, generated) in zip(parts, saved) for _ in generated)
        logger.info("conversation %d: turn %s wrote %d variants", conversation_id, turn.kind.value,
                    len(variants))
        return CopyResult(saved[0][0], variants, drafts[0].model_version, requested=total,
                          turn=turn, sources=sources,
                          generation_ids=tuple(generation_id for generation_id, _ in saved))


def _names(request: CopyRequest) -> tuple[str, ...]:
    """The forms of the product's name a turn's copy is held to, read as the request's were; none
    when the brief names nothing."""
    brief = read_brief(request.product)
    return (brief.named(request.name) if request.name else brief).required_names
