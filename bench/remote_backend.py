"""The OpenAI-compatible backend's own cost and what its concurrency buys.

A local fake server answers every completion after a fixed delay (a stand-in for a GPU server's
generation time). For a batch of 8 sequences (a full generator batch), it compares requests sent
one at a time with requests sent concurrently, and measures the per-request HTTP overhead with an
instant server. Prints medians and p99 over interleaved rounds.

    .venv/bin/python bench/remote_backend.py [--rounds 15] [--delay 0.1]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from engine.remote_backend import RemoteBackend, RemoteSettings  # noqa: E402
from tests.ops.fake_openai import FakeOpenAI  # noqa: E402
from bench.stats import percentile  # noqa: E402

BATCH = 8
MESSAGES = [{"role": "user", "content": "Write one line of ad copy for linen bed sheets."}]




def timed_batch(backend: RemoteBackend, size: int) -> float:
    started = time.perf_counter()
    backend.generate([MESSAGES] * size, [48] * size)
    return time.perf_counter() - started


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--delay", type=float, default=0.1, help="seconds per completion at the server")
    args = parser.parse_args()
    fake = FakeOpenAI()
    await fake.start()
    try:
        backends = {c: RemoteBackend(RemoteSettings(url=fake.url, model="fake", concurrency=c))
                    for c in (1, 2, 4, 8)}
        batch_times: dict[int, list[float]] = {c: [] for c in backends}
        single: list[float] = []
        await asyncio.to_thread(timed_batch, backends[8], BATCH)  # warm-up
        for _ in range(args.rounds):  # interleaved, so drift hits every setting alike
            fake.answer_delay = args.delay
            for concurrency, backend in backends.items():
                batch_times[concurrency].append(await asyncio.to_thread(timed_batch, backend, BATCH))
            fake.answer_delay = 0.0
            single.append(await asyncio.to_thread(timed_batch, backends[1], 1))
        for backend in backends.values():
            backend.close()
    finally:
        await fake.stop()
    base = statistics.median(batch_times[1])
    print(f"batch of {BATCH} sequences, server takes {args.delay * 1000:.0f} ms per completion, "
          f"{args.rounds} rounds")
    print(f"{'concurrency':>11} {'median s':>9} {'p99 s':>7} {'speed-up':>9}")
    for concurrency, times in batch_times.items():
        median = statistics.median(times)
        print(f"{concurrency:>11} {median:>9.3f} {percentile(times, 0.99):>7.3f} {base / median:>8.1f}x")
    print(f"one completion from an instant server (HTTP + JSON overhead): median "
          f"{statistics.median(single) * 1000:.1f} ms, p99 {percentile(single, 0.99) * 1000:.1f} ms")


if __name__ == "__main__":
    asyncio.run(main())
