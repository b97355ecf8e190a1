"""The brief checks on copy real models wrote (recorded from SmolLM2-135M and Qwen2.5-1.5B runs)."""

import pytest

from engine.copy.brief_checks import Check, check_variant, language_of, pastes_brief, price_in, product_names, rank
from engine.copy.stock_phrases import StockPhrases
from tests.models import REPO

PHONE = "SmartX 5G phone: 6.5-inch AMOLED screen, 100-megapixel triple camera"
EARBUDS = "Aurora wireless earbuds: 30-hour battery, noise cancelling, $79"
BAND = "智能手环，可监测心率，续航14天"


@pytest.mark.parametrize("text, description, language, problem", [
    # SmolLM2 on the phone brief wrote about a smartwatch.
    ("Stay connected with the SmartX smartwatch, the watch that tracks every step.", PHONE, "en",
     "is about a watch, not the product described"),
    # ...and introduced itself.
    ("Hey everyone! I'm Alex, your creative writing assistant. Aurora earbuds are here!", EARBUDS, "en",
     "speaks as a person or an assistant, not as the brand"),
    # The Chinese brief came back in English, about "The SmartCycle".
    ("The SmartCycle tracks your heart rate all day.", BAND, "zh", "is not in Chinese"),
    ("The SmartCycle tracks your heart rate all day.", BAND, "zh", "does not name the product"),
    # Numbers the brief does not give: a price, a battery life.
    ("Aurora earbuds: 40 hours of music for just $59.", EARBUDS, "en",
     "states 40, 59, which the description does not give"),
    ("SmartX 5G phone with a 6.7-inch screen.", PHONE, "en", "states 6.7, which the description does not give"),
    # Qwen 1.5B once wrote a fine phone post that never named SmartX ("5G" is a spec, not a name).
    ("Discover the smartest 5G phone ever with its stunning 6.5-inch AMOLED display.", PHONE, "en",
     "does not name the product"),
    # ...and slipped a Chinese word into English copy.
    ("Our bamboo toothbrush leaves you with fresh口气!", "Bamboo toothbrush with charcoal bristles", "en",
     "mixes Chinese into English copy"),
    ("作为一个AI，我推荐这款智能手环。", BAND, "zh", "speaks as a person or an assistant, not as the brand"),
    # Offers nobody made: Qwen 1.5B turned the $79 price into a saving, and promised a discount.
    ("Discover Aurora wireless earbuds! Up to 30 hours of battery life, and save $79 on your purchase!",
     EARBUDS, "en", "promises an offer (\u201csave $79\u201d) the description does not make"),
    ("优质316不锈钢保温杯，保温12小时，售价89元，现在购买即可享受优惠。", "保温杯：316不锈钢，保温12小时，售价89元",
     "zh", "promises an offer (\u201c优惠\u201d) the description does not make"),
    ("Aurora earbuds, $79 with free shipping!", EARBUDS, "en",
     "promises an offer (\u201cfree shipping\u201d) the description does not make"),
    ("我们的智能手环限时特价，可监测心率，续航14天！", BAND, "zh",
     "promises an offer (\u201c限时特价\u201d) the description does not make"),
])
def test_off_brief_copy_is_caught(text, description, language, problem):
    assert problem in check_variant(text, description, language).problems


@pytest.mark.parametrize("text, description, language", [
    ("Introducing the SmartX 5G phone! A 6.5-inch AMOLED screen and a 100-megapixel triple camera.", PHONE, "en"),
    ("Aurora wireless earbuds: 30 hours of quiet, for $79. Order yours today!", EARBUDS, "en"),
    ("我们的智能手环，可监测心率，续航14天，让你随时了解自己的健康！", BAND, "zh"),
    ("Our bamboo toothbrush with charcoal bristles: a cleaner smile, no plastic.",
     "bamboo toothbrush that lasts a year", "en"),
    ("SmartX 5G phone: ５G speed in your pocket.", PHONE, "en"),  # full-width digits are the same 5
    # An offer the brief makes may be repeated; "save" without an amount is not an offer.
    ("Aurora earbuds: 30 hours, now 20% off at $79.", "Aurora wireless earbuds: 30-hour battery, 20% off, $79", "en"),
    ("保温杯限时特价89元，保温12小时！", "保温杯：保温12小时，限时特价89元", "zh"),
    ("Aurora earbuds save you the noise: 30 hours of quiet for $79.", EARBUDS, "en"),
])
def test_on_brief_copy_passes(text, description, language):
    assert check_variant(text, description, language).problems == ()


