"""The learning loop end to end, on a synthetic team (issue 15's benchmark).

40 project-written products (bench/learning_products.toml, each with its price in the description);
a scripted "team" approves a variant when it follows a hidden style rule — it states the brief's
price and has at most ``--max-words`` (20) words — and rejects it otherwise. Three reviewers take
turns. Nothing from ../shared/data is used.

    .venv/bin/python bench/learning_loop.py [--model small|bundled] [--cycles 4] [--requests 30]
                                           [--train-examples 200] [--latency-requests 8]

1. Weekly cycles in one workspace: a week of /copy requests (``--requests`` × 3 variants, and more
   while an A/B test is still short of verdicts) judged by the team, then the weekly fine-tune
   (that workspace's approvals + approved-vs-rejected pairs; the engine's defaults), whose candidate,
   if it passes the offline gate, is A/B-tested on the next week's requests. Per week: the share of
   variants the team approved (by writer), the offline NLL (active -> candidate), the A/B decision
   and p-value (from table model_trials), wall time and peak memory of the training process.
2. A bad candidate: a second workspace whose recorded verdicts on the first week's copy are inverted
   (it learns from the copy the team rejected); its candidate is A/B-tested with the team judging
   truthfully, and must be dropped.
3. Training of ``--train-examples`` rule-following approved examples with the default training
   settings (1 thread, low priority) while the bot answers /copy: the training's wall time, and
   /copy p50 idle vs during training, interleaved in the same run (for an idle request the training
   process is paused with SIGSTOP, so load from elsewhere hits both alike; paused time is not
   counted in the training time).

Every run uses a fresh temporary data directory (its ``models`` folder links to .cache/models, where
the bundled model and its one-off safetensors copy for training are kept).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import resource
import shutil
import signal
import statistics
import sys
import tempfile
import time
import tomllib
from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bot.rendering.learning import finetune_start_text  # noqa: E402
from engine import CopyRequest, Engine, Feedback, Origin, Verdict, engine_config_from_env  # noqa: E402
from engine.copy.brief_checks import word_count  # noqa: E402
from engine.errors import UserError  # noqa: E402
from engine.generation.serving import training_source  # noqa: E402
from engine.learning.runner import training_threads  # noqa: E402

PRODUCTS_FILE = Path(__file__).with_name("learning_products.toml")
TIMING_FIELDS = ("train_examples", "steps", "train_seconds", "total_seconds", "seconds_per_example",
                 "cpu_seconds_per_example", "peak_memory_mb", "precision", "threads")
REVIEWERS = ("maya", "tom", "lin")


@dataclass(frozen=True)
class Product:
    name: str
    description: str
    price: str  # as written in the description, without the currency sign: "29", "12.50"


def load_products() -> list[Product]:
    rows = tomllib.loads(PRODUCTS_FILE.read_text(encoding="utf-8"))["products"]
    products = []
    for row in rows:
        price = re.search(r"\$(\d+(?:\.\d\d)?)", row["description"]).group(1)
        products.append(Product(row["name"], f"{row['name']}: {row['description']}", price))
    return products


def states_price(text: str, price: str) -> bool:
    whole = price.split(".")[0] if price.endswith(".00") else price
    return re.search(rf"(?<![\d.]){re.escape(whole)}(?:\.00)?(?![\d])", text) is not None


def team_approves(text: str, product: Product, max_words: int) -> bool:
    """The hidden rule: the brief's price, and at most ``max_words`` words."""
    return states_price(text, product.price) and word_count(text) <= max_words


def origin(workspace: str, user: str = "requester") -> Origin:
    return Origin(platform="console", workspace=workspace, channel="marketing", user=user)


class Announcements:
    def __init__(self) -> None:
        self.posts: list[str] = []

    async def publish(self, announcement) -> None:
        self.posts.append(announcement.text)


@dataclass
class Week:
    requests: int = 0
    by_writer: Counter = field(default_factory=Counter)  # model -> variants
    approved_by_writer: Counter = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    failed: int = 0

    @property
    def variants(self) -> int:
        return sum(self.by_writer.values())

    @property
    def approved(self) -> int:
        return sum(self.approved_by_writer.values())

    def share(self, model: str | None = None) -> float:
        if model is None:
            return self.approved / self.variants if self.variants else 0.0
        n = self.by_writer[model]
        return self.approved_by_writer[model] / n if n else 0.0

    def describe(self) -> str:
        parts = [f"{m} {self.approved_by_writer[m]}/{n} ({self.share(m):.0%})"
                 for m, n in self.by_writer.most_common()]
        return ", ".join(parts)


