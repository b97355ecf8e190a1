"""Prompt templates and presets, read from the data files in ``prompts/``.

Marketers edit ``prompts/copy.toml`` (English), ``prompts/copy.zh.toml`` (Chinese) and
``prompts/presets.toml``; this module only fills them in.
"""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from string import Template

from engine.copy.brief_checks import product_names
from engine.copy.cleaning import CopyLimits
from engine.errors import UserError
from engine.types import CopyRequest, ReviewBrief, ReviewPoint

logger = logging.getLogger(__name__)

_OPTIONAL_LINES = ("name_line", "tone_line", "audience_line", "channel_line", "length_line", "brand_voice_line",
                   "review_praise_line", "review_complaints_line", "examples_line")
# How one review theme is written into $review_praise / $review_complaints when a template does
# not say (copy.toml's review_praise_item and review_complaint_item do).
_REVIEW_ITEMS = {"review_praise_item": Template('$label ("$quote")'),
                 "review_complaint_item": Template("$label ($share of $mentions reviews negative)"),
                 "review_item_separator": Template("; ")}
MAX_WORDS = 200
LANGUAGES = ("en", "zh")  # en: copy.toml; zh: copy.zh.toml


@dataclass(frozen=True)
class ChannelPreset:
    name: str
    label: str
    guidance: str
    words: int
    max_chars: int | None = None
    multiline: bool = False  # copy with paragraphs (an email); others keep their first line
    label_zh: str = ""
    guidance_zh: str = ""

    def label_in(self, language: str) -> str:
        return self.label_zh if language == "zh" and self.label_zh else self.label

    def guidance_in(self, language: str) -> str:
        return self.guidance_zh if language == "zh" and self.guidance_zh else self.guidance


def load_templates(directory: Path, name: str) -> dict[str, dict]:
    """``<name>.toml`` (English) and ``<name>.<language>.toml`` of each other language there is,
    by language."""
    templates = {}
    for language in LANGUAGES:
        path = directory / (f"{name}.toml" if language == "en" else f"{name}.{language}.toml")
        if path.is_file():
            with open(path, "rb") as f:
                templates[language] = tomllib.load(f)
    return templates


