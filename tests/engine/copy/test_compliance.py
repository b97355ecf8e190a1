"""The compliance and style-guide checks: what a marketer would see refused, allowed or respelled."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.config import EngineConfig
from engine.copy.compliance import (
    ComplianceRules,
    StyleGuide,
    apply_spellings,
    compliance_problems,
    missing_required,
    style_problems,
)
from engine.errors import UserError
from engine.workspace.settings import WORKSPACE_SETTINGS, check_together, validate_setting, with_defaults

REPO = Path(__file__).resolve().parents[3]
ART_9 = "an absolute term China's Advertising Law (Art. 9) forbids in ads"
PILLOW = "云朵记忆枕：慢回弹记忆棉，透气枕套，售价199元"
BANNED = "which the workspace bans (banned_words)"
EARBUDS = "Aurora wireless earbuds: 30-hour battery, noise cancelling, $79"


@pytest.fixture(scope="module")
def rules() -> ComplianceRules:
    return ComplianceRules.load(REPO / "prompts")


# --- Chinese: Advertising Law Art. 9 -------------------------------------------------------------

def test_a_chinese_variant_with_absolute_terms_is_refused_for_each_with_its_reason(rules):
    text = "云朵记忆枕，最佳睡眠伴侣，最舒适的枕头，销量第一，100%好评！"
    assert compliance_problems(text, PILLOW, "zh", rules) == [
        f"uses \u201c最佳\u201d, {ART_9}",
        f"uses \u201c最舒适\u201d, {ART_9}",
        f"uses \u201c销量第一\u201d, {ART_9}",
        "claims \u201c100%\u201d, which the description does not",
    ]


@pytest.mark.parametrize("text, term", [
    ("云朵记忆枕，国家级品质。", "国家级"),
    ("云朵记忆枕，第一的选择。", "第一"),
    ("云朵记忆枕，唯一让你安睡的枕头。", "唯一"),
    ("顶级记忆棉，云朵记忆枕。", "顶级"),
    ("云朵记忆枕，你的首选。", "首选"),
    ("云朵记忆枕，绝对好睡。", "绝对"),
    ("云朵记忆枕，全网最低！", "全网最低"),
    ("云朵记忆枕，史上最低价！", "史上最低价"),
    ("云朵记忆枕，独一无二。", "独一无二"),
    ("云朵记忆枕，睡眠界的王牌。", "王牌"),
    ("云朵记忆枕，极致柔软。", "极致"),
    ("云朵记忆枕 NO.1", "NO.1"),
    # Not listed: 最 followed by a Chinese character is a superlative all the same, quoted whole.
    ("云朵记忆枕，最柔软的触感。", "最柔软"),
    ("云朵记忆枕，最香的梦。", "最香"),
])
def test_each_kind_of_absolute_term_is_refused(rules, text, term):
    assert compliance_problems(text, PILLOW, "zh", rules) == [f"uses \u201c{term}\u201d, {ART_9}"]


def test_the_law_is_not_undone_by_a_brief_that_uses_the_term(rules):
    brief = "云朵记忆枕：最佳睡眠，慢回弹记忆棉"
    assert compliance_problems("云朵记忆枕，最佳睡眠。", brief, "zh", rules) == [f"uses \u201c最佳\u201d, {ART_9}"]


@pytest.mark.parametrize("text", [
    "最近睡不好？云朵记忆枕，第一次躺下就知道。",
    "最初的柔软，最终的安眠：云朵记忆枕。",
    "最后，别忘了云朵记忆枕，第一天就能睡个好觉。",
    "第一时间体验云朵记忆枕，第一眼就爱上。",
    "云朵记忆枕，历史上从未如此柔软。",
    "最佳赏味期内饮用风味更佳。",
])
def test_ordinary_words_that_merely_contain_a_term_are_allowed(rules, text):
    assert compliance_problems(text, PILLOW, "zh", rules) == []


def test_a_longer_term_is_refused_inside_an_allowed_word(rules):
    # 最后 (finally) is allowed; 最后一波 (the last wave) is a scarcity claim.
    assert compliance_problems("最后一波！云朵记忆枕。", PILLOW, "zh", rules) == [f"uses \u201c最后一波\u201d, {ART_9}"]


def test_a_product_name_that_contains_a_term_is_not_a_claim(rules):
    brief = "最美茶园白茶：明前春茶，每罐100克"
    assert compliance_problems("最美茶园白茶，一口春天。", brief, "zh", rules) == []
    # ...but the same term outside the name is.
    assert compliance_problems("最美茶园白茶，最美的春天。", brief, "zh", rules) == [f"uses \u201c最美\u201d, {ART_9}"]


def test_a_chinese_claim_the_brief_makes_is_allowed(rules):
    assert compliance_problems("纯棉T恤，百分百纯棉。", "纯棉T恤：100%纯棉，透气", "zh", rules) == [
        "claims \u201c百分百\u201d, which the description does not"]
    # The brief makes it, written another way.
    assert compliance_problems("纯棉T恤，百分百纯棉。", "纯棉T恤：百分之百纯棉，透气", "zh", rules) == []
    assert compliance_problems("纯棉T恤，100%纯棉。", "纯棉T恤：100%纯棉，透气", "zh", rules) == []


# --- English: claims the brief must make ---------------------------------------------------------

@pytest.mark.parametrize("text, claim", [
    ("Aurora earbuds: the best sound you'll hear this year.", "the best"),
    ("Aurora earbuds, the #1 choice for commuters.", "#1"),
    ("Aurora earbuds. Comfort guaranteed.", "guaranteed"),
    ("Meet Aurora, our bestselling earbuds.", "bestselling"),
    ("Aurora earbuds: number one for focus.", "number one"),
    ("Aurora earbuds, clinically proven to calm.", "clinically proven"),
    ("Aurora earbuds, the world\u2019s first truly silent buds.", "world\u2019s first"),
    ("Aurora earbuds: the only earbuds you need.", "the only"),
    ("Aurora earbuds: 100% focus.", "100%"),
    ("Award-winning Aurora earbuds.", "Award-winning"),
    ("Aurora earbuds: risk-free for 30 hours.", "risk-free"),
])
def test_english_claims_the_brief_does_not_make_are_refused(rules, text, claim):
    assert compliance_problems(text, EARBUDS, "en", rules) == [
        f"claims \u201c{claim}\u201d, which the description does not"]


def test_english_claims_are_allowed_when_the_brief_makes_them(rules):
    brief = "Aurora earbuds: voted the best earbuds of 2024, #1 on Wirecutter, 2-year guarantee, $79"
    text = "Aurora earbuds: the best of 2024, number one on Wirecutter, and guaranteed for 2 years."
    assert compliance_problems(text, brief, "en", rules) == []
    # Case does not matter, and one claim the brief makes does not allow another.
    assert compliance_problems("THE BEST Aurora earbuds, award-winning.", brief, "en", rules) == [
        "claims \u201caward-winning\u201d, which the description does not"]


def test_english_claims_match_whole_words_only(rules):
    # "#10" is not "#1"; "cured" (ham) is not "cures"; "onlyness" and "guarantor" are other words.
    assert compliance_problems("Aurora earbuds, #10 on our list; cured ham not included.", EARBUDS, "en", rules) == []
    assert compliance_problems("Aurora earbuds: a guarantor of calm.", EARBUDS, "en", rules) == []


def test_one_problem_per_claim_the_longest_where_two_overlap(rules):
    assert compliance_problems("Aurora: the best-selling, bestselling, best selling earbuds.", EARBUDS, "en",
                               rules) == ["claims \u201cbest-selling\u201d, which the description does not"]


# --- the data file ---------------------------------------------------------------------------------

def test_the_data_file_parses_and_every_listed_term_is_matched_by_its_rules(rules):
    assert rules == ComplianceRules.load(EngineConfig().prompts_dir / "compliance.toml")
    assert len(rules.absolute) >= 60 and len(rules.allowed) >= 20 and len(rules.claims) >= 15
    assert {"最佳", "第一", "唯一", "顶级", "国家级", "首选", "绝对", "万能", "极致", "顶尖", "全网最低", "史上",
            "独一无二", "王牌"} <= set(rules.absolute)
    assert {"最近", "最初", "最终", "第一次", "第一天"} <= set(rules.allowed)
    # Every term is refused as itself, every allowed word excuses one and is not refused, every way
    # of writing a claim is refused without a brief and allowed with one.
    assert rules.self_check() == []


def test_the_self_check_finds_a_term_its_rules_cannot_refuse(rules):
    broken = ComplianceRules(rules.superlative, rules.absolute + ("最近",), rules.allowed + ("好的",), rules.claims)
    assert broken.self_check() == [
        "the term '最近' is not refused as itself: []",
        "the allowed word '好的' contains no term",
    ]


def test_a_malformed_data_file_is_named(tmp_path):
    (tmp_path / "compliance.toml").write_text('[zh]\nterms = "最佳"\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"\[zh\] terms must be a list of non-empty strings"):
        ComplianceRules.load(tmp_path)


# --- the workspace's style guide -------------------------------------------------------------------

def style(banned: str = "", required: str = "", spellings: str = "") -> StyleGuide:
    return StyleGuide.from_settings(with_defaults({"banned_words": banned, "required_words": required,
                                                   "preferred_spellings": spellings}))


def test_banned_words_are_whole_words_in_latin_text_and_anywhere_in_chinese():
    guide = style(banned="cheap, voucher, 便宜, act now")
    assert style_problems("Cheap thrills, free vouchers. ACT NOW!", guide) == [
        f"uses \u201cCheap\u201d, {BANNED}",
        f"uses \u201cvouchers\u201d, {BANNED}",
        f"uses \u201cACT NOW\u201d, {BANNED}",
    ]
    assert style_problems("云朵记忆枕，超便宜！", guide) == [f"uses \u201c便宜\u201d, {BANNED}"]
    # A Chinese character ends a Latin word: "cheap" inside Chinese copy is still the word.
    assert style_problems("云朵记忆枕cheap价", guide) == [f"uses \u201ccheap\u201d, {BANNED}"]
    # Other words that contain a banned one are not it.
    assert style_problems("Cheaply made? Never. Cheapskates, look away.", guide) == []


def test_required_words_are_reported_until_the_variant_includes_them():
    guide = style(required="#AuroraSound, Terms apply.")
    assert missing_required("Aurora earbuds: 30 hours of calm.", guide) == [
        "leaves out \u201c#AuroraSound\u201d, which the workspace requires (required_words)",
        "leaves out \u201cTerms apply.\u201d, which the workspace requires (required_words)",
    ]
    # Another hashtag that starts the same is not the required one.
    assert missing_required("Aurora earbuds. #AuroraSound2024 terms apply.", guide) == [
        "leaves out \u201c#AuroraSound\u201d, which the workspace requires (required_words)"]
    assert missing_required("Aurora earbuds. #aurorasound Terms apply.", guide) == []
    # Not lasting: a missing word is not among the style problems a preview is held to.
    assert style_problems("Aurora earbuds", guide) == []


def test_preferred_spellings_replace_whole_words_keeping_the_first_letters_case():
    guide = style(spellings="e-mail -> email, colour=color, wifi -> Wi-Fi")
    assert apply_spellings("E-mail us: every colour, COLOUR and colours, on wifi.", guide) == \
        "Email us: every color, COLOR and colors, on Wi-Fi."
    # Words that only contain one, links and hashtags stay as written.
    assert apply_spellings("Colourful news at colour.com and #colourpop; email stays.", guide) == \
        "Colourful news at colour.com and #colourpop; email stays."


def test_a_style_guide_stored_with_a_contradiction_still_lets_copy_be_written():
    # The settings refuse this when it is set; a value stored before that must not refuse every variant.
    guide = style(banned="free", required="Free returns, #Aurora", spellings="gratis -> free")
    assert guide.required == ("#Aurora",)
    assert guide.spellings == ()


# --- the settings ------------------------------------------------------------------------------------

def test_the_word_list_settings_are_normalised():
    assert WORKSPACE_SETTINGS["banned_words"].validate(" cheap,  act   now ,Cheap,,便宜、促销 ") == \
        "cheap, act now, 便宜, 促销"
    assert WORKSPACE_SETTINGS["required_words"].validate("#AuroraSound， Terms apply.") == "#AuroraSound, Terms apply."
    assert WORKSPACE_SETTINGS["preferred_spellings"].validate("e-mail->email,colour = color, wifi→Wi-Fi") == \
        "e-mail -> email, colour -> color, wifi -> Wi-Fi"
    assert WORKSPACE_SETTINGS["banned_words"].validate("") == ""


@pytest.mark.parametrize("name, value, sentence", [
    ("banned_words", ", ".join(f"word{i}" for i in range(51)),
     "That is 51 items; this setting takes at most 50, separated by commas."),
    ("required_words", "a, b, c, d, e, f", "That is 6 items; this setting takes at most 5, separated by commas."),
    ("banned_words", "x" * 41, f"{'x' * 41!r} is 41 characters; each item takes at most 40."),
    ("preferred_spellings", "colour -> color, e-mail",
     "'e-mail' has no right-hand side; write each pair as wrong -> right, e.g. colour -> color."),
    ("preferred_spellings", "colour ->", "'colour ->' has no right-hand side; write each pair as wrong -> right, "
                                         "e.g. colour -> color."),
    ("preferred_spellings", "-> color", "'-> color' has no left-hand side; write each pair as wrong -> right, "
                                        "e.g. colour -> color."),
    ("preferred_spellings", "colour -> color, Colour -> colr",
     "'Colour' is given two spellings; keep one pair for it."),
    ("preferred_spellings", "colour -> Colour", "'colour -> Colour' changes nothing; give the spelling to replace, "
                                                "then the one you prefer."),
])
def test_bad_settings_get_one_clear_sentence(name, value, sentence):
    with pytest.raises(UserError) as error:
        WORKSPACE_SETTINGS[name].validate(value)
    assert str(error.value) == sentence


def test_a_word_cannot_be_both_banned_and_required():
    current = with_defaults({"banned_words": "cheap, free"})
    with pytest.raises(UserError) as error:
        validate_setting("required_words", "#Aurora, Cheap", current)
    assert str(error.value) == "'Cheap' is both banned and required; remove it from banned_words or required_words."
    with pytest.raises(UserError) as error:
        validate_setting("required_words", "Free returns", current)
    assert str(error.value) == "The required 'Free returns' contains the banned 'free'; change banned_words or " \
                               "required_words."
    # The other way round too: banning what is already required.
    with pytest.raises(UserError, match="both banned and required"):
        validate_setting("banned_words", "#aurora", with_defaults({"required_words": "#Aurora"}))
    assert validate_setting("required_words", "#Aurora", current) == "#Aurora"


def test_a_spelling_may_not_write_a_banned_word_or_respell_a_required_one():
    with pytest.raises(UserError) as error:
        check_together({"banned_words": "free", "preferred_spellings": "gratis -> free"})
    assert str(error.value) == "preferred_spellings turns 'gratis' into 'free', which uses the banned 'free'; " \
                               "change one of them."
    with pytest.raises(UserError) as error:
        validate_setting("preferred_spellings", "e-mail -> email", with_defaults({"required_words": "E-mail us"}))
    assert str(error.value) == "preferred_spellings respells 'e-mail', which a required word contains; " \
                               "change one of them."
