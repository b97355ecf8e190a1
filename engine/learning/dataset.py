"""Fine-tuning data: what one workspace's team approved (to learn) and rejected (to check against).

Each example is the exact chat prompt the generator was given plus the copy as the answer. Copies are
deduplicated on their normalised text (the earliest variant wins), then split into train and
validation by a hash of the variant id, so an example stays on the same side forever: a validation
example is never trained on by a later run either.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from datetime import datetime

from engine.store import Store

logger = logging.getLogger(__name__)

VALIDATION_SHARE = 0.2
MAX_VALIDATION = 200  # newest validation examples scored per run (evaluation time grows with it)
MAX_REJECTED = 100


@dataclass(frozen=True)
class Example:
    variant_id: int
    messages: list[dict[str, str]]  # the prompt exactly as the generator used it
    text: str  # the copy: the answer the model should (approved) or should not (rejected) give
    at: datetime | None = None  # when it was approved
    request: dict = field(default_factory=dict)

    def chat(self) -> dict:
        """The training-file form: prompt messages and the answer."""
        return {"messages": self.messages, "answer": self.text}


@dataclass(frozen=True)
class Dataset:
    train: list[Example]  # approved after ``since``, train side of the split
    validation: list[Example]  # approved, validation side (older ones too), newest first
    rejected: list[Example]  # rejected copy, newest first; never trained on
    new_examples: int  # distinct approved copies after ``since``, both sides
    untried_examples: int  # of those, approved after ``tried_until`` (the newest data already tried)
    data_until: datetime | None  # newest approval among the training examples


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


def build_dataset(approved: list[Example], rejected: list[Example], since: datetime | None,
                  tried_until: datetime | None = None, validation_share: float = VALIDATION_SHARE, max_validation: int = MAX_VALIDATION,
                  max_rejected: int = MAX_REJECTED) -> Dataset:
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

    train = [e for e in train if after(since, e)]
    new = [e for e in approved if after(since, e)]
    untried = sum(1 for e in new if after(tried_until, e))
    newest_first = sorted(validation, key=lambda e: e.variant_id, reverse=True)
    rejected = sorted(rejected, key=lambda e: e.variant_id, reverse=True)
    stamps = [e.at for e in train if e.at is not None]
    return Dataset(train=train, validation=newest_first[:max_validation],
                   rejected=rejected[:max_rejected], new_examples=len(new), untried_examples=untried,
                   data_until=max(stamps) if stamps else since)


async def approved_examples(store: Store, workspace: str) -> list[Example]:
    return [Example(e.variant_id, e.messages, e.text, e.approved_at, e.request)
            for e in await store.approved_examples(workspace)]


async def rejected_examples(store: Store, workspace: str, limit: int = MAX_REJECTED * 2) -> list[Example]:
    async with store.db.execute(
        """SELECT v.id, v.text, g.prompt, g.request
           FROM variant_status s JOIN variants v ON v.id = s.variant_id
           JOIN generations g ON g.id = v.generation_id
           WHERE s.status = 'rejected' AND v.workspace_id = ? ORDER BY v.id DESC LIMIT ?""",
        (workspace, limit),
    ) as cursor:
        return [Example(row["id"], json.loads(row["prompt"]), row["text"], None, json.loads(row["request"]))
                async for row in cursor]


async def load_dataset(store: Store, workspace: str, since: datetime | None,
                       tried_until: datetime | None = None,
                       validation_share: float = VALIDATION_SHARE) -> Dataset:
    """The workspace's own data: another team's copy (and brand voice, in its prompts) never
    trains this workspace's model."""
    dataset = build_dataset(await approved_examples(store, workspace),
                            await rejected_examples(store, workspace), since, tried_until,
                            validation_share)
    logger.info("fine-tune data of %s: %d new approved (%d to train), %d validation, %d rejected",
                workspace, dataset.new_examples, len(dataset.train), len(dataset.validation),
                len(dataset.rejected))
    return dataset
