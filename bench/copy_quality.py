"""Copy quality by sampling setting: what a marketer would notice, counted side by side in one run.

Same prompts (the shipped ``prompts/``), same products and channels, each request written once per
setting, settings interleaved request by request. For each setting it prints:

- names product: share of variants that use a word of the product description (a variant that
  never says what it sells is the commonest failure of a small model);
- speaks as "I": share written as a person ("I'm excited to announce…") instead of as the brand;
- kept: share of generated sequences that survived cleaning and the duplicate check;
- calls/request: model calls per /copy (regenerations cost time), and median seconds per /copy.

    .venv/bin/python bench/copy_quality.py [--rounds 2] [--settings 0.8/0.95,0.5/0.9,0.3/0.9]

There is no reference copy to score against here; the fine-tune benchmark (bench/finetune.py)
scores ROUGE-L against held-out copy.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.generate import PRODUCTS  # noqa: E402
from engine import CopyRequest, engine_config_from_env  # noqa: E402
from engine.cleaning import words  # noqa: E402
from engine.copywriter import Copywriter  # noqa: E402
from engine.engine import load_local_backend  # noqa: E402
from engine.generator import BatchingGenerator  # noqa: E402
from engine.prompts import PromptBook  # noqa: E402

CHANNELS = ["instagram", "email subject", "product page", "tweet", "sms", "linkedin"]
TONES = ["playful", "professional", "bold", "friendly"]
FILLER = frozenset("a an and the of for to in with that every your our".split())
FIRST_PERSON = re.compile(r"\b(i|i'm|i've|i'll|i'd|me|my)\b", re.IGNORECASE)
STEM = 5  # "toothbrush" and "toothbrushes", "insulated" and "insulation" count as the same word


def names_product(text: str, product: str) -> bool:
    wanted = {w[:STEM] for w in words(product) if w not in FILLER}
    return bool(wanted & {w[:STEM] for w in words(text)})


class Tally:
    def __init__(self) -> None:
        self.variants = self.named = self.first_person = self.sequences = self.calls = 0
        self.requests = 0
        self.seconds: list[float] = []

    def row(self, name: str) -> str:
        share = lambda part: part / self.variants if self.variants else 0.0  # noqa: E731
        return (f"{name:>12} {share(self.named):>13.0%} {share(self.first_person):>12.0%} "
                f"{self.variants / max(self.sequences, 1):>6.0%} {self.calls / self.requests:>14.2f} "
                f"{statistics.median(self.seconds):>10.1f} {self.variants:>9}")


def parse_settings(text: str) -> list[tuple[float, float]]:
    pairs = []
    for item in text.split(","):
        temperature, top_p = item.split("/")
        pairs.append((float(temperature), float(top_p)))
    return pairs


async def measure(backend, copywriter: Copywriter, generator: BatchingGenerator,
                  settings: list[tuple[float, float]], rounds: int) -> dict[str, Tally]:
    tallies = {f"{t}/{p}": Tally() for t, p in settings}
    requests = [
        CopyRequest(product=product, tone=TONES[(i + r) % len(TONES)],
                    ad_channel=CHANNELS[(i + r) % len(CHANNELS)], n=3)
        for r in range(rounds) for i, product in enumerate(PRODUCTS)
    ]
    for number, request in enumerate(requests, 1):
        # Settings take turns request by request, so a noisy neighbour hurts them all alike.
        for (temperature, top_p), tally in zip(settings, tallies.values()):
            backend.sampling.temperature, backend.sampling.top_p = temperature, top_p
            calls, sequences = generator.stats.model_calls, generator.stats.sequences
            started = time.perf_counter()
            draft = await copywriter.write(request, brand_voice=None, examples=[])
            tally.seconds.append(time.perf_counter() - started)
            tally.requests += 1
            tally.calls += generator.stats.model_calls - calls
            tally.sequences += generator.stats.sequences - sequences
            tally.variants += len(draft.texts)
            tally.named += sum(names_product(text, request.product) for text in draft.texts)
            tally.first_person += sum(bool(FIRST_PERSON.search(text)) for text in draft.texts)
        print(f"request {number}/{len(requests)} done", file=sys.stderr, flush=True)
    return tallies


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=2, help="passes over the products")
    parser.add_argument("--settings", default="0.8/0.95,0.5/0.9,0.3/0.9",
                        help="comma-separated temperature/top_p pairs to compare")
    args = parser.parse_args()

    config = engine_config_from_env()
    backend = load_local_backend(config)
    book = PromptBook.load(config.prompts_dir)
    generator = BatchingGenerator(backend, max_batch=config.max_batch, queue_size=16)
    copywriter = Copywriter(book, generator, config.max_new_tokens, config.max_rounds)
    settings = parse_settings(args.settings)
    print(f"model {backend.version}, prompts {config.prompts_dir}, {args.rounds * len(PRODUCTS)} "
          f"requests x 3 variants per setting; defaults now {config.temperature}/{config.top_p}")

    async def run() -> dict[str, Tally]:
        generator.start()
        try:
            return await measure(backend, copywriter, generator, settings, args.rounds)
        finally:
            await generator.stop()

    tallies = asyncio.run(run())
    print(f"{'temp/top_p':>12} {'names product':>13} {'speaks as I':>12} {'kept':>6} "
          f"{'calls/request':>14} {'p50 s':>10} {'variants':>9}")
    for name, tally in tallies.items():
        print(tally.row(name))


if __name__ == "__main__":
    main()
