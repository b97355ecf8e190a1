"""What the README promises about limits and permissions is what the code does."""

from __future__ import annotations

from bot.discord_adapter.translate import MAX_REVIEW_FILE_BYTES
from bot.slack_adapter.files import MAX_FILE_BYTES
from engine.reviews.reading import MAX_INPUT_BYTES, MAX_REVIEWS
from tests.models import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")


def test_the_upload_limits_in_the_readme_are_the_ones_enforced():
    sentence = " ".join(README.split())
    assert f"files of up to {MAX_FILE_BYTES // 1_000_000} MB from Slack" in sentence
    assert f"{MAX_REVIEW_FILE_BYTES // 2**20} MiB from Discord" in sentence
    assert f"{MAX_INPUT_BYTES // 2**20} MB from the command line" in sentence
    assert f"Limits: {MAX_REVIEWS:,} reviews per request" in sentence


def test_the_readme_says_who_may_look_at_and_change_the_model():
    sentence = " ".join(README.split())
    assert "model versions (anyone, privately); switching is admins only" in sentence
    assert "or see its progress (anyone, privately)" in sentence
