"""Models for tests: the real bundled SmolLM2 (from the safetensors cache) and a tiny random model
built from a config with the same tokenizer, for tests that need many fast generations."""

from __future__ import annotations

import threading
from pathlib import Path

from engine.generation.transformers_backend import LocalBackend, SamplingSettings
from engine.generation.transformers_model import cached_bundled_model, load_model

REPO = Path(__file__).resolve().parent.parent
# Kept across runs on a developer machine; a fresh CI clone converts the GGUF once (~25 s).
TEST_MODEL_CACHE = REPO / ".cache" / "models"


def bundled_model_dir() -> Path:
    return cached_bundled_model(TEST_MODEL_CACHE)


def build_tiny_model(directory: Path, seed: int = 0) -> Path:
    """A 2-layer, 64-wide Llama with SmolLM2's tokenizer, randomly initialised, saved to ``directory``."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaConfig

    tokenizer = AutoTokenizer.from_pretrained(bundled_model_dir())
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=2048,
        tie_word_embeddings=True, bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(config)
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


def local_backend(directory: Path, version: str) -> LocalBackend:
    model, tokenizer = load_model(str(directory))
    return LocalBackend(model, tokenizer, version=version, sampling=SamplingSettings(temperature=1.0))


class GatedBackend:
    """A backend behind a gate: while it is shut, generation waits (a busy generator), which makes
    "acknowledged before the model finished" observable without timing."""

    def __init__(self, inner, shut: bool = False) -> None:
        self.inner = inner
        self.version = inner.version
        self.entered = threading.Event()  # a generation has started
        self._open = threading.Event()
        if not shut:
            self._open.set()

    def shut(self) -> None:
        self._open.clear()

    def open(self) -> None:
        self._open.set()

    def generate(self, prompts, max_new_tokens, on_text=None):
        self.entered.set()
        if not self._open.wait(timeout=60):
            raise TimeoutError("the test never opened the generation gate")
        return self.inner.generate(prompts, max_new_tokens, on_text)


class CannedBackend:
    """A model that answers every prompt with the same few texts (round-robin) and keeps the
    prompts it was given: the brief checks and the used/avoided field need real sentences."""

    version = "canned-1"

    def __init__(self, answers: list[str]) -> None:
        self.answers = answers
        self.prompts: list = []

    def generate(self, prompts, max_new_tokens, on_text=None):
        self.prompts += prompts
        return [self.answers[i % len(self.answers)] for i in range(len(prompts))]
