"""Shared fixtures: real SQLite files in temp dirs, the real bundled model, a tiny random model."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing in the tests may reach a model hub
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from engine import Engine, EngineConfig, Origin  # noqa: E402
from tests.models import REPO, build_tiny_model, bundled_model_dir, local_backend  # noqa: E402
from tests.ops.fake_openai import FakeOpenAI  # noqa: E402


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
