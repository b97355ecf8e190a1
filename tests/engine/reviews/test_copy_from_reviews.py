"""`/copy … from: reviews`: the workspace's latest review summary (its own, never another's) puts
praise to use and complaints not to claim into the prompt; the reply says which; a variant that
claims what customers complain about is dropped like any other off-brief variant."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from dataclasses import replace

import pytest

from bot.commands import parse_command
from bot.console import render_reply
from bot.conversation import parse_request
from bot.discord_adapter import render as discord_render
from bot.discord_adapter import translate
from bot.dispatch import Reply
from bot.rendering.from_reviews import from_reviews_line
from bot.rendering.markup import PLAIN
from bot.slack_adapter import render as slack_render
from engine import (
    WORKSPACE_SETTINGS,
    CopyRequest,
    CopyResult,
    Engine,
    Origin,
    ReviewBrief,
    ReviewPoint,
    UserError,
    Variant,
)
from engine.copy.brief_checks import check_variant, names_theme
from engine.reviews import ReviewSummary, Theme, save_review_summary
from engine.reviews.for_copy import NO_SUMMARY, brief_from, short_quote, without_claims_on
from engine.reviews.storage import latest_review_summary
from tests.bot.discord.fake_discord import load_payload
from tests.models import CannedBackend

DEFAULTS = {name: spec.default for name, spec in WORKSPACE_SETTINGS.items()}
EARBUDS = "Aurora wireless earbuds with noise cancelling"
SUMMARISED = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC)


def theme(label, positive, negative, quote="", neutral=0) -> Theme:
    return Theme(label=label, mentions=positive + negative + neutral, quote=quote or f"About the {label}.",
                 line=1, positive=positive, negative=negative, neutral=neutral)


def summary(praise, complaints, created=SUMMARISED, analysed=20) -> ReviewSummary:
    return ReviewSummary(source="pasted text", model="test", created_at=created, analysed=analysed,
                         positive=11, negative=9, neutral=0, praise=praise, complaints=complaints,
                         reviews=[])


EARBUD_REVIEWS = summary(
    praise=[theme("sound", 6, 0, "Sound quality is crisp and clear, the bass is rich without being muddy."),
            theme("comfortable", 5, 0, "The fit is comfortable and they stay put when I run."),
            theme("pairing", 2, 0, "Pairing was instant and the connection never drops.")],
    complaints=[theme("battery", 0, 6, "Battery life is awful, nowhere near what was promised."),
                theme("rain", 0, 2, "Got caught in light rain and the left earbud died.")])

BAND_REVIEWS = summary(
    praise=[theme("心率", 2, 0, "心率数据准确，跑步的时候很好用。"),
            theme("屏幕", 2, 0, "屏幕很清晰，阳光下也看得清楚。")],
    complaints=[theme("续航", 0, 4, "电池不耐用，说好的续航根本达不到。")])


async def store_summary(engine: Engine, origin: Origin, reviews: ReviewSummary) -> int:
    await engine.store.ensure_workspace(origin.workspace_key, origin.platform)
    async with engine.store.transaction() as db:
        return await save_review_summary(db, origin.workspace_key, reviews)


def stored_prompt(engine: Engine, generation_id: int) -> str:
    with sqlite3.connect(engine.config.database_path) as db:
        prompt = db.execute("SELECT prompt FROM generations WHERE id = ?", (generation_id,)).fetchone()[0]
    return json.loads(prompt)[-1]["content"]


@pytest.fixture
async def canned_engine(engine_config):
    backend = CannedBackend([
        "Aurora earbuds: crisp sound and a comfortable fit that stays put.",
        "Aurora earbuds with a battery that lasts all day, rain or shine.",  # claims both complaints
        "Block the noise with Aurora earbuds and hear every crisp detail.",
    ])
    engine = await Engine.open(replace(engine_config, grounding=True, max_rounds=1), backend=backend)
    engine.test_backend = backend
    yield engine
    await engine.close()


# --- the engine --------------------------------------------------------------------------------

async def test_the_prompt_lists_the_praise_to_use_and_the_complaints_to_avoid(engine, console_origin):
    await store_summary(engine, console_origin, EARBUD_REVIEWS)
    result = await engine.copy(console_origin, CopyRequest(product=EARBUDS, n=1, from_reviews=True))
    prompt = stored_prompt(engine, result.generation_id)
    assert ('Customers praise, in reviews: sound ("Sound quality is crisp and clear, the bass is rich '
            'without being muddy."); comfortable ("The fit is comfortable') in prompt
    assert "Customers complain about: battery (100% of 6 reviews negative); rain (100% of 2" in prompt
    assert "Never mention or promise these, not even where the description does." in prompt
    assert [p.label for p in result.from_reviews.praise] == ["sound", "comfortable", "pairing"]
    assert [(p.label, p.count) for p in result.from_reviews.complaints] == [("battery", 6), ("rain", 2)]
    with sqlite3.connect(engine.config.database_path) as db:
        request = json.loads(db.execute("SELECT request FROM generations").fetchone()[0])
    assert request["from_reviews"] is True


async def test_without_from_reviews_the_prompt_says_nothing_of_reviews(engine, console_origin):
    await store_summary(engine, console_origin, EARBUD_REVIEWS)
    result = await engine.copy(console_origin, CopyRequest(product=EARBUDS, n=1))
    prompt = stored_prompt(engine, result.generation_id)
    assert "Customers" not in prompt and "battery" not in prompt
    assert result.from_reviews is None


async def test_without_a_summary_one_sentence_comes_back_before_any_writing(engine, console_origin):
    accepted = []

    async def on_accepted(request):
        accepted.append(request)

    with pytest.raises(UserError) as error:
        await engine.copy(console_origin, CopyRequest(product=EARBUDS, from_reviews=True),
                          on_accepted=on_accepted)
    assert str(error.value) == NO_SUMMARY
    assert accepted == []
    with sqlite3.connect(engine.config.database_path) as db:
        assert db.execute("SELECT count(*) FROM generations").fetchone()[0] == 0


async def test_another_workspaces_summary_is_never_used(engine, console_origin):
    other = Origin("slack", "T2", "C1", "U1")
    await store_summary(engine, other, summary([theme("secret sauce", 5, 0)], [theme("leaks", 0, 5)]))
    with pytest.raises(UserError, match="No review summary yet in this workspace"):
        await engine.copy(console_origin, CopyRequest(product=EARBUDS, from_reviews=True))
    # With a summary of its own, only its own themes reach the prompt.
    await store_summary(engine, console_origin, EARBUD_REVIEWS)
    result = await engine.copy(console_origin, CopyRequest(product=EARBUDS, n=1, from_reviews=True))
    prompt = stored_prompt(engine, result.generation_id)
    assert "sound" in prompt and "secret sauce" not in prompt and "leaks" not in prompt


async def test_the_latest_summary_is_the_one_used(engine, console_origin):
    await store_summary(engine, console_origin, EARBUD_REVIEWS)
    await store_summary(engine, console_origin, summary(
        [theme("case", 4, 0, "The case is tiny.")], [theme("pairing", 0, 3)],
        created=SUMMARISED + dt.timedelta(days=1)))
    result = await engine.copy(console_origin, CopyRequest(product=EARBUDS, n=1, from_reviews=True))
    prompt = stored_prompt(engine, result.generation_id)
    assert 'case ("The case is tiny.")' in prompt and "pairing (100% of 3 reviews negative)" in prompt
    assert "sound" not in prompt


async def test_a_variant_claiming_a_complaint_is_dropped_and_the_reply_says_what_was_used(
        canned_engine, console_origin):
    await store_summary(canned_engine, console_origin, EARBUD_REVIEWS)
    result = await canned_engine.copy(console_origin, CopyRequest(product=EARBUDS, n=3, from_reviews=True))
    texts = [v.text for v in result.variants]
    assert "Aurora earbuds: crisp sound and a comfortable fit that stays put." in texts
    assert not any("battery" in text for text in texts)
    assert result.from_reviews.used == ("sound", "comfortable")
    assert "Customers complain about: battery" in canned_engine.test_backend.prompts[0][-1]["content"]
    line = from_reviews_line(result.from_reviews, PLAIN)
    assert line == ("From your reviews — using: sound, comfortable; also suggested: pairing; "
                    "avoiding: battery (6 complaints), rain (2 complaints)")


async def test_the_prompt_leaves_out_what_the_description_claims_about_a_complaint(
        canned_engine, console_origin):
    await store_summary(canned_engine, console_origin, EARBUD_REVIEWS)
    result = await canned_engine.copy(console_origin, CopyRequest(
        product="Aurora wireless earbuds: noise cancelling, 30-hour battery, $79", n=1, from_reviews=True))
    prompt = canned_engine.test_backend.prompts[0][-1]["content"]
    assert prompt.startswith("Write a social media post copy for this product: Aurora wireless earbuds: noise "
                             "cancelling, $79\n")
    assert result.from_reviews.left_out == ("30-hour battery",)
    # The request as asked is what is stored, and what the checks hold the copy to.
    async with canned_engine.store.db.execute("SELECT request FROM generations") as cursor:
        assert "30-hour battery" in json.loads((await cursor.fetchone())[0])["product"]


@pytest.mark.parametrize("description, complaints, shown, left_out", [
    ("Aurora wireless earbuds: active noise cancelling, 30-hour battery, $79", ["battery", "rain"],
     "Aurora wireless earbuds: active noise cancelling, $79", ("30-hour battery",)),
    ("Aurora earbuds: noise cancelling, $79, 30-hour battery", ["battery"],
     "Aurora earbuds: noise cancelling, $79", ("30-hour battery",)),
    ("Aurora earbuds with a 30-hour battery and noise cancelling", ["battery"],
     "Aurora earbuds with noise cancelling", ("a 30-hour battery",)),
    ("智能手环：可监测心率和睡眠，续航14天", ["续航"], "智能手环：可监测心率和睡眠", ("续航14天",)),
    ("SmartX phone: 6.5-inch screen, battery 7.5 hours", ["battery"], "SmartX phone: 6.5-inch screen",
     ("battery 7.5 hours",)),
    ("Battery pack: 20,000 mAh", ["battery"], "Battery pack: 20,000 mAh", ()),  # the name stays
])
def test_claims_on_complaints_are_left_out_of_the_description(description, complaints, shown, left_out):
    assert without_claims_on(description, complaints) == (shown, left_out)


async def test_chinese_copy_gets_the_chinese_themes_in_a_chinese_prompt(engine, console_origin):
    await store_summary(engine, console_origin, BAND_REVIEWS)
    result = await engine.copy(console_origin, CopyRequest(product="智能手环：可监测心率和睡眠", n=1,
                                                           from_reviews=True))
    prompt = stored_prompt(engine, result.generation_id)
    assert "顾客在评价里称赞：心率（“心率数据准确，跑步的时候很好用。”）；屏幕（“屏幕很清晰" in prompt
    assert ("顾客抱怨：续航（4 条评价中 100% 是差评）。"
            "文案里绝对不要提到或承诺这些方面，即使产品描述里写了也不要提。") in prompt
    # English copy cannot be written from Chinese themes: one sentence says what to do.
    with pytest.raises(UserError, match="no themes in English .*language: zh"):
        await engine.copy(console_origin, CopyRequest(product="Pulse fitness band", from_reviews=True))


async def test_latest_summary_is_read_per_workspace(engine, console_origin):
    assert await latest_review_summary(engine.store.db, console_origin.workspace_key) is None
    batch = await store_summary(engine, console_origin, EARBUD_REVIEWS)
    found = await latest_review_summary(engine.store.db, console_origin.workspace_key)
    assert found.id == batch and [t.label for t in found.complaints] == ["battery", "rain"]
    assert found.complaints[0].negative == 6
    assert await latest_review_summary(engine.store.db, "slack:T2") is None


# --- what goes into the brief ----------------------------------------------------------------

def test_mixed_themes_are_neither_and_the_product_itself_is_no_theme(engine):
    stored = summary(praise=[theme("sound", 6, 1), theme("earbuds", 5, 0), theme("price", 3, 2)],
                     complaints=[theme("case", 1, 2), theme("fit", 3, 1)])
    brief = brief_from(stored_as(stored), EARBUDS, "en")
    # "fit" was listed under complaints but 3 of its 4 reviews praise it; "earbuds" is the product.
    assert [p.label for p in brief.praise] == ["sound", "fit"]
    # 2 of 5 criticise the price: not to be boasted about, though 3 praise it.
    assert [p.label for p in brief.complaints] == ["price", "case"]


def stored_as(reviews: ReviewSummary):
    from engine.reviews.storage import StoredReviewSummary

    return StoredReviewSummary(id=1, workspace_id="console:local", created_at=reviews.created_at,
                               source=reviews.source, model=reviews.model, analysed=reviews.analysed,
                               positive=reviews.positive, negative=reviews.negative, neutral=reviews.neutral,
                               score=0, average_rating=None, rating_scale=None, found=reviews.analysed,
                               skipped=0, trend_unit=None, trend_direction=None,
                               praise=reviews.praise, complaints=reviews.complaints)


def test_a_summary_without_themes_is_refused_in_one_sentence():
    with pytest.raises(UserError, match="found no praised or criticised themes"):
        brief_from(stored_as(summary([], [])), EARBUDS, "en")


def test_quotes_are_cut_short_at_a_word():
    assert short_quote("word " * 40, limit=20) == "word word word word…"
    assert short_quote("“Short.”") == "Short."
    assert short_quote("续航" * 50, limit=10) == "续航续航续航续航续航…"


# --- the brief check ---------------------------------------------------------------------------

@pytest.mark.parametrize("text, complaint", [
    ("Aurora earbuds: a battery that lasts all day.", "battery"),
    ("Aurora earbuds, with batteries that keep going.", "battery life"),
    ("Aurora earbuds: rain or shine, they keep playing.", "rain"),
    ("Aurora earbuds come in a premium charging case.", "case"),
    ("极光智能手环，续航持久，一充用很久。", "续航"),
    ("极光智能手环，电池超耐用。", "电池续航"),
    # The brief's own number for the complained-about feature, without its name.
    ("Aurora earbuds: 30 hours of music, zero noise.", "battery"),
    ("极光智能手环，14天一充，安心出行。", "续航"),
])
def test_a_variant_that_claims_what_customers_complain_about_is_off_brief(text, complaint):
    description = "极光智能手环：心率监测，续航14天" if "手环" in text else EARBUDS + ", 30-hour battery, $79"
    language = "zh" if "手环" in text else "en"
    check = check_variant(text, description, language, complaints=[complaint])
    assert check.problems == (f"claims {complaint}, which customers complain about",)


@pytest.mark.parametrize("text, complaint", [
    ("Aurora earbuds: crisp sound, a comfortable fit.", "battery"),
    ("Aurora earbuds win customers over with crisp sound.", "customer service"),  # "customers" is no claim on service
    ("Aurora earbuds: casual comfort, all day.", "case"),
    ("极光智能手环，心率监测准确。", "续航"),
    ("Aurora earbuds: noise cancelling for just $79.", "battery"),  # the price is no battery claim
])
def test_copy_that_leaves_the_complaints_alone_passes(text, complaint):
    description = "极光智能手环：心率监测，续航14天" if "手环" in text else EARBUDS + ", 30-hour battery, $79"
    language = "zh" if "手环" in text else "en"
    assert check_variant(text, description, language, complaints=[complaint]).ok


def test_praise_counts_as_used_in_any_common_form():
    assert names_theme("Comfort that lasts", "comfortable")
    assert names_theme("Pairs in a second", "pairing")
    assert names_theme("Crisp sound", "sound quality")
    assert not names_theme("Quality you can hear", "sound quality")


# --- the grammar, on every platform -------------------------------------------------------------

def test_from_reviews_is_a_copy_option():
    assert parse_command("copy", "Aurora earbuds from: reviews n: 2").request == CopyRequest(
        product="Aurora earbuds", n=2, from_reviews=True)
    assert parse_command("copy", "Aurora earbuds").request.from_reviews is False
    with pytest.raises(UserError, match=r"^from: takes reviews .*; got 'yelp'\.$"):
        parse_command("copy", "Aurora earbuds from: yelp")


@pytest.mark.parametrize("text", [
    "3 instagram captions for Aurora earbuds, from our reviews",
    "3 instagram captions for Aurora earbuds based on customer reviews, playful",
    "3 instagram captions for Aurora earbuds, playful, from reviews",
    "3 instagram captions for Aurora earbuds from: reviews",
])
def test_a_mention_may_ask_for_copy_from_reviews(text):
    presets = {"channel": ["instagram", "tweet"], "tone": ["playful", "bold"]}
    request = parse_request(text, presets).request
    assert (request.product, request.n, request.ad_channel, request.from_reviews) == (
        "Aurora earbuds", 3, "instagram", True)


def test_discords_from_option_becomes_the_request():
    data = load_payload("interaction_copy")["data"]
    data["options"].append({"name": "from", "type": 3, "value": "reviews"})
    assert translate.command_from_interaction(data).command.request.from_reviews is True


# --- the reply on every platform -----------------------------------------------------------------

BRIEF = ReviewBrief(summary_id=1, summarised_at=SUMMARISED, reviews=20,
                    praise=(ReviewPoint("sound", 6, 1.0, "Crisp."), ReviewPoint("*fit*", 5, 1.0)),
                    complaints=(ReviewPoint("battery", 6, 5 / 6),), used=("*fit*",))
RESULT = CopyResult(1, [Variant(1, "a", 1)], "m", requested=1, from_reviews=BRIEF)


def test_each_adapter_shows_what_the_reviews_changed():
    console = render_reply(Reply(copy=RESULT))
    assert ("From your reviews — using: *fit*; also suggested: sound; avoiding: battery (5 complaints)"
            in console)
    slack = slack_render.copy_header(RESULT, CopyRequest(product="x"), "U1", DEFAULTS)
    assert "*From your reviews* — using: *fit*; also suggested: sound; avoiding: battery (5 complaints)" in slack
    discord = discord_render.copy_header(RESULT, "x", DEFAULTS).content
    assert "**From your reviews** — using: \\*fit\\*; also suggested: sound" in discord


def test_what_was_left_out_of_the_brief_is_shown():
    brief = replace(BRIEF, left_out=("30-hour battery",))
    assert from_reviews_line(brief, PLAIN).endswith(
        "avoiding: battery (5 complaints); left out of the brief: “30-hour battery”")


def test_when_no_praise_made_it_in_the_line_says_so():
    brief = replace(BRIEF, used=(), complaints=())
    assert from_reviews_line(brief, PLAIN) == ("From your reviews — suggested, not used: sound, *fit*; "
                                               "no complaints to avoid")
