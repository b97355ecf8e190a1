"""The language model's second opinion on the least-sure reviews, through the engine's /reviews with
generation on a fake OpenAI-compatible server (real HTTP): only the least-sure share is asked, each
in its own language, a clear answer changes the label and the summary says so, and an unclear,
failed or late answer leaves the classifier's label."""

from __future__ import annotations

import math

import pytest

from engine import Engine, EngineConfig
from engine.reviews.classifier import Prediction
from engine.reviews.second_opinion import least_sure, parse_verdict
from engine.types import Origin
from tests.fake_openai import FakeOpenAI
from tests.models import REPO

ORIGIN = Origin(platform="slack", workspace="T1", channel="C1", user="U1")
REVIEWS = [
    "Battery lasts two full days, love it.",
    "The strap broke after a week. Very disappointed.",
    "Screen is bright and easy to read outdoors.",
    "It is okay I guess, does what it says.",
    "Shipping was slow but the watch itself works.",
    "Not bad, not great either.",
    "Stopped syncing with my phone, support never answered.",
    "Comfortable enough to sleep with.",
    "Heart rate readings seem a bit off sometimes.",
    "Arrived on Tuesday.",
    "续航很给力，充一次电用一周。",
    "表带太硬了，戴久了手腕疼。",
    "屏幕清楚，阳光下也看得见。",
    "还行吧，和描述差不多。",
    "物流有点慢，东西还可以。",
    "客服态度很差，问题一直没解决。",
    "睡眠监测挺准的，很满意。",
    "用了三天就连不上手机了。",
    "价格一般，功能够用。",
    "周二收到的。",
]
CHINESE_PROMPT = "评论："


def config(tmp_path, fake: FakeOpenAI, seconds: float, share: float = 0.10) -> EngineConfig:
    return EngineConfig(data_dir=tmp_path / "data", prompts_dir=REPO / "prompts", backend="openai",
                        openai_url=fake.url, openai_model="fake-model", openai_timeout=10.0, openai_retries=0,
                        reviews_second_opinion_seconds=seconds, reviews_second_opinion_share=share)


async def summarize(tmp_path, fake: FakeOpenAI, seconds: float, share: float = 0.10):
    async with await Engine.open(config(tmp_path, fake, seconds, share)) as engine:
        return await engine.summarize_reviews(ORIGIN, text="\n".join(REVIEWS))


def asked_reviews(fake: FakeOpenAI) -> list[str]:
    return [r.body["messages"][-1]["content"].split(":", 1)[-1].split("：", 1)[-1].strip() for r in fake.requests]


async def test_only_the_least_sure_share_is_asked_and_a_clear_answer_changes_its_label(tmp_path, fake_openai):
    alone = await summarize(tmp_path / "alone", fake_openai, seconds=0)
    assert fake_openai.requests == []  # off: the classifier alone
    by_confidence = sorted(alone.reviews, key=lambda r: r.confidence)
    expected = {r.text for r in by_confidence[: math.ceil(0.2 * len(REVIEWS))]}

    # Whatever the classifier said, the "model" calls these reviews neutral, each in its language.
    fake_openai.answer_for = lambda messages: "中性" if CHINESE_PROMPT in messages[-1]["content"] else "Neutral."
    summary = await summarize(tmp_path / "asked", fake_openai, seconds=30, share=0.2)

    assert set(asked_reviews(fake_openai)) == expected
    for request in fake_openai.requests:
        review = request.body["messages"][-1]["content"]
        chinese = any("\u4e00" <= c <= "\u9fff" for c in review.split("：", 1)[-1])
        assert (CHINESE_PROMPT in review) == chinese
    after = {r.text: r.label for r in summary.reviews}
    before = {r.text: r.label for r in alone.reviews}
    changed = sum(before[t] != "neutral" for t in expected)
    assert all(after[t] == "neutral" for t in expected)
    assert all(after[t] == before[t] for t in before if t not in expected)
    assert summary.neutral == sum(label == "neutral" for label in after.values())
    assert (f"second opinion on the {len(expected)} reviews the classifier was least sure of and changed "
            f"{changed} label") in " ".join(summary.notes)


async def test_an_answer_that_is_not_a_label_leaves_the_classifiers_label(tmp_path, fake_openai):
    alone = await summarize(tmp_path / "alone", fake_openai, seconds=0)
    fake_openai.answer_for = lambda messages: "It depends on what you value in a watch."
    summary = await summarize(tmp_path / "asked", fake_openai, seconds=30)

    assert len(fake_openai.requests) == math.ceil(0.1 * len(REVIEWS))
    assert [r.label for r in summary.reviews] == [r.label for r in alone.reviews]
    assert not any("second opinion" in note for note in summary.notes)


async def test_a_server_that_does_not_answer_in_time_costs_the_budget_not_the_summary(tmp_path, fake_openai):
    alone = await summarize(tmp_path / "alone", fake_openai, seconds=0)
    fake_openai.hang_next(times=len(REVIEWS))
    summary = await summarize(tmp_path / "asked", fake_openai, seconds=1)

    assert len(fake_openai.requests) == 1  # the first goes alone; the others wait to learn how long one takes
    assert [r.label for r in summary.reviews] == [r.label for r in alone.reviews]
    assert not any("second opinion" in note for note in summary.notes)


@pytest.mark.parametrize("answer, label", [
    ("Negative", "negative"), ("positive.", "positive"), ("NEUTRAL", "neutral"), ("负面", "negative"),
    ("正面。", "positive"), ("中性", "neutral"), ("Positive or negative", None), ("不知道", None), ("", None),
])
def test_an_answer_names_one_label_or_none(answer, label):
    assert parse_verdict(answer) == label


def test_the_least_sure_come_first_and_the_share_is_rounded_up():
    predictions = [Prediction("positive", c, c, 1 - c) for c in (0.9, 0.55, 0.7, 0.51, 0.99)]
    assert least_sure(predictions, 0.5) == [3, 1, 2]
    assert least_sure(predictions, 0.01) == [3]
    assert least_sure(predictions, 0) == []