async def writers_of(engine: Engine, generation_id: int) -> list[tuple[int, str, str]]:
    async with engine.store.db.execute(
            "SELECT id, text, model_version FROM variants WHERE generation_id = ? ORDER BY position",
            (generation_id,)) as cursor:
        return [(row["id"], row["text"], row["model_version"]) async for row in cursor]


async def trial_row(engine: Engine, workspace: str, trial_id: int | None = None):
    query = "SELECT * FROM model_trials WHERE workspace_id = ?"
    args: tuple = (f"console:{workspace}",)
    if trial_id is not None:
        query, args = query + " AND id = ?", args + (trial_id,)
    async with engine.store.db.execute(query + " ORDER BY id DESC LIMIT 1", args) as cursor:
        return await cursor.fetchone()


async def run_week(engine: Engine, workspace: str, products: list[Product], rng: random.Random,
                   requests: int, max_words: int, max_requests: int, invert: bool = False) -> Week:
    """``requests`` /copy requests judged by the team, and more while an A/B test still lacks
    verdicts (at most ``max_requests``). ``invert``: the verdicts recorded are the opposite of the
    team's (the data a bad candidate learns from)."""
    week = Week()
    asker = origin(workspace)
    while week.requests < max_requests:
        running = await engine.learning.trials.running(asker.workspace_key, engine.learning.base)
        if week.requests >= requests and running is None:
            break
        product = rng.choice(products)
        started = time.perf_counter()
        try:
            result = await engine.copy(asker, CopyRequest(product=product.description, n=3))
        except UserError as exc:  # the model wrote nothing usable: counted, not judged
            week.requests += 1
            week.failed += 1
            print(f"    (no copy: {exc})", flush=True)
            continue
        week.latencies.append(time.perf_counter() - started)
        week.requests += 1
        for variant_id, text, model in await writers_of(engine, result.generation_id):
            good = team_approves(text, product, max_words)
            week.by_writer[model] += 1
            week.approved_by_writer[model] += good
            verdict = Verdict.APPROVE if good != invert else Verdict.REJECT
            reviewer = REVIEWERS[variant_id % len(REVIEWERS)]
            await engine.record_feedback(Feedback(origin(workspace, reviewer), verdict, variant_id=variant_id))
        await engine.learning.evidence.settled()
        if week.requests % 10 == 0:
            print(f"    {week.requests} requests, {week.approved}/{week.variants} approved, /copy p50 "
                  f"{statistics.median(week.latencies):.1f} s", flush=True)
    return week


@dataclass
class Training:
    status: str
    message: str
    wall: float
    metrics: dict

    def nll(self) -> str:
        m = self.metrics
        if not m.get("active"):
            return "-"
        return f"{m['active']['approved_nll']:.3f} -> {m['candidate']['approved_nll']:.3f}"


async def fine_tune(engine: Engine, workspace: str) -> Training:
    started = time.perf_counter()
    result = await engine.learning.runner.run("bench", origin(workspace).workspace_key)
    wall = time.perf_counter() - started
    metrics = result.version.metrics if result.version else {}
    return Training(result.status, result.message, wall, metrics)


def _number(value) -> str:
    return "-" if value is None else f"{value:.3f}"


def training_line(t: Training) -> str:
    m = t.metrics
    if not m:
        return f"  fine-tune: {t.status}: {t.message}"
    return (f"  fine-tune: {t.status}; {m['train_examples']} approved + {m.get('preference_pairs', 0)} "
            f"pairs, {m['valid_examples']} held out, {m['steps']} steps, {m.get('precision')}; "
            f"approved NLL {t.nll()}; rejected NLL {_number(m['active'].get('rejected_nll'))} -> "
            f"{_number(m['candidate'].get('rejected_nll'))}; run {t.wall:.0f} s (training "
            f"{m['train_seconds']:.0f} s), peak memory {m['peak_memory_mb']} MB\n"
            f"    {'; '.join(m['decision']['reasons'])}")


