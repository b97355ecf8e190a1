"""One training step's gradients, computed in micro-batches.

A batch of eight 260-token prompts on the 1.5B model holds about 9 GB of activations (plus a bf16
copy of every weight while autocast keeps it for the backward pass) until ``backward``. Splitting
the batch into micro-batches of at most ``micro_tokens`` padded tokens and calling ``backward`` on
each frees them in turn; since each part's loss is scaled by its share of the whole batch, the
summed gradients are the whole batch's (the test compares them), so the training is the same, at
a fraction of the memory and the same compute.
"""

from __future__ import annotations

from engine.learning.evaluate import answer_nll
from engine.learning.preference import dpo_loss, pair_logps
from engine.learning.tokens import Encoded, collate

MICRO_TOKENS = 768  # padded tokens per forward/backward (about 3 GB of activations on the 1.5B model)


def micro_batches(items: list, size_of, micro_tokens: int) -> list[list]:
    """``items`` in order, cut into runs whose padded size (count × longest) stays within
    ``micro_tokens``; an item longer than that goes alone."""
    runs: list[list] = []
    current: list = []
    longest = 0
    for item in items:
        length = size_of(item)
        if current and max(longest, length) * (len(current) + 1) > micro_tokens:
            runs.append(current)
            current, longest = [], 0
        current.append(item)
        longest = max(longest, length)
    if current:
        runs.append(current)
    return runs


def accumulate_gradients(model, batch: list[Encoded], pairs: list[tuple[Encoded, Encoded]],
                         reference: list[tuple[float, float]], pad_id: int, beta: float,
                         micro_tokens: int = MICRO_TOKENS, bf16: bool = False) -> float:
    """Backpropagate one step's loss — mean answer-token NLL over ``batch``, plus the mean DPO loss
    over ``pairs`` (against the ``reference`` log-probabilities) when ``beta`` — and return it.
    Gradients are added to the parameters' ``.grad``; the caller steps the optimizer. ``bf16``:
    the forward passes under bf16 autocast (the backward passes, as PyTorch advises, outside it)."""
    import torch

    def forward():
        return torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16)

    # The labels collate makes, shifted by one: every answer token but a first one at position 0.
    total_tokens = sum(len(e.input_ids) - max(1, e.answer_start) for e in batch)
    loss_value = 0.0
    for part in micro_batches(batch, lambda e: len(e.input_ids), micro_tokens):
        with forward():
            total, _ = answer_nll(model, *collate(part, pad_id))
            loss = total / max(1, total_tokens)
        loss.backward()
        loss_value += float(loss.detach())
    if pairs and beta:
        indexed = list(zip(pairs, reference))
        size = lambda item: 2 * max(len(item[0][0].input_ids), len(item[0][1].input_ids))  # noqa: E731
        for part in micro_batches(indexed, size, micro_tokens):
            with forward():
                chosen, rejected = pair_logps(model, [p for p, _ in part], pad_id)
                ref = torch.tensor([r for _, r in part], dtype=chosen.dtype)
                # dpo_loss is a mean over its part; weighted by the part's share, the sum is the mean.
                loss = dpo_loss(chosen, rejected, ref[:, 0], ref[:, 1], beta) * (len(part) / len(pairs))
            loss.backward()
            loss_value += float(loss.detach())
    return loss_value
