"""Preference learning from the team's choices: DPO (Rafailov et al., 2023) on pairs of answers to
one prompt, one approved and one rejected.

Why not TRL's DPOTrainer: the loss is these few lines, while the trainer brings its own training
loop (HF Trainer, accelerate, datasets) where ours already has what the bot needs — a thread cap,
a time limit, progress lines, dying with the bot, answer-only output-layer compute. The reference
model is the active model itself: its log-probabilities are computed once, before the new adapter
exists, so no second copy of the model is held.
"""

from __future__ import annotations

from engine.learning.evaluate import answer_token_nlls
from engine.learning.tokens import Encoded, collate

BETA = 0.1  # how far from the reference the preference may pull (DPO's usual value)


def answer_logps(model, ids, mask, labels):
    """Per sequence, the summed log-probability of its answer tokens (a tensor of ``batch``)."""
    import torch

    nlls, selected = answer_token_nlls(model, ids, mask, labels)
    rows = torch.arange(ids.shape[0]).unsqueeze(1).expand_as(selected)[selected]
    return torch.zeros(ids.shape[0], dtype=nlls.dtype).index_add(0, rows, -nlls)


def pair_logps(model, pairs: list[tuple[Encoded, Encoded]], pad_id: int):
    """(chosen, rejected) answer log-probabilities of ``pairs``, as two tensors."""
    chosen = answer_logps(model, *collate([c for c, _ in pairs], pad_id))
    rejected = answer_logps(model, *collate([r for _, r in pairs], pad_id))
    return chosen, rejected


def dpo_loss(chosen, rejected, reference_chosen, reference_rejected, beta: float = BETA):
    """Mean DPO loss: -log sigmoid(beta * (chosen's gain over the reference - rejected's gain))."""
    import torch.nn.functional as F

    return -F.logsigmoid(beta * ((chosen - reference_chosen) - (rejected - reference_rejected))).mean()


def mean_margin(model, pairs: list[tuple[Encoded, Encoded]], pad_id: int, batch_size: int = 8) -> float | None:
    """Mean log-probability lead of the approved answer over the rejected one (None: no pairs)."""
    import torch

    if not pairs:
        return None
    was_training = model.training
    model.eval()
    total = 0.0
    with torch.no_grad():
        for start in range(0, len(pairs), batch_size):
            chosen, rejected = pair_logps(model, pairs[start:start + batch_size], pad_id)
            total += float((chosen - rejected).sum())
    if was_training:
        model.train()
    return total / len(pairs)
