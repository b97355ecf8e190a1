"""How fast the Slack adapter acknowledges `/copy` over HTTP, with the model idle and busy.

The bot process runs the real bolt app in HTTP mode with the small bundled model (SmolLM2-135M; the default is the 1.5B)
behind the engine. Slack's side — the fake Web API and the sender of signed requests — runs in a
separate process, as it does in production, so it does not compete for the bot's event loop.
Round "idle": N `/copy` sent at once to an idle generator (they then queue up and keep it busy).
Round "busy": N more sent at once while that work runs. Prints p50/p99/max time from sending to
the HTTP 200 and the busy/idle ratio. Goal: p99 < 300 ms (Slack gives up after 3 s).

    .venv/bin/python bench/slack_ack.py [--requests 50] [--threads 0]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.stats import percentile  # noqa: E402
from bot.slack_adapter import SlackBot, SlackConfig  # noqa: E402
from engine import Engine, EngineConfig  # noqa: E402
from tests.bot.slack import recorded  # noqa: E402
from tests.bot.slack.fake_slack import BOT_TOKEN, SIGNING_SECRET, FakeSlack, SlackSender  # noqa: E402

GOAL_P99_MS = 300.0




# --- Slack's side (child process) ----------------------------------------------------------------

async def _one_ack(sender: SlackSender, fake: FakeSlack, label: str) -> float:
    fields = recorded.slash("bamboo toothbrush that lasts a year tone: playful n: 3",
                            response_url=fake.response_url(label))
    started = time.perf_counter()
    answer = await sender.command(fields)
    elapsed = (time.perf_counter() - started) * 1000
    if answer.status != 200:
        raise RuntimeError(f"unexpected ack: {answer}")
    return elapsed


async def _slack_side(conn) -> None:
    fake = FakeSlack()
    await fake.start()
    conn.send(fake.api_url)
    bot_url = await asyncio.to_thread(conn.recv)
    async with SlackSender(bot_url) as sender:
        while (order := await asyncio.to_thread(conn.recv)) is not None:
            label, count = order
            conn.send(list(await asyncio.gather(
                *(_one_ack(sender, fake, f"{label}{i}") for i in range(count)))))
    await fake.stop()


def slack_side(conn) -> None:
    asyncio.run(_slack_side(conn))


# --- the bot (this process) ----------------------------------------------------------------------

def report(label: str, times: list[float]) -> None:
    print(f"{label:5s} n={len(times)}  p50 {statistics.median(times):7.1f} ms  "
          f"p99 {percentile(times, 0.99):7.1f} ms  max {max(times):7.1f} ms")


async def burst(conn, label: str, count: int) -> list[float]:
    conn.send((label, count))
    return await asyncio.to_thread(conn.recv)


async def main(requests: int, threads: int) -> int:
    logging.basicConfig(level=logging.ERROR)
    from engine.generation.serving import transformers_backend
    from engine.generation.transformers_model import cached_bundled_model

    mine, theirs = multiprocessing.Pipe()
    slack = multiprocessing.get_context("spawn").Process(target=slack_side, args=(theirs,))
    slack.start()
    api_url = await asyncio.to_thread(mine.recv)
    with tempfile.TemporaryDirectory() as tmp:
        config = EngineConfig(data_dir=Path(tmp), prompts_dir=REPO / "prompts", threads=threads)
        print("loading SmolLM2-135M-Instruct …", flush=True)
        small = EngineConfig(threads=threads)  # SmolLM2 on transformers, cached under ./data
        backend = await asyncio.to_thread(
            transformers_backend, str(cached_bundled_model(small.model_cache_dir)), small)
        engine = await Engine.open(config, backend=backend)
        bot = SlackBot(engine, SlackConfig(bot_token=BOT_TOKEN, signing_secret=SIGNING_SECRET,
                                           host="127.0.0.1", port=0, api_url=api_url,
                                           shutdown_grace_seconds=0))
        await bot.start()
        try:
            mine.send(f"http://127.0.0.1:{bot.port}/slack/events")
            await burst(mine, "warmup", 1)  # first-request setup is not what we measure
            idle = await burst(mine, "idle", requests)
            # The idle round's copies reach the generator a moment after their acks.
            deadline = time.monotonic() + 30
            while engine.generator.queue_depth < min(requests, config.queue_size) // 2:
                if time.monotonic() > deadline:
                    raise RuntimeError("the generator never got busy")
                await asyncio.sleep(0.01)
            calls_before, depth = engine.generator.stats.model_calls, engine.generator.queue_depth
            busy = await burst(mine, "busy", requests)
            print(f"generator during the busy round: {depth} requests queued at its start, "
                  f"{engine.generator.queue_depth} at its end, "
                  f"{engine.generator.stats.model_calls - calls_before} batches finished meanwhile")
        finally:
            mine.send(None)
            await bot.stop()  # cancels the queued copies; the running batch finishes
            await engine.close()
            slack.join(10)
    report("idle", idle)
    report("busy", busy)
    ratio = percentile(busy, 0.99) / percentile(idle, 0.99)
    verdict = "meets" if percentile(busy, 0.99) < GOAL_P99_MS else "MISSES"
    print(f"busy/idle p99 ratio {ratio:.2f}; busy p99 {verdict} the {GOAL_P99_MS:.0f} ms goal "
          f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--threads", type=int, default=0, help="torch threads for the model; 0: default")
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.requests, args.threads)))