def trial_result(row) -> tuple[str, float | None, str]:
    if row is None:
        return "-", None, ""
    result = json.loads(row["result"] or "{}")
    p = result.get("p_value")
    counts = ""
    if "candidate" in result:
        (ca, cr), (ia, ir) = result["candidate"], result["incumbent"]
        counts = f"candidate {ca}/{ca + cr}, incumbent {ia}/{ia + ir}"
    return row["outcome"] or "running", p, counts


async def open_engine(config, announcements: Announcements, workspaces: list[str]) -> Engine:
    engine = await Engine.open(config)
    engine.set_publisher("console", announcements.publish)
    for workspace in workspaces:
        await engine.change_setting(origin(workspace), "report_channel", "marketing")
    return engine


def fresh_data_dir(prefix: str) -> Path:
    """A new temporary data directory whose model cache is the repository's (.cache/models)."""
    workdir = Path(tempfile.mkdtemp(prefix=prefix))
    cache = REPO / ".cache" / "models"
    cache.mkdir(parents=True, exist_ok=True)
    (workdir / "models").symlink_to(cache.resolve(), target_is_directory=True)
    return workdir


# --- 1 and 2: weekly cycles, and a bad candidate ------------------------------------------------

async def cycles(config, args, products: list[Product]) -> list[dict]:
    workdir = fresh_data_dir("copybot-bench-loop-")
    announcements = Announcements()
    engine = await open_engine(replace(config, data_dir=workdir), announcements, ["team", "saboteurs"])
    rng = random.Random(args.seed)
    rows = []
    try:
        base = engine.generator.version
        print(f"base model {base}; hidden rule: the brief's price and at most {args.max_words} words")
        if args.seed_examples:
            # The team's own earlier ads (rule-following, written by people), approved before week 1:
            # a model that never follows the rule on its own has something to learn and imitate.
            await seed_approved(engine, "team", rule_copy(products, args.seed_examples, random.Random(args.seed + 2)))
            print(f"seeded {args.seed_examples} approved team-written ads before week 1")
        async with engine.store.db.execute("SELECT COALESCE(MAX(id), 0) FROM generations") as cursor:
            seeded_until = (await cursor.fetchone())[0]
        first_week = None
        for week_number in range(1, args.cycles + 2):
            trial = await engine.learning.trials.running(origin("team").workspace_key, engine.learning.base)
            label = f"week {week_number}" + (" (after the last fine-tune)" if week_number > args.cycles else "")
            print(f"{label}: {args.requests}+ requests", flush=True)
            started = time.perf_counter()
            week = await run_week(engine, "team", products, rng, args.requests, args.max_words,
                                  args.max_requests)
            print(f"  {week.requests} requests ({week.failed} without copy), {week.variants} variants, "
                  f"approved {week.approved} ({week.share():.0%}): {week.describe()}; "
                  f"/copy p50 {statistics.median(week.latencies):.1f} s; {time.perf_counter() - started:.0f} s",
                  flush=True)
            if first_week is None:
                first_week = week
            outcome, p, counts = trial_result(await trial_row(engine, "team", trial.id) if trial else None)
            if trial:
                print(f"  A/B test of the week's candidate: {outcome}, p = {p:.3g}; {counts}")
                rows[-1].update(ab=outcome, p=p, ab_counts=counts)
            row = {"week": week_number, "share": week.share(), "variants": week.variants,
                   "writers": week.describe(), "ab": "-", "p": None}
            rows.append(row)
            if week_number > args.cycles or args.bad_only:
                break
            training = await fine_tune(engine, "team")
            print(training_line(training), flush=True)
            row.update(status=training.status, nll=training.nll(), wall=training.wall,
                       train_seconds=training.metrics.get("train_seconds"),
                       peak=training.metrics.get("peak_memory_mb"),
                       examples=training.metrics.get("train_examples"),
                       pairs=training.metrics.get("preference_pairs"))
            if training.status != "trial":
                row["ab"] = "no test"

        # 2. The bad candidate: the first week's copy, its verdicts inverted, in another workspace.
        print("bad candidate: workspace 'saboteurs' records the first week's copy with every verdict "
              "inverted, fine-tunes on it, then the team judges its A/B test truthfully", flush=True)
        copied = await copy_week_inverted(engine, "team", "saboteurs", products, args.max_words,
                                          first_week_requests=first_week.requests, after=seeded_until)
        print(f"  {copied[0]} variants copied, {copied[1]} recorded approved (the team rejected them)")
        training = await fine_tune(engine, "saboteurs")
        print(training_line(training), flush=True)
        bad = {"status": training.status, "nll": training.nll(), "ab": "no test", "p": None}
        if training.status == "trial":
            week = await run_week(engine, "saboteurs", products, rng, 0, args.max_words, args.max_requests)
            print(f"  A/B week: {week.requests} requests, {week.describe()}")
            outcome, p, counts = trial_result(await trial_row(engine, "saboteurs"))
            bad.update(ab=outcome, p=p, counts=counts, writers=week.describe())
            print(f"  A/B test: {outcome}, p = {p:.3g}; {counts}")
        print("announcements in the report channels:")
        for text in announcements.posts:
            print(f"  - {text}")
        return rows, bad
    finally:
        await engine.close()
        shutil.rmtree(workdir, ignore_errors=True)


