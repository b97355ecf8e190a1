"""copybot's replies as Discord messages: 2,000 characters of content each, embeds up to 4,096.

Review summaries and weekly reports arrive from the engine as data and are laid out by
``bot/rendering`` with Discord's markdown (text from users or the model escaped once).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from discord.utils import escape_markdown

from bot.dispatch import Reply
from bot.rendering import emoji_names
from bot.rendering.from_reviews import from_reviews_line
from bot.rendering.markup import Markup, defuse_broadcasts
from bot.rendering.report import report_text
from bot.rendering.reviews import summary_text
from bot.rendering.splitting import split_text as split_message_text
from bot.rendering.understood import shortfall_line, understood_line
from engine import Announcement, CopyResult, Variant

MESSAGE_LIMIT = 2000
EMBED_LIMIT = 4096
PRODUCT_SHOWN = 80  # characters of the description repeated in the header
# The buttons under a variant: (action, label, style name of discord.ButtonStyle). The action is
# what the button's custom_id carries ("copybot:<action>:<variant id>"), as on Slack.
BUTTONS = (("approve", "Approve", "success"), ("reject", "Reject", "danger"),
           ("shorter", "Shorter", "secondary"), ("like", "More like this", "secondary"))
TALLY_ROOM = 40  # characters kept free in a variant's content for the tally line
_TALLY_LINE = re.compile(r"\n-# ✅ \d+ · ❌ \d+\Z")


@dataclass(frozen=True)
class Outgoing:
    """One Discord message: ``content``, an embed description when the text needs more room, an
    image to attach (a report's chart), and the variant whose buttons go under it."""

    content: str
    embed: str | None = None
    image: Path | None = None
    buttons_for: int | None = None  # a variant's id: Approve, Reject, Shorter, More like this


def split_text(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """``text`` as Discord messages (bot/rendering/splitting.py, at Discord's limit)."""
    return split_message_text(text, limit)


def text_messages(text: str, image: Path | None = None) -> list[Outgoing]:
    """A reply as messages; an image goes with the last one."""
    # A deferred reply must be answered with something, even when there is nothing to say.
    pieces = split_text(text) or ["Done."]
    return [Outgoing(piece) for piece in pieces[:-1]] + [Outgoing(pieces[-1], image=image)]


_MARKDOWN_SPECIAL = re.compile(r"([\\*_~`|>#\[\]])")


def _user_text(text: str) -> str:
    return _MARKDOWN_SPECIAL.sub(r"\\\1", defuse_broadcasts(text))


MARKUP = Markup(bold=lambda text: f"**{text}**", user_text=_user_text, own_text=defuse_broadcasts,
                mention=lambda user: f"<@{user}>", code_blocks=True)


def reply_messages(reply: Reply) -> list[Outgoing]:
    """A reply as messages: text, a review summary (one message), or a report with its chart."""
    if reply.reviews is not None:
        return text_messages(summary_text(reply.reviews, MESSAGE_LIMIT, MARKUP))
    if reply.report is not None:
        return text_messages(report_text(reply.report, MARKUP), reply.report.chart)
    return text_messages(reply.text)


def announcement_messages(announcement: Announcement) -> list[Outgoing]:
    if announcement.report is not None:
        return text_messages(report_text(announcement.report, MARKUP), announcement.image)
    return text_messages(announcement.text, announcement.image)


def _faces(setting: str) -> str:
    return " or ".join(emoji_names.faces(setting))


def copy_header(result: CopyResult, product: str, settings: Mapping[str, str]) -> Outgoing:
    """The line above the variants: what they are for and how to approve or reject one."""
    shown = product if len(product) <= PRODUCT_SHOWN else product[: PRODUCT_SHOWN - 1] + "…"
    count = len(result.variants)
    lines = [f"**{count} variant{'s' if count != 1 else ''}** for *{escape_markdown(shown)}*"]
    lines += [line for line in (understood_line(result, MARKUP), shortfall_line(result)) if line]
    if result.from_reviews is not None:
        lines.append(from_reviews_line(result.from_reviews, MARKUP))
    lines.append(f"React {_faces(settings['approve_emoji'])} to approve a variant, "
                 f"{_faces(settings['reject_emoji'])} to reject it; remove your reaction to take it back. "
                 "Or use its buttons: Shorter and More like this write new takes.")
    return Outgoing("\n".join(lines))


def writing_header(product: str, n: int) -> Outgoing:
    """The header while the variants are being written."""
    shown = product if len(product) <= PRODUCT_SHOWN else product[: PRODUCT_SHOWN - 1] + "…"
    return Outgoing(f"Writing **{n} variant{'s' if n != 1 else ''}** for *{escape_markdown(shown)}*…")


def preview_message(slot: int, text: str) -> Outgoing:
    """A variant still being written, numbered by its place (its id comes with the final text)."""
    content = f"*{slot + 1}.* {escape_markdown(text)} ✍️"
    return Outgoing(content if len(content) <= MESSAGE_LIMIT else content[: MESSAGE_LIMIT - 3] + "… ✍️")


def variant_message(variant: Variant, source: int | None = None) -> Outgoing:
    """One variant, one message, so a reaction or a button names exactly one variant: its number,
    its text, the variant it rewrote (a turn's), and its buttons. Room is left for the tally."""
    label = f"**#{variant.id}**" + (f" *(from #{source})*" if source is not None else "")
    content = f"{label} {variant.text}"
    if len(content) <= MESSAGE_LIMIT - TALLY_ROOM:
        return Outgoing(content, buttons_for=variant.id)
    text = variant.text if len(variant.text) <= EMBED_LIMIT else variant.text[: EMBED_LIMIT - 1] + "…"
    return Outgoing(label, embed=text, buttons_for=variant.id)


def tally_text(approvals: int, rejections: int) -> str:
    return f"✅ {approvals} · ❌ {rejections}"


def with_tally(content: str, approvals: int, rejections: int) -> str:
    """A variant message's content with the tally as its last line (small text), redrawn in
    place: never added twice."""
    return f"{_TALLY_LINE.sub('', content)}\n-# {tally_text(approvals, rejections)}"


def seed_reactions(settings: Mapping[str, str]) -> list[str]:
    """The first standard approve and reject emoji, added under each variant so people can click."""
    seeds = []
    for setting in (settings["approve_emoji"], settings["reject_emoji"]):
        for name in emoji_names.setting_names(setting):
            unicode = emoji_names.unicode_for(name)
            if unicode is not None:
                seeds.append(unicode)
                break
    return seeds
