"""The house copywriter's examples (training/house/data): they parse, they hold the spread the
README promises, and every good copy passes copybot's own brief checks for its brief, as the bot
holds its own output to them."""

from __future__ import annotations

from collections import Counter

import pytest

from engine.copy.brief import read_brief
from engine.copy.brief_checks import check_variant
from engine.copy.compliance import ComplianceRules
from engine.copy.copywriter import NAMING_MIN_WORDS
from engine.copy.prompts import PromptBook
from engine.copy.validation import clean_brief
from engine.types import CopyRequest
from tests.models import REPO
from training.house_copywriter import DATA_DIR, data_sha256, load_examples, messages

SHAPES = {"name_facts", "attributes", "bullets", "paragraph", "page"}
FAULTS = {"pasted", "generic", "misread", "invented"}


@pytest.fixture(scope="module")
def examples():
    return load_examples()


@pytest.fixture(scope="module")
def book():
    return PromptBook.load(REPO / "prompts")


def test_the_examples_hold_the_spread_the_readme_promises(examples, book):
    assert len(examples) >= 1500
    languages = Counter(e.language for e in examples)
    assert languages["zh"] == languages["en"]
    assert len({e.id for e in examples}) == len(examples)
    assert len({e.category for e in examples}) >= 40
    shapes = Counter(e.shape for e in examples)
    assert set(shapes) == SHAPES and min(shapes.values()) >= 0.15 * len(examples)
    assert {e.channel for e in examples} == set(book.channels)
    assert {e.tone for e in examples} - {""} <= set(book.tones)
    assert {e.bad_fault for e in examples} == FAULTS
    assert all(e.copy.strip() and e.bad.strip() and e.copy != e.bad for e in examples)
    held_out = [e for e in examples if e.held_out]
    assert 0.02 * len(examples) < len(held_out) < 0.06 * len(examples)


def test_every_good_copy_passes_the_brief_checks(examples, book):
    rules = ComplianceRules.load(REPO / "prompts")
    refused = []
    for example in examples:
        brief = clean_brief(example.brief)
        limits = book.limits(CopyRequest(product=brief, ad_channel=example.channel))
        names = (example.name,) if example.name and limits.max_words >= NAMING_MIN_WORDS else ()
        kind = read_brief(brief, example.language).kind  # as the bot reads it
        check = check_variant(example.copy, brief, example.language, names=names, rules=rules, kind=kind)
        if not check.ok:
            refused.append((example.id, check.problems))
    assert refused == []


def test_the_prompt_is_the_bots_own_with_the_examples_request_options(examples, book):
    named = next(e for e in examples if e.name and e.tone and e.language == "en")
    unnamed = next(e for e in examples if not e.name and e.language == "zh")
    [system, user] = messages(named, book)
    assert system["role"] == "system" and "senior advertising copywriter" in system["content"]
    assert f'Call it "{named.name}" in the copy.' in user["content"]
    assert f"Tone: {named.tone}" in user["content"]
    zh_user = messages(unnamed, book)[1]["content"]
    assert "文案里要写出产品名称" not in zh_user and clean_brief(unnamed.brief) in zh_user


def test_the_data_hash_changes_with_any_byte_of_the_data(tmp_path):
    for path in DATA_DIR.glob("*.toml"):
        (tmp_path / path.name).write_bytes(path.read_bytes())
    before = data_sha256(tmp_path)
    assert before == data_sha256(DATA_DIR)
    first = sorted(tmp_path.glob("*.toml"))[0]
    first.write_bytes(first.read_bytes() + b"\n")
    assert data_sha256(tmp_path) != before
