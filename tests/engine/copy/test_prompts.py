"""Prompts are data: what a marketer writes in prompts/ is what the model is asked."""

import shutil

import pytest

from engine import CopyRequest, UserError
from engine.copy.prompts import PromptBook
from tests.models import REPO


@pytest.fixture
def book() -> PromptBook:
    return PromptBook.load(REPO / "prompts")


def test_the_prompt_carries_every_choice(book):
    messages = book.messages(
        CopyRequest(product="linen bed sheets", tone="luxurious", audience="new parents",
                    ad_channel="email subject"),
        brand_voice="Warm and honest", examples=["Sleep like Sunday, every day."])
    user = messages[-1]["content"]
    assert messages[0]["role"] == "system"
    for expected in ("linen bed sheets", "luxurious (refined, sensory and exclusive)", "new parents",
                     "an email subject line", "at most 9 words", "Warm and honest",
                     "- Sleep like Sunday, every day."):
        assert expected in user


def test_missing_options_leave_no_empty_lines(book):
    user = book.messages(CopyRequest(product="running socks"))[-1]["content"]
    assert "Tone:" not in user and "Audience:" not in user and "Brand voice" not in user
    assert "\n\n" not in user


def test_free_text_tones_and_word_counts_are_accepted(book):
    request = CopyRequest(product="socks", tone="cheeky but kind", length="25 words")
    assert "Tone: cheeky but kind (cheeky but kind)." in book.messages(request)[-1]["content"]
    assert book.limits(request).max_words == 25


def test_unknown_presets_list_what_is_allowed(book):
    with pytest.raises(UserError, match="use one of: email, email subject, facebook"):
        book.limits(CopyRequest(product="socks", ad_channel="fax"))
    with pytest.raises(UserError, match="number of words from 1 to 200"):
        book.limits(CopyRequest(product="socks", length="9000"))


def test_a_marketers_edit_changes_the_prompt(tmp_path):
    folder = tmp_path / "prompts"
    shutil.copytree(REPO / "prompts", folder)
    presets = (folder / "presets.toml").read_text()
    (folder / "presets.toml").write_text(presets + '\n[channels.billboard]\nlabel = "a billboard line"\n'
                                         'guidance = "five words, readable at 60 mph"\nwords = 5\n')
    copy = (folder / "copy.toml").read_text().replace("senior advertising copywriter",
                                                       "copywriter for a Berlin bakery")
    (folder / "copy.toml").write_text(copy)
    messages = PromptBook.load(folder).messages(CopyRequest(product="rye bread", ad_channel="billboard"))
    assert "copywriter for a Berlin bakery" in messages[0]["content"]
    assert "a billboard line" in messages[1]["content"] and "at most 5 words" in messages[1]["content"]
