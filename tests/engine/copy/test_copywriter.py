"""The copywriter: candidates beyond n, checked against the brief, retries for what is missing,
previews while the model writes, and the good copy delivered when the queue fills up."""

import threading

import pytest

from engine.copy.copywriter import Copywriter
from engine.copy.prompts import PromptBook
from engine.errors import BusyError
from engine.generation.batching import BatchingGenerator
from engine.types import CopyRequest
from tests.models import REPO


class ScriptedBackend:
    """A stand-in model that answers each call from a script, streams each answer word by word
    through ``on_text``, and records how many sequences it was asked for."""

    version = "scripted-1"

    def __init__(self, script: list[list[str]]) -> None:
        self.script = script
        self.asked: list[int] = []

    def generate(self, prompts, max_new_tokens, on_text=None):
        self.asked.append(len(prompts))
        if len(self.asked) > len(self.script):
            raise BusyError("The copywriter is busy with other requests; try again in a moment.")
        answers = self.script[len(self.asked) - 1]
        texts = [answers[i % len(answers)] for i in range(len(prompts))]
        if on_text is not None:
            for row, text in enumerate(texts):
                words = text.split(" ")
                for end in range(1, len(words) + 1):
                    on_text(row, " ".join(words[:end]))
        return texts


async def write(script, n=3, max_rounds=3, product="steel water bottle", on_preview=None, **options):
    backend = ScriptedBackend(script)
    generator = BatchingGenerator(backend, max_batch=8, queue_size=8)
    copywriter = Copywriter(PromptBook.load(REPO / "prompts"), generator, max_new_tokens=96,
                            max_rounds=max_rounds)
    generator.start()
    try:
        draft = await copywriter.write(CopyRequest(product=product, n=n, **options), None, [],
                                       on_preview=on_preview)
    finally:
        await generator.stop()
    return draft, backend.asked


async def test_junk_repeats_and_off_brief_copy_are_replaced_and_a_retry_asks_for_twice_what_is_missing():
    draft, asked = await write([
        ["Cold for a day, our steel bottle goes where you go.", "🍫📬 🌟✨",
         "Cold for a day, our steel bottle goes where you go!",
         "Hi, I'm Sam and I love this steel bottle so much."],
        ["Hot tea at noon, iced water at midnight: one steel bottle.", "Buy buy buy buy buy",
         "Leak-proof and dent-proof, our steel bottle is yours for life.",
         "Our steel bottle keeps drinks cold for 48 hours."],
    ])
    # Round 1: 3 asked + 1 spare; one good. Round 2: twice the two missing.
    assert asked == [4, 4]
    assert sorted(draft.texts) == sorted([
        "Cold for a day, our steel bottle goes where you go.",
        "Hot tea at noon, iced water at midnight: one steel bottle.",
        "Leak-proof and dent-proof, our steel bottle is yours for life."])
    problems = {c.text: c.problems for c in draft.checks if not c.ok}
    assert any("person" in p for p in problems["Hi, I'm Sam and I love this steel bottle so much."])
    assert any("48" in p for p in problems["Our steel bottle keeps drinks cold for 48 hours."])


async def test_the_user_gets_what_was_good_when_the_rounds_run_out():
    draft, asked = await write([["Wow!"], ["Our steel bottle keeps it cold."], ["Wow!"]], n=2)
    assert asked == [3, 4, 2]
    assert draft.texts == ["Our steel bottle keeps it cold."]


async def test_copy_about_another_product_or_in_another_language_is_dropped():
    draft, _ = await write([[
        "The SmartX 5G phone: a 6.5-inch AMOLED screen in your pocket.",
        "Meet the SmartX smartwatch, the watch that knows you.",
        "SmartX 5G 手机，6.5 英寸 AMOLED 屏幕。",
        "SmartX 5G phone, with a 6.5-inch AMOLED screen that shines.",
    ]], n=3, max_rounds=1, product="SmartX 5G phone: 6.5-inch AMOLED screen")
    assert sorted(draft.texts) == sorted(["The SmartX 5G phone: a 6.5-inch AMOLED screen in your pocket.",
                                          "SmartX 5G phone, with a 6.5-inch AMOLED screen that shines."])
    dropped = {c.text: c.problems for c in draft.checks if not c.ok}
    assert "is about a watch, not the product described" in dropped[
        "Meet the SmartX smartwatch, the watch that knows you."]
    assert "is not in English" in dropped["SmartX 5G 手机，6.5 英寸 AMOLED 屏幕。"]


