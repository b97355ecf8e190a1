"""The chat prompt for one turn of a conversation, from ``prompts/refine*.toml``.

A turn is shown to the model as a continued chat: the system prompt and the request that opened
the thread (the /copy prompt, so the brief and its options stay), the variant being worked on as
the model's own earlier answer, and then the instruction with what the team thought of the copy
so far. The whole prompt is in the language the new copy is to be written in: measured on the
1.5B model, an English prompt asking for Chinese rarely gets Chinese (see copy.zh.toml).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from string import Template

from engine.copy.brief import read_brief
from engine.copy.brief_checks import language_of
from engine.copy.prompts import PromptBook, load_templates
from engine.types import CopyRequest, Refinement, TurnKind

logger = logging.getLogger(__name__)

CONTEXT_TEXTS = 2  # approved (and rejected) variants of the thread quoted to the model, at most


@dataclass(frozen=True)
class TurnContext:
    """What the prompt of a turn is built from."""

    opening: CopyRequest  # the request as the thread had it where the turn starts
    target: CopyRequest  # the request with the turn's changes (language, channel, length, tone)
    language: str  # of the new copy
    max_words: int
    source: str | None = None  # the variant rewritten, or written like
    shown: tuple[str, ...] = ()  # copy already shown in the thread (AGAIN avoids it)
    liked: tuple[str, ...] = ()
    rejected: tuple[str, ...] = ()
    brand_voice: str | None = None


class TurnPrompts:
    def __init__(self, book: PromptBook, templates: dict[str, dict]) -> None:
        if "en" not in templates:
            raise ValueError("the English turn prompt (refine.toml) is required")
        self.book = book
        self.templates = templates

    @classmethod
    def load(cls, directory: Path, book: PromptBook) -> TurnPrompts:
        return cls(book, load_templates(directory, "refine"))

    def _template(self, language: str) -> dict:
        return self.templates.get(language, self.templates["en"])

    def changes(self, turn: Refinement, context: TurnContext) -> str:
        """The sentences that say what to change, in the new copy's language."""
        lines = self._template(context.language)["changes"]
        channel = self.book.channel(context.target.ad_channel)
        values = {
            "max_words": str(context.max_words), "max_chars": str(2 * context.max_words),
            "channel_label": channel.label_in(context.language),
            "channel_guidance": channel.guidance_in(context.language),
            "tone": turn.tone or "", "text": turn.change.rstrip(".。!！ "), "name": turn.name or "",
            "tone_guidance": self.book.tone_guidance(turn.tone, context.language) if turn.tone else "",
        }
        wanted = []
        if turn.length_change < 0:
            wanted.append("shorter")
        elif turn.length_change > 0:
            wanted.append("longer")
        opening_language = context.opening.language or language_of(context.opening.product)
        if turn.language is not None and context.language != opening_language:
            wanted.append("language")
        if turn.ad_channel is not None:
            wanted.append("channel")
        if turn.tone is not None:
            wanted.append("tone")
        if turn.name is not None and "name" in lines:
            wanted.append("name")
        if turn.change or not wanted:
            wanted.append("free")
            values["text"] = values["text"] or ("换一种说法" if context.language == "zh"
                                                else "say it another way")
        return " ".join(Template(lines[key]).safe_substitute(values) for key in wanted)

    def messages(self, turn: Refinement, context: TurnContext) -> list[dict[str, str]]:
        template = self._template(context.language)
        brief = read_brief(context.opening.product)
        if context.target.name:
            brief = brief.named(context.target.name)
        opening = self.book.messages(context.opening, brand_voice=context.brand_voice,
                                     language=context.language, product_name=brief.name)
        # What the turn calls the product: its name, else its kind, else plainly "the product".
        fallback = "这款产品" if context.language == "zh" else "the product"
        values = {
            "product_name": brief.name or brief.kind or fallback,
            "max_words": str(context.max_words), "max_chars": str(2 * context.max_words),
            "shown": "\n".join(f"- {text}" for text in context.shown),
        }
        if turn.kind is TurnKind.AGAIN:
            # No earlier answer to continue from: the request itself, and what not to repeat.
            lines = [Template(template["again"]).safe_substitute(values)]
            messages = [opening[0], {"role": "user", "content": opening[1]["content"]}]
        else:
            values["change"] = self.changes(turn, context) if turn.kind is TurnKind.REWRITE else ""
            key = "like" if turn.kind is TurnKind.LIKE else "rewrite"
            lines = [Template(template[key]).safe_substitute(values)]
            messages = [*opening, {"role": "assistant", "content": context.source or ""}]
        if context.liked:
            lines.append(Template(template["liked_line"]).safe_substitute(
                texts=" / ".join(context.liked[-CONTEXT_TEXTS:])))
        if context.rejected:
            lines.append(Template(template["rejected_line"]).safe_substitute(
                texts=" / ".join(context.rejected[-CONTEXT_TEXTS:])))
        if turn.kind is TurnKind.AGAIN:
            messages[-1]["content"] += "\n" + "\n".join(lines)
        else:
            messages.append({"role": "user", "content": "\n".join(lines)})
        return messages