class PromptBook:
    def __init__(self, templates: dict[str, dict[str, str]], presets: dict) -> None:
        """``templates``: language -> the keys of its copy*.toml; English is required."""
        if "en" not in templates:
            raise ValueError("the English prompt (copy.toml) is required")
        self.templates = {language: {key: Template(value) for key, value in keys.items()}
                          for language, keys in templates.items()}
        self.tones: dict[str, str] = dict(presets.get("tones", {}))
        self.tones_zh: dict[str, str] = dict(presets.get("tones_zh", {}))
        # Other names people type for a tone or a channel ("活泼" -> "playful").
        self.aliases: dict[str, str] = {k.lower(): v for k, v in presets.get("aliases", {}).items()}
        self.channels: dict[str, ChannelPreset] = {
            name: ChannelPreset(name=name, **spec) for name, spec in presets.get("channels", {}).items()
        }
        self.lengths: dict[str, int] = dict(presets.get("lengths", {}))
        self.default_channel: str = presets.get("default_channel", next(iter(self.channels)))
        if self.default_channel not in self.channels:
            raise ValueError(f"default_channel {self.default_channel!r} is not a channel preset")

    @classmethod
    def load(cls, directory: Path) -> PromptBook:
        templates = load_templates(directory, "copy")
        with open(directory / "presets.toml", "rb") as f:
            presets = tomllib.load(f)
        return cls(templates, presets)

    def channel(self, name: str | None) -> ChannelPreset:
        key = (name or self.default_channel).strip().lower()
        key = self.aliases.get(key, key)
        if key not in self.channels:
            allowed = ", ".join(sorted(self.channels))
            raise UserError(f"Unknown channel {name!r}; use one of: {allowed}.")
        return self.channels[key]

    def limits(self, request: CopyRequest) -> CopyLimits:
        channel = self.channel(request.ad_channel)
        words = channel.words
        if request.length:
            words = self._length_words(request.length)
        return CopyLimits(max_words=words, max_chars=channel.max_chars, multiline=channel.multiline)

    def _length_words(self, length: str) -> int:
        value = length.strip().lower().removesuffix("words").strip()
        if value in self.lengths:
            return self.lengths[value]
        if value.isdigit() and 1 <= int(value) <= MAX_WORDS:
            return int(value)
        allowed = ", ".join(self.lengths)
        raise UserError(
            f"Length {length!r} is not understood; use {allowed}, or a number of words from 1 to {MAX_WORDS}."
        )

    def warm_up_messages(self) -> list[list[dict[str, str]]]:
        """One prompt per language, as a request with no options produces: the system prompt and
        the start of the user message are what every /copy shares."""
        return [self.messages(CopyRequest(product="…"), language=language) for language in self.templates]

    def tone_guidance(self, tone: str, language: str) -> str:
        key = self.aliases.get(tone.lower(), tone.lower())
        if language == "zh" and key in self.tones_zh:
            return self.tones_zh[key]
        return self.tones.get(key, tone)

    def messages(
        self, request: CopyRequest, brand_voice: str | None = None, examples: Sequence[str] = (),
        language: str = "en", reviews: ReviewBrief | None = None, product_name: str | None = None,
    ) -> list[dict[str, str]]:
        """The chat messages for one variant of ``request``, in ``language``'s template;
        ``reviews``: praise to use and complaints not to contradict (``from: reviews``);
        ``product_name``: what the copy must call the product ("" when the description names
        nothing; None: read from the description)."""
        if product_name is None:
            product_name = product_names(request.product)[0] if request.product.strip() else ""
        channel = self.channel(request.ad_channel)
        limits = self.limits(request)
        templates = self.templates.get(language, self.templates["en"])
        tone = request.tone.strip() if request.tone else None
        values = {
            "product": request.product,
            "product_name": product_name,
            "tone": tone or "",
            "tone_guidance": self.tone_guidance(tone, language) if tone else "",
            "audience": request.audience or "",
            "channel_label": channel.label_in(language),
            "channel_guidance": channel.guidance_in(language),
            "max_words": str(limits.max_words),
            "max_chars": str(2 * limits.max_words),
            "brand_voice": brand_voice or "",
            "examples": "\n".join(f"- {text}" for text in examples),
            "review_praise": self._review_items(templates, "review_praise_item",
                                                reviews.praise if reviews else ()),
            "review_complaints": self._review_items(templates, "review_complaint_item",
                                                    reviews.complaints if reviews else ()),
        }
        present = {
            "name_line": bool(product_name),
            "tone_line": bool(tone),
            "audience_line": bool(request.audience),
            "channel_line": True,
            "length_line": True,
            "brand_voice_line": bool(brand_voice),
            "examples_line": bool(examples),
            "review_praise_line": bool(reviews and reviews.praise),
            "review_complaints_line": bool(reviews and reviews.complaints),
        }
        lines = [templates["user"].safe_substitute(values)]
        lines += [
            templates[key].safe_substitute(values)
            for key in _OPTIONAL_LINES
            if present[key] and key in templates
        ]
        return [
            {"role": "system", "content": templates["system"].safe_substitute(values)},
            {"role": "user", "content": "\n".join(lines)},
        ]

    @staticmethod
    def _review_items(templates: dict[str, Template], key: str, points: tuple[ReviewPoint, ...]) -> str:
        item = templates.get(key, _REVIEW_ITEMS[key])
        separator = templates.get("review_item_separator", _REVIEW_ITEMS["review_item_separator"]).template
        return separator.join(
            # A theme without a quote is written as its label alone, not with empty quotes.
            p.label if not p.quote and "$quote" in item.template
            else item.safe_substitute(label=p.label, quote=p.quote, mentions=str(p.mentions), count=str(p.count),
                                      share=f"{round(100 * p.share)}%")
            for p in points)
