"""Cleaning model output: what reaches a marketer is copy, not the model's chatter."""

import pytest

from engine.copy.cleaning import CopyLimits, clean_variant, fit_length, is_near_duplicate, words

SOCIAL = CopyLimits(max_words=35, max_chars=None)


@pytest.mark.parametrize("raw, expected", [
    ("Sure! Here's an ad for you:\n\n**Brush better.** Charcoal bristles, a bamboo handle, a year of "
     "fresh smiles. Order today! #EcoSmile",
     "Brush better. Charcoal bristles, a bamboo handle, a year of fresh smiles. Order today! #EcoSmile"),
    ('"Cold at noon, still cold at midnight. Grab yours today!"',
     "Cold at noon, still cold at midnight. Grab yours today!"),
    ("Caption: Sleep deeper on linen that gets softer every wash. Shop now at https://shop.example "
     "[Link] @linenco!",
     "Sleep deeper on linen that gets softer every wash."),
    ("Stay cool all day with our steel bottle. Order now!\nHashtags: #a #b\n1. Another idea",
     "Stay cool all day with our steel bottle. Order now!"),
    ("Fresh coffee, zero effort. #coffee #coldbrew #morning #fuel #daily",
     "Fresh coffee, zero effort. #coffee #coldbrew #morning"),
])
def test_wrapping_links_and_notes_are_removed(raw, expected):
    assert clean_variant(raw, SOCIAL) == expected


@pytest.mark.parametrize("raw", [
    "🍫📬 🌟✨ 🍵❑ ⏃🔒 💜💜",                               # emoji soup
    "Buy buy buy buy buy now",                               # a loop
    "the best the best the best the best the best shoes",
    "Wow!",                                                  # too short to be copy
    "",
])
def test_junk_is_rejected(raw):
    assert clean_variant(raw, SOCIAL) is None


def test_length_is_cut_at_a_sentence_end():
    text = ("Meet the bottle that keeps up. Ice-cold water for a full day, hot tea for twelve hours. "
            "Leak-proof lid, fits every cup holder, and it comes in nine colours for every mood.")
    cut = fit_length(text, CopyLimits(max_words=20, max_chars=None))
    assert cut == "Meet the bottle that keeps up. Ice-cold water for a full day, hot tea for twelve hours."


def test_a_hard_character_limit_is_respected():
    text = "Open me: your winter sale starts now and ends on Sunday night. Don't miss it."
    cut = fit_length(text, CopyLimits(max_words=9, max_chars=60))
    assert len(cut) <= 60 and len(words(cut)) <= 9 and cut and not cut.endswith(",")


def test_an_unfinished_last_sentence_is_dropped():
    cut = fit_length("Brew it tonight. Sip it tomorrow. Cold brew that tastes like", SOCIAL)
    assert cut == "Brew it tonight. Sip it tomorrow."


def test_a_contraction_is_one_word():
    assert words("We're back, and it’s cold.") == ["we're", "back", "and", "it’s", "cold"]


def test_near_duplicates_are_recognised():
    assert is_near_duplicate("Cold brew, ready when you are!", ["cold brew ready when you are"])
    assert not is_near_duplicate("Cold brew, ready when you are!", ["Hot tea for slow mornings."])


@pytest.mark.parametrize("raw, limits, expected", [
    # The closing quote went with the sentences cut for length; the opening one must go too.
    (('"Bamboo Bros. is the go-to brush for your bathroom. It lasts, it composts, it looks good on '
      'every shelf you own and then some more."'), CopyLimits(max_words=12, max_chars=None),
     "Bamboo Bros. is the go-to brush for your bathroom."),
    ("“It's cold for a day, and it's yours today.", SOCIAL, "It's cold for a day, and it's yours today."),
    ("Cold all day, our steel bottle goes where you go.”", SOCIAL,
     "Cold all day, our steel bottle goes where you go."),
    ("E-Mail Subject Line: Your bottle, still cold at midnight", CopyLimits(9, 60),
     "Your bottle, still cold at midnight"),
    ("Email subject: Trail shoes that laugh at rocks", CopyLimits(9, 60), "Trail shoes that laugh at rocks"),
    # Cut at the word limit, a subject line doesn't end on "to" or "your".
    ("Sell your insulated steel water bottles and mugs to every hiker in town", CopyLimits(9, 60),
     "Sell your insulated steel water bottles and mugs"),
    ("Keep your coffee cold for the whole of your long commute", CopyLimits(9, 60),
     "Keep your coffee cold for the whole"),
    ("Text: We're thrilled to say our bottle is finally back and we're restocking", CopyLimits(9, 60),
     "We're thrilled to say our bottle is finally back"),
])
def test_cut_and_wrapped_copy_reads_as_finished(raw, limits, expected):
    assert clean_variant(raw, limits) == expected


def test_a_placeholder_cut_off_by_the_token_budget_is_removed():
    assert clean_variant("Fresh linen, better sleep. Love, [Your", SOCIAL) == "Fresh linen, better sleep."
    assert clean_variant("🎉💡 I'm [Your", SOCIAL) is None


def test_invisible_direction_and_zero_width_characters_never_reach_a_channel():
    # A right-to-left override would show "moc.elpmaxe" reversed; zero-width spaces hide in names.
    raw = "Our bottle\u202e keeps it cold\u200b all day. Meet the family 👨\u200d👩\u200d👧!"
    text = clean_variant(raw, CopyLimits(max_words=30, max_chars=None))
    assert "\u202e" not in text and "\u200b" not in text
    assert "👨\u200d👩\u200d👧" in text  # the joiner inside an emoji sequence stays


# Recorded from the 1.5B model on an Instagram brief ("a hook, one benefit, a call to action").
@pytest.mark.parametrize("raw, expected", [
    ("Hook: Transform your kitchen workflow with Nordic Oak's cutting board. Benefit: End-grain oak for "
     "a rustic and durable surface. Call to action: Get yours today! #NordicOak #CuttingBoard",
     "Transform your kitchen workflow with Nordic Oak's cutting board. End-grain oak for a rustic and "
     "durable surface. Get yours today! #NordicOak #CuttingBoard"),
    ('Hook: "Say goodbye to boring wooden boards - get your hands on Nordic Oak!"',
     "Say goodbye to boring wooden boards - get your hands on Nordic Oak!"),
])
def test_the_parts_of_a_format_are_not_written_out_as_labels(raw, expected):
    assert clean_variant(raw, CopyLimits(max_words=40, max_chars=2200)) == expected


def test_a_variant_of_hashtags_only_is_junk_and_a_leading_hashtag_is_kept():
    assert clean_variant("#NordicOak #CuttingBoard #EndGrain", SOCIAL) is None
    assert clean_variant("#NordicOak boards last a lifetime. Oil them twice a year.", SOCIAL).startswith("#NordicOak")
