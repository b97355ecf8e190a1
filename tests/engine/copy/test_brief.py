"""Reading briefs of every shape into a structured brief (engine/copy/brief.py): recorded briefs as
marketers paste them, with what a careful reader takes from each."""

from __future__ import annotations

import pytest

from engine.copy.brief import read_brief
from engine.copy.validation import clean_brief


def read(text: str):
    return read_brief(clean_brief(text))


def test_a_taobao_attribute_list_names_its_kind_not_its_first_key():
    brief = read("类型：上衣，版型：宽松，颜色：宝蓝色，风格：休闲，衣样式：卫衣")
    assert (brief.shape, brief.name, brief.kind) == ("attributes", "", "卫衣")
    assert brief.facts[:3] == ("宽松", "宝蓝色", "休闲")
    assert brief.headline() == ("卫衣", ("宽松", "宝蓝色", "休闲"))


def test_a_listing_with_a_brand_is_named_by_the_brand():
    brief = read("品牌：山野食记 品名：干牛肝菌 产地：云南普洱 净含量：500g 保质期：18个月")
    assert (brief.name, brief.kind) == ("山野食记", "干牛肝菌")
    assert "500g" in brief.numbers and "18个月" in brief.numbers


def test_an_english_attribute_list():
    brief = read("Type: jacket, Material: 100% cotton denim, Fit: relaxed, Colour: washed indigo, Pockets: 4")
    assert (brief.shape, brief.name, brief.kind) == ("attributes", "", "jacket")
    assert "100% cotton denim" in brief.facts and "relaxed" in brief.facts


def test_name_then_facts():
    brief = read("Kestrel trail headlamp: 450 lumens, 62 g, USB-C rechargeable, waterproof to IPX7, $49")
    assert brief.shape == "name_facts" and brief.name == "Kestrel" and "Kestrel trail headlamp" in brief.names
    assert brief.kind == "trail headlamp" and brief.price == "$49"
    assert "450 lumens" in brief.facts


def test_a_colon_inside_a_name_is_not_the_end_of_the_name():
    brief = read("Q:Thread is a fashion-forward label that gives half of its profits to girls' education charities.")
    assert brief.name == "Q:Thread"


@pytest.mark.parametrize("text,name", [
    ("Kindred is a builder of small timber-frame homes in the Cotswolds. We take on 8 homes a year.", "Kindred"),
    ("Founded by two night-shift nurses, Slumberlight makes blackout blinds that fit in five minutes.", "Slumberlight"),
    ("Looking for an accountant? At Penny & Post we only work with e-commerce shops.", "Penny & Post"),
    ("We are a family-run plumbing and heating firm in Leeds. We answer the phone ourselves.", ""),
    ("拾穗是一家专做有机杂粮的农场品牌，在黑龙江五常有2000亩自己的基地。", "拾穗"),
    ("如果你的门店还在用Excel排班，可以看看「班小二」：员工在手机上报空闲时间。", "班小二"),
    ("我们是一家开在苏州老城区的家庭裁缝铺，做旗袍和中式外套三十多年了。", ""),
])
def test_a_paragraph_names_its_company_mid_sentence_or_not_at_all(text, name):
    assert read(text).name == name


def test_bullets_under_a_title():
    brief = read("Northpaw salmon bites for cats\n- freeze-dried wild salmon, nothing else\n- 40 g pouch, resealable")
    assert brief.shape == "bullets" and brief.name.startswith("Northpaw")
    assert brief.facts == ("freeze-dried wild salmon, nothing else", "40 g pouch, resealable")


def test_a_pasted_page_with_html_entities_keeps_the_facts_and_drops_the_furniture():
    page = ("Home &gt; Kitchen &gt; Knives\nShop   New In   Sale   Stores   Sign in\n"
            "Hollis Chef&#39;s Knife\n★★★★☆ 4.6 | 318 reviews\n$129.00\nADD TO CART\n"
            "20 cm VG-10 blade &amp; olive wood handle")
    brief = read(page)
    assert brief.shape == "page" and brief.name == "Hollis" and brief.price == "$129.00"
    assert "20 cm VG-10 blade & olive wood handle" in brief.facts
    assert not any("ADD TO CART" in fact or "reviews" in fact for fact in brief.facts)
    assert "&amp;" not in brief.text and "Chef's" in brief.text


@pytest.mark.parametrize("text,name", [
    ("hey can we get some copy for the new thing —\nit's called Drift, it's our oat milk cold brew in cans\n"
     "250ml, 60mg caffeine, no added sugar\nfor IG pls", "Drift"),
    ("Need a google ad for the locksmith client\nKeyfast, locksmiths in Croydon\n24/7 emergency callout", "Keyfast"),
    ("@copybot 帮忙出个文案哈\n新品叫「小方盒」，是我们的便携榨汁杯\n300ml，充一次电能榨15杯", "小方盒"),
    ("在吗～ 新开的瑜伽馆\n名字：呼吸之间\n开业体验课19.9元一节", "呼吸之间"),
])
def test_a_chatty_slack_message(text, name):
    assert read(text).name == name


def test_offers_and_audience_are_read_when_stated():
    brief = read("Sprout Spanish\n• 5-minute daily lessons\n• offline mode\n"
                 "• 50% off the annual plan this week: £29.99")
    assert brief.price == "£29.99"
    assert any("50% off" in offer for offer in brief.offers)
    assert read("适用人群：上班族，类型：午睡枕，材质：记忆棉").audience == "上班族"