async def copy_week_inverted(engine: Engine, source: str, target: str, products: list[Product],
                             max_words: int, first_week_requests: int, after: int = 0) -> tuple[int, int]:
    """The first ``first_week_requests`` generations of ``source`` stored again in ``target``, each
    variant with the opposite of the team's verdict."""
    by_description = {p.description: p for p in products}
    asker = origin(target)
    await engine.store.ensure_workspace(asker.workspace_key, asker.platform)
    async with engine.store.db.execute(
            "SELECT id, request, prompt, model_version FROM generations WHERE workspace_id = ? AND id > ? "
            "ORDER BY id LIMIT ?", (origin(source).workspace_key, after, first_week_requests)) as cursor:
        generations = await cursor.fetchall()
    copied = approved = 0
    for generation in generations:
        request = json.loads(generation["request"])
        product = by_description[request["product"]]
        texts = [text for _, text, _ in await writers_of(engine, generation["id"])]
        _, variants = await engine.store.save_generation(
            asker.workspace_key, asker.channel, asker.user, request, json.loads(generation["prompt"]),
            generation["model_version"], texts)
        for variant in variants:
            good = team_approves(variant.text, product, max_words)
            reviewer = REVIEWERS[variant.id % len(REVIEWERS)]
            await engine.record_feedback(Feedback(origin(target, reviewer),
                                                  Verdict.REJECT if good else Verdict.APPROVE,
                                                  variant_id=variant.id))
            copied += 1
            approved += not good
    await engine.learning.evidence.settled()
    return copied, approved


# --- 3: training time with the bot answering ----------------------------------------------------

TEMPLATES = [
    "{name} for ${price}: {benefit}. Yours today.",
    "Only ${price}. {name} means {benefit}.",
    "{benefit}, every day. Get {name} for ${price}.",
    "Meet {name}: {benefit}, now ${price}.",
    "{name}, ${price}. Because you deserve {benefit}.",
]


