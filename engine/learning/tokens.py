"""Turning a (prompt, answer) pair into model input where only the answer counts.

The prompt is rendered with the tokenizer's chat template exactly as the generator renders it (with
the assistant header), and the answer is what the template puts after that header, end-of-turn
token included: the model learns to write the copy and to stop.
"""

from __future__ import annotations

from dataclasses import dataclass

IGNORE = -100  # label value the loss skips


@dataclass(frozen=True)
class Encoded:
    input_ids: list[int]
    answer_start: int  # index of the first answer token


def encode(tokenizer, messages: list[dict[str, str]], answer: str, max_length: int = 512) -> Encoded:
    prompt = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    full = tokenizer.apply_chat_template(
        messages + [{"role": "assistant", "content": answer}], tokenize=False)
    if full.startswith(prompt):
        # Trailing whitespace after the end-of-turn token is template layout, not copy.
        answer_text = full[len(prompt):].rstrip()
    else:  # a template that renders history differently: answer plus end-of-sequence
        answer_text = answer + (tokenizer.eos_token or "")
    prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    answer_ids = tokenizer(answer_text, add_special_tokens=False)["input_ids"][:max_length // 2]
    # Over-long prompts lose their beginning (the generic system text), never the answer.
    room = max_length - len(answer_ids)
    prompt_ids = prompt_ids[-room:] if room > 0 else []
    return Encoded(prompt_ids + answer_ids, len(prompt_ids))


def collate(batch: list[Encoded], pad_id: int):
    """Right-padded ``input_ids``, ``attention_mask`` and ``labels`` (answer tokens only)."""
    import torch

    width = max(len(e.input_ids) for e in batch)
    ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    labels = torch.full((len(batch), width), IGNORE, dtype=torch.long)
    for row, example in enumerate(batch):
        n = len(example.input_ids)
        ids[row, :n] = torch.tensor(example.input_ids)
        mask[row, :n] = 1
        labels[row, example.answer_start:n] = ids[row, example.answer_start:n]
    return ids, mask, labels
