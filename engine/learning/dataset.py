"""Fine-tuning data: what one workspace's team approved (to learn) and rejected (to check against,
and to learn to prefer against).

Each example is the exact chat prompt the generator was given plus the copy as the answer. Copies are
deduplicated on their normalised text (the earliest variant wins), then split into train and
validation by a hash of the variant id, so an example stays on the same side forever: a validation
example is never trained on by a later run either.

Preference pairs (``engine.conversations.pairs``): an approved and a rejected (or rewritten, not
approved) variant of the same request, and an approved rewrite against the variant it rewrote, say
which of two answers the team prefers; the training process learns from those whose approved
answer is on the training side, with DPO.

The bad-data guard, before training: near-duplicates of a kept copy go, approved copy that fails
the brief checks the copywriter applies (invented numbers, another product, ...) goes, and when
several people approve, no one person's approvals make more than half of the training examples
(the newest of theirs are kept). ``Dataset.dropped`` says how many went for which reason.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from difflib import SequenceMatcher

from engine.conversations.pairs import team_preferences
from engine.copy.brief_checks import check_variant, language_of
from engine.store import Store, parse_utc_text

logger = logging.getLogger(__name__)

VALIDATION_SHARE = 0.2
MAX_VALIDATION = 200  # newest validation examples scored per run (evaluation time grows with it)
MAX_REJECTED = 100
MAX_PAIRS = 200
NEAR_DUPLICATE = 0.9  # similarity ratio of normalised texts from which two copies count as one
MAX_ONE_PERSON_SHARE = 0.5


@dataclass(frozen=True)
class Example:
    variant_id: int
    messages: list[dict[str, str]]  # the prompt exactly as the generator used it
    text: str  # the copy: the answer the model should (approved) or should not (rejected) give
    at: datetime | None = None  # when it was approved
    request: dict = field(default_factory=dict)
    generation_id: int | None = None  # the request it answered (pairs are made within one)
    approvers: tuple[str, ...] = ()

    def chat(self) -> dict:
        """The training-file form: prompt messages and the answer."""
        return {"messages": self.messages, "answer": self.text}


@dataclass(frozen=True)
class Pair:
    """Two answers to one prompt, the first preferred by the team (variant ``chosen_id``)."""

    messages: list[dict[str, str]]
    chosen: str
    rejected: str
    chosen_id: int = 0
    kind: str = "same request"  # or "rewrite": an approved rewrite against what it rewrote

    def chat(self) -> dict:
        return {"messages": self.messages, "chosen": self.chosen, "rejected": self.rejected}


@dataclass(frozen=True)
class Dataset:
    train: list[Example]  # approved after ``since``, train side of the split
    validation: list[Example]  # approved, validation side (older ones too), newest first
    rejected: list[Example]  # rejected copy, newest first; never trained on
    new_examples: int  # distinct approved copies after ``since``, both sides
    untried_examples: int  # of those, approved after ``tried_until`` (the newest data already tried)
    data_until: datetime | None  # newest approval among the training examples
    pairs: list[Pair] = field(default_factory=list)  # preference pairs, newest first
    dropped: dict[str, int] = field(default_factory=dict)  # guard: reason -> examples dropped
    one_person: bool = False  # every approval is one person's (nothing to balance)

    def describe_guard(self) -> str:
        """The bad-data guard's work in words ("" when it dropped nothing)."""
        words = {"near-duplicate": "near-duplicates", "off-brief": "failing the brief checks",
                 "one person": "over one person's half share"}
        parts = [f"{count} {words[reason]}" for reason, count in self.dropped.items() if count]
        text = f"dropped {', '.join(parts)}" if parts else ""
        if self.one_person:
            text += ("; " if text else "") + "every approval is one person's"
        return text


def normalised(text: str) -> str:
    return " ".join(text.casefold().split())


def deduplicate(examples: list[Example]) -> list[Example]:
    """One example per distinct copy text; the lowest variant id wins, so the choice is stable."""
    seen: set[str] = set()
    kept = []
    for example in sorted(examples, key=lambda e: e.variant_id):
        key = normalised(example.text)
        if key and key not in seen:
            seen.add(key)
            kept.append(example)
    return kept


def bucket(variant_id: int) -> float:
    """A stable number in [0, 1) for a variant id (not Python's salted ``hash``)."""
    digest = hashlib.sha256(f"copybot-split:{variant_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def split(examples: list[Example], validation_share: float = VALIDATION_SHARE
          ) -> tuple[list[Example], list[Example]]:
    """(train, validation) by id hash. With two or more examples, validation is never empty: the
    example with the lowest bucket goes there, which is again a function of the ids alone."""
    train = [e for e in examples if bucket(e.variant_id) >= validation_share]
    validation = [e for e in examples if bucket(e.variant_id) < validation_share]
    if not validation and len(examples) >= 2:
        lowest = min(train, key=lambda e: bucket(e.variant_id))
        train.remove(lowest)
        validation.append(lowest)
    return train, validation


