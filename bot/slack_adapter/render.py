"""Replies -> Slack messages: mrkdwn, escaped exactly once, split below Slack's size limit.

Plain texts are escaped here; review summaries and weekly reports arrive from the engine as data
and are laid out by ``bot/rendering`` with Slack's markup, which escapes the text in them once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from bot.commands import Command, ReviewsCommand
from bot.dispatch import Reply
from bot.rendering.emoji_names import canonical_set
from bot.rendering.from_reviews import from_reviews_line
from bot.rendering.markup import Markup, defuse_broadcasts
from bot.rendering.report import report_text
from bot.rendering.reviews import summary_text
from bot.rendering.splitting import split_text as split_message_text
from bot.rendering.understood import shortfall_line, understood_line
from bot.slack_adapter.emoji import shown
from engine import Announcement, CopyRequest, CopyResult, Variant

# chat.postMessage answers msg_too_long near 4,000 characters; stay clear of it.
MESSAGE_LIMIT = 3_900


def escape(text: str) -> str:
    """Slack's three control characters; without this model output such as "<!channel>" would
    notify the whole channel and "<http://x|y>" would render as a disguised link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_USER_MENTION = re.compile(r"<@[UW][A-Z0-9]+>")


def escape_keeping_mentions(text: str) -> str:
    """Like ``escape``, but ``<@U123>`` stays a mention: replies from the engine (reports) name
    people that way. Broadcasts (<!channel>) and disguised links are still neutralised."""
    kept = _USER_MENTION.findall(text)
    parts = _USER_MENTION.split(text)
    return "".join(escape(part) + (kept[i] if i < len(kept) else "") for i, part in enumerate(parts))


