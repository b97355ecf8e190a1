"""Does /copy work on briefs of every shape? The whole engine (`Engine.copy`: reading the brief,
the prompt, the brief, law and style checks) on `bench/briefs_eval.toml`, this checkout side by
side with an older revision in the same run, each in its own process, requests interleaved.

    .venv/bin/python bench/brief_shapes.py [--per-shape 4] [--old ed532c3] [--n 3]

Per shape and language: requests that delivered n of n, requests that ended in an error, delivered
variants that break China's Advertising Law (Art. 9) or claim what the brief does not (the rules
in prompts/compliance.toml, applied to both revisions' output), and wall p50/p95 per request. The
old revision runs from a git worktree (`git worktree add`), on the same model and machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
import tomllib
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EVAL = REPO / "bench" / "briefs_eval.toml"


async def worker() -> None:
    """One revision's engine; requests from stdin, one JSON line each way (APIs both revisions have)."""
    from engine import CopyRequest, Engine, Origin, UserError, engine_config_from_env

    engine = await Engine.open(engine_config_from_env())
    emit({"ready": True})
    origin = Origin(platform="console", workspace="bench", channel="bench", user="bench")
    loop = asyncio.get_running_loop()
    while line := await loop.run_in_executor(None, sys.stdin.readline):
        item = json.loads(line)
        began = time.perf_counter()
        try:
            result = await engine.copy(origin, CopyRequest(product=item["text"], ad_channel=item["channel"],
                                                           n=item["n"]))
            emit({"wall": time.perf_counter() - began, "texts": [v.text for v in result.variants]})
        except UserError as exc:
            emit({"wall": time.perf_counter() - began, "texts": [], "error": str(exc)})
    await engine.close()


def emit(data: dict) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")
    sys.stdout.flush()


class Worker:
    def __init__(self, name: str, source: Path, data_dir: Path) -> None:
        self.name = name
        env = {**os.environ, "PYTHONPATH": str(source), "COPYBOT_DATA_DIR": str(REPO / ".cache" / "data"),
               "COPYBOT_DATABASE": str(data_dir / f"{name}.db"), "COPYBOT_LOG_LEVEL": "ERROR",
               "COPYBOT_FINETUNE_CRON": "off", "COPYBOT_THREADS": "2"}
        # This file's worker, importing the engine of ``source`` (PYTHONPATH comes before the
        # editable install of this checkout).
        self.process = subprocess.Popen([sys.executable, __file__, "--worker"], env=env, cwd=source,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.read()

    def read(self) -> dict:
        line = self.process.stdout.readline()
        if not line:
            raise SystemExit(f"the {self.name} worker stopped")
        return json.loads(line)

    def ask(self, item: dict) -> dict:
        self.process.stdin.write(json.dumps(item, ensure_ascii=False) + "\n")
        self.process.stdin.flush()
        return self.read()

    def finish(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=120)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--worker", action="store_true")
    parser.add_argument("--per-shape", type=int, default=4, help="briefs per shape and language")
    parser.add_argument("--old", default="ed532c3", help="the revision to compare with")
    parser.add_argument("--n", type=int, default=3)
    parser.add_argument("--out", type=Path, help="keep every delivered variant here (JSON lines)")
    args = parser.parse_args()
    if args.worker:  # the revision on PYTHONPATH, not necessarily this checkout
        asyncio.run(worker())
        return 0
    sys.path.insert(0, str(REPO))
    from engine.copy.compliance import ComplianceRules, compliance_problems
    from engine.copy.validation import clean_brief

    rules = ComplianceRules.load(REPO / "prompts")
    briefs = tomllib.loads(EVAL.read_text(encoding="utf-8"))["brief"]
    chosen, seen = [], defaultdict(int)
    for brief in briefs:
        key = (brief["shape"], brief["language"])
        if seen[key] < args.per_shape:
            seen[key] += 1
            chosen.append(brief)
    old_tree = REPO / ".cache" / f"worktree-{args.old}"
    if not old_tree.exists():
        subprocess.run(["git", "worktree", "add", "--detach", str(old_tree), args.old], cwd=REPO, check=True,
                       capture_output=True)
    data_dir = REPO / ".cache" / "brief_shapes"
    data_dir.mkdir(parents=True, exist_ok=True)
    for db in data_dir.glob("*.db*"):
        db.unlink()
    workers = {"new": Worker("new", REPO, data_dir), "old": Worker("old", old_tree, data_dir)}
    rows: dict[tuple[str, str, str], list[dict]] = defaultdict(list)
    out = args.out.open("w", encoding="utf-8") if args.out else None
    for index, brief in enumerate(chosen):
        order = ["new", "old"] if index % 2 == 0 else ["old", "new"]
        for name in order:
            answer = workers[name].ask({"text": brief["text"], "channel": brief["channel"], "n": args.n})
            text = clean_brief(brief["text"])
            broken = sum(bool(compliance_problems(t, text, brief["language"], rules)) for t in answer["texts"])
            rows[(name, brief["shape"], brief["language"])].append(
                {"full": len(answer["texts"]) == args.n, "error": "error" in answer, "wall": answer["wall"],
                 "delivered": len(answer["texts"]), "broken": broken})
            if out:
                out.write(json.dumps({"id": brief["id"], "config": name, **answer}, ensure_ascii=False) + "\n")
        print(f"{index + 1}/{len(chosen)} {brief['id']}", file=sys.stderr, flush=True)
    for worker_ in workers.values():
        worker_.finish()
    print(f"{'config':6s} {'shape':11s} {'lang':4s} {'n':>3s} {'n of n':>7s} {'errors':>7s} "
          f"{'law/claims':>10s} {'p50 s':>6s} {'p95 s':>6s}")
    for name in ("old", "new"):
        total: list[dict] = []
        for (config, shape, language), items in sorted(rows.items()):
            if config != name:
                continue
            total += items
            print(_line(name, shape, language, items))
        print(_line(name, "all", "", total))
    return 0


def _line(name: str, shape: str, language: str, items: list[dict]) -> str:
    from bench.stats import percentile

    n = len(items)
    walls = [item["wall"] for item in items]
    delivered = sum(item["delivered"] for item in items) or 1
    return (f"{name:6s} {shape:11s} {language:4s} {n:3d} {sum(i['full'] for i in items) / n:7.0%} "
            f"{sum(i['error'] for i in items) / n:7.0%} {sum(i['broken'] for i in items) / delivered:10.0%} "
            f"{percentile(walls, 0.5):6.1f} {percentile(walls, 0.95):6.1f}")


if __name__ == "__main__":
    sys.exit(main())
