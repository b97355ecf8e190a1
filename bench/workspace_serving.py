"""What serving several workspaces' fine-tuned versions from one llama.cpp server costs.

One server holds every workspace's active LoRA adapter, switched off, and each request switches on
its own workspace's (engine/generation/llama.py). This compares, side by side in one run:
- a server with no adapters, base requests;
- a server with ``--versions`` adapters (rank 8, every linear layer, random weights of a realistic
  size), base requests and requests of one version;
- requests that switch versions (a switch drops the slot's cached prompt: its prefill is paid
  again);
with the server's resident memory after loading. Medians over interleaved rounds.

    .venv/bin/python bench/workspace_serving.py [--model small|bundled] [--versions 4] [--rounds 12]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from engine.config import EngineConfig  # noqa: E402
from engine.generation.contract import ServedVersion  # noqa: E402
from engine.generation.serving import load_generator, model_source, training_source  # noqa: E402

MESSAGES = [
    {"role": "system", "content": "You are a copywriter. Write one short ad for the product."},
    {"role": "user", "content": "Product: Aurora wireless earbuds: 30-hour battery, noise cancelling."},
]
TOKENS = 32


def make_adapters(source: str, count: int, folder: Path) -> list[Path]:
    """``count`` rank-8 LoRA adapters on every linear layer of ``source``, random B weights."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(source, dtype=torch.float32)
    model = get_peft_model(model, LoraConfig(r=8, lora_alpha=16, target_modules="all-linear",
                                             task_type="CAUSAL_LM"))
    paths = []
    for index in range(count):
        torch.manual_seed(index)
        for name, parameter in model.named_parameters():
            if "lora_B" in name:
                torch.nn.init.normal_(parameter, std=0.002)
        path = folder / f"adapter-{index}"
        model.save_pretrained(path)
        paths.append(path)
    return paths


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def seconds(generator, model: str | None) -> float:
    started = time.perf_counter()
    await generator.generate(MESSAGES, 1, TOKENS, model=model)
    return time.perf_counter() - started


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="small")
    parser.add_argument("--versions", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="copybot-bench-serving-"))
    # The models (and the safetensors copy adapters are made on) are cached where the tests keep them.
    config = EngineConfig(data_dir=REPO / ".cache", model=args.model, threads=args.threads,
                          max_batch=2, temperature=0.0)
    print(f"model {model_source(config).name}, {args.versions} versions, {args.rounds} rounds, "
          f"{args.threads} threads, {TOKENS} tokens per request")
    adapters = make_adapters(training_source(config), args.versions, data)
    versions = tuple(ServedVersion(f"slack:T{i}/v1", "v1", (path,)) for i, path in enumerate(adapters))

    before = rss_mb()
    plain = load_generator(config)
    plain_mb = rss_mb() - before
    before = rss_mb()
    started = time.perf_counter()
    served = load_generator(config, versions)  # converts each adapter to GGUF once
    load_seconds = time.perf_counter() - started
    served_mb = rss_mb() - before
    size_mb = sum(p.stat().st_size for a in adapters for p in a.glob("*.gguf")) / 1024**2
    try:
        for generator in (plain, served):  # warm: the prompt cached, the threads spun up
            await seconds(generator, None)
        times: dict[str, list[float]] = {"no adapters, base": [], "adapters loaded, base": [],
                                         "adapters loaded, one version": [],
                                         "switching to another version": [],
                                         "switching back to the base": []}
        for round_index in range(args.rounds):
            times["no adapters, base"].append(await seconds(plain, None))
            await seconds(served, None)  # the slot now holds the base's prompt
            times["adapters loaded, base"].append(await seconds(served, None))
            await seconds(served, versions[0].key)
            times["adapters loaded, one version"].append(await seconds(served, versions[0].key))
            other = versions[1 + round_index % (len(versions) - 1)].key if len(versions) > 1 else None
            times["switching to another version"].append(await seconds(served, other))
            times["switching back to the base"].append(await seconds(served, None))
    finally:
        await plain.stop()
        await served.stop()
    base = statistics.median(times["no adapters, base"])
    print(f"resident memory: server without adapters +{plain_mb:.0f} MB, with {args.versions} "
          f"+{served_mb:.0f} MB ({size_mb:.0f} MB of GGUF adapters); loading with conversion "
          f"{load_seconds:.1f} s")
    for label, values in times.items():
        median = statistics.median(values)
        print(f"  {label:<40} median {median * 1000:7.0f} ms  ({median / base:.2f}x)")


if __name__ == "__main__":
    asyncio.run(main())
