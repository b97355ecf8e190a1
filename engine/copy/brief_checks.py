"""Is a variant on brief? Checks a marketer would make by eye, made by rule so they can be counted.

A variant is refused when it
- states a number (a price, a spec, a duration, a percentage) that the description does not contain;
- promises an offer (a discount, a sale, free shipping, a gift, "save $79") the description does
  not make: a marketer cannot honour an offer nobody decided on;
- gives the price in another currency than the description ("$19" of "19 euros"), or per month,
  year, week or day when the description does not ("19 euros per month");
- is about another kind of product (a smartwatch when the brief is a phone);
- speaks as a person or an assistant ("I'm Alex", "as an AI", "我是…");
- is in another language than the request;
- does not name the product;
- (``from: reviews``) claims a theme the workspace's reviews complain about: names it (in an ad
  every feature named is a feature sold, so "all-day battery" under battery complaints is the claim
  to avoid) or repeats the number the description gives for it ("30 hours" of a 30-hour battery).
Among the variants that pass, ``rank`` prefers copy that does more than paste the description
back (``pastes_brief``), then the ones that fit the length asked for, each distinct from those
already chosen. Every rule is explainable in one line (``Check.problems``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from engine.copy.cleaning import is_near_duplicate, word_count, words
from engine.copy.compliance import (
    ComplianceRules,
    StyleGuide,
    compliance_problems,
    missing_required,
    style_problems,
)
from engine.copy.stock_phrases import StockPhrases

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")
# Numbers as written in copy: 6.5, 100, 1,299, ５ (full width normalised first).
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
# Full-width digits and point; not the full-width comma, which separates list items in Chinese
# ("A5，160页" is A5 and 160 pages, not 5,160).
_FULL_WIDTH = str.maketrans("０１２３４５６７８９．", "0123456789.")
# Speaking as a person or as the assistant, not as the brand.
_PERSONA = re.compile(
    r"\b(i'm|i am|i've|i have|i'll|i was|my name is|as an ai|as a language model|your (creative )?"
    r"(writing )?assistant|hey everyone|hi everyone|hello everyone)\b|我是|作为(一个|一名)?(ai|人工智能|助手)|"
    r"我叫|大家好，我|(?<![\w'])i(?![\w'])",
    re.IGNORECASE,
)
# Kinds of product copy is written for; a variant naming a kind the brief does not is about
# another product. Chinese and English names of the same kind share a group.
_KINDS = {
    "phone": ("phone", "smartphone", "手机"),
    "watch": ("smartwatch", "watch", "手表"),
    "band": ("fitness band", "fitness tracker", "band", "手环"),
    "earbuds": ("earbuds", "earphones", "headphones", "headset", "耳机"),
    "laptop": ("laptop", "notebook computer", "笔记本电脑"),
    "tablet": ("tablet", "平板"),
    "speaker": ("speaker", "音箱"),
    "camera": ("camera", "相机"),
    "shoes": ("shoes", "sneakers", "trainers", "鞋"),
    "bottle": ("bottle", "水杯", "水瓶"),
    "coffee": ("coffee", "cold brew", "espresso", "咖啡"),
    "tea": ("tea", "茶"),
    "car": ("car", "vehicle", "汽车"),
    "bike": ("bike", "bicycle", "e-bike", "自行车"),
}
# Offers: what copy may promise only when the brief does. "save" counts only before an amount
# ("save $79" of a $79 price is the price misread as a saving), not "save time".
_OFFER = re.compile(
    r"\b(discount(?:s|ed)?|on sale|sale price|\d+\s*% off|percent off|free (?:shipping|delivery|gift)|"
    r"coupon|promo(?:tion(?:al)?)? code|limited[- ]time (?:offer|deal|price)|buy one,? get one|bogo|"
    r"save (?:up to )?[$€£¥]\d[\d.,]*)|\(sale\)|"
    r"优惠|折扣|打折|\d+(?:\.\d+)?\s*折|特价|促销|包邮|免运费|赠品|买一送一|限时(?:优惠|特价|折扣|抢购)|立减|"
    r"满减|优惠券|秒杀",
    re.IGNORECASE,
)
# "free bike repairs", "a free quote": something given for nothing, which copy may promise only
# when the description says "free" itself (as "visits are free" or "Quote: free" do). Not
# "sugar-free", "free from", "feel free to", "one hand free".
_FREE_OFFER = re.compile(r"(?<![-\w])free\s+(?!(?:from|to|of|and)\b)\w+", re.IGNORECASE)
_FREE_WORD = re.compile(r"(?<![-\w])free\b(?!-)(?!\s+(?:from|to|of|and)\b)", re.IGNORECASE)
_STOP = frozenset(
    "a an the and or for with of to in on our your new best all by from at is are this that it its "
    "per one two pack set".split())


# Words of a review theme's label too general to stand for it on their own: "battery life" is
# about the battery, "customer service" about the service, not about life or customers.
_GENERIC_THEME_WORDS = frozenset(
    "life quality time thing things product products item items overall experience day days way lot "
    "bit really customer customers people use using".split())
# Endings stripped to compare a theme's words with copy's ("batteries" ~ "battery", "comfort" ~
# "comfortable"): one ending, the longest that leaves a stem of three letters or more.
_ENDINGS = ("ably", "ables", "able", "ibly", "ible", "ities", "ity", "ness", "ings", "ing", "ies",
            "ied", "ed", "es", "ly", "s", "y", "e")


def _stem(word: str) -> str:
    for ending in _ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= 3:
            return word[: -len(ending)]
    return word


def theme_terms(label: str) -> list[str]:
    """What naming a review theme looks like in copy. Chinese: the label, and for a label of four
    or more characters its first two as well (电池 of 电池续航, 客服 of 客服态度). English: the
    stems of the label's specific words ("batter" for "battery life")."""
    label = label.strip().lower()
    if _CJK.search(label):
        return [label] + ([label[:2]] if len(label) >= 4 else [])
    specific = [w for w in words(label) if w not in _STOP and w not in _GENERIC_THEME_WORDS]
    return list(dict.fromkeys(_stem(w) for w in (specific or words(label))))


