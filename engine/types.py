"""The plain dataclasses that cross between the platform adapters (bot/) and the engine.

They carry platform-neutral ids only: an adapter maps Slack team/channel/ts or Discord
guild/channel/message ids into these strings and back.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from engine.reports.figures import WeeklyReport


@dataclass(frozen=True)
class Origin:
    """Who asked, and where: ``platform`` is "slack", "discord" or "console"."""

    platform: str
    workspace: str
    channel: str
    user: str
    # Groups the user belongs to on the platform (Discord role ids), for admin checks.
    roles: tuple[str, ...] = ()

    @property
    def workspace_key(self) -> str:
        """The store's key for this workspace: a Slack team and a Discord guild never collide."""
        return f"{self.platform}:{self.workspace}"


@dataclass(frozen=True)
class CopyRequest:
    """What `/copy` asks for, already validated by the command parser."""

    product: str
    tone: str | None = None
    audience: str | None = None
    ad_channel: str | None = None  # e.g. "instagram", "email subject"; `channel:` in the grammar
    length: str | None = None  # "short" | "medium" | "long" | "<N> words"
    n: int = 3
    language: str | None = None  # "en" | "zh"; None: the description's own language
    # `from: reviews`: write from the workspace's latest review summary (its praise, its complaints)
    from_reviews: bool = False
    # `name:`: what the copy calls the product, as the person said it (None: read from the brief)
    name: str | None = None


@dataclass(frozen=True)
class Thread:
    """Where a conversation lives on its platform: ``channel`` and the platform's thread id in it
    (Slack: the header's ts; Discord: the thread's id, or the header message's id where no thread
    could be made; the console: its session number)."""

    channel: str
    thread: str


class TurnKind(str, enum.Enum):
    REWRITE = "rewrite"  # change a variant (or each of the last turn's) as the instruction says
    LIKE = "like"  # new variants in the manner of one
    AGAIN = "again"  # new variants of the request, unlike those shown


@dataclass(frozen=True)
class Refinement:
    """One turn of a conversation, as the person wrote it, already read by the bot's grammar.

    ``targets`` are the variant numbers it names (empty: the variants of the latest turn, or none
    for AGAIN). Options left ``None`` keep what the conversation had; ``length_change`` is -1 for
    "shorter", +1 for "longer"."""

    instruction: str  # as typed, kept with the turn ("#2 shorter")
    kind: TurnKind = TurnKind.REWRITE
    targets: tuple[int, ...] = ()
    change: str = ""  # what to change, for the prompt ("more formal"); empty for pure option changes
    length_change: int = 0
    language: str | None = None
    ad_channel: str | None = None
    tone: str | None = None
    name: str | None = None  # "the product is called Nordlys": the name the brief was misread for


@dataclass(frozen=True)
class Variant:
    id: int
    text: str
    position: int


@dataclass(frozen=True)
class CopyPreview:
    """A variant still being written: ``slot`` 0..n-1 of the request, its text so far. Adapters
    show it (throttled to what the platform allows) until the ``CopyResult`` replaces it."""

    slot: int
    text: str


@dataclass(frozen=True)
class ReviewPoint:
    """A theme of the workspace's reviews as `/copy … from: reviews` uses it."""

    label: str  # words from the reviews ("sound quality", 续航)
    mentions: int  # reviews that mention it
    share: float  # of those, the share praising it (praise) or criticising it (complaints), 0..1
    quote: str = ""  # a short verbatim quote (praise only)

    @property
    def count(self) -> int:
        """Reviews on this point's side: the praising ones, or the complaining ones."""
        return round(self.share * self.mentions)


@dataclass(frozen=True)
class ReviewBrief:
    """What `from: reviews` took from the workspace's latest review summary: the praise the copy
    should use and the complaints whose claims it must not make (both shown in the prompt)."""

    summary_id: int
    summarised_at: datetime
    reviews: int  # reviews that summary analysed
    praise: tuple[ReviewPoint, ...]
    complaints: tuple[ReviewPoint, ...]
    # The description as the prompt shows it: its claims about complained-about themes left out
    # (a small model repeats its description, whatever the prompt says), and what was left out.
    description: str = ""
    left_out: tuple[str, ...] = ()
    # Praise labels the delivered variants name (filled in once the copy is written).
    used: tuple[str, ...] = ()


@dataclass(frozen=True)
class Understood:
    """What the engine read in a brief, shown in one line above the variants so a wrong reading is
    seen at once: "For 卫衣 — 宽松 · 宝蓝色 · 休闲"."""

    subject: str  # the name the copy uses, else the kind of thing sold; "" when neither was read
    named: bool  # ``subject`` is a name (else a kind)
    facts: tuple[str, ...] = ()


@dataclass(frozen=True)
class CopyResult:
    generation_id: int
    variants: list[Variant]
    model_version: str
    # Fewer than asked when the model kept producing duplicates or junk; adapters may say so.
    requested: int = 0
    # A turn of a conversation: what it did, and the variant each new one rewrote (None: none).
    turn: Refinement | None = None
    sources: tuple[int | None, ...] = ()
    generation_ids: tuple[int, ...] = ()  # a turn that rewrote several variants made several
    from_reviews: ReviewBrief | None = None  # `from: reviews`: what the copy used and avoided
    understood: Understood | None = None  # what the brief was read as (a request, not a turn)
    # Fewer than requested: why most of the refused drafts were refused, as a phrase that completes
    # "the others …" ("stated numbers the description does not give"); "" when none were refused.
    shortfall: str = ""

    @property
    def generations(self) -> tuple[int, ...]:
        return self.generation_ids or (self.generation_id,)


class Verdict(str, enum.Enum):
    APPROVE = "approve"
    REJECT = "reject"


@dataclass(frozen=True)
class Feedback:
    """One approval or rejection, added or withdrawn.

    A variant is named either by ``variant_id`` (console: `/approve 12`) or by the chat message
    it was posted as (``channel`` + ``message`` in ``origin``'s workspace: reactions).
    """

    origin: Origin
    verdict: Verdict
    added: bool = True
    variant_id: int | None = None
    message: str | None = None


@dataclass(frozen=True)
class FeedbackOutcome:
    variant_id: int
    approvals: int
    rejections: int
    changed: bool  # False when the event repeated what was already recorded

    @property
    def status(self) -> str:
        if self.approvals > self.rejections:
            return "approved"
        if self.rejections > self.approvals:
            return "rejected"
        return "pending"


@dataclass(frozen=True)
class ApprovedExample:
    """An approved variant with the exact chat prompt that produced it (fine-tuning format)."""

    variant_id: int
    workspace: str
    messages: list[dict[str, str]]
    text: str
    approved_at: datetime
    request: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Announcement:
    """Something the engine posts on its own (a weekly report, a fine-tune result) to a channel.

    ``workspace`` is the store's workspace key ("slack:T123"); ``channel`` the platform's channel id.
    A weekly report comes as data (``report``), which the adapter renders; other announcements are
    plain ``text``. The adapter posts it as parts (messages, an upload): it leaves out the first
    ``skip_parts`` (posted by an earlier try) and awaits ``part_posted(count)`` after each part.
    """

    workspace: str
    channel: str
    text: str = ""
    image: Path | None = None  # e.g. a PNG chart to upload with the text
    report: WeeklyReport | None = None
    skip_parts: int = 0
    part_posted: Callable[[int], Awaitable[None]] | None = field(default=None, compare=False)
