"""Shared fixtures: real SQLite files in temp dirs, the real bundled model, a tiny random model, a fake
remote model server, the environment of a `copybot` child process, and copybot's own log checked
for secrets."""

from __future__ import annotations

import io
import json
import logging
import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing in the tests may reach a model hub
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from bot.ops.logs import configure_logging  # noqa: E402
from engine import Engine, EngineConfig, Origin  # noqa: E402
from tests.fake_openai import FakeOpenAI  # noqa: E402
from tests.models import REPO, build_tiny_model, bundled_model_dir, local_backend  # noqa: E402
from tests.processes import API_KEY, TEST_SECRETS, leaked_secrets  # noqa: E402


@pytest.fixture(scope="session")
def smollm_dir() -> Path:
    """The real SmolLM2-135M-Instruct as a safetensors folder (converted once per machine)."""
    return bundled_model_dir()


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory, smollm_dir) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny-model"))


@pytest.fixture(scope="session")
def tiny_backend(tiny_model_dir):
    return local_backend(tiny_model_dir, version="tiny-test")


@pytest.fixture(scope="session")
def smollm_backend(smollm_dir):
    return local_backend(smollm_dir, version="SmolLM2-135M-Instruct")


@pytest.fixture
def engine_config(tmp_path) -> EngineConfig:
    # Short generations keep the tiny model fast; the real-model tests ask for their own lengths.
    # The tiny model writes nonsense that never names the product, so the brief checks are off:
    # tests on this fixture are about storage and delivery; tests/test_grounding.py and the
    # real-model tests are about the copy.
    return EngineConfig(data_dir=tmp_path / "data", prompts_dir=REPO / "prompts", max_rounds=2,
                        max_new_tokens=24, grounding=False,
                        admins=("slack:UADMIN", "discord:1000"))


@pytest.fixture
async def engine(engine_config, tiny_backend):
    """A real engine on a temp SQLite file, generating with the tiny model (fast, nonsense text)."""
    engine = await Engine.open(engine_config, backend=tiny_backend)
    yield engine
    await engine.close()


@pytest.fixture
async def fake_openai():
    """A fake OpenAI-compatible model server on a real local port (the remote backend's far end)."""
    fake = FakeOpenAI()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
def console_origin() -> Origin:
    return Origin(platform="console", workspace="local", channel="terminal", user="tester")


@pytest.fixture
def remote_config(tmp_path, fake_openai) -> EngineConfig:
    """An engine on the fake OpenAI-compatible server (with the test API key)."""
    # grounding off: the fake server's canned answers name no product (it is not a model).
    return EngineConfig(data_dir=tmp_path / "data", prompts_dir=REPO / "prompts", max_rounds=1,
                        grounding=False, backend="openai", openai_url=fake_openai.url, openai_model="fake-model",
                        openai_api_key=API_KEY, openai_timeout=2.0, openai_retries=2)


@pytest.fixture
def cli_env(tmp_path, tiny_model_dir):
    """The environment of a `copybot` child process on the tiny model (tests/bot/cli has its own)."""
    env = dict(os.environ)
    env.update(COPYBOT_DATA_DIR=str(tmp_path / "data"), COPYBOT_MODEL=str(tiny_model_dir),
               COPYBOT_MAX_NEW_TOKENS="24", COPYBOT_LOG_LEVEL="WARNING",
               COPYBOT_GROUNDING="off")  # the tiny model never names the product
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "DISCORD_TOKEN"):
        env.pop(name, None)
    return env


@pytest.fixture
def captured_log():
    """copybot's own logging (JSON, DEBUG) into a buffer for the whole test; afterwards every line
    must be one JSON object and none may contain a secret (tests.processes.TEST_SECRETS).

    Autouse in tests/bot/ops; elsewhere ``pytestmark = pytest.mark.usefixtures("captured_log")``."""
    root = logging.getLogger()
    level = root.level
    buffer = io.StringIO()
    handler = configure_logging("DEBUG", env={**TEST_SECRETS, "COPYBOT_LOG_FORMAT": "json"},
                                stream=buffer)
    yield buffer
    root.removeHandler(handler)
    root.setLevel(level)
    logging.captureWarnings(False)
    lines = buffer.getvalue().splitlines()
    for line in lines:
        json.loads(line)
    assert not [line for line in lines if leaked_secrets(line)], "a secret reached a log line"