def names_theme(text: str, label: str) -> bool:
    """Does ``text`` name the review theme ``label`` (its words, in any common form)?"""
    terms = theme_terms(label)
    if not terms:
        return False
    if _CJK.search(label):
        return any(term in text for term in terms)
    stems = {_stem(w) for w in words(text)}
    return any(term in stems for term in terms)


# Where a description's claims part: "30-hour battery, noise cancelling and a $79 price" is three.
# (A point or comma inside a number, "6.5-inch", "1,299", parts nothing.)
_DESCRIPTION_PARTS = re.compile(r"(,(?!\d)|[:.!?;](?=\s|$)|[，；：、。！？]|\s(?:and|with|plus)\s|和|与|及)")


def description_parts(description: str) -> list[str]:
    """The description's claims with the separators between them, in order (joined back, the
    description): ``["Aurora earbuds", ":", " 30-hour battery", ",", " $79"]``."""
    return _DESCRIPTION_PARTS.split(description)


def claims_theme(text: str, label: str, description: str = "") -> bool:
    """Does ``text`` claim the review theme ``label``? It names it, or it repeats a number the
    description gives for it: under battery complaints, "30 hours of music" from a "30-hour
    battery" brief (or 续航14天's 14) boasts about the battery without saying the word."""
    if names_theme(text, label):
        return True
    numbers = set().union(*(_numbers(part) for part in description_parts(description)[::2]
                            if part and names_theme(part, label)))
    return bool(numbers & _numbers(text))


def language_of(text: str) -> str:
    """"zh" when Chinese characters make up a clear share of the letters, else "en"."""
    cjk = len(_CJK.findall(text))
    latin = len(_LATIN.findall(text))
    return "zh" if cjk and cjk >= 0.25 * (cjk + latin / 4) else "en"


def _numbers(text: str) -> set[str]:
    found = set()
    for raw in _NUMBER.findall(text.translate(_FULL_WIDTH)):
        value = raw.replace(",", "")
        found.add(value.rstrip("0").rstrip(".") if "." in value else value)
    return found


