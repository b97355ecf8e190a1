"""What the copywriter needs from a text generator, whichever engine runs the model.

Three implementations exist: ``engine.generation.llama.LlamaGenerator`` (llama.cpp in this process,
the default for GGUF models), ``engine.generation.batching.BatchingGenerator`` (transformers + torch, for any
Hugging Face model) and ``engine.generation.openai_compatible.RemoteGenerator`` (an OpenAI-compatible server).
Each batches concurrent requests its own way and streams: ``on_text`` is called on the event loop
with a sequence's index and its whole text so far, as the model writes it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

Messages = list[dict[str, str]]
# (index of the sequence within the request, 0..n-1; its text so far). Called on the event loop.
OnText = Callable[[int, str], None]


class Completions(list[str]):
    """``generate``'s texts, plus how many tokens the model produced for them (``None``: unknown;
    the metrics count them) and which were stopped by the token budget rather than by the model
    (their last word may be cut: "#Aur"), where the engine says."""

    def __init__(self, texts: list[str], tokens: int | None = None,
                 truncated: list[bool] | None = None, lengths: list[int] | None = None) -> None:
        super().__init__(texts)
        self.tokens = tokens
        self.truncated = truncated if truncated is not None else [False] * len(texts)
        self.lengths = lengths  # tokens of each text, where the engine counts them per text


@dataclass(frozen=True)
class ServedVersion:
    """A fine-tuned version a generator serves beside its base model, chosen per request by ``key``
    (each workspace writes with its own version; see ``engine.learning.service``)."""

    key: str  # unique among the versions served together: "<workspace>/<name>"
    name: str  # what people see: "v2"
    adapters: tuple[Path, ...]  # its chain of peft adapters, oldest first


class Generator(Protocol):
    """What every engine that serves a model offers the copywriter, the engine and the metrics.
    Each implementation provides all of it: callers never ask which one they hold."""

    @property
    def version(self) -> str:
        """The name of the base model (what writes a request that names no version)."""

    @property
    def served(self) -> frozenset[str]:
        """Keys of the fine-tuned versions served beside the base (``ServedVersion.key``)."""

    @property
    def running(self) -> bool:
        """Whether it can take requests (for health): started and not stopped."""

    @property
    def stats(self) -> object | None:
        """The engine's own counters (requests, batches, tokens) for benchmarks; None where the
        engine keeps none."""

    def start(self) -> None:
        """Start serving on the running event loop (a no-op where loading already did)."""

    @property
    def queue_depth(self) -> int:
        """Requests waiting for the model (for metrics and health)."""

    def check_capacity(self) -> None:
        """Raise ``BusyError`` now when a new request would be refused, so nobody is told
        "writing…" first."""

    async def generate(self, messages: Messages, n: int, max_new_tokens: int,
                       on_text: OnText | None = None, model: str | None = None) -> tuple[Completions, str]:
        """``n`` completions of one prompt by the served version ``model`` (a ``ServedVersion.key``;
        None: the base model), and the name of the model that wrote them (the base model's when
        ``model`` is not served, which happens only across a switch). Raises ``BusyError`` when the
        queue is full, ``UserError`` for failures people can act on."""

    async def warm_up(self, prompts: list[Messages]) -> None:
        """Process these prompts once so their shared beginning is cached (the first /copy after a
        start then skips most of its prefill); a no-op where nothing is cached."""

    async def run_in_model_thread(self, function, *args):
        """Run other CPU-heavy work (review sentiment) where it does not fight the model."""

    async def stop(self) -> None:
        """Fail what is waiting or running with ``BusyError`` and release the model; never blocks
        the event loop."""
