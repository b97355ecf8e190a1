"""What the copywriter needs from a text generator, whichever engine runs the model.

Three implementations exist: ``engine.llama_generator.LlamaGenerator`` (llama.cpp in this process,
the default for GGUF models), ``engine.generator.BatchingGenerator`` (transformers + torch, for any
Hugging Face model) and ``engine.remote_backend.RemoteGenerator`` (an OpenAI-compatible server).
Each batches concurrent requests its own way and streams: ``on_text`` is called on the event loop
with a sequence's index and its whole text so far, as the model writes it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

Messages = list[dict[str, str]]
# (index of the sequence within the request, 0..n-1; its text so far). Called on the event loop.
OnText = Callable[[int, str], None]


class Completions(list):
    """``generate``'s texts, plus how many tokens the model produced for them (``None``: unknown;
    the metrics count them) and which were stopped by the token budget rather than by the model
    (their last word may be cut: "#Aur"), where the engine says."""

    def __init__(self, texts: list[str], tokens: int | None = None,
                 truncated: list[bool] | None = None, lengths: list[int] | None = None) -> None:
        super().__init__(texts)
        self.tokens = tokens
        self.truncated = truncated if truncated is not None else [False] * len(texts)
        self.lengths = lengths  # tokens of each text, where the engine counts them per text


class Generator(Protocol):
    @property
    def version(self) -> str:
        """The name of the model (or model version) that writes the next request."""

    @property
    def queue_depth(self) -> int:
        """Requests waiting for the model (for metrics and health)."""

    def check_capacity(self) -> None:
        """Raise ``BusyError`` now when a new request would be refused, so nobody is told
        "writing…" first."""

    async def generate(self, messages: Messages, n: int, max_new_tokens: int,
                       on_text: OnText | None = None) -> tuple[Completions, str]:
        """``n`` completions of one prompt, and the model version that wrote them. Raises
        ``BusyError`` when the queue is full, ``UserError`` for failures people can act on."""

    async def warm_up(self, prompts: list[Messages]) -> None:
        """Process these prompts once so their shared beginning is cached (the first /copy after a
        start then skips most of its prefill); a no-op where nothing is cached."""

    async def run_in_model_thread(self, function, *args):
        """Run other CPU-heavy work (review sentiment) where it does not fight the model."""

    async def stop(self) -> None:
        """Fail what is waiting or running with ``BusyError`` and release the model; never blocks
        the event loop."""
