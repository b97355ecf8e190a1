"""The OpenAI-compatible generator's own cost and what its concurrency buys.

A local fake server streams every completion over a fixed time (a stand-in for a GPU server's
generation time, spread evenly over the answer's words). For a /copy-sized request of 8 sequences,
it compares concurrency limits 1, 2, 4 and 8 (1 = one request at a time), prints the time to the
first streamed delta, and measures the per-request HTTP + SSE overhead against an instant server.
Prints medians and p99 over interleaved rounds.

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

from bench.stats import percentile  # noqa: E402
from engine.generation.openai_compatible import RemoteGenerator, RemoteSettings  # noqa: E402
from tests.fake_openai import FakeOpenAI  # noqa: E402

SEQUENCES = 8
MESSAGES = [{"role": "user", "content": "Write one line of ad copy for linen bed sheets."}]


async def timed_request(generator: RemoteGenerator, n: int) -> tuple[float, float]:
    """Seconds to the first delta of any sequence, and to the whole request."""
    started = time.perf_counter()
    first: list[float] = []

    def on_text(index: int, text: str) -> None:
        if not first:
            first.append(time.perf_counter() - started)

    await generator.generate(MESSAGES, n, 48, on_text=on_text)
    return first[0], time.perf_counter() - started


def row(label: str, times: list[float], base: float | None = None) -> str:
    median = statistics.median(times)
    speed_up = f"{base / median:>8.1f}x" if base else ""
    return f"{label:>11} {median:>9.3f} {percentile(times, 0.99):>7.3f} {speed_up}".rstrip()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--delay", type=float, default=0.1, help="seconds per completion at the server")
    args = parser.parse_args()
    fake = FakeOpenAI()
    await fake.start()
    generators = {c: RemoteGenerator(RemoteSettings(url=fake.url, model="fake", concurrency=c))
                  for c in (1, 2, 4, 8)}
    try:
        whole: dict[int, list[float]] = {c: [] for c in generators}
        first_delta: dict[int, list[float]] = {c: [] for c in generators}
        single: list[float] = []
        single_first: list[float] = []
        for generator in generators.values():  # warm-up: connections, the client's platform probe
            await timed_request(generator, SEQUENCES)
        for _ in range(args.rounds):  # interleaved, so drift hits every setting alike
            fake.answer_delay = args.delay
            for concurrency, generator in generators.items():
                to_first, to_end = await timed_request(generator, SEQUENCES)
                first_delta[concurrency].append(to_first)
                whole[concurrency].append(to_end)
            fake.answer_delay = 0.0
            to_first, to_end = await timed_request(generators[1], 1)
            single_first.append(to_first)
            single.append(to_end)
    finally:
        for generator in generators.values():
            await generator.stop()
        await fake.stop()
    print(f"{SEQUENCES} sequences per request, streamed; the server takes {args.delay * 1000:.0f} ms "
          f"per completion; {args.rounds} rounds")
    print(f"{'concurrency':>11} {'median s':>9} {'p99 s':>7} {'speed-up':>9}")
    base = statistics.median(whole[1])
    for concurrency, times in whole.items():
        print(row(str(concurrency), times, base))
    print("time to the first delta:")
    for concurrency, times in first_delta.items():
        print(row(str(concurrency), times))
    print(f"one completion from an instant server (HTTP + SSE overhead): median "
          f"{statistics.median(single) * 1000:.1f} ms, p99 {percentile(single, 0.99) * 1000:.1f} ms; "
          f"first delta median {statistics.median(single_first) * 1000:.1f} ms")


if __name__ == "__main__":
    asyncio.run(main())