def test_the_language_of_a_request_follows_its_description():
    assert language_of(BAND) == "zh"
    assert language_of(PHONE) == "en"
    assert language_of("SmartX 手环：可监测心率") == "zh"  # a Latin brand name in Chinese text


def test_the_product_name_is_the_brand_when_there_is_one():
    assert product_names(PHONE) == ["SmartX 5G phone", "SmartX"]
    assert product_names("bamboo toothbrush that lasts a year") == ["bamboo toothbrush", "bamboo", "toothbrush"]


def test_rank_prefers_the_length_asked_for_and_skips_near_repeats():
    short = check_variant("SmartX 5G phone. Buy now.", PHONE, "en")
    fitting = check_variant("The SmartX 5G phone puts a 6.5-inch AMOLED screen and a 100-megapixel "
                            "triple camera in your pocket.", PHONE, "en")
    repeat = check_variant("The SmartX 5G phone puts a 6.5-inch AMOLED screen and a 100-megapixel "
                           "triple camera in your pocket!", PHONE, "en")
    off = check_variant("The SmartX watch.", PHONE, "en")
    chosen = rank([short, off, repeat, fitting], 3, target_words=20)
    # The off-brief one never; the first of the two near-identical ones (equal length); then the short.
    assert [c.text for c in chosen] == [repeat.text, short.text]


JUICER = "青竹便携榨汁杯：无线充电，30秒出汁，容量350毫升，可拆洗刀头，售价129元"


def test_copy_that_pastes_the_description_back_goes_after_copy_that_sells_it():
    pasted = check_variant("青竹便携榨汁杯：无线充电，30秒出汁，容量350毫升，可拆洗刀头，售价129元，立即购买！",
                           JUICER, "zh")
    written = check_variant("出门也想喝口鲜榨？青竹便携榨汁杯30秒就是一杯，刀头拆下来就能洗。", JUICER, "zh")
    assert pasted.ok and written.ok
    assert pastes_brief(pasted.text, JUICER) and not pastes_brief(written.text, JUICER)
    # a good ad of a short brief may name every fact in it: it adds enough of its own
    assert not pastes_brief("Ember smart thermostat learns your schedule, cutting heating bills by up to 15%. "
                            "Perfect for those who want to save money while staying comfortable.",
                            "Ember smart thermostat: learns your schedule, cuts heating bills by up to 15%")
    # the pasted one fits the length better, and still goes second; alone it is still delivered
    assert [c.text for c in rank([pasted, written], 2, target_words=30, description=JUICER)] == \
        [written.text, pasted.text]
    assert [c.text for c in rank([pasted, written], 1, target_words=30, description=JUICER)] == [written.text]
    assert [c.text for c in rank([pasted], 1, target_words=30, description=JUICER)] == [pasted.text]


@pytest.mark.parametrize("description, price", [
    ("Aurora wireless earbuds: 30-hour battery, $79", "$79"),
    ("Lumen bedside lamp: sunrise alarm, USB-C charging, 59 euros", "59 euros"),
    ("Nimbus desk, €349.99, memory presets", "€349.99"),
    ("保温杯：316不锈钢，保温12小时，售价89元", "89元"),
    ("Kestrel trail backpack: 28 L, 1.1 kg, 30-hour warranty", None),  # sizes and weights are no price
])
def test_the_price_a_description_gives(description, price):
    assert price_in(description) == price


CURRENCY, PER_PERIOD = "gives the price in", "states a price per period"


