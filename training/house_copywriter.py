"""Build the house copywriter: a LoRA adapter that teaches the bundled Qwen2.5-Coder-1.5B the copy
in ``training/house/data`` (written for the project; README there), served by default over the
unchanged base.

    python -m training.house_copywriter plan                 # the data, the split, the prompts
    python -m training.house_copywriter train [--hours H]     # resumable: run again to continue
    python -m training.house_copywriter export                # the GGUF + manifest the bot serves

Training runs ``python -m engine.learning.train`` (the weekly fine-tune's trainer) on a
``TrainingJob`` built here: SFT on every example's copy, and, with ``--dpo``, preference pairs of
the same brief's good copy against its bad copy. It checkpoints every few steps under
``--work`` (default ``.cache/house``), so on these 2 cores it runs in stages of a few hours;
each stage prints its seconds per step. ``export`` converts the adapter to a GGUF LoRA file
(``engine/generation/house/``) and writes its sha256 with the data's hash; ``make run`` never trains.

The prompts are the bot's own (``prompts/copy*.toml`` through ``PromptBook``) with each example's
request options, so the adapter learns the task exactly as the bot asks it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

from engine.config import EngineConfig
from engine.copy.prompts import PromptBook
from engine.copy.validation import clean_brief
from engine.learning.job import LoraShape, TrainingJob
from engine.types import CopyRequest

REPO = Path(__file__).resolve().parent.parent
DATA_DIR = REPO / "training" / "house" / "data"
SHIPPED = REPO / "engine" / "generation" / "house"
ADAPTER_FILE = "house-copywriter.gguf"
MANIFEST_FILE = "house-copywriter.json"
# One example in VALIDATION_EVERY is held out (by a hash of its id, so the split never moves).
VALIDATION_EVERY = 25


@dataclass(frozen=True)
class HouseExample:
    id: str
    language: str
    category: str
    shape: str
    name: str
    channel: str
    tone: str
    audience: str
    brief: str
    copy: str
    bad: str
    bad_fault: str

    @property
    def held_out(self) -> bool:
        return int(hashlib.sha1(self.id.encode()).hexdigest(), 16) % VALIDATION_EVERY == 0

    def request(self) -> CopyRequest:
        return CopyRequest(product=clean_brief(self.brief), tone=self.tone or None,
                           audience=self.audience or None, ad_channel=self.channel, language=self.language)


def load_examples(data_dir: Path = DATA_DIR) -> list[HouseExample]:
    examples = []
    for path in sorted(data_dir.glob("*.toml")):
        with path.open("rb") as file:
            for raw in tomllib.load(file)["example"]:
                examples.append(HouseExample(**{name: str(raw[name]).strip() for name in
                                                HouseExample.__dataclass_fields__}))
    return examples


def data_sha256(data_dir: Path = DATA_DIR) -> str:
    """One hash of every data file, names and bytes, in order: which data an adapter came from."""
    digest = hashlib.sha256()
    for path in sorted(data_dir.glob("*.toml")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def messages(example: HouseExample, book: PromptBook) -> list[dict[str, str]]:
    return book.messages(example.request(), language=example.language, product_name=example.name)


def build_job(args: argparse.Namespace, base: str, book: PromptBook) -> TrainingJob:
    examples = load_examples()
    train = [e for e in examples if not e.held_out]
    valid = [e for e in examples if e.held_out]
    chat = [{"messages": messages(e, book), "answer": e.copy} for e in train]
    pairs = [{"messages": messages(e, book), "chosen": e.copy, "rejected": e.bad} for e in train] if args.dpo else []
    return TrainingJob(
        base=base, chain=(), output=str(args.work / "adapter"),
        train=tuple(chat),
        validation=tuple({"messages": messages(e, book), "answer": e.copy} for e in valid),
        # Scored with every run: the candidate should find the bad copy less likely than the base does.
        rejected=tuple({"messages": messages(e, book), "answer": e.bad} for e in valid),
        pairs=tuple(pairs), dpo_beta=args.dpo_beta if args.dpo else 0.0,
        lora=LoraShape(rank=args.rank, alpha=2 * args.rank),
        epochs=args.epochs, batch_size=args.batch_size, learning_rate=args.learning_rate,
        threads=args.threads, time_limit=args.hours * 3600, precision="auto",
        max_length=args.max_length, seed=0, nice=5,
        checkpoint_dir=str(args.work / "checkpoints"), checkpoint_every=args.checkpoint_every)


def plan(args: argparse.Namespace) -> int:
    examples = load_examples()
    book = PromptBook.load(REPO / "prompts")
    held = [e for e in examples if e.held_out]

    def by(key: str) -> dict[str, int]:
        return {value: sum(1 for e in examples if getattr(e, key) == value)
                for value in sorted({getattr(e, key) for e in examples})}

    print(f"{len(examples)} examples ({len(held)} held out for validation), data sha256 {data_sha256()}")
    for key in ("language", "shape", "channel", "bad_fault"):
        print(f"  {key}: {by(key)}")
    print(f"  categories: {len({e.category for e in examples})}")
    sample = examples[0]
    print("\nThe prompt of", sample.id, json.dumps(messages(sample, book), ensure_ascii=False, indent=1))
    return 0


def train(args: argparse.Namespace) -> int:
    from engine.generation.serving import training_source

    config = EngineConfig(data_dir=args.data_dir)
    started = time.monotonic()
    base = training_source(config)  # the bundled GGUF as a transformers checkpoint, made once
    print(f"base checkpoint {base} ready in {time.monotonic() - started:.0f} s", flush=True)
    args.work.mkdir(parents=True, exist_ok=True)
    job = build_job(args, base, PromptBook.load(REPO / "prompts"))
    job.write(args.work / "job.json")
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads), "TOKENIZERS_PARALLELISM": "false",
           "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "engine.learning.train", str(args.work / "job.json")]
    with (args.work / "train.log").open("ab") as log:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log, env=env, cwd=REPO)
        assert process.stdout is not None
        for line in process.stdout:
            event = json.loads(line)
            if event["event"] == "progress":
                print(f"step {event['step']}/{event['steps']} loss {event['loss']:.3f} "
                      f"elapsed {event['elapsed']:.0f} s, about {event['eta'] / 3600:.1f} h left", flush=True)
            elif event["event"] == "done":
                (args.work / "metrics.json").write_text(json.dumps(event["metrics"], indent=2))
                print(json.dumps(event["metrics"], indent=2), flush=True)
            else:
                print(json.dumps(event), flush=True)
    return process.wait()


def export(args: argparse.Namespace) -> int:
    from engine.generation.bundle import QWEN_1_5B, assembled_model
    from engine.generation.lora_gguf import convert_adapter

    metrics = json.loads((args.work / "metrics.json").read_text())
    if metrics["steps"] < metrics["planned_steps"]:
        print(f"the adapter in {args.work} has {metrics['steps']} of {metrics['planned_steps']} steps; "
              "run `train` again to finish it first", file=sys.stderr)
        return 1
    base_gguf = assembled_model(QWEN_1_5B, EngineConfig(data_dir=args.data_dir).model_cache_dir)
    SHIPPED.mkdir(parents=True, exist_ok=True)
    target = convert_adapter(args.work / "adapter", base_gguf, SHIPPED / ADAPTER_FILE)
    manifest = {
        "adapter": ADAPTER_FILE,
        "sha256": hashlib.sha256(target.read_bytes()).hexdigest(),
        "data_sha256": data_sha256(),
        "base": QWEN_1_5B.name,
        "built_by": "python -m training.house_copywriter train && python -m training.house_copywriter export",
        "training": {key: metrics.get(key) for key in (
            "steps", "epochs", "train_examples", "valid_examples", "preference_pairs", "train_seconds",
            "seconds_per_example", "threads", "precision", "active", "candidate", "pair_margin")},
    }
    (SHIPPED / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n")
    print(f"wrote {target} ({target.stat().st_size / 1e6:.1f} MB) and {SHIPPED / MANIFEST_FILE}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.house_copywriter", description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=("plan", "train", "export"))
    parser.add_argument("--work", type=Path, default=REPO / ".cache" / "house")
    parser.add_argument("--data-dir", type=Path, default=REPO / ".cache" / "data",
                        help="where the bundled model is assembled and converted (once)")
    parser.add_argument("--hours", type=float, default=2.0, help="training time of this stage")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--learning-rate", type=float, default=2e-4)
    parser.add_argument("--rank", type=int, default=16)
    parser.add_argument("--max-length", type=int, default=448)
    parser.add_argument("--checkpoint-every", type=int, default=5)
    parser.add_argument("--dpo", action="store_true", help="also train on the good/bad pairs (DPO)")
    parser.add_argument("--dpo-beta", type=float, default=0.1)
    args = parser.parse_args(argv)
    return {"plan": plan, "train": train, "export": export}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
