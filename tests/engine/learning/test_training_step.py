"""A training step in micro-batches computes the whole batch's gradients: the same training at a
fraction of the memory (engine/learning/step.py)."""

from __future__ import annotations

import pytest

from engine.learning.evaluate import answer_nll
from engine.learning.preference import dpo_loss, pair_logps
from engine.learning.step import accumulate_gradients, micro_batches
from engine.learning.tokens import collate, encode

PROMPTS = ["bamboo toothbrush", "steel water bottle with a very long description of its many features",
           "linen bed sheets", "trail running shoes for muddy mountain paths and city streets"]


def _model(directory):
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(directory)
    model = AutoModelForCausalLM.from_pretrained(directory, dtype=torch.float32)
    model = get_peft_model(model, LoraConfig(r=4, lora_alpha=8, target_modules="all-linear",
                                             task_type="CAUSAL_LM", init_lora_weights=False))
    return model, tokenizer


def _examples(tokenizer):
    def chat(product):
        return [{"role": "user", "content": f"Write one ad for: {product}"}]

    batch = [encode(tokenizer, chat(p), f"Meet the {p}. Order yours today!") for p in PROMPTS]
    pairs = [(encode(tokenizer, chat(p), f"The {p}: made to last."), encode(tokenizer, chat(p), "Buy stuff now"))
             for p in PROMPTS[:3]]
    return batch, pairs


def _gradients(model) -> dict:
    return {name: p.grad.clone() for name, p in model.named_parameters() if p.requires_grad}


def test_micro_batches_stay_within_the_token_budget_in_order():
    lengths = [5, 9, 3, 30, 4, 4, 4]
    runs = micro_batches(lengths, lambda n: n, micro_tokens=20)
    assert [n for run in runs for n in run] == lengths  # nothing lost, order kept
    assert all(len(run) * max(run) <= 20 or len(run) == 1 for run in runs)
    assert [30] in runs  # longer than the budget: alone


@pytest.mark.parametrize("beta", [0.0, 0.1])
def test_micro_batched_gradients_equal_the_whole_batch(tiny_model_dir, beta):
    import torch

    model, tokenizer = _model(tiny_model_dir)
    pad = tokenizer.pad_token_id
    batch, pairs = _examples(tokenizer)
    with torch.no_grad():
        chosen, rejected = pair_logps(model, pairs, pad)
    # Any fixed reference will do for comparing the two ways of computing the gradients.
    reference = [(c - 1.0, r + 1.0) for c, r in zip(chosen.tolist(), rejected.tolist())]

    # The whole batch in one forward/backward.
    total, tokens = answer_nll(model, *collate(batch, pad))
    whole = total / tokens
    if beta:
        chosen, rejected = pair_logps(model, pairs, pad)
        ref = torch.tensor(reference)
        whole = whole + dpo_loss(chosen, rejected, ref[:, 0], ref[:, 1], beta)
    whole.backward()
    expected = _gradients(model)
    model.zero_grad(set_to_none=True)

    # The budget fits about one example at a time: four SFT parts and three DPO parts.
    shortest = min(len(e.input_ids) for e in batch)
    assert len(micro_batches(batch, lambda e: len(e.input_ids), shortest + 1)) == len(batch)
    loss = accumulate_gradients(model, batch, pairs, reference, pad, beta, micro_tokens=shortest + 1)
    assert loss == pytest.approx(float(whole.detach()), rel=1e-5)
    got = _gradients(model)
    assert expected.keys() == got.keys() and expected
    for name in expected:
        assert torch.allclose(got[name], expected[name], rtol=1e-4, atol=1e-6), name
