"""Copy quality and speed of /copy, model by model and engine by engine, side by side in one run.

Each configuration runs in its own process (a real ``Engine``: SQLite store, prompts, copywriter,
generator), so its peak memory is its own; requests are sent to them in turn, product by product,
so no two generate at once and the machine's noise hits all alike. The evaluation set is
``bench/copy_eval.toml`` (52 products written for the project, English and Chinese, 10 with a price);
``../shared/data/copy`` is read, for measuring only, with ``--extra N``.

Per variant it counts, on what was delivered and on every candidate the model wrote:
grounded (no number the brief lacks, not another product), names the product, speaks as a
person or assistant, right language; per request: variants delivered of n, wall seconds (p50,
p95), seconds to the first visible text; then 8 concurrent /copy against one. "pasted" counts
copy that is mostly the brief repeated back (``engine.copy.brief_checks.pastes_brief``).
``--prompts-from REV`` runs the default model twice, with the prompt templates of git revision REV
and with today's, to measure a prompt change side by side; ``--texts-out`` keeps every delivered
variant for reading.

    .venv/bin/python bench/copy_quality.py [--configs default,small,old] [--n 3] [--limit 52]
        [--prompts-from HEAD] [--language en|zh] [--texts-out variants.json]
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
SHARED_COPY = REPO.parent / "shared" / "data" / "copy" / "amazon_products_valid.csv"

# name -> (what the table calls it, environment of its worker)
CONFIGS = {
    "default": ("Qwen2.5-Coder-1.5B Q4_K_M · llama.cpp (new default)", {"COPYBOT_MODEL": "bundled"}),
    "small": ("SmolLM2-135M Q4_1 · llama.cpp (COPYBOT_MODEL=small)", {"COPYBOT_MODEL": "small"}),
    "old": ("SmolLM2-135M · transformers fp32, no brief checks (old default)",
            {"COPYBOT_MODEL": str(REPO / ".cache" / "models" / "SmolLM2-135M-Instruct"),
             "COPYBOT_GROUNDING": "off"}),
}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


# --- the worker: one configuration, one Engine, requests from stdin --------------------------------

async def worker() -> None:
    from engine import CopyRequest, Engine, engine_config_from_env

    started = time.perf_counter()
    engine = await Engine.open(engine_config_from_env())
    emit({"ready": time.perf_counter() - started, "version": engine.generator.version})
    loop = asyncio.get_running_loop()

    async def one(item: dict) -> dict:
        # The engine's own copywriter, as engine.copy calls it (no brand voice, no approved
        # examples yet), so every candidate it checked can be counted too.
        request = CopyRequest(product=item["description"], ad_channel=item["channel"], n=item["n"])
        began = time.perf_counter()
        first: list[float] = []

        def preview(slot: int, text: str) -> None:
            if not first:
                first.append(time.perf_counter() - began)

        draft = await engine.copywriter.write(request, None, [], on_preview=preview)
        return {"wall": time.perf_counter() - began, "first": first[0] if first else None,
                "texts": draft.texts, "candidates": [c.text for c in draft.checks],
                "language": draft.language, "rounds": draft.rounds}

    while line := await loop.run_in_executor(None, sys.stdin.readline):
        job = json.loads(line)
        if "request" in job:
            emit(await one(job["request"]))
        elif "concurrent" in job:
            began = time.perf_counter()
            results = await asyncio.gather(*(one(item) for item in job["concurrent"]))
            emit({"wall": time.perf_counter() - began, "delivered": sum(len(r["texts"]) for r in results)})
    await engine.close()
    emit({"peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2})


def emit(data: dict) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")
    sys.stdout.flush()


# --- the parent: sends the requests, scores the answers ----------------------------------------------

class Worker:
    def __init__(self, name: str, data_dir: Path, configs: dict = CONFIGS) -> None:
        label, env = configs[name]
        self.name, self.label = name, label
        environment = {**os.environ, "COPYBOT_DATA_DIR": str(REPO / ".cache"),
                       "COPYBOT_DATABASE": str(data_dir / f"{name}.db"), "COPYBOT_LOG_LEVEL": "ERROR",
                       "COPYBOT_FINETUNE_CRON": "off", "HF_HUB_OFFLINE": "1",
                       "TRANSFORMERS_VERBOSITY": "error", **env}
        self.process = subprocess.Popen([sys.executable, __file__, "--worker"], env=environment,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.ready = self.read()

    def read(self) -> dict:
        line = self.process.stdout.readline()
        if not line:
            raise SystemExit(f"the {self.name} worker stopped (see its error above)")
        return json.loads(line)

    def ask(self, job: dict) -> dict:
        self.process.stdin.write(json.dumps(job, ensure_ascii=False) + "\n")
        self.process.stdin.flush()
        return self.read()

    def finish(self) -> dict:
        self.process.stdin.close()
        answer = self.read()
        self.process.wait(timeout=120)
        return answer


def evaluation_set(limit: int, extra: int) -> list[dict]:
    with open(REPO / "bench" / "copy_eval.toml", "rb") as f:
        items = tomllib.load(f)["product"][:limit]
    if extra and SHARED_COPY.is_file():  # measurement only: never trained on, never copied
        with SHARED_COPY.open(encoding="utf-8") as f:
            for row in list(csv.DictReader(f))[:extra]:
                items.append({"description": f"{row['product'].strip()}: {row['description'].strip()}",
                              "channel": "social post"})
    elif extra:
        print(f"({SHARED_COPY} is not here; --extra skipped)")
    return items


def prompts_at(revision: str, folder: Path) -> Path:
    """The prompt templates as they were at git ``revision``, written under ``folder``."""
    target = folder / f"prompts-{revision.replace('/', '_')}"
    target.mkdir()
    listing = subprocess.run(["git", "-C", str(REPO), "ls-tree", "--name-only", revision, "prompts/"],
                             check=True, capture_output=True, text=True).stdout.split()
    for path in listing:
        content = subprocess.run(["git", "-C", str(REPO), "show", f"{revision}:{path}"],
                                 check=True, capture_output=True).stdout
        (target / Path(path).name).write_bytes(content)
    return target


COUNTS = ("all", "grounded", "named", "persona", "language", "offer", "priced", "price given", "pasted")


def score(texts: list[str], description: str, language: str) -> dict[str, int]:
    from engine.copy.brief_checks import check_variant, pastes_brief, price_in

    counts = dict.fromkeys(COUNTS, 0)
    price = price_in(description)
    for text in texts:
        problems = check_variant(text, description, language).problems
        counts["all"] += 1
        counts["pasted"] += pastes_brief(text, description)
        counts["offer"] += any(p.startswith("promises an offer") for p in problems)
        counts["price given"] += price is not None
        counts["priced"] += price is not None and _digits(price) in _digits(text)
        counts["grounded"] += not any(p.startswith(("states ", "is about")) for p in problems)
        counts["named"] += "does not name the product" not in problems
        counts["persona"] += any("speaks as" in p for p in problems)
        counts["language"] += not any(p.startswith(("is not in", "mixes")) for p in problems)
    return counts


def _digits(text: str) -> str:
    """"$79.00" and "79 dollars" both as "79": does the copy give the brief's price."""
    import re

    return re.sub(r"[.,]00\b", "", "".join(re.findall(r"[\d.,]+", text))).strip(".,")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--configs", default="default,small,old")
    parser.add_argument("--n", type=int, default=3)
    parser.add_argument("--limit", type=int, default=52, help="products of copy_eval.toml to use")
    parser.add_argument("--extra", type=int, default=0, help="also this many products from ../shared/data/copy")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--prompts-from", metavar="REV",
                        help="also run the default model with the prompt templates of git revision REV")
    parser.add_argument("--language", choices=("en", "zh"), help="only the products in this language")
    parser.add_argument("--texts-out", type=Path, help="write every delivered variant here (JSON), to read")
    args = parser.parse_args()
    if args.worker:
        asyncio.run(worker())
        return
    from engine.copy.brief_checks import language_of

    items = evaluation_set(args.limit, args.extra)
    if args.language:
        items = [i for i in items if language_of(i["description"]) == args.language]
    print(f"{len(items)} products ({sum(language_of(i['description']) == 'zh' for i in items)} Chinese), "
          f"n={args.n}, load {os.getloadavg()[0]:.1f} at the start")
    with tempfile.TemporaryDirectory() as data_dir:
        configs, names = dict(CONFIGS), args.configs.split(",")
        if args.prompts_from:
            label, env = CONFIGS["default"]
            folder = prompts_at(args.prompts_from, Path(data_dir))
            names.insert(0, f"default@{args.prompts_from}")
            configs[names[0]] = (f"{label}, prompts of {args.prompts_from}",
                                 {**env, "COPYBOT_PROMPTS_DIR": str(folder)})
        workers = [Worker(name, Path(data_dir), configs) for name in names]
        for w in workers:
            print(f"  {w.name}: {w.label}, ready in {w.ready['ready']:.1f} s")
        results = {w.name: [] for w in workers}
        for number, item in enumerate(items, 1):
            for w in workers:  # interleaved: product by product
                answer = w.ask({"request": {**item, "n": args.n}})
                results[w.name].append((item, answer))
            print(f"  {number}/{len(items)} done", end="\r", flush=True)
        concurrent = {}
        for w in workers:
            batch = [{**item, "n": args.n} for item in items[:args.concurrency]]
            concurrent[w.name] = w.ask({"concurrent": batch})
        memory = {w.name: w.finish()["peak_rss_gb"] for w in workers}
    report(workers, results, concurrent, memory, args)
    if args.texts_out:
        args.texts_out.write_text(json.dumps({name: [{"description": i["description"], "channel": i["channel"],
                                                      "variants": a["texts"]} for i, a in rows]
                                              for name, rows in results.items()}, ensure_ascii=False, indent=1))
        print(f"\nvariants written to {args.texts_out}")


