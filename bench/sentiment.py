"""Review-sentiment benchmark (not a test): accuracy on labelled files and summary speed.

    .venv/bin/python bench/sentiment.py [--model SPEC] [--file LABELLED ...] [--n 1000] [--baselines]

* Accuracy on each labelled file: ``sentence<TAB>0|1`` lines, or a CSV with a text column and a
  label column (label/sentiment/polarity/target: 0/1, negative/positive). The model's 3-way output
  is read as binary: positive when P(positive) > P(negative).
* When ``../shared/data/sentiment/`` exists (next to the repository), both files there are
  measured; otherwise that is said and skipped. Those files are for measuring only: nothing here
  trains on them (``--baselines`` trains its logistic regression on the project's own sentences).
* 3-way accuracy on the project's held-out sentences (tests/reviews/data/labelled.tsv).
* Speed: model load time, classification reviews/s, and the wall time of a whole 1,000-review
  summary (language check, classification, themes, trend) from ``read_reviews`` to ``ReviewSummary``.
* ``--baselines``: VADER (if the ``vaderSentiment`` package is installed) and frozen MiniLM
  embeddings + logistic regression trained on the project's sentences, on the same files.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from engine.reviews import SentimentAnalyzer, read_reviews  # noqa: E402
from engine.reviews.language import detect_language  # noqa: E402

SHARED = REPO.parent / "shared" / "data" / "sentiment"
SHARED_FILES = ("amazon_cells_labelled.txt", "imdb_labelled.txt")
HELD_OUT = REPO / "tests" / "reviews" / "data" / "labelled.tsv"


def load_labelled(path: Path) -> list[tuple[str, int]]:
    """(text, 0|1) pairs. Read with newline='' and split on '\\n' only: some files contain U+0085."""
    with open(path, encoding="utf-8", newline="") as fh:
        raw = fh.read()
    if path.suffix.lower() == ".csv":
        rows = list(csv.DictReader(io.StringIO(raw, newline="")))
        if not rows:
            return []
        keys = {k.strip().lower(): k for k in rows[0]}
        text_key = next(keys[k] for k in ("text", "review", "sentence", "comment", "body", "content") if k in keys)
        label_key = next(keys[k] for k in ("label", "sentiment", "polarity", "target") if k in keys)
        as_int = {"0": 0, "1": 1, "negative": 0, "positive": 1, "neg": 0, "pos": 1}
        return [(r[text_key], as_int[r[label_key].strip().lower()]) for r in rows if r[label_key].strip().lower() in as_int]
    pairs = []
    for line in raw.split("\n"):
        line = line.rstrip("\r")
        if "\t" not in line:
            continue
        text, label = line.rsplit("\t", 1)
        if label.strip() in ("0", "1"):
            pairs.append((text.strip(), int(label)))
    return pairs


def binary_accuracy(analyzer: SentimentAnalyzer, pairs: list[tuple[str, int]]) -> tuple[float, float]:
    started = time.monotonic()
    predictions = analyzer.classify([t for t, _ in pairs])
    seconds = time.monotonic() - started
    correct = sum((p.positive > p.negative) == bool(y) for p, (_, y) in zip(predictions, pairs))
    return correct / len(pairs), len(pairs) / seconds


def summary_timing(analyzer: SentimentAnalyzer, texts: list[str], n: int) -> tuple[float, float, object]:
    """(wall seconds, CPU seconds of this process, summary) for one n-review summary."""
    step = max(1, len(texts) // n)  # an even sample across every file, repeated if there are fewer than n
    lines = [texts[(i * step) % len(texts)] for i in range(n)]
    started, cpu = time.monotonic(), time.process_time()
    batch = read_reviews("\n".join(lines), None, None, None, limit=max(n, 1))
    summary = analyzer.summarize(batch)
    return time.monotonic() - started, time.process_time() - cpu, summary


def baselines(files: dict[str, list[tuple[str, int]]], analyzer: SentimentAnalyzer) -> None:
    try:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        vader = SentimentIntensityAnalyzer()
        for name, pairs in files.items():
            acc = sum((vader.polarity_scores(t)["compound"] >= 0) == bool(y) for t, y in pairs) / len(pairs)
            print(f"  baseline VADER                         {name:28s} {acc:6.1%}")
    except ImportError:
        print("  baseline VADER: skipped (pip install vaderSentiment to measure it)")
    import numpy as np

    try:
        from sklearn.linear_model import LogisticRegression
    except ImportError:
        print("  baseline MiniLM + LR: skipped (pip install scikit-learn to measure it)")
        return

    from engine.reviews.train import load_training_sentences

    train = [(t, l) for t, l in load_training_sentences() if l != "neutral"]
    embed = analyzer._embedder.embed  # the base MiniLM, adapter off
    clf = LogisticRegression(max_iter=2000, C=1.0).fit(embed([t for t, _ in train]), [l == "positive" for _, l in train])
    for name, pairs in files.items():
        acc = float(np.mean(clf.predict(embed([t for t, _ in pairs])) == np.array([bool(y) for _, y in pairs])))
        print(f"  baseline MiniLM + LR (project data)    {name:28s} {acc:6.1%}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="copybot review-sentiment benchmark")
    parser.add_argument("--model", default=None, help="'bundled' (default) or a HF model id / folder")
    parser.add_argument("--file", type=Path, action="append", default=[], help="labelled file (TSV or CSV)")
    parser.add_argument("--n", type=int, default=1000, help="reviews in the timed summary")
    parser.add_argument("--baselines", action="store_true", help="also measure VADER and MiniLM + LR")
    parser.add_argument("--speed-only", action="store_true", help="skip the accuracy figures")
    args = parser.parse_args(argv)

    started = time.monotonic()
    analyzer = SentimentAnalyzer(args.model)
    print(f"model: {analyzer.model_name}  (loaded in {time.monotonic() - started:.1f} s)")

    files: dict[str, list[tuple[str, int]]] = {}
    for path in args.file:
        files[path.name] = load_labelled(path)
    if SHARED.is_dir():
        for name in SHARED_FILES:
            if (SHARED / name).exists():
                files[name] = load_labelled(SHARED / name)
    else:
        print(f"shared evaluation data not found at {SHARED}: skipping the shared accuracy figures")

    print("accuracy (binary: positive vs negative)" if not args.speed_only else "accuracy: skipped (--speed-only)")
    for name, pairs in ({} if args.speed_only else files).items():
        acc, rate = binary_accuracy(analyzer, pairs)
        flagged = sum(detect_language(t) not in (None, "en") for t, _ in pairs)
        print(f"  {name:40s} {acc:6.1%}  ({len(pairs)} sentences, {rate:.0f}/s; language check would skip {flagged})")
    if HELD_OUT.exists() and not args.speed_only:
        rows = [l.split("\t", 1) for l in HELD_OUT.read_text(encoding="utf-8").split("\n") if "\t" in l]
        preds = analyzer.classify([t for _, t in rows])
        acc3 = sum(p.label == y for p, (y, _) in zip(preds, rows)) / len(rows)
        print(f"  {'project held-out, 3-way':40s} {acc3:6.1%}  ({len(rows)} sentences)")
    if args.baselines and files:
        baselines(files, analyzer)

    texts = [t for pairs in files.values() for t, _ in pairs]
    if not texts:
        from engine.reviews.train import load_training_sentences

        texts = [t for t, _ in load_training_sentences()]
        print("timing on the project's own sentences (no labelled file given)")
    analyzer.summarize(read_reviews("\n".join(texts[:50])))  # warm-up
    import torch

    seconds, cpu, summary = summary_timing(analyzer, texts, args.n)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"summary of {args.n:,} reviews: {seconds:.2f} s wall ({args.n / seconds:.0f} reviews/s), "
          f"{cpu:.1f} s CPU, torch threads {torch.get_num_threads()}, {os.cpu_count()} cores, load {load:.1f}; "
          f"praise: {', '.join(t.label for t in summary.praise[:3]) or '-'}; "
          f"complaints: {', '.join(t.label for t in summary.complaints[:3]) or '-'}")
    print("goal: >= 88% on each shared file, 1,000-review summary < 10 s on 2 cores")


if __name__ == "__main__":
    main()
