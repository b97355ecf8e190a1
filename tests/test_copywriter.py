"""The copywriter's retry rounds: junk and repeats are asked for again, and the user gets n variants."""

from engine.copywriter import Copywriter
from engine.generator import BatchingGenerator
from engine.prompts import PromptBook
from engine.types import CopyRequest
from tests.models import REPO


class ScriptedBackend:
    """A stand-in model that answers each call from a script and records how many sequences it was
    asked for."""

    version = "scripted-1"

    def __init__(self, script: list[list[str]]) -> None:
        self.script = script
        self.asked: list[int] = []

    def generate(self, prompts, max_new_tokens):
        self.asked.append(len(prompts))
        answers = self.script[len(self.asked) - 1]
        return [answers[i % len(answers)] for i in range(len(prompts))]


async def write(script, n=3, max_rounds=3):
    backend = ScriptedBackend(script)
    generator = BatchingGenerator(backend, max_batch=8, queue_size=8)
    copywriter = Copywriter(PromptBook.load(REPO / "prompts"), generator, max_new_tokens=96,
                            max_rounds=max_rounds)
    generator.start()
    try:
        draft = await copywriter.write(CopyRequest(product="steel water bottle", n=n), None, [])
    finally:
        await generator.stop()
    return draft.texts, backend.asked


async def test_junk_and_repeats_are_replaced_and_a_retry_asks_for_twice_what_is_missing():
    texts, asked = await write([
        ["Cold for a day, our steel bottle goes where you go.", "🍫📬 🌟✨",
         "Cold for a day, our steel bottle goes where you go!"],
        ["Hot tea at noon, iced water at midnight: one steel bottle.", "Buy buy buy buy buy",
         "Leak-proof, dent-proof, and yours for life."],
    ])
    assert asked == [3, 4]
    assert texts == ["Cold for a day, our steel bottle goes where you go.",
                     "Hot tea at noon, iced water at midnight: one steel bottle.",
                     "Leak-proof, dent-proof, and yours for life."]


async def test_the_user_gets_what_was_good_when_the_rounds_run_out():
    texts, asked = await write([["Wow!"], ["Our steel bottle keeps it cold."], ["Wow!"]], n=2)
    assert asked == [2, 4, 2]
    assert texts == ["Our steel bottle keeps it cold."]