def rule_copy(products: list[Product], count: int, rng: random.Random) -> list[tuple[Product, str]]:
    """``count`` distinct copies that follow the team's rule (price, few words)."""
    pairs = [(p, t) for p in products for t in TEMPLATES]
    rng.shuffle(pairs)
    out = []
    for product, template in (pairs * (count // len(pairs) + 1))[:count]:
        benefit = re.split(r"[,.]", product.description.split(":", 1)[1])[0].strip().lower()
        benefit = " ".join(benefit.split()[:7])
        out.append((product, template.format(name=product.name, price=product.price, benefit=benefit)))
    return out


async def seed_approved(engine: Engine, workspace: str, copies: list[tuple[Product, str]]) -> None:
    asker = origin(workspace)
    await engine.store.ensure_workspace(asker.workspace_key, asker.platform)
    for i, (product, text) in enumerate(copies):
        request = CopyRequest(product=product.description, n=1)
        _, variants = await engine.store.save_generation(
            asker.workspace_key, asker.channel, asker.user, asdict(request),
            engine.prompts.messages(request), engine.generator.version, [text])
        await engine.record_feedback(Feedback(origin(workspace, REVIEWERS[i % 3]), Verdict.APPROVE,
                                              variant_id=variants[0].id))


async def one_copy(engine: Engine, product: Product) -> float:
    started = time.perf_counter()
    try:
        await engine.copy(origin("latency"), CopyRequest(product=product.description, n=3))
    except UserError:
        pass  # still an answer (the bot said it could not write usable copy)
    return time.perf_counter() - started


async def training_with_the_bot_answering(config, args, products: list[Product]) -> dict:
    workdir = fresh_data_dir("copybot-bench-loop-train-")
    engine = await open_engine(replace(config, data_dir=workdir), Announcements(), [])
    rng = random.Random(args.seed + 1)
    idle: list[float] = []
    busy: list[float] = []
    paused = 0.0
    try:
        # The one-off safetensors copy of a GGUF model is made before the clock starts.
        await asyncio.to_thread(training_source, engine.config)
        copies = rule_copy(products, args.train_examples, rng)
        await seed_approved(engine, "timing", copies)
        await one_copy(engine, products[0])  # warm-up
        started = time.perf_counter()
        outcome = await engine.learning.start(origin("timing").workspace_key, "bench")
        if not outcome.outcome.started:
            raise SystemExit(f"the fine-tune did not start: {finetune_start_text(outcome)}")
        progress = engine.learning.runner.progress
        while progress.phase != "training" or progress.step < 1:
            if not engine.learning.runner.running:
                raise SystemExit(f"the fine-tune ended early: {engine.learning.runner.last_result}")
            await asyncio.sleep(0.5)
        print(f"  training started after {time.perf_counter() - started:.0f} s (loading, data, "
              f"reference scores); {progress.steps} steps", flush=True)
        for i in range(args.latency_requests):
            for pause in ((False, True) if i % 2 == 0 else (True, False)):
                if progress.phase != "training":
                    break
                product = products[rng.randrange(len(products))]
                if pause:
                    os.kill(progress.pid, signal.SIGSTOP)
                    t0 = time.perf_counter()
                    try:
                        idle.append(await one_copy(engine, product))
                    finally:
                        os.kill(progress.pid, signal.SIGCONT)
                        paused += time.perf_counter() - t0
                else:
                    busy.append(await one_copy(engine, product))
        print(f"  {len(idle)} idle and {len(busy)} training-time /copy measured (step {progress.step} "
              f"of {progress.steps}): p50 idle {statistics.median(idle):.2f} s, training "
              f"{statistics.median(busy):.2f} s; waiting for the run to end", flush=True)
        result = await engine.learning.runner.wait()
        wall = time.perf_counter() - started - paused
        metrics = result.version.metrics if result.version else {}
        print(f"  run: {result.status}; {result.message}")
        print(f"  /copy p50 idle {statistics.median(idle):.2f} s, training {statistics.median(busy):.2f} s; "
              f"run {wall:.0f} s excluding {paused:.0f} s paused; metrics "
              f"{ {k: metrics.get(k) for k in TIMING_FIELDS} }",
              flush=True)
        return {"idle": idle, "busy": busy, "wall": wall, "paused": paused, "metrics": metrics,
                "status": result.status}
    finally:
        await engine.close()
        shutil.rmtree(workdir, ignore_errors=True)


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="small", help="small (SmolLM2-135M), bundled (Qwen2.5-Coder-1.5B) "
                        "or any COPYBOT_MODEL value")
    parser.add_argument("--cycles", type=int, default=4, help="weekly fine-tunes (0: skip parts 1 and 2)")
    parser.add_argument("--requests", type=int, default=30, help="/copy requests (3 variants) per week")
    parser.add_argument("--max-requests", type=int, default=150, help="cap per week (an A/B test short of verdicts)")
    parser.add_argument("--max-words", type=int, default=20, help="the hidden rule's word limit")
    parser.add_argument("--train-examples", type=int, default=200, help="examples of the timing run (0: skip part 3)")
    parser.add_argument("--latency-requests", type=int, default=8, help="idle/training /copy pairs in part 3")
    parser.add_argument("--min-examples", type=int, default=None,
                        help="COPYBOT_FINETUNE_MIN_EXAMPLES for the weekly runs (default: the engine's)")
    parser.add_argument("--bad-only", action="store_true",
                        help="one week of the team's requests, then only the bad candidate (part 2)")
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--seed-examples", type=int, default=0,
                        help="team-written rule-following ads approved before week 1 "
                             "(for a model that never follows the rule)")
    args = parser.parse_args()

    products = load_products()
    config = replace(engine_config_from_env(), model=args.model, backend="local", finetune_cron="off",
                     database=None)
    if args.min_examples is not None:
        config = replace(config, finetune_min_examples=args.min_examples)
    print(f"model {args.model}; {len(products)} products; {os.cpu_count()} CPUs, load average "
          f"{load_average()}; fine-tune: epochs {config.finetune_epochs}, lr {config.finetune_learning_rate}, "
          f"LoRA r={config.finetune_lora_rank}, batch {config.finetune_batch_size}, "
          f"{training_threads(config)} thread(s), DPO beta {config.finetune_dpo_beta}, min examples "
          f"{config.finetune_min_examples}, margin {config.finetune_margin}; A/B share {config.ab_share}, "
          f"{config.ab_verdicts} verdicts each, alpha {config.ab_alpha}", flush=True)
    started = time.perf_counter()
    rows, bad = ([], None)
    if args.cycles > 0:
        rows, bad = await cycles(config, args, products)
    timing = None
    if args.train_examples > 0:
        print(f"training {args.train_examples} approved examples while the bot answers /copy "
              f"(load average {load_average()})", flush=True)
        timing = await training_with_the_bot_answering(config, args, products)

    print()
    print(f"=== {args.model}: summary (load average at the end {load_average()}, whole run "
          f"{time.perf_counter() - started:.0f} s, peak RSS of this process "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MB)")
    if rows:
        print(f"{'week':>4} {'approved':>9} {'variants':>8}  {'fine-tune':<9} {'NLL active->cand':<16} "
              f"{'train s':>7} {'peak MB':>7}  {'its A/B (next week)':<20} {'p':>7}")
        for r in rows:
            p = f"{r['p']:.3g}" if r.get("p") is not None else "-"
            print(f"{r['week']:>4} {r['share']:>9.0%} {r['variants']:>8}  {r.get('status', '-'):<9} "
                  f"{r.get('nll', '-'):<16} {r.get('train_seconds') or 0:>7.0f} {r.get('peak') or 0:>7}  "
                  f"{r.get('ab', '-'):<20} {p:>7}   [{r['writers']}]")
        shares = [r["share"] for r in rows]
        rising = all(b >= a for a, b in zip(shares, shares[1:]))
        print(f"approval share week 1 -> last: {shares[0]:.0%} -> {shares[-1]:.0%} "
              f"({'rising every week' if rising else 'not rising every week'})")
    if bad is not None:
        p = f"{bad['p']:.3g}" if bad.get("p") is not None else "-"
        print(f"bad candidate (trained on the rejected copy): offline {bad['status']}, NLL {bad['nll']}; "
              f"A/B {bad['ab']} (p = {p}; {bad.get('counts', '')}) -> "
              f"{'refused' if bad['ab'] != 'promoted' else 'PROMOTED (goal missed)'}")
    if timing is not None:
        m = timing["metrics"]
        idle, busy = statistics.median(timing["idle"]), statistics.median(timing["busy"])
        print(f"training {m.get('train_examples')} examples ({m.get('threads')} thread, {m.get('precision')}, "
              f"{m.get('steps')} steps): training {m.get('train_seconds', 0):.0f} s incl. "
              f"{timing['paused']:.0f} s paused, "
              f"whole run {timing['wall']:.0f} s excluding pauses ({timing['wall'] / 60:.1f} min; goal < 30 min), "
              f"{m.get('seconds_per_example')} s per example, peak memory {m.get('peak_memory_mb')} MB")
        print(f"/copy (n: 3) p50: idle {idle:.2f} s, while training {busy:.2f} s -> {busy / idle:.2f}x "
              f"(goal <= 2x); {len(timing['idle'])} + {len(timing['busy'])} requests")


if __name__ == "__main__":
    asyncio.run(main())