def _kinds(text: str) -> set[str]:
    lowered = text.lower()
    kinds = set()
    for kind, names in _KINDS.items():
        for name in names:
            pattern = re.escape(name) if _CJK.search(name) else rf"\b{re.escape(name)}e?s?\b(?!-)"
            if re.search(pattern, lowered):
                kinds.add(kind)
                break
    # "smartwatch" contains "watch"; "fitness band" is not a "band" of musicians; keep it simple:
    return kinds


# A price as descriptions give it: $79, €59, 59 euros, 89元, ¥89, 售价89元, RMB 89.
PRICE = re.compile(
    r"[$€£¥￥]\s?\d[\d.,]*\d|[$€£¥￥]\s?\d|\d[\d.,]*\s?(?:euros?|dollars?|pounds?|usd|eur|gbp|rmb|yuan)\b|"
    r"\d[\d.,]*\s?(?:元|块|円)(?:/[月年周天])?|(?:rmb|usd|eur|gbp)\s?\d[\d.,]*\d?",
    re.IGNORECASE,
)


# Currencies by how copy writes them; ¥ is yuan or yen. 元 and 块 only after a number (元素, 单元
# are words), and "pounds" not at all (a weight).
_CURRENCIES = {
    "US dollars": re.compile(r"\$|\busd\b|\bdollars?\b|美元|美金", re.IGNORECASE),
    "euros": re.compile(r"€|\beur\b|\beuros?\b|欧元", re.IGNORECASE),
    "pounds sterling": re.compile(r"£|\bgbp\b|英镑", re.IGNORECASE),
    "yuan": re.compile(r"\d\s*(?:元|块)|人民币|\brmb\b|\byuan\b|¥|￥", re.IGNORECASE),
    "yen": re.compile(r"円|\byen\b|\bjpy\b|日元|¥|￥", re.IGNORECASE),
}


# A price with a period after it: "19 euros per month", "$5/mo", "99元/月", "每月99元".
_PER_PERIOD = re.compile(
    # "$40/editor/month" and "£6 per pallet per week" give a period too: a short unit may come first.
    r"(?:[$€£¥￥]\s?\d[\d.,]*|\d[\d.,]*\s?(?:euros?|dollars?|usd|eur|gbp|元|块))\s*"
    r"(?:(?:(?:per|a|an|every|each)\s+|/\s*)[a-z]{2,12}\s*)?"
    r"(?:(?:per|a|an|every|each)\s+|/\s*)(?:month|mo|year|yr|week|day)\b|"
    r"[$€£¥￥]\s?\d[\d.,]*\s*/\s*(?:月|年|周|天)|\d\s*(?:元|块)\s*(?:/|每)\s*(?:月|年|周|天)|(?:每月|每年|每周|月付|年付)\s*(?:仅需|只需|只要)?\s*[$€£¥￥]?\d",
    re.IGNORECASE,
)


def _currencies(text: str) -> set[str]:
    return {name for name, pattern in _CURRENCIES.items() if pattern.search(text)}


def price_in(description: str) -> str | None:
    """The price the description gives, as written ("$79", "59 euros", "89元"), or None
    (bench/copy_quality.py counts the copy that states it)."""
    match = PRICE.search(description.translate(_FULL_WIDTH))
    return match.group(0).strip() if match else None


def product_names(description: str) -> list[str]:
    """What naming the product means: the name before the first colon, dash or comma, or one of
    its brand-like words (capitalised, not a spec such as "5G"); without a brand, its Chinese runs
    of two or more characters, or else its content words."""
    head = re.split(r"[:：,，;；(（—–]| - ", description, maxsplit=1)[0].strip()
    head = re.split(r"\s+(?:that|which|with|for|made|in)\s+", head, maxsplit=1)[0]
    names = [head] if head else []
    tokens = [t for t in re.findall(r"[A-Za-z][\w'-]*|[\u3400-\u9fff]{2,}", head)
              if t.lower() not in _STOP]
    brands = [t for t in tokens if _LATIN.match(t) and t[0].isupper() and len(t) > 1
              and not any(c.isdigit() for c in t)]
    if brands:
        return names + brands
    chinese = [t for t in tokens if _CJK.match(t)]
    if chinese:
        # Chinese names run together ("云朵记忆枕"): three characters of one in a row name it.
        return names + [t[i:i + 3] for t in chinese for i in range(max(1, len(t) - 2))]
    return names + [w for w in words(head) if len(w) > 2 and w not in _STOP]