async def test_a_chinese_description_gets_chinese_copy_from_the_chinese_prompt():
    draft, _ = await write([["我们的智能手环，可监测心率，让你更了解自己。", "Our smart band tracks your heart rate."]],
                           n=1, max_rounds=1, product="智能手环，可监测心率")
    assert draft.language == "zh"
    assert draft.texts == ["我们的智能手环，可监测心率，让你更了解自己。"]
    system = draft.messages[0]["content"]
    assert "广告文案" in system and "copywriter" not in system


async def test_language_option_overrides_the_description_language():
    draft, _ = await write([["Our smart band reads your heart rate, day and night."]], n=1, max_rounds=1,
                           product="智能手环 smart band，可监测心率", language="en")
    assert draft.language == "en" and "copywriter" in draft.messages[0]["content"]


async def test_previews_show_each_slot_growing_while_it_is_written():
    seen: dict[int, list[str]] = {}
    lock = threading.Lock()

    def on_preview(slot, text):
        with lock:
            seen.setdefault(slot, []).append(text)

    draft, _ = await write([["Our steel bottle keeps water cold all day long."] * 4], n=3, max_rounds=1,
                           on_preview=on_preview)
    assert set(seen) == {0, 1, 2}  # the spare candidate (slot 3) is not shown
    for texts in seen.values():
        assert texts[0] == "Our" and texts[-1] == "Our steel bottle keeps water cold all day long."
        assert all(a in b for a, b in zip(texts, texts[1:]))  # each preview extends the last


async def test_a_full_queue_in_a_retry_round_still_delivers_the_good_copy_already_written():
    # The script has one round; the retry finds the generator refusing work (BusyError).
    draft, asked = await write([["Our steel bottle keeps it cold.", "Wow!"]], n=3)
    assert asked == [4, 4]
    assert draft.texts == ["Our steel bottle keeps it cold."]


async def test_a_full_queue_in_the_first_round_says_busy():
    with pytest.raises(BusyError):
        await write([], n=1)


async def test_the_last_word_of_a_variant_the_token_budget_cut_off_goes():
    class Truncating(ScriptedBackend):
        def generate(self, prompts, max_new_tokens, on_text=None):
            from engine.generation.contract import Completions

            texts = super().generate(prompts, max_new_tokens, on_text)
            return Completions(texts, truncated=[True] * len(texts))

    backend = Truncating([["Our steel bottle keeps it cold all day. #SteelBot"]])
    generator = BatchingGenerator(backend, max_batch=8, queue_size=8)
    copywriter = Copywriter(PromptBook.load(REPO / "prompts"), generator, max_new_tokens=96, max_rounds=1)
    generator.start()
    try:
        draft = await copywriter.write(CopyRequest(product="steel water bottle", n=1), None, [])
    finally:
        await generator.stop()
    assert draft.texts == ["Our steel bottle keeps it cold all day."]  # not "#SteelBot", which may be "#SteelBottle"


async def test_a_preview_stops_before_it_shows_an_offer_or_a_number_the_brief_does_not_give():
    seen: dict[int, list[str]] = {}

    def on_preview(slot, text):
        seen.setdefault(slot, []).append(text)

    good = "Our steel bottle keeps water cold for 24 hours."
    offer = "Our steel bottle keeps water cold. Order today and get free shipping on every bottle."
    number = "Our steel bottle keeps water cold for 36 hours, guaranteed."
    await write([[good, offer, number, good]], n=3, max_rounds=1, product="steel water bottle, cold for 24 hours",
                on_preview=on_preview)
    assert seen[0][-1] == good  # a preview within the brief grows to its last word
    assert seen[1][-1] == "Our steel bottle keeps water cold. Order today and get free"
    assert not any("shipping" in t for t in seen[1])
    assert seen[2][-1] == "Our steel bottle keeps water cold for" and not any("36" in t for t in seen[2])


@pytest.mark.parametrize("partial, shown", [
    ("Imag", ""),  # not yet the persona "I"
    ("Only $8", "Only"),  # of $89
    ("Only $89.", "Only"),  # of $89.99
    ("Only $89.99. Order", "Only $89.99."),
    ("Keeps it cold all day long.", "Keeps it cold all day long."),
    ("保温12小时，只需8", "保温12小时，只需"),
])
def test_a_preview_shows_finished_words_only(partial, shown):
    from engine.copy.brief_checks import settled_preview

    assert settled_preview(partial, "Steel bottle: cold 12 hours, $89.99. 保温12小时") == shown