@pytest.mark.parametrize("problem, copy, description, refused", [
    (CURRENCY, "Orbit smart plug: just $19. Get yours now!", "Orbit smart plug: works with Alexa, 19 euros", True),
    (CURRENCY, "Orbit smart plug, only €19.", "Orbit smart plug: works with Alexa, 19 euros", False),
    (CURRENCY, "Orbit smart plug for 19 euros.", "Orbit smart plug, €19", False),
    (CURRENCY, "Fjord socks, $24 a pack, lighter than a pound.", "Fjord merino socks: 3-pack, $24", False),
    (CURRENCY, "山泉咖啡壶，只要159美元！", "山泉手冲咖啡壶：容量600毫升，售价159元", True),
    (CURRENCY, "山泉咖啡壶，只要159欧元！", "山泉咖啡壶：售价159欧元", False),
    (CURRENCY, "山泉咖啡壶，只要$159！", "山泉手冲咖啡壶：容量600毫升，售价159元", True),
    (CURRENCY, "山泉咖啡壶，¥159，设计多元。", "山泉手冲咖啡壶：售价159元", False),
    (PER_PERIOD, "Orbit smart plug: just 19 euros per month.", "Orbit smart plug: works with Alexa, 19 euros", True),
    (PER_PERIOD, "Orbit smart plug, $5/mo.", "Orbit smart plug, $5", True),
    (PER_PERIOD, "FreshBox meal kit: 3 dinners a week for $60 a week.", "FreshBox meal kit: $60 a week, 3 dinners",
     False),
    (PER_PERIOD, "FreshBox: 3 dinners a week, 20-minute recipes.", "FreshBox meal kit: 3 dinners a week", False),
    (PER_PERIOD, "山泉咖啡壶，159元/月起。", "山泉手冲咖啡壶：售价159元", True),
    (PER_PERIOD, "每月只需159元，山泉咖啡壶。", "山泉手冲咖啡壶：售价159元", True),
    (PER_PERIOD, "山泉咖啡壶，售价159元，每天一杯好咖啡。", "山泉手冲咖啡壶：售价159元", False),
])
def test_a_price_in_another_currency_or_per_period_the_description_does_not_give_is_refused(
        problem, copy, description, refused):
    problems = check_variant(copy, description, "zh" if "咖啡" in copy else "en").problems
    assert any(p.startswith(problem) for p in problems) == refused, problems


def test_rank_shows_copy_that_leans_on_stock_phrases_last():
    stock = StockPhrases.load(REPO / "prompts")
    weak = Check("Hey there! Elevate your mornings with Harbor cold brew, perfect for any occasion.", (), 13)
    plain = Check("Harbor cold brew: zero sugar, roasted in Portland, ready in the can when you are.", (), 15)
    zh_weak = Check("选择我们的青岚保温杯，让你在任何场合都自信满满！", (), 12)
    zh_plain = Check("青岚保温杯，早上装的热茶，下午开会时还是烫的。", (), 12)
    assert stock.used(weak.text)[0] == "hey there"  # openers first
    assert {"perfect for any occasion", "elevate your"} <= set(stock.used(weak.text))
    assert {"选择我们", "任何场合", "自信满满"} <= set(stock.used(zh_weak.text))
    assert stock.used(plain.text) == [] and stock.used(zh_plain.text) == []
    assert rank([weak, plain], 1, 15, stock=stock) == [plain]
    assert rank([zh_weak, zh_plain], 1, 12, stock=stock) == [zh_plain]
    assert rank([weak, plain], 1, 13) == [weak]  # without the list, length alone decides


@pytest.mark.parametrize("text,description,refused", [
    ("Join us for free bike repairs! Punctures fixed for £12.", "Bike repairs in Bristol: punctures £12", True),
    ("A free quote within 48 hours.", "Painting and decorating. Quote: free, within 48 hours", False),
    ("Sugar-free, free from nasties: feel free to ask.", "Zest soda: sugar-free lemon soda", False),
    ("Clamp with one hand free.", "FlexiClamp: one-handed bar clamp", False),
])
def test_something_given_free_is_an_offer_only_the_brief_may_make(text, description, refused):
    problems = check_variant(text, description, "en", names=()).problems
    assert any(p.startswith("promises an offer") for p in problems) is refused
