"""One real sentiment analyser (bundled MiniLM + the committed adapter) for the whole session."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def analyzer():
    from engine.reviews import SentimentAnalyzer

    return SentimentAnalyzer()
