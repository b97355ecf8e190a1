"""The transformers generation backend: a causal LM running in this process, on the CPU.

It serves models llama.cpp does not (any Hugging Face id or folder) and the tests' tiny model.
``generate`` is synchronous and CPU-bound; the batching worker calls it from its own thread so the
event loop keeps serving chat events meanwhile. With ``on_text`` it reports each row's text as the
batch decodes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from engine.generation.contract import Completions, Messages

logger = logging.getLogger(__name__)

RowText = Callable[[int, str], None]  # (row of the batch, its text so far); called in the model thread


class GenerationBackend(Protocol):
    """What the batching worker needs from a model: one completion per prompt."""

    version: str

    def generate(self, prompts: list[Messages], max_new_tokens: list[int],
                 on_text: RowText | None = None) -> list[str]: ...


@dataclass
class SamplingSettings:
    temperature: float = 0.5
    top_p: float = 0.9
    repetition_penalty: float = 1.15
    min_new_tokens: int = 0  # benchmarks set it to make every sequence the same length


class LocalBackend:
    def __init__(self, model, tokenizer, version: str, sampling: SamplingSettings | None = None):
        self.model = model
        self.tokenizer = tokenizer
        self.version = version
        self.sampling = sampling or SamplingSettings()

    def render(self, messages: Messages) -> str:
        return self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)

    def generate(self, prompts: list[Messages], max_new_tokens: list[int],
                 on_text: RowText | None = None) -> list[str]:
        import torch

        texts = [self.render(messages) for messages in prompts]
        inputs = self.tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)
        budget = max(max_new_tokens)
        with torch.inference_mode():
            output = self.model.generate(
                **inputs,
                max_new_tokens=budget,
                do_sample=self.sampling.temperature > 0,
                temperature=self.sampling.temperature or None,
                top_p=self.sampling.top_p if self.sampling.temperature > 0 else None,
                repetition_penalty=self.sampling.repetition_penalty,
                min_new_tokens=min(self.sampling.min_new_tokens, budget) or None,
                pad_token_id=self.tokenizer.pad_token_id,
                streamer=_RowStreamer(self.tokenizer, max_new_tokens, on_text) if on_text else None,
            )
        new_tokens = output[:, inputs["input_ids"].shape[1]:]
        # One batch serves requests with different budgets: cut each at its own.
        rows = [row[:limit] for row, limit in zip(new_tokens, max_new_tokens)]
        lengths = [self._generated_length(row) for row in rows]
        return Completions([self.tokenizer.decode(row, skip_special_tokens=True) for row in rows],
                           tokens=sum(lengths), truncated=[not self._stopped(row) for row in rows],
                           lengths=lengths)

    def _stopped(self, row) -> bool:
        """The model ended this row itself (an end-of-sequence token), not the budget."""
        return bool(((row == self.tokenizer.eos_token_id) | (row == self.tokenizer.pad_token_id)).any())

    def _generated_length(self, row) -> int:
        """Tokens up to and including the first end-of-sequence (the rest is padding)."""
        stops = (row == self.tokenizer.eos_token_id) | (row == self.tokenizer.pad_token_id)
        found = stops.nonzero()
        return int(found[0, 0]) + 1 if len(found) else len(row)


class _RowStreamer:
    """transformers calls ``put`` with the prompt first, then with each step's new token of every
    row; the text of each row so far goes to ``on_text`` (its own budget and end-of-sequence
    respected). TextStreamer refuses batches, hence this."""

    def __init__(self, tokenizer, budgets: list[int], on_text: RowText) -> None:
        self.tokenizer = tokenizer
        self.budgets = budgets
        self.on_text = on_text
        self.prompt_seen = False
        self.tokens: list[list[int]] = [[] for _ in budgets]
        self.ended = [False] * len(budgets)
        self.stops = {tokenizer.eos_token_id, tokenizer.pad_token_id}

    def put(self, value) -> None:
        if not self.prompt_seen:
            self.prompt_seen = True
            return
        for row, token in enumerate(value.reshape(-1).tolist()):
            if self.ended[row]:
                continue
            if token in self.stops or len(self.tokens[row]) >= self.budgets[row]:
                self.ended[row] = True
                continue
            self.tokens[row].append(token)
            self.on_text(row, self.tokenizer.decode(self.tokens[row], skip_special_tokens=True))

    def end(self) -> None:
        pass
