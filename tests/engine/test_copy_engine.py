"""/copy through the real engine: the bundled model writes, the store keeps, bad input is refused."""

import json
import sqlite3
from dataclasses import replace

import pytest

from engine import CopyRequest, Engine, Feedback, Origin, UserError, Verdict
from engine.copy.cleaning import words


@pytest.fixture
async def smollm_engine(engine_config, smollm_backend):
    engine = await Engine.open(replace(engine_config, max_new_tokens=64), backend=smollm_backend)
    yield engine
    await engine.close()


def _rows(engine: Engine, table: str) -> int:
    with sqlite3.connect(engine.config.database_path) as db:
        return db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


async def test_the_bundled_model_writes_distinct_variants_within_the_length(smollm_engine, console_origin):
    request = CopyRequest(product="bamboo toothbrush with charcoal bristles that lasts a year",
                          tone="playful", ad_channel="tweet", n=3)
    result = await smollm_engine.copy(console_origin, request)
    texts = [v.text for v in result.variants]
    assert 1 <= len(texts) <= 3 and len(set(texts)) == len(texts)
    for text in texts:
        assert 3 <= len(words(text)) <= 30 and len(text) <= 280  # the tweet preset: 30 words, 280 chars
        assert "http" not in text and "<" not in text
    assert result.model_version == "SmolLM2-135M-Instruct"
    with sqlite3.connect(smollm_engine.config.database_path) as db:
        prompt, version = db.execute("SELECT prompt, model_version FROM generations").fetchone()
    assert "bamboo toothbrush" in json.loads(prompt)[-1]["content"]
    assert version == "SmolLM2-135M-Instruct"


async def test_approved_copy_and_brand_voice_shape_the_next_prompt(engine, console_origin):
    first = await engine.copy(console_origin, CopyRequest(product="trail running shoes", n=2))
    chosen = first.variants[0]
    await engine.record_feedback(Feedback(console_origin, Verdict.APPROVE, variant_id=chosen.id))
    await engine.change_setting(console_origin, "brand_voice", "Calm, honest, a little nerdy")
    await engine.copy(console_origin, CopyRequest(product="trail running socks", n=1))
    with sqlite3.connect(engine.config.database_path) as db:
        prompt = json.loads(db.execute("SELECT prompt FROM generations ORDER BY id DESC").fetchone()[0])
    user_message = prompt[-1]["content"]
    assert chosen.text in user_message
    assert "Calm, honest, a little nerdy" in user_message


async def test_other_workspaces_approvals_never_leak_into_a_prompt(engine, console_origin):
    other = Origin("slack", "T2", "C1", "U1")
    result = await engine.copy(other, CopyRequest(product="secret launch", n=1))
    await engine.record_feedback(Feedback(other, Verdict.APPROVE, variant_id=result.variants[0].id))
    messages = engine.prompts.messages(CopyRequest(product="x"),
                                       examples=await engine.store.recent_approved_texts(
                                           console_origin.workspace_key, 3))
    assert result.variants[0].text not in messages[-1]["content"]
    with pytest.raises(UserError, match="no variant"):
        await engine.record_feedback(Feedback(console_origin, Verdict.APPROVE,
                                              variant_id=result.variants[0].id))


async def test_export_writes_approved_examples_as_chat_jsonl(engine, console_origin, tmp_path):
    result = await engine.copy(console_origin, CopyRequest(product="cold brew coffee", n=3))
    approved, rejected = result.variants[0], result.variants[1]
    await engine.record_feedback(Feedback(console_origin, Verdict.APPROVE, variant_id=approved.id))
    await engine.record_feedback(Feedback(console_origin, Verdict.REJECT, variant_id=rejected.id))
    path = tmp_path / "approved.jsonl"
    assert await engine.export_approved(path) == 1
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert len(lines) == 1
    messages = lines[0]["messages"]
    assert [m["role"] for m in messages] == ["system", "user", "assistant"]
    assert messages[-1]["content"] == approved.text
    assert "cold brew coffee" in messages[1]["content"]


@pytest.mark.parametrize("request_, expected", [
    (CopyRequest(product=""), "Tell me what to write about"),
    (CopyRequest(product="   "), "Tell me what to write about"),
    (CopyRequest(product="x" * 50_000), "50,000 characters; keep it to 1,000"),
    (CopyRequest(product="shoes\x00\x1b[31m"), "control character"),
    (CopyRequest(product="caf\udce9"), "not valid UTF-8"),
    (CopyRequest(product="shoes", n=0), "from 1 to 10; got 0"),
    (CopyRequest(product="shoes", n=1000), "from 1 to 10; got 1000"),
    (CopyRequest(product="shoes", ad_channel="billboard"), "Unknown channel 'billboard'; use one of"),
    (CopyRequest(product="shoes", length="epic"), "use short, medium, long"),
    (CopyRequest(product="shoes", tone="t" * 200), "keep it to 60"),
])
async def test_bad_input_gets_one_sentence_and_stores_nothing(engine, console_origin, request_, expected):
    with pytest.raises(UserError) as error:
        await engine.copy(console_origin, request_)
    assert expected in str(error.value)
    assert _rows(engine, "generations") == 0 and _rows(engine, "variants") == 0
    # ...and the engine keeps working afterwards.
    assert (await engine.copy(console_origin, CopyRequest(product="shoes", n=1))).variants


async def test_only_admins_change_settings(engine):
    member = Origin("slack", "T1", "C1", "UMEMBER")
    admin = Origin("slack", "T1", "C1", "UADMIN")
    with pytest.raises(UserError, match="Only workspace admins"):
        await engine.change_setting(member, "brand_voice", "Loud")
    settings = await engine.change_setting(admin, "timezone", "Europe/Berlin")
    assert settings["timezone"] == "Europe/Berlin"
    with pytest.raises(UserError, match="not a time zone"):
        await engine.change_setting(admin, "timezone", "Mars/Olympus")
    assert (await engine.settings(member))["timezone"] == "Europe/Berlin"
    assert (await engine.change_setting(admin, "timezone", None))["timezone"] == "UTC"


async def test_invisible_characters_in_a_description_are_dropped_before_anything_is_stored(
        engine, console_origin):
    result = await engine.copy(console_origin, CopyRequest(product="Glacier\u202e bottle\u200b", n=1))
    async with engine.store.db.execute("SELECT request FROM generations WHERE id = ?",
                                       (result.generation_id,)) as cursor:
        stored = json.loads((await cursor.fetchone())[0])
    assert stored["product"] == "Glacier bottle"
