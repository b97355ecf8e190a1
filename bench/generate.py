"""Generation throughput: the engine's batching worker vs plain sequential ``model.generate``.

Same model (the small bundled SmolLM2-135M-Instruct), same prompts,
same sampling, exactly NEW_TOKENS new tokens per sequence, measured side by side in one run.
Prints tokens/s and p50/p95 request latency for each, and the ratio to sequential.

    .venv/bin/python bench/generate.py [--requests 8] [--tokens 64] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.stats import percentile  # noqa: E402
from engine import CopyRequest, engine_config_from_env  # noqa: E402
from engine.copy.prompts import PromptBook  # noqa: E402
from engine.generation.batching import BatchingGenerator  # noqa: E402
from engine.generation.serving import transformers_backend  # noqa: E402
from engine.generation.transformers_model import cached_bundled_model  # noqa: E402

PRODUCTS = [
    "bamboo toothbrush with charcoal bristles", "insulated steel water bottle, cold for 24 hours",
    "noise-cancelling headphones for open offices", "vegan leather backpack with a laptop sleeve",
    "organic cold brew coffee concentrate", "trail running shoes with a rock plate",
    "smart plant pot that waters itself", "linen bed sheets that get softer with every wash",
]




def sequential_baseline(backend, prompts, tokens: int) -> tuple[float, list[float]]:
    """One prompt at a time through ``model.generate``, as a naive bot would."""
    import torch

    latencies = []
    started = time.perf_counter()
    for messages in prompts:
        t0 = time.perf_counter()
        inputs = backend.tokenizer(backend.render(messages), return_tensors="pt", add_special_tokens=False)
        with torch.inference_mode():
            out = backend.model.generate(
                **inputs, max_new_tokens=tokens, min_new_tokens=tokens, do_sample=True,
                temperature=backend.sampling.temperature, top_p=backend.sampling.top_p,
                repetition_penalty=backend.sampling.repetition_penalty,
                pad_token_id=backend.tokenizer.pad_token_id)
        assert out.shape[1] - inputs["input_ids"].shape[1] == tokens
        latencies.append(time.perf_counter() - t0)
    return time.perf_counter() - started, latencies


async def through_engine(generator: BatchingGenerator, prompts, tokens: int, concurrency: int):
    """``concurrency`` clients share the prompts, each sending its next request when one returns."""
    queue = list(prompts)
    latencies: list[float] = []
    calls_before = generator.stats.model_calls

    async def client():
        while queue:
            messages = queue.pop()
            t0 = time.perf_counter()
            await generator.generate(messages, 1, tokens)
            latencies.append(time.perf_counter() - t0)

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    return time.perf_counter() - started, latencies, generator.stats.model_calls - calls_before


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=8, help="requests per measurement")
    parser.add_argument("--tokens", type=int, default=64, help="new tokens per request")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds; figures are medians")
    args = parser.parse_args()

    config = engine_config_from_env()
    # The transformers engine (the batching worker) on SmolLM2-135M: what this benchmark measures.
    backend = transformers_backend(str(cached_bundled_model(config.model_cache_dir)), config)
    backend.sampling.min_new_tokens = args.tokens  # every sequence exactly --tokens long
    book = PromptBook.load(config.prompts_dir)
    prompts = [book.messages(CopyRequest(product=PRODUCTS[i % len(PRODUCTS)], tone="playful"))
               for i in range(args.requests)]
    import torch

    print(f"model {backend.version}, {torch.get_num_threads()} torch threads, {args.requests} requests "
          f"x {args.tokens} new tokens, max batch {config.max_batch}")
    asyncio.run(measure(backend, prompts, args, config.max_batch))


async def measure(backend, prompts, args, max_batch: int) -> None:
    # Every path runs in the generator's one model thread: torch keeps a thread pool per calling
    # thread, and comparing paths on different threads would measure that, not batching.
    generator = BatchingGenerator(backend, max_batch=max_batch, queue_size=len(prompts))
    generator.start()
    in_model_thread = generator.run_in_model_thread
    # Warm-up: the first calls of each path pay one-off kernel set-up costs.
    await in_model_thread(sequential_baseline, backend, prompts[:2], 8)
    await through_engine(generator, prompts[:4], 8, 4)

    total = args.requests * args.tokens
    # Configurations are interleaved round by round, so a noisy neighbour hurts them all alike;
    # each figure is the median over rounds.
    names = ["sequential model.generate"] + [f"engine, concurrency {c}" for c in (1, 4, 8)]
    rates: dict[str, list[float]] = {name: [] for name in names}
    lat: dict[str, list[float]] = {name: [] for name in names}
    calls: dict[str, int] = {}
    for round_number in range(args.rounds):
        elapsed, latencies = await in_model_thread(sequential_baseline, backend, prompts, args.tokens)
        rates[names[0]].append(total / elapsed)
        lat[names[0]] += latencies
        calls[names[0]] = args.requests
        for name, concurrency in zip(names[1:], (1, 4, 8)):
            elapsed, latencies, model_calls = await through_engine(generator, prompts, args.tokens,
                                                                   concurrency)
            rates[name].append(total / elapsed)
            lat[name] += latencies
            calls[name] = model_calls
        print(f"round {round_number + 1}: " + ", ".join(f"{rates[n][-1]:.1f}" for n in names) + " tok/s",
              flush=True)
    await generator.stop()

    base = statistics.median(rates[names[0]])
    print(f"{'':28} {'tok/s':>7} {'p50 s':>7} {'p95 s':>7} {'model calls':>12} {'vs sequential':>14}")
    for name in names:
        rate = statistics.median(rates[name])
        print(f"{name:28} {rate:7.1f} {statistics.median(lat[name]):7.2f} "
              f"{percentile(lat[name], 0.95):7.2f} {calls[name]:12d} {rate / base:13.2f}x")

if __name__ == "__main__":
    main()
