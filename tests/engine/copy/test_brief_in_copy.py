"""The structured brief and the law and style checks in a real /copy: the engine reads the brief,
asks for its name only where it has one, refuses what breaks the law or the style guide with its
reason, and delivers what passed with one sentence about the rest."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace

import pytest

from bot.conversation import parse_turn
from engine import CopyRequest, Engine, Thread, UserError
from tests.models import CannedBackend

HOODIE = "类型：上衣，版型：宽松，颜色：宝蓝色，风格：休闲，衣样式：卫衣"


async def open_engine(engine_config, answers: list[str]) -> tuple[Engine, CannedBackend]:
    backend = CannedBackend(answers)
    engine = await Engine.open(replace(engine_config, grounding=True, max_rounds=1), backend=backend)
    return engine, backend


def prompt_of(engine: Engine) -> str:
    with sqlite3.connect(engine.config.database_path) as db:
        (prompt,) = db.execute("SELECT prompt FROM generations ORDER BY id DESC").fetchone()
    return json.loads(prompt)[-1]["content"]


async def test_a_taobao_attribute_list_delivers_copy_that_never_says_its_first_key(engine_config, console_origin):
    engine, _ = await open_engine(engine_config, [
        "宝蓝色的宽松卫衣，周末随手一套就出门，休闲又不邋遢。",
        "这件卫衣版型宽松，宝蓝色很显白，通勤周末都能穿。",
        "休闲宽松的宝蓝色卫衣，今天下单，明天就穿上它出门吧。",
    ])
    try:
        result = await engine.copy(console_origin, CopyRequest(product=HOODIE, n=3))
        assert len(result.variants) == 3  # the old reading demanded "类型" in every variant
        assert result.understood is not None and result.understood.subject == "卫衣"
        assert not result.understood.named and "宽松" in result.understood.facts
        assert "产品名称" not in prompt_of(engine)  # no "call it 类型" line in the prompt
    finally:
        await engine.close()


async def test_a_named_brief_still_holds_copy_to_its_name(engine_config, console_origin):
    engine, _ = await open_engine(engine_config, [
        "Kestrel lights the trail ahead with 450 lumens, and weighs just 62 g.",
        "A headlamp that lights the trail with 450 lumens and weighs 62 g.",  # names nothing
    ])
    try:
        result = await engine.copy(console_origin, CopyRequest(
            product="Kestrel trail headlamp: 450 lumens, 62 g, USB-C rechargeable", n=2))
        assert [v.text for v in result.variants] == [
            "Kestrel lights the trail ahead with 450 lumens, and weighs just 62 g."]
        assert result.shortfall == "did not name the product"
        assert 'Call it "Kestrel" in the copy.' in prompt_of(engine)
    finally:
        await engine.close()


@pytest.mark.parametrize("answers,language,product,reason", [
    (["最舒适的宝蓝色卫衣，宽松休闲，周末就穿它。"], "zh", HOODIE, "最舒适"),
    (["Kestrel is the best headlamp for the trail: 450 lumens."], "en",
     "Kestrel trail headlamp: 450 lumens, 62 g", "the best"),
])
async def test_copy_that_breaks_the_advertising_law_or_claims_the_unsupported_is_refused_with_its_reason(
        engine_config, console_origin, answers, language, product, reason):
    engine, _ = await open_engine(engine_config, answers)
    try:
        with pytest.raises(UserError) as refused:
            await engine.copy(console_origin, CopyRequest(product=product, n=1))
        assert "None of the model's drafts passed the brief checks" in str(refused.value)
        assert "forbids" in str(refused.value) or "made claims the description does not" in str(refused.value)
    finally:
        await engine.close()


async def test_the_workspace_style_guide_bans_requires_and_respells(engine_config, console_origin):
    engine, _ = await open_engine(engine_config, [
        "Kestrel: 450 lumens in 62 g, cheap enough for every pack. #TrailReady",
        "Kestrel puts 450 lumens on the trail in a 62 g colour-matched shell. #TrailReady",
        "Kestrel: 450 lumens in 62 g. Charge it over USB-C.",  # leaves out the required hashtag
    ])
    admin = replace(console_origin, user="owner")
    try:
        await engine.change_setting(admin, "banned_words", "cheap")
        await engine.change_setting(admin, "required_words", "#TrailReady")
        await engine.change_setting(admin, "preferred_spellings", "colour -> color")
        result = await engine.copy(console_origin, CopyRequest(
            product="Kestrel trail headlamp: 450 lumens, 62 g, USB-C rechargeable", n=3))
        assert [v.text for v in result.variants] == [
            "Kestrel puts 450 lumens on the trail in a 62 g color-matched shell. #TrailReady"]
        with pytest.raises(UserError):
            await engine.change_setting(admin, "banned_words", "cheap, #TrailReady")  # required too
    finally:
        await engine.close()


async def test_a_thread_reply_corrects_the_name_the_brief_was_read_for(engine_config, console_origin):
    engine, backend = await open_engine(engine_config, [
        "Warm on the ridge: 700-fill down in 450 g, packed into its own pocket.",
        "Pack it into its own pocket and forget it: 700-fill down, 450 g.",
        "Nordlys keeps you warm on the ridge: 700-fill down in 450 g.",
    ])
    try:
        first = await engine.copy(console_origin, CopyRequest(
            product="women's insulated parka: 700-fill down, 450 g, packs into its own pocket", n=1))
        assert first.understood is not None and first.understood.subject == "women's insulated parka"
        assert not first.understood.named
        await engine.mark_posted(console_origin, first.variants[0].id, "m1")
        conversation = await engine.open_thread(console_origin, first.generation_id, Thread("terminal", "t1"))
        turn = parse_turn("the product is called Nordlys", engine.presets())
        assert turn.name == "Nordlys"
        result = await engine.refine(console_origin, conversation, turn)
        assert [v.text for v in result.variants] == ["Nordlys keeps you warm on the ridge: 700-fill down in 450 g."]
        prompt = backend.prompts[-1][-1]["content"]
        assert 'The product is called "Nordlys": use that name' in prompt
    finally:
        await engine.close()


async def test_the_name_option_overrides_the_reading(engine_config, console_origin):
    engine, _ = await open_engine(engine_config, ["Drift: oat milk cold brew, 250ml, no added sugar."])
    try:
        result = await engine.copy(console_origin, CopyRequest(
            product="oat milk cold brew in cans, 250ml, no added sugar", name="Drift", n=1))
        assert result.understood is not None and (result.understood.subject, result.understood.named) == (
            "Drift", True)
        assert 'Call it "Drift" in the copy.' in prompt_of(engine)
    finally:
        await engine.close()
