"""Outbound rendering: replies as Discord messages within Discord's limits."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.discord_adapter import render
from engine import WORKSPACE_SETTINGS, CopyResult, Understood, Variant

DEFAULTS = {name: spec.default for name, spec in WORKSPACE_SETTINGS.items()}


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=9000),
       st.integers(min_value=20, max_value=2000))
def test_split_text_fits_every_piece_and_keeps_every_word(text, limit):
    pieces = render.split_text(text, limit)
    assert all(0 < len(piece) <= limit for piece in pieces)
    assert "".join("".join(pieces).split()) == "".join(text.split())


def test_split_text_cuts_at_line_ends_first():
    lines = [f"line {i}: " + "word " * 30 for i in range(40)]
    pieces = render.split_text("\n".join(lines))
    assert len(pieces) > 1
    assert all(piece.startswith("line ") for piece in pieces)  # no line cut in half


def test_an_empty_answer_still_resolves_the_thinking_message():
    assert render.text_messages("  ") == [render.Outgoing("Done.")]


def test_a_variant_is_one_message_and_a_long_one_moves_to_an_embed():
    short = render.variant_message(Variant(id=12, text="Brush greener.", position=1))
    assert short == render.Outgoing("**#12** Brush greener.", buttons_for=12)
    long_text = "Sentence. " * 300  # 3,000 characters
    long = render.variant_message(Variant(id=13, text=long_text, position=2))
    assert long.content == "**#13**" and long.embed == long_text
    huge = render.variant_message(Variant(id=14, text="x" * 5000, position=3))
    assert len(huge.embed) == render.EMBED_LIMIT


def test_the_header_names_the_workspace_emoji_and_a_shortfall():
    result = CopyResult(generation_id=1, variants=[Variant(1, "a", 1), Variant(2, "b", 2)],
                        model_version="m", requested=3)
    header = render.copy_header(result, "Cold *brew* kit", dict(DEFAULTS, approve_emoji="rocket,+1"))
    assert "*Cold \\*brew\\* kit*" in header.content  # the user's text is not markdown
    assert "Only 2 of 3 variants were good enough to show." in header.content
    assert "React 🚀 or 👍 to approve" in header.content and "❌ or 👎 to reject" in header.content


def test_seed_reactions_are_the_first_standard_emoji_of_each_setting():
    assert render.seed_reactions(DEFAULTS) == ["✅", "❌"]
    assert render.seed_reactions(dict(DEFAULTS, approve_emoji="shipit,rocket")) == ["🚀", "❌"]


def test_a_rewritten_variant_names_its_source_and_carries_its_buttons():
    message = render.variant_message(Variant(id=21, text="Brush less, smile more.", position=1), 12)
    assert message == render.Outgoing("**#21** *(from #12)* Brush less, smile more.", buttons_for=21)
    near_limit = render.variant_message(Variant(id=22, text="x" * (render.MESSAGE_LIMIT - 12), position=2))
    assert near_limit.embed  # no room left for the tally: the text moves to the embed


def test_the_tally_is_redrawn_in_place_never_added_twice():
    once = render.with_tally("**#21** Brush less.", 1, 0)
    assert once == "**#21** Brush less.\n-# ✅ 1 · ❌ 0"
    assert render.with_tally(once, 1, 1) == "**#21** Brush less.\n-# ✅ 1 · ❌ 1"


def test_the_header_says_what_the_brief_was_read_as_and_why_some_were_refused():
    result = CopyResult(generation_id=1, variants=[Variant(1, "a", 1)], model_version="m", requested=3,
                        understood=Understood("卫衣", False, ("宽松", "宝蓝色", "休闲")),
                        shortfall="stated numbers the description does not give")
    header = render.copy_header(result, "类型：上衣，版型：宽松，颜色：宝蓝色，风格：休闲，衣样式：卫衣", DEFAULTS)
    assert "Read as: **卫衣** — 宽松 · 宝蓝色 · 休闲" in header.content
    assert ("Only 1 of 3 variants were good enough to show; the others stated numbers the description "
            "does not give.") in header.content
