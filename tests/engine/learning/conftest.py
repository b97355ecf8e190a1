"""Fixtures for the learning loop: an engine whose base model is the tiny random model, so a real
LoRA fine-tune in a real training process takes seconds. The helpers that seed team feedback are
in tests/engine/learning/helpers.py."""

from __future__ import annotations

import pytest

from engine import EngineConfig
from tests.models import REPO


@pytest.fixture
def learning_config(tmp_path, tiny_model_dir) -> EngineConfig:
    return EngineConfig(
        data_dir=tmp_path / "data", model=str(tiny_model_dir), prompts_dir=REPO / "prompts",
        max_new_tokens=24, max_rounds=1, admins=("slack:UADMIN",), grounding=False,  # tiny model
        finetune_min_examples=6, finetune_epochs=6, finetune_learning_rate=1e-2,
        finetune_batch_size=4, finetune_threads=1, finetune_clean_samples=2, finetune_margin=0.02,
        finetune_cron="off", ab_share=0.0)  # promotion on the offline check; A/B tests set it
