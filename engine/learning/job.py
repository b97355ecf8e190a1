"""What one training process is asked to do: a ``TrainingJob``, written as ``job.json`` by whoever
starts the run (the weekly fine-tune in ``engine.learning.runner``, the house copywriter's build in
``engine.learning.house``) and read by ``python -m engine.learning.train``.

Every value that a deployment setting decides is a required field here, so the setting is the one
place its default lives (``engine.config``); the fields with defaults are the training process's
own choices.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

# {"messages": [chat messages], "answer": "copy"}: one example, loss on the answer only.
Example = dict
# {"messages": [...], "chosen": "copy", "rejected": "copy"}: one preference pair (DPO).
Pair = dict


@dataclass(frozen=True)
class LoraShape:
    rank: int
    alpha: int
    dropout: float = 0.0


@dataclass(frozen=True)
class TrainingJob:
    base: str  # the transformers checkpoint (folder) the adapters apply to
    chain: tuple[str, ...]  # peft adapters merged into the base before training, oldest first
    output: str  # where the new adapter goes (written to <output>.partial, renamed when complete)
    train: tuple[Example, ...]
    validation: tuple[Example, ...]
    rejected: tuple[Example, ...]  # scored against, to see the candidate prefers approved copy
    pairs: tuple[Pair, ...]  # measured with every run; trained on when dpo_beta > 0
    dpo_beta: float
    lora: LoraShape
    epochs: int
    batch_size: int
    learning_rate: float
    threads: int
    time_limit: float  # seconds of training; past it the process scores and saves what it has
    precision: str  # "auto", "fp32" or "bf16"
    clean_prompts: tuple[dict, ...] = ()  # {"messages", "max_new_tokens"}: sampled for the cleanliness check
    parent_pid: int | None = None  # the process exits when this one is gone
    seed: int = 0
    max_length: int = 512  # tokens of prompt + answer
    micro_tokens: int | None = None  # tokens per micro-batch; None: engine.learning.step's choice
    nice: int = 10  # the bot answering /copy comes first
    # Resumable runs (the house copywriter trains for hours): the adapter and the step reached are
    # saved here every ``checkpoint_every`` steps, and a rerun of the same job continues from them.
    checkpoint_dir: str | None = None
    checkpoint_every: int = 0

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> TrainingJob:
        raw = json.loads(text)
        raw["lora"] = LoraShape(**raw["lora"])
        for name in ("chain", "train", "validation", "rejected", "pairs", "clean_prompts"):
            raw[name] = tuple(raw.get(name) or ())
        return cls(**raw)

    def write(self, path: Path) -> None:
        path.write_text(self.to_json(), encoding="utf-8")

    @classmethod
    def read(cls, path: Path) -> TrainingJob:
        return cls.from_json(path.read_text(encoding="utf-8"))