@dataclass(frozen=True)
class Check:
    text: str
    problems: tuple[str, ...]  # empty: on brief
    words: float

    @property
    def ok(self) -> bool:
        return not self.problems


def check_variant(text: str, description: str, language: str, complaints: Sequence[str] = (),
                  names: Sequence[str] | None = None, rules: ComplianceRules | None = None,
                  style: StyleGuide | None = None, kind: str = "") -> Check:
    """``complaints``: labels of review themes customers complain about (``from: reviews``); copy
    that names one makes the claim they contradict. ``names``: the forms of the product's name the
    copy may use, as the structured brief read them (``engine.copy.brief``); empty when the brief
    names nothing, and then no variant is held to naming it; None: read from the description.
    ``rules``: the advertising-law terms and unsupported claims (``prompts/compliance.toml``);
    ``style``: the workspace's style guide (banned and required words); ``kind``: what the brief
    sells, as read ("women's trouser suit")."""
    problems = _lasting_problems(text, description, complaints, language, rules, style)
    lowered = text.lower()
    wanted = product_names(description) if names is None else list(names)
    about_it = bool(kind) and kind.lower() in lowered
    wanted_kinds = _kinds(description)
    other = _kinds(text) - wanted_kinds
    # "band" inside "smartwatch band" briefs and similar overlaps: only a kind the brief lacks,
    # with none of the brief's own kinds (nor its name) named, is another product; "bike-ride
    # anthems" in copy that names the speaker is a scene, not another product.
    if other and wanted_kinds and not (_kinds(text) & wanted_kinds) and not about_it:
        problems.append(f"is about a {sorted(other)[0]}, not the product described")
    if language_of(text) != language:
        problems.append(f"is not in {'Chinese' if language == 'zh' else 'English'}")
    elif language == "en" and _CJK.search(text) and not _CJK.search(description):
        problems.append("mixes Chinese into English copy")
    if wanted and not any(name.lower() in lowered for name in wanted):
        problems.append("does not name the product")
    if style is not None:
        problems += missing_required(text, style)
    return Check(text, tuple(problems), word_count(text))


def _lasting_problems(text: str, description: str, complaints: Sequence[str], language: str = "en",
                      rules: ComplianceRules | None = None, style: StyleGuide | None = None) -> list[str]:
    """The problems no further text can undo: an invented number, offer, currency or price period,
    speaking as a person, a claim customers contradict (the other checks can change as a variant
    goes on, so previews are held to these only)."""
    problems = []
    invented = _numbers(text) - _numbers(description)
    if invented:
        problems.append(f"states {', '.join(sorted(invented))}, which the description does not give")
    offer = _OFFER.search(text)
    if offer and not _OFFER.search(description):
        problems.append(f"promises an offer (\u201c{offer.group(0)}\u201d) the description does not make")
    elif (free := _FREE_OFFER.search(text)) and not _FREE_WORD.search(description):
        problems.append(f"promises an offer (\u201c{free.group(0)}\u201d) the description does not make")
    given, named = _currencies(description), _currencies(text)
    if given and named and not named & given:
        problems.append(f"gives the price in {sorted(named)[0]}; the description gives {sorted(given)[0]}")
    period = _PER_PERIOD.search(text)
    if period and not _PER_PERIOD.search(description):
        problems.append(f"states a price per period (\u201c{period.group(0)}\u201d) the description does not")
    if _PERSONA.search(text):
        problems.append("speaks as a person or an assistant, not as the brand")
    claimed = [label for label in complaints if claims_theme(text, label, description)]
    if claimed:
        problems.append(f"claims {', '.join(claimed)}, which customers complain about")
    if rules is not None:
        problems += compliance_problems(text, description, language, rules)
    if style is not None:
        problems += style_problems(text, style)
    return problems


