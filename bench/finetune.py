"""The learning loop, measured: training speed and memory, /copy latency while a fine-tune runs, and
whether fine-tuning on approved copy makes the model write more like it.

Needs the evaluation data in ``../shared/data/copy/`` (next to the repository); without it the
benchmark says so and exits. ``amazon_products_train.csv`` plays the team's approved copy (the
benchmark's own training input, nothing else uses it); ``amazon_products_valid.csv`` is held out.

    .venv/bin/python bench/finetune.py [--examples 200] [--threads 2] [--latency-requests 8]

1. A real fine-tune through the engine (separate process, ``--threads`` CPU threads): seconds per
   training example, peak memory of the training process, the promotion decision.
2. Validation NLL of the reference ads and ROUGE-L of generated copy (greedy, cleaned as the bot
   cleans it) against them, before and after, on the held-out file.
3. /copy p50 latency while a second fine-tune trains with the default settings (1 thread, low
   priority), and idle, interleaved: for each idle request the training process is paused, so load
   from elsewhere on the machine hits both figures alike. That run is stopped once measured.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, replace
from pathlib import Path

os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bot.rendering.learning import finetune_start_text  # noqa: E402
from engine import CopyRequest, Engine, Feedback, Origin, Verdict, engine_config_from_env  # noqa: E402
from engine.copy.cleaning import clean_variant  # noqa: E402
from engine.generation.serving import training_source, transformers_backend  # noqa: E402
from engine.generation.transformers_backend import LocalBackend, SamplingSettings  # noqa: E402
from engine.learning.evaluate import mean_nll  # noqa: E402
from engine.learning.tokens import encode  # noqa: E402

DATA = REPO.parent / "shared" / "data" / "copy"
ORIGIN = Origin(platform="console", workspace="bench", channel="bench", user="bench")
LATENCY_PRODUCTS = ["bamboo toothbrush with charcoal bristles", "insulated steel water bottle",
                    "noise-cancelling headphones for open offices", "vegan leather backpack",
                    "organic cold brew coffee concentrate", "trail running shoes with a rock plate",
                    "smart plant pot that waters itself", "linen bed sheets that get softer"]


def read_rows(name: str) -> list[dict]:
    with open(DATA / name, newline="", encoding="utf-8") as f:
        return [{k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(f)]


def product_text(row: dict) -> str:
    return f"{row['product']}: {row['description']}"[:1000]


def rouge_l(candidate: str, reference: str) -> float:
    """ROUGE-L F1 on lower-cased words (longest common subsequence)."""
    a, b = candidate.lower().split(), reference.lower().split()
    if not a or not b:
        return 0.0
    previous = [0] * (len(b) + 1)
    for word in a:
        current = [0]
        for j, other in enumerate(b, start=1):
            current.append(previous[j - 1] + 1 if word == other else max(previous[j], current[-1]))
        previous = current
    lcs = previous[-1]
    if lcs == 0:
        return 0.0
    precision, recall = lcs / len(a), lcs / len(b)
    return 2 * precision * recall / (precision + recall)


def quality(engine: Engine, backend: LocalBackend, rows: list[dict]) -> tuple[float, float]:
    """(validation NLL of the reference ads, mean ROUGE-L of greedy generated copy vs them)."""
    messages = [engine.prompts.messages(CopyRequest(product=product_text(r))) for r in rows]
    encoded = [encode(backend.tokenizer, m, r["ad"]) for m, r in zip(messages, rows)]
    nll = mean_nll(backend.model, encoded, backend.tokenizer.pad_token_id)
    limits = engine.prompts.limits(CopyRequest(product="x"))
    budget = engine.copywriter.token_budget(limits.max_words)
    greedy = LocalBackend(backend.model, backend.tokenizer, "eval", SamplingSettings(temperature=0))
    scores = []
    for start in range(0, len(rows), 8):
        texts = greedy.generate(messages[start:start + 8], [budget] * len(messages[start:start + 8]))
        for text, row in zip(texts, rows[start:start + 8]):
            scores.append(rouge_l(clean_variant(text, limits) or "", row["ad"]))
    return nll, statistics.mean(scores)


async def seed_approved(engine: Engine, rows: list[dict]) -> None:
    """Store each row as a /copy generation whose variant (the reference ad) the team approved."""
    await engine.store.ensure_workspace(ORIGIN.workspace_key, ORIGIN.platform)
    for row in rows:
        request = CopyRequest(product=product_text(row), n=1)
        _, variants = await engine.store.save_generation(
            ORIGIN.workspace_key, ORIGIN.channel, ORIGIN.user, asdict(request),
            engine.prompts.messages(request), engine.generator.version, [row["ad"]])
        await engine.record_feedback(Feedback(ORIGIN, Verdict.APPROVE, variant_id=variants[0].id))


async def copy_latencies(engine: Engine, count: int) -> list[float]:
    latencies = []
    for i in range(count):
        started = time.perf_counter()
        await engine.copy(ORIGIN, CopyRequest(product=LATENCY_PRODUCTS[i % len(LATENCY_PRODUCTS)], n=3))
        latencies.append(time.perf_counter() - started)
    return latencies


async def latencies_idle_and_training(config, rows: list[dict], count: int) -> tuple[list[float], list[float]]:
    """/copy latencies while a fine-tune with the default thread setting trains, and with the bot
    idle. The two are interleaved under the same background load: for the idle ones the training
    process is paused (SIGSTOP), so it holds its memory but uses no CPU. Runs in a fresh data
    directory; the fine-tune is stopped once measured."""
    workdir = Path(tempfile.mkdtemp(prefix="copybot-bench-latency-"))
    # More epochs than needed, so training outlasts the measurements.
    engine = await Engine.open(replace(config, data_dir=workdir, finetune_threads=1, finetune_epochs=4))
    idle: list[float] = []
    busy: list[float] = []
    try:
        await seed_approved(engine, rows)
        await copy_latencies(engine, 1)  # warm-up
        outcome = await engine.learning.start(ORIGIN.workspace_key, "bench")
        if not outcome.outcome.started:
            raise SystemExit(f"the fine-tune did not start: {finetune_start_text(outcome)}")
        progress = engine.learning.runner.progress
        while progress.phase != "training" or progress.step < 1:
            if not engine.learning.runner.running:
                raise SystemExit(f"the fine-tune ended early: {engine.learning.runner.last_result}")
            await asyncio.sleep(0.5)
        for i in range(count):
            for paused in ((False, True) if i % 2 == 0 else (True, False)):
                if paused:
                    os.kill(progress.pid, signal.SIGSTOP)
                try:
                    (idle if paused else busy).extend(await copy_latencies(engine, 1))
                finally:
                    if paused:
                        os.kill(progress.pid, signal.SIGCONT)
            if progress.phase != "training":
                print(f"  (training ended after {i + 1} pairs; the rest are not measured)")
                break
        print(f"  (the fine-tune was at step {progress.step} of {progress.steps} when measurements ended)")
        return idle, busy
    finally:
        await engine.close()  # stops the training process
        shutil.rmtree(workdir, ignore_errors=True)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--examples", type=int, default=200, help="approved examples to fine-tune on")
    parser.add_argument("--threads", type=int, default=2, help="training threads for the speed run")
    parser.add_argument("--latency-requests", type=int, default=8, help="/copy requests per latency figure")
    parser.add_argument("--latency-only", action="store_true", help="skip the speed and quality part")
    args = parser.parse_args()
    if not DATA.is_dir():
        print(f"bench/finetune.py: {DATA} is not here; this benchmark needs the evaluation data "
              f"(amazon_products_train.csv, amazon_products_valid.csv). Skipped.")
        return
    train_rows = read_rows("amazon_products_train.csv")[: args.examples]
    valid_rows = read_rows("amazon_products_valid.csv")

    env_config = engine_config_from_env()
    source = training_source(env_config)  # a transformers checkpoint: the training path
    workdir = Path(tempfile.mkdtemp(prefix="copybot-bench-finetune-"))
    config = replace(env_config, data_dir=workdir, database=None, model=source, backend="local",
                     finetune_threads=args.threads, finetune_min_examples=1, finetune_cron="off")
    import torch

    print(f"model {source}\n{len(train_rows)} approved examples, {len(valid_rows)} held-out rows, "
          f"{os.cpu_count()} CPUs, epochs {config.finetune_epochs}, lr {config.finetune_learning_rate}, "
          f"LoRA r={config.finetune_lora_rank}, batch {config.finetune_batch_size}")
    if args.latency_only:
        idle, busy = await latencies_idle_and_training(config, train_rows, args.latency_requests)
        print(f"/copy p50: idle {statistics.median(idle):.2f} s, while fine-tuning {statistics.median(busy):.2f} s "
              f"({statistics.median(busy) / statistics.median(idle):.2f}x)")
        return
    engine = await Engine.open(config)
    try:
        # NLL and ROUGE are measured with transformers, on the checkpoint fine-tunes train from.
        source = await asyncio.to_thread(training_source, config)
        before = quality(engine, transformers_backend(source, config), valid_rows)
        print(f"before: validation NLL {before[0]:.3f}, ROUGE-L {before[1]:.3f}")

        await seed_approved(engine, train_rows)
        started = time.perf_counter()
        result = await engine.learning.runner.run("bench", ORIGIN.workspace_key)
        wall = time.perf_counter() - started
        if result.version is None:
            raise SystemExit(f"fine-tune did not finish: {result.message}")
        metrics = result.version.metrics
        print(f"fine-tune: {result.status}; {metrics['train_examples']} train / {metrics['valid_examples']} "
              f"validation examples, {metrics['steps']} steps, training {metrics['train_seconds']:.0f} s, "
              f"{metrics['seconds_per_example']:.2f} s per example seen "
              f"({metrics.get('cpu_seconds_per_example', 0):.2f} CPU s), whole run {wall:.0f} s "
              f"(training process {metrics['total_seconds']:.0f} s), peak memory of the training "
              f"process {metrics['peak_memory_mb']} MB, {metrics.get('precision', 'fp32')} maths, "
              f"loss {metrics['first_loss']} -> {metrics['last_loss']}")
        per_200 = metrics["seconds_per_example"] * 200 * config.finetune_epochs
        # CPU seconds over the threads: what the run takes on an otherwise idle machine.
        per_200_idle = metrics.get("cpu_seconds_per_example", 0) * 200 * config.finetune_epochs / args.threads
        print(f"  => 200 examples x {config.finetune_epochs} epoch(s): {per_200:.0f} s of training as "
              f"measured, ≈ {per_200_idle:.0f} s on an idle machine (CPU time / {args.threads} threads); "
              f"goal: under 300 s")
        print(f"  decision: {'; '.join(metrics['decision']['reasons'])}")
        versions = engine.learning.versions
        tuned = transformers_backend(source, config, versions.adapters(await versions.chain(result.version)))
        after = quality(engine, tuned, valid_rows)
        print(f"after:  validation NLL {after[0]:.3f}, ROUGE-L {after[1]:.3f}")
    finally:
        await engine.close()

    shutil.rmtree(workdir, ignore_errors=True)
    idle, busy = await latencies_idle_and_training(config, train_rows, args.latency_requests)
    print(f"/copy (n: 3) p50: idle {statistics.median(idle):.2f} s, during a fine-tune "
          f"{statistics.median(busy):.2f} s (bot: {torch.get_num_threads()} torch threads; training: "
          f"1 thread, low priority)")
    print()
    print(f"{'':34} {'before':>8} {'after':>8}")
    print(f"{'validation NLL (reference ads)':34} {before[0]:8.3f} {after[0]:8.3f}")
    print(f"{'ROUGE-L generated vs reference':34} {before[1]:8.3f} {after[1]:8.3f}")
    print(f"/copy p50: idle {statistics.median(idle):.2f} s, while fine-tuning {statistics.median(busy):.2f} s "
          f"({statistics.median(busy) / statistics.median(idle):.2f}x)")
    print(f"training: {metrics['seconds_per_example']:.2f} s per example ({args.threads} threads, "
          f"{metrics.get('precision', 'fp32')}), 200 examples ≈ {per_200:.0f} s as measured, "
          f"≈ {per_200_idle:.0f} s from CPU time, peak memory {metrics['peak_memory_mb']} MB")


if __name__ == "__main__":
    asyncio.run(main())