def split_text(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """``text`` as Slack messages (bot/rendering/splitting.py, at Slack's limit)."""
    return split_message_text(text, limit)


def ack_note(command: Command) -> str | None:
    """What the acknowledgement itself says (``None``: nothing). `/copy` says nothing here: its
    "Writing 3 variants…" follows once the engine has accepted the request (``execute``'s
    progress), so a request about to be refused never promises copy."""
    if isinstance(command, ReviewsCommand):
        return "Reading the reviews…"
    return None


def how_to_react(settings: dict[str, str]) -> str:
    approve = " or ".join(shown(name) for name in canonical_set(settings.get("approve_emoji", "")))
    reject = " or ".join(shown(name) for name in canonical_set(settings.get("reject_emoji", "")))
    return f"React {approve} to approve a variant, {reject} to reject it."


def _request_summary(request: CopyRequest) -> str:
    options = [f"{label}: {value}" for label, value in (
        ("tone", request.tone), ("audience", request.audience), ("channel", request.ad_channel),
        ("length", request.length)) if value]
    summary = f"*{escape(' '.join(request.product.split()))}*"
    return summary + (f" ({escape(' · '.join(options))})" if options else "")


def copy_header(result: CopyResult, request: CopyRequest, user: str, settings: dict[str, str]) -> str:
    lines = [f"<@{user}> asked for copy: {_request_summary(request)}"]
    lines += [line for line in (understood_line(result, MARKUP), shortfall_line(result)) if line]
    if result.from_reviews is not None:
        lines.append(from_reviews_line(result.from_reviews, MARKUP))
    lines.append(how_to_react(settings) + " Or use the buttons.")
    lines.append(thread_hint())
    return split_text("\n".join(lines))[0]


def writing_header(request: CopyRequest, user: str) -> str:
    """The header while the variants are being written."""
    return split_text(f"<@{user}> asked for copy: {_request_summary(request)}\nWriting "
                      f"{request.n} variant{'s' if request.n != 1 else ''}…")[0]


def preview_text(slot: int, text: str) -> str:
    """A variant still being written: numbered by its place, not yet by its id."""
    return split_text(f"_{slot + 1}._  {escape(text)} ✍️")[0]


def variant_text(variant: Variant) -> str:
    # One message per variant, so a reaction names exactly one; variants are a few hundred
    # characters at most (max_new_tokens), so the first piece is the whole text.
    return split_text(f"*#{variant.id}*  {escape(variant.text)}")[0]


def reply_texts(text: str) -> list[str]:
    """A plain reply as the messages to post."""
    return split_text(escape_keeping_mentions(text))


MARKUP = Markup(bold=lambda text: f"*{text}*", user_text=lambda text: escape(defuse_broadcasts(text)),
                own_text=lambda text: escape(defuse_broadcasts(text)), mention=lambda user: f"<@{user}>",
                code_blocks=True)


@dataclass(frozen=True)
class Part:
    """One post: a message, or (with ``image``) a file upload whose comment is ``text``."""

    text: str | None
    image: Path | None = None


def _parts(pieces: list[str], image: Path | None) -> list[Part]:
    if image is None:
        return [Part(piece) for piece in pieces]
    comment = pieces.pop() if pieces else None  # the last piece goes with the chart
    return [Part(piece) for piece in pieces] + [Part(comment, image)]


def reply_parts(reply: Reply) -> list[Part]:
    """A public reply as the posts that make it up."""
    if reply.reviews is not None:
        return _parts(split_text(summary_text(reply.reviews, MESSAGE_LIMIT, MARKUP)), None)
    if reply.report is not None:
        return _parts(split_text(report_text(reply.report, MARKUP)), reply.report.chart)
    return _parts(reply_texts(reply.text), None)


def announcement_parts(announcement: Announcement) -> list[Part]:
    if announcement.report is not None:
        return _parts(split_text(report_text(announcement.report, MARKUP)), announcement.image)
    return _parts(reply_texts(announcement.text), announcement.image)


# --- conversations: variants with buttons, turn headers, the tally --------------------------

SECTION_LIMIT = 3000  # characters of mrkdwn in one section block
BUTTONS = (("approve", "Approve", "primary"), ("reject", "Reject", "danger"),
           ("shorter", "Shorter", None), ("like", "More like this", None))
TALLY_BLOCK = "copybot_tally"


@dataclass(frozen=True)
class Message:
    """A message with Block Kit blocks; ``text`` is what notifications and old clients show."""

    text: str
    blocks: tuple[dict, ...] = ()


def _button(action: str, label: str, style: str | None, variant_id: int) -> dict:
    button = {"type": "button", "action_id": f"copybot_{action}", "value": str(variant_id),
              "text": {"type": "plain_text", "text": label}}
    if style:
        button["style"] = style
    return button


def tally_text(approvals: int, rejections: int) -> str:
    return f"✅ {approvals} · ❌ {rejections}"


def variant_message(variant: Variant, source: int | None = None) -> Message:
    """A final variant: its number and text, where it came from, and the four buttons."""
    text = variant_text(variant)
    shown = text + (f"  _(from #{source})_" if source is not None else "")
    blocks = (
        {"type": "section", "text": {"type": "mrkdwn", "text": shown[:SECTION_LIMIT]}},
        {"type": "actions", "block_id": f"copybot_variant_{variant.id}",
         "elements": [_button(action, label, style, variant.id) for action, label, style in BUTTONS]},
    )
    return Message(text, blocks)


def with_tally(blocks: list[dict], approvals: int, rejections: int) -> tuple[dict, ...]:
    """A variant message's blocks with the tally (redrawn in place, never added twice)."""
    kept = [block for block in blocks if block.get("block_id") != TALLY_BLOCK]
    tally = {"type": "context", "block_id": TALLY_BLOCK,
             "elements": [{"type": "mrkdwn", "text": tally_text(approvals, rejections)}]}
    return tuple(kept + [tally])


def turn_header(instruction: str, user: str, count: int | None = None, requested: int = 0) -> str:
    """Above a turn's variants, in the thread."""
    lines = [f"<@{user}>: _{escape(' '.join(instruction.split())[:200])}_"]
    if count is None:
        lines.append("Writing…")
    elif count < requested:
        lines.append(f"Only {count} of {requested} were good enough to show.")
    return split_text("\n".join(lines))[0]


def thread_hint() -> str:
    return ("Reply in this thread to change them: #2 shorter, make them more formal, translate #1 "
            "to Chinese, more like #3, for linkedin, again.")