# The word a stream may still be writing: "Imag" of "Imagine" reads as "I", "8" of "89" as an
# invented number, "$349." of "$349.99" as 349. A finished sentence ("long.") is not cut.
_UNFINISHED_WORD = re.compile(r"[A-Za-z0-9'’$€£¥%-]+(?:[.,][A-Za-z0-9'’$€£¥%-]+)*"
                              r"(?:(?<=\d)[.,])?$")


def settled_preview(text: str, description: str, complaints: Sequence[str] = (), language: str = "en",
                    rules: ComplianceRules | None = None, style: StyleGuide | None = None) -> str | None:
    """What of a variant still being written may be shown: up to its last finished word, or None
    once it has a problem no further text can undo (it will be refused, so it is not shown)."""
    settled = _UNFINISHED_WORD.sub("", text).rstrip()
    if _lasting_problems(settled, description, complaints, language, rules, style):
        return None
    return settled


#: copy that repeats this share of the description's phrases, and is itself mostly those phrases, is
#: the brief pasted back with a slogan ("青山绿茶：明前龙井，产自杭州，每罐100克。"): a spec sheet, not
#: an ad. Either alone is normal: a short brief is often covered whole by a good ad, and a long
#: one quoted in part.
PASTED_BRIEF, PASTED_COPY = 0.8, 0.6


def _phrases(text: str) -> set[str]:
    """Adjacent word pairs (Chinese: character pairs), the unit a copied phrase shows in."""
    tokens = words(text)
    return {a + " " + b for a, b in zip(tokens, tokens[1:])}


def pastes_brief(text: str, description: str) -> bool:
    """True when ``text`` is mostly the description's own phrases, nearly all of them."""
    brief, copy = _phrases(description), _phrases(text)
    if not brief or not copy:
        return False
    shared = len(brief & copy)
    return shared / len(brief) >= PASTED_BRIEF and shared / len(copy) >= PASTED_COPY


def rank(checks: list[Check], n: int, target_words: float, avoid: Sequence[str] = (),
         description: str = "", stock: StockPhrases | None = None) -> list[Check]:
    """Up to ``n`` passing variants, in an editor's order: those that do not paste ``description``
    back first (they are kept only when nothing else passes), then those leaning on fewer stock
    phrases (``stock``), then the closest to the target length, each distinct from those chosen
    before it (and from ``avoid``: copy already shown)."""
    def order(check: Check) -> tuple[bool, int, float]:
        weak = len(stock.used(check.text)) if stock is not None else 0
        return pastes_brief(check.text, description), weak, abs(check.words - target_words * 0.8)

    passing = sorted((c for c in checks if c.ok), key=order)
    chosen: list[Check] = []
    for check in passing:
        if len(chosen) == n:
            break
        if is_near_duplicate(check.text, [c.text for c in chosen] + list(avoid)):
            continue
        chosen.append(check)
    return chosen


# Why drafts were refused, in words that complete "the others …", by the problem's first words.
_REASONS = (
    ("states a price per period", "gave a price per period the description does not"),
    ("states ", "stated numbers the description does not give"),
    ("promises an offer", "promised offers the description does not make"),
    ("gives the price in", "gave the price in another currency"),
    ("speaks as a person", "spoke as a person, not as the brand"),
    ("is about a", "described another kind of product"),
    ("is not in", "were in the wrong language"),
    ("mixes Chinese", "mixed Chinese into English copy"),
    ("does not name the product", "did not name the product"),
    ("is cut off", "were cut off mid-sentence"),
    ("uses “", "used words the law or the style guide forbids"),
    ("claims “", "made claims the description does not"),
    ("leaves out “", "left out the style guide's required words"),
)


def refusal_reason(checks: Sequence[Check]) -> str:
    """The most common reason among refused drafts, as a phrase ("" when none was refused)."""
    counts: dict[str, int] = {}
    for check in checks:
        if check.ok:
            continue
        for start, phrase in _REASONS:
            if check.problems[0].startswith(start):
                counts[phrase] = counts.get(phrase, 0) + 1
                break
        else:
            counts[check.problems[0]] = counts.get(check.problems[0], 0) + 1
    return max(counts, key=lambda phrase: counts[phrase]) if counts else ""
