"""How well copybot reads briefs of every shape: the structured brief (``engine.copy.brief``)
against the answers written with each brief of ``bench/briefs_eval.toml``, per shape and language.

    .venv/bin/python bench/brief_reading.py [--show N]

Counts, per shape × language: the name right (the same name, or "" for a brief that names
nothing), the kind right (the answer's kind inside the reading's, or the other way round), the
price right, and the share of the answer's numbers the reading found. ``--show`` prints the first
N misread names. Also prints the old rule (``product_names``: the text before the first colon) in
the same run, so the ratio shows.
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from engine.copy.brief import read_brief  # noqa: E402
from engine.copy.brief_checks import product_names  # noqa: E402
from engine.copy.validation import clean_brief  # noqa: E402

EVAL = REPO / "bench" / "briefs_eval.toml"


def same(a: str, b: str) -> bool:
    return a.strip().lower() == b.strip().lower()


def name_usable(answer: str, read) -> bool:
    """The reading names it so the brief checks work: no name where the brief gives none, and
    where it gives one, a form the copy must use that is the answer or its start ("Brightside" of
    "Brightside Dental", 青岚 of 青岚保温杯), or the answer is the start of the reading's name."""
    if not answer:
        return not read.name
    a = answer.lower()
    forms = [n.lower() for n in (read.name, *read.names) if n]
    return any(f == a or a.startswith(f + " ") or a.startswith(f) and _cjk(f) or f.startswith(a) for f in forms)


def _cjk(text: str) -> bool:
    return any("\u3400" <= c <= "\u9fff" for c in text)


def kind_right(answer: str, read: str) -> bool:
    a, r = answer.lower(), read.lower()
    return bool(a and r and (a in r or r in a)) or (not a and not r)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--show", type=int, default=0)
    args = parser.parse_args()
    briefs = tomllib.loads(EVAL.read_text(encoding="utf-8"))["brief"]
    rows: dict[tuple[str, str], list[dict]] = defaultdict(list)
    misses = []
    for brief in briefs:
        text = clean_brief(brief["text"])
        read = read_brief(text)
        old = product_names(text)[0]
        found = {n.lower() for n in read.numbers}
        wanted = [n for n in brief["numbers"]]
        number_hits = sum(any(n.lower().replace(" ", "") in f.replace(" ", "") for f in found) for n in wanted)
        row = {"name": same(read.name, brief["name"]), "usable": name_usable(brief["name"], read),
               "old_name": same(old, brief["name"]),
               "kind": kind_right(brief["kind"], read.kind), "price": same(read.price, brief["price"]),
               "numbers": (number_hits, len(wanted))}
        rows[(brief["shape"], brief["language"])].append(row)
        if not row["usable"]:
            misses.append((brief["id"], brief["name"], read.name, old))
    print(f"{'shape':12s} {'lang':4s} {'n':>3s} {'name':>6s} {'usable':>6s} {'old name':>8s} {'kind':>6s} "
          f"{'price':>6s} {'numbers':>8s}")
    total = defaultdict(float)
    for (shape, language), items in sorted(rows.items()):
        n = len(items)
        share = {key: sum(item[key] for item in items) / n for key in ("name", "usable", "old_name", "kind", "price")}
        hits = sum(item["numbers"][0] for item in items)
        wanted = sum(item["numbers"][1] for item in items) or 1
        print(f"{shape:12s} {language:4s} {n:3d} {share['name']:6.0%} {share['usable']:6.0%} {share['old_name']:8.0%} "
              f"{share['kind']:6.0%} {share['price']:6.0%} {hits / wanted:8.0%}")
        for key in share:
            total[key] += share[key] * n
        total["n"] += n
    n = total.pop("n")
    print("all" + " " * 14 + f"{int(n):3d} " + " ".join(f"{total[k] / n:{w}.0%}" for k, w in
                                                         (("name", 6), ("usable", 6), ("old_name", 8), ("kind", 6),
                                                          ("price", 6))))
    for miss in misses[:args.show]:
        print("  name", miss)
    return 0


if __name__ == "__main__":
    sys.exit(main())
