"""Scoring a model on copy, and the rule that decides whether a fine-tuned candidate goes live.

The score is the mean negative log-likelihood per answer token (lower = the model finds the copy more
likely). A candidate is promoted only when, on validation examples it never trained on:
- approved copy got more likely by at least ``margin`` (relative to the active model's NLL);
- rejected copy did not gain on approved copy: the gap (rejected NLL - approved NLL) did not shrink,
  i.e. the candidate learned the team's preference, not just "more ad copy";
- its sampled outputs pass the generator's cleaning about as often: one sample in eight of slack,
  and never less than one sample (with four samples, one unlucky draw is 25 %, not a regression).
"""

from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass

from engine.learning.tokens import Encoded, collate

logger = logging.getLogger(__name__)

CLEAN_TOLERANCE = 0.125


@dataclass(frozen=True)
class Scores:
    approved_nll: float
    rejected_nll: float | None = None  # None: no rejected copy to score
    clean_rate: float | None = None  # share of sampled outputs that pass cleaning; None: not run
    clean_samples: int | None = None  # how many outputs clean_rate is of

    @classmethod
    def from_dict(cls, data: dict) -> Scores:
        return cls(data["approved_nll"], data.get("rejected_nll"), data.get("clean_rate"),
                   data.get("clean_samples"))

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Decision:
    promote: bool
    improvement: float  # relative drop of the approved-copy NLL (0.05 = 5 % lower)
    reasons: tuple[str, ...]  # one line per check, in words, for logs and announcements


def decide(active: Scores, candidate: Scores, margin: float,
           clean_tolerance: float = CLEAN_TOLERANCE) -> Decision:
    values = [candidate.approved_nll, active.approved_nll]
    if not all(math.isfinite(v) for v in values) or active.approved_nll <= 0:
        return Decision(False, 0.0, ("the scores are not finite numbers",))
    improvement = (active.approved_nll - candidate.approved_nll) / active.approved_nll
    reasons = []
    ok = improvement >= margin
    reasons.append(f"approved copy NLL {active.approved_nll:.3f} -> {candidate.approved_nll:.3f} "
                   f"({improvement:+.1%}, needs {margin:+.1%}): {'ok' if ok else 'not enough'}")
    promote = ok
    if active.rejected_nll is not None and candidate.rejected_nll is not None:
        gap_before = active.rejected_nll - active.approved_nll
        gap_after = candidate.rejected_nll - candidate.approved_nll
        ok = math.isfinite(gap_after) and gap_after >= gap_before
        reasons.append(f"rejected copy NLL {active.rejected_nll:.3f} -> {candidate.rejected_nll:.3f}, "
                       f"gap over approved {gap_before:+.3f} -> {gap_after:+.3f}: "
                       f"{'ok' if ok else 'rejected copy gained'}")
        promote = promote and ok
    if active.clean_rate is not None and candidate.clean_rate is not None:
        samples = candidate.clean_samples or active.clean_samples
        slack = max(clean_tolerance, 1 / samples) if samples else clean_tolerance
        ok = candidate.clean_rate >= active.clean_rate - slack - 1e-9
        reasons.append(f"clean outputs {active.clean_rate:.0%} -> {candidate.clean_rate:.0%}: "
                       f"{'ok' if ok else 'more junk'}")
        promote = promote and ok
    return Decision(promote, improvement, tuple(reasons))


def _parts(model):
    """(decoder, output layer) of a causal LM, through a peft wrapper; None when unknown."""
    causal = model.get_base_model() if hasattr(model, "get_base_model") else model
    try:
        decoder, head = causal.get_decoder(), causal.get_output_embeddings()
    except (AttributeError, NotImplementedError):
        return None
    return (decoder, head) if decoder is not None and head is not None else None


def answer_token_nlls(model, ids, mask, labels):
    """(each labelled (answer) token's negative log-likelihood, flat; the mask of where they are).

    Only the answer positions go through the output layer: with a 49k-word vocabulary that layer
    is a fifth of the compute and most of the memory when applied to every prompt token.
    """
    import torch.nn.functional as F

    targets = labels[:, 1:]
    selected = targets != -100
    parts = _parts(model)
    if parts is None:
        logits = model(input_ids=ids, attention_mask=mask).logits[:, :-1][selected]
    else:
        decoder, head = parts
        hidden = decoder(input_ids=ids, attention_mask=mask, use_cache=False).last_hidden_state[:, :-1]
        logits = head(hidden[selected])
    return F.cross_entropy(logits.float(), targets[selected], reduction="none"), selected


def answer_nll(model, ids, mask, labels):
    """(sum of negative log-likelihoods, number of tokens) over the labelled (answer) tokens."""
    nlls, selected = answer_token_nlls(model, ids, mask, labels)
    return nlls.sum(), int(selected.sum())


def mean_nll(model, encoded: list[Encoded], pad_id: int, batch_size: int = 8) -> float:
    """Mean negative log-likelihood per answer token over ``encoded`` (NaN for an empty list)."""
    import torch

    total, tokens = 0.0, 0
    was_training = model.training
    model.eval()
    # Similar lengths together: less padding to compute.
    ordered = sorted(encoded, key=lambda e: len(e.input_ids))
    with torch.no_grad():
        for start in range(0, len(ordered), batch_size):
            ids, mask, labels = collate(ordered[start:start + batch_size], pad_id)
            batch_total, batch_tokens = answer_nll(model, ids, mask, labels)
            total += float(batch_total)
            tokens += batch_tokens
    if was_training:
        model.train()
    return total / tokens if tokens else float("nan")


def clean_rate(model, tokenizer, prompts: list[dict], seed: int = 0) -> float | None:
    """Share of sampled answers to ``prompts`` that survive the generator's cleaning.

    Each prompt is ``{"messages", "max_new_tokens", "max_words", "max_chars", "multiline"}``. The
    sampling seed is fixed so two models are compared on the same random draws.
    """
    import torch

    from engine.copy.cleaning import clean_variant
    from engine.copy.prompts import CopyLimits
    from engine.generation.transformers_backend import LocalBackend

    if not prompts:
        return None
    torch.manual_seed(seed)
    was_training = model.training
    model.eval()
    backend = LocalBackend(model, tokenizer, version="evaluation")
    texts = backend.generate([p["messages"] for p in prompts], [p["max_new_tokens"] for p in prompts])
    if was_training:
        model.train()
    usable = sum(
        clean_variant(text, CopyLimits(p["max_words"], p.get("max_chars"), p.get("multiline", False)))
        is not None
        for text, p in zip(texts, prompts)
    )
    return usable / len(prompts)
