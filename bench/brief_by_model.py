"""Reading a brief by rule or by the model: which names the product right more often?

    .venv/bin/python bench/brief_by_model.py [--limit N]

The bundled Qwen2.5-Coder-1.5B (llama.cpp, the `xllamacpp` wheel, as the bot serves it) is asked for
the brief's name and kind, its output held to a JSON schema by llama.cpp's grammar, on every brief
of `bench/briefs_eval.toml`; `engine.copy.brief.read_brief` reads the same briefs by rule. Prints,
per shape: the name usable (as `bench/brief_reading.py` counts it) by rule, by the model, and by
both (the model asked only where the rules found no name), and the model's seconds per brief.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import tomllib
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.brief_reading import name_usable  # noqa: E402
from bench.stats import percentile  # noqa: E402
from engine.copy.brief import Brief, read_brief  # noqa: E402
from engine.copy.validation import clean_brief  # noqa: E402

SCHEMA = {"type": "object", "properties": {"name": {"type": "string"}, "kind": {"type": "string"}},
          "required": ["name", "kind"]}
SYSTEM = ("You read marketing briefs. Answer with JSON: \"name\" is what the product, service or company "
          "is called, exactly as the brief writes it (a brand or a proper name), or \"\" when the brief "
          "gives no name; \"kind\" is what is being sold, in a few words of the brief's language.")


def model_reader():
    import xllamacpp

    from engine.config import EngineConfig
    from engine.generation.bundle import QWEN_1_5B, assembled_model

    params = xllamacpp.CommonParams()
    params.model.path = str(assembled_model(QWEN_1_5B, EngineConfig(data_dir=REPO / ".cache" / "data").model_cache_dir))
    params.n_parallel = 1
    params.n_ctx = 2048
    params.cpuparams.n_threads = params.cpuparams_batch.n_threads = 2
    params.verbosity = -1
    server = xllamacpp.Server(params)

    def read(text: str) -> dict:
        answer = server.handle_chat_completions({
            "messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": text}],
            "max_tokens": 64, "temperature": 0.0,
            "response_format": {"type": "json_schema", "json_schema": {"schema": SCHEMA}},
        })
        try:
            return json.loads(answer["choices"][0]["message"]["content"])
        except (KeyError, IndexError, TypeError, json.JSONDecodeError):
            return {"name": "", "kind": ""}

    return read


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--limit", type=int, default=0, help="only the first N briefs")
    args = parser.parse_args()
    briefs = tomllib.loads((REPO / "bench" / "briefs_eval.toml").read_text(encoding="utf-8"))["brief"]
    if args.limit:
        briefs = briefs[: args.limit]
    read_by_model = model_reader()
    rows: dict[str, list[tuple[bool, bool, bool]]] = defaultdict(list)
    seconds = []
    for brief in briefs:
        text = clean_brief(brief["text"])
        by_rule = read_brief(text)
        began = time.perf_counter()
        answer = read_by_model(text)
        seconds.append(time.perf_counter() - began)
        name = str(answer.get("name", "")).strip()
        by_model = Brief(text=text, language=by_rule.language, shape=by_rule.shape, name=name,
                         names=(name,) if name else ())
        both = by_rule if by_rule.name else by_model
        rows[brief["shape"]].append((name_usable(brief["name"], by_rule), name_usable(brief["name"], by_model),
                                     name_usable(brief["name"], both)))
    print(f"{'shape':12s} {'n':>3s} {'rules':>6s} {'model':>6s} {'both':>6s}")
    everything = []
    for shape, items in sorted(rows.items()):
        everything += items
        print(f"{shape:12s} {len(items):3d} " + " ".join(f"{sum(i[k] for i in items) / len(items):6.0%}"
                                                        for k in range(3)))
    print(f"{'all':12s} {len(everything):3d} " + " ".join(f"{sum(i[k] for i in everything) / len(everything):6.0%}"
                                                        for k in range(3)))
    print(f"model: p50 {percentile(seconds, 0.5):.1f} s, p95 {percentile(seconds, 0.95):.1f} s per brief")
    return 0


if __name__ == "__main__":
    sys.exit(main())