def report(workers, results, concurrent, memory, args) -> None:
    from engine.copy.brief_checks import language_of

    print()
    for w in workers:
        rows = results[w.name]
        print(f"\n## {w.label}")
        for language in ("en", "zh"):
            mine = [(i, a) for i, a in rows if language_of(i["description"]) == language]
            if not mine:
                continue
            delivered = dict.fromkeys(COUNTS, 0)
            written = dict(delivered)
            for item, answer in mine:
                for key, value in score(answer["texts"], item["description"], language).items():
                    delivered[key] += value
                for key, value in score(answer["candidates"], item["description"], language).items():
                    written[key] += value
            asked = args.n * len(mine)

            def share(counts, key):
                return f"{100 * counts[key] / counts['all']:.0f} %" if counts["all"] else "–"

            print(f"  {language}: {len(mine)} requests, delivered {delivered['all']} of {asked} variants")
            def priced(counts):
                given = counts["price given"]
                return f"{100 * counts['priced'] / given:.0f} %" if given else "–"

            print(f"    {'':24} {'grounded':>9} {'names it':>9} {'persona':>8} {'language':>9} {'offer':>6} "
                  f"{'price':>6} {'pasted':>7}")
            for label, counts in (("delivered", delivered), ("as written (candidates)", written)):
                print(f"    {label:24} {share(counts, 'grounded'):>9} {share(counts, 'named'):>9} "
                      f"{share(counts, 'persona'):>8} {share(counts, 'language'):>9} {share(counts, 'offer'):>6} "
                      f"{priced(counts):>6} {share(counts, 'pasted'):>7}")
            print("    (offer: promises an offer the brief does not make; price: of the variants whose brief "
                  "gives a price, those that state it; pasted: the brief repeated back with a slogan)")
        walls = [a["wall"] for _, a in rows]
        firsts = [a["first"] for _, a in rows if a["first"] is not None]
        social = [a["wall"] for i, a in rows if i["channel"] == "social post"]
        print(f"  wall per /copy: p50 {statistics.median(walls):.1f} s, p95 {percentile(walls, 0.95):.1f} s; "
              f"social posts p50 {statistics.median(social):.1f} s, p95 {percentile(social, 0.95):.1f} s")
        if firsts:
            print(f"  first visible text: p50 {statistics.median(firsts):.2f} s, p95 {percentile(firsts, 0.95):.2f} s")
        rounds = [a["rounds"] for _, a in rows]
        print(f"  rounds per /copy: mean {statistics.mean(rounds):.2f}")
        single = statistics.median(walls[:args.concurrency])
        print(f"  {args.concurrency} concurrent /copy: {concurrent[w.name]['wall']:.1f} s "
              f"({concurrent[w.name]['wall'] / single:.1f}x one /copy of the same products, "
              f"{concurrent[w.name]['delivered']} variants)")
        print(f"  peak RSS of the process: {memory[w.name]:.2f} GB")


if __name__ == "__main__":
    main()