def near_duplicates(examples: list[Example], kept_before: Sequence[Example] = ()) -> tuple[list[Example], int]:
    """Examples whose copy nearly repeats an earlier kept one go (lowest variant id first)."""
    kept: list[Example] = list(kept_before)
    fresh = []
    dropped = 0
    for example in sorted(examples, key=lambda e: e.variant_id):
        text = normalised(example.text)
        if any(SequenceMatcher(None, text, normalised(k.text)).ratio() >= NEAR_DUPLICATE for k in kept):
            dropped += 1
            continue
        kept.append(example)
        fresh.append(example)
    return fresh, dropped


def on_brief(example: Example) -> bool:
    product = example.request.get("product", "")
    if not product:
        return True
    language = example.request.get("language") or language_of(product)
    return check_variant(example.text, product, language).ok


def balance_people(train: list[Example], share: float = MAX_ONE_PERSON_SHARE) -> tuple[list[Example], int]:
    """At most ``share`` of the examples approved by one person alone (their newest kept); examples
    several people approved are the team's. Nothing to balance when one person approves all."""
    solo = Counter(e.approvers[0] for e in train if len(e.approvers) == 1)
    if not solo:
        return train, 0
    person, count = solo.most_common(1)[0]
    others = len(train) - count
    if others == 0 or count <= share * len(train):
        return train, 0
    allowed = int(share / (1 - share) * others)
    theirs = sorted((e for e in train if e.approvers == (person,)), key=lambda e: e.variant_id)
    dropped = {e.variant_id for e in theirs[: len(theirs) - allowed]}
    return [e for e in train if e.variant_id not in dropped], len(dropped)


def build_dataset(approved: list[Example], rejected: list[Example], since: datetime | None,
                  tried_until: datetime | None = None, validation_share: float = VALIDATION_SHARE,
                  max_validation: int = MAX_VALIDATION, max_rejected: int = MAX_REJECTED,
                  preferences: Sequence[Pair] = ()) -> Dataset:
    """Pure: the run's data from every approved and rejected example in the store.

    ``since`` is the newest approval the active model was trained on (None: the base model);
    ``tried_until`` the newest approval any candidate trained on the active model has seen.
    """
    approved = deduplicate(approved)
    approved_texts = {normalised(e.text) for e in approved}
    # A copy some approved and others rejected counts as approved.
    rejected = [e for e in deduplicate(rejected) if normalised(e.text) not in approved_texts]
    train, validation = split(approved, validation_share)

    def after(moment: datetime | None, example: Example) -> bool:
        return moment is None or (example.at is not None and example.at > moment)

    new = [e for e in approved if after(since, e)]
    untried = sum(1 for e in new if after(tried_until, e))
    # The guard looks at what this run would train on; older examples were trained on already.
    # A near-duplicate of a held-out example would leak it into training: those go too.
    earlier = [e for e in train if not after(since, e)] + validation
    train, near = near_duplicates([e for e in train if after(since, e)], earlier)
    off_brief = [e for e in train if not on_brief(e)]
    train = [e for e in train if on_brief(e)]
    train, over_share = balance_people(train)
    people = {person for e in approved for person in e.approvers}
    newest_first = sorted(validation, key=lambda e: e.variant_id, reverse=True)
    rejected = sorted(rejected, key=lambda e: e.variant_id, reverse=True)
    stamps = [e.at for e in train if e.at is not None]
    return Dataset(train=train, validation=newest_first[:max_validation],
                   rejected=rejected[:max_rejected], new_examples=len(new), untried_examples=untried,
                   data_until=max(stamps) if stamps else since,
                   # Held-out copy is never trained on, as a preferred answer either.
                   pairs=[p for p in preferences if p.chosen_id in {e.variant_id for e in train}][:MAX_PAIRS],
                   dropped={"near-duplicate": near, "off-brief": len(off_brief),
                            "one person": over_share},
                   one_person=len(people) == 1 and len(train) > 1)


def _example(row) -> Example:
    return Example(row["id"], json.loads(row["prompt"]), row["text"],
                   parse_utc_text(row["approved_at"]) if row["approved_at"] else None,
                   json.loads(row["request"]), row["generation_id"],
                   tuple(sorted((row["approvers"] or "").split("\x1f"))) if row["approvers"] else ())


async def approved_examples(store: Store, workspace: str) -> list[Example]:
    return [_example(row) for row in await store.variants_with_status(workspace, "approved")]


async def rejected_examples(store: Store, workspace: str, limit: int = MAX_REJECTED * 2) -> list[Example]:
    return [_example(row) for row in await store.variants_with_status(workspace, "rejected", newest=limit)]


async def load_dataset(store: Store, workspace: str, since: datetime | None,
                       tried_until: datetime | None = None,
                       validation_share: float = VALIDATION_SHARE) -> Dataset:
    """The workspace's own data: another team's copy (and brand voice, in its prompts) never
    trains this workspace's model."""
    preferences = [Pair(p.prompt, p.chosen, p.rejected, p.chosen_id, p.kind)
                   for p in await team_preferences(store, workspace)]
    dataset = build_dataset(await approved_examples(store, workspace),
                            await rejected_examples(store, workspace), since, tried_until,
                            validation_share, preferences=preferences)
    logger.info("fine-tune data of %s: %d new approved (%d to train), %d validation, %d rejected, "
                "%d preference pairs; guard: %s", workspace, dataset.new_examples, len(dataset.train),
                len(dataset.validation), len(dataset.rejected), len(dataset.pairs),
                dataset.describe_guard() or "nothing dropped")
    return dataset
