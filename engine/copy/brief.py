"""Reading a brief of any shape into what it says: the structured brief.

Marketers paste what they have: ``Name: facts``; an attribute list as a Taobao/Tmall listing gives
it (``类型：上衣，版型：宽松，颜色：宝蓝色，衣样式：卫衣``, ``Type: jacket, Material: denim``); bullets
under a title; a paragraph about a company or a service (the name mid-sentence, or none); a pasted
product page (breadcrumbs, ratings, "Add to cart"); a chatty Slack message ("it's called Drift").
``read_brief`` reads each by rule into a ``Brief``: what it is called (or that it has no name),
what kind of thing it is, its facts and numbers, the price and offers it states, who it is for.
The prompt, the brief checks and the reply's header line all use it; ``bench/brief_reading.py``
measures it against answers written with each brief.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from engine.copy.brief_checks import PRICE, language_of
from engine.copy.brief_names import ZH_QUOTED, name_forms, name_in_prose, name_in_title

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")

# Attribute keys, as listings and marketers write them (lowercase for English).
_NAME_KEYS = {"name", "product name", "product", "item", "model", "title", "名称", "品名", "产品名称",
              "商品名称", "产品", "商品", "型号", "店名", "名字", "产品名"}
# Keys whose value is the subject: a name when written as one ("Course: Data Analytics
# Certificate"), else what kind of thing it is ("Service: inheritance tax planning").
_SUBJECT_KEYS = {"course", "event", "restaurant", "venue", "hotel", "app", "shop", "store", "studio", "class",
                 "program", "programme", "workshop", "tour", "package", "charity", "project", "课程", "活动",
                 "店铺", "项目"}
_BRAND_KEYS = {"brand", "brand name", "maker", "品牌", "牌子", "品牌名"}
# The more specific kind wins: 衣样式 (卫衣) over 类型 (上衣).
_KIND_KEYS = {"衣样式": 3, "款式": 2, "品类": 2, "类别": 1, "类型": 1, "服务类型": 2, "服务": 1,
              "product type": 2, "type": 1, "category": 1, "style": 0, "service": 1, "kind": 1}
_PRICE_KEYS = {"price", "售价", "价格", "原价", "到手价", "现价", "日常价", "会员价", "cost"}
_AUDIENCE_KEYS = {"audience", "for", "适用人群", "适用对象", "人群", "适合", "适用"}
# "key：value" or "Key: value" pairs, separated by commas, semicolons, pipes, line breaks or
# (Chinese) spaces: ``品牌：暖岛 产地：云南``.
_PAIR = re.compile(r"(?:^|[,，;；|｜\n]|\s{1,3})\s*([A-Za-z][A-Za-z /&'-]{0,24}?|[\u3400-\u9fff]{1,6})\s*[:：]\s*")
_BULLET = re.compile(r"^\s*(?:[-•*·▪●]|\d{1,2}[.)、])\s*")
# "Home > Kitchen > Knives", "Office Chairs › Ergonomic", "Home / Services / Heating": short parts
# with no digits (a "/" needs two, as "4.7/5" and "S/M/L" have one).
_CRUMB_PART = r"[^\d>›»/|:：\n]{1,30}"
_BREADCRUMB = re.compile(rf"^\s*{_CRUMB_PART}(?:\s(?:>|›|»|&gt;)\s{_CRUMB_PART})+\s*$|"
                         rf"^\s*{_CRUMB_PART}(?:\s/\s{_CRUMB_PART}){{2,}}\s*$")
_FURNITURE = re.compile(
    r"add to (?:cart|bag|basket|wishlist)|buy now|sign in|in stock|qty\b|quantity|reviews?\)|ratings?\)|"
    r"out of 5|stars?\b.*\d|★|☆|^\s*(?:menu|search|account|cart|shop|home)\b|free delivery over|"
    r"^(?:details|description|overview|features|specifications|product details|reviews|about)$|"
    r"you may also like|customers also bought|related products|猜你喜欢|看了又看|"
    r"^\s*(?:©|&copy;|copyright)|\bwishlist\b|\bcompare\b|\badd to basket\b|\bships in\b|call us|email us|"
    r"加入购物车|立即购买|立即预约|立即咨询|预约演示|立即报名|试听|人学习|评分|条评价|条点评|"
    r"月销|累计评价|好评率|已售|收藏|购物车|分享|客服|店铺|首页|宝贝详情|温馨提示",
    re.IGNORECASE)
_NUMBER_WITH_UNIT = re.compile(
    r"(?:[$€£¥￥]\s?)?\d+(?:[.,]\d+)*(?:\s?(?:-|–|~|到|至)\s?\d+(?:[.,]\d+)*)?\s?"
    r"(?:%|％|[a-zA-Z]{1,8}\b|[\u3400-\u9fff]{1,2})?")
_OFFER = re.compile(
    r"[^,，;；。.\n]*(?:\d+\s*% off|free (?:shipping|delivery|returns?|trial|gift|consultation)|"
    r"discount|promo code|coupon|buy one|bogo|was:? [$€£]|reduced|sale|save \d|"
    r"包邮|满\d+减\d+|优惠券?|券后|折扣|打折|\d+(?:\.\d+)?折|第二件半价|买一送一|赠品?|送|立减|特价|免费试用|"
    r"无理由退换|运费险|限时)[^,，;；。.\n]*",
    re.IGNORECASE)
_TAG = re.compile(r"【[^】]{1,8}】|\[[^\]]{1,12}\]")


@dataclass(frozen=True)
class Brief:
    """What a brief says, as far as rules can read it."""

    text: str
    language: str
    shape: str  # name_facts | attributes | bullets | paragraph | page | message
    name: str = ""  # what the copy must call it, as the brief names it; "" when it names nothing
    kind: str = ""  # what is sold, in the brief's words: 卫衣, "denim jacket", "plumbing and heating"
    facts: tuple[str, ...] = ()
    numbers: tuple[str, ...] = ()
    price: str = ""
    offers: tuple[str, ...] = ()
    audience: str = ""
    names: tuple[str, ...] = ()  # forms of the name copy may use: "Kestrel trail headlamp", "Kestrel"
    name_required: bool = True  # the brief checks hold copy to naming it (when there is a name)
    # What the prompt shows of a pasted page: its title, facts and price, without the menus,
    # breadcrumbs, ratings and buttons a model would otherwise copy ("Shop New In Sale…"); "" for
    # the other shapes, shown as written.
    distilled: str = ""

    @property
    def prompt_text(self) -> str:
        return self.distilled or self.text

    @property
    def required_names(self) -> tuple[str, ...]:
        """The names the brief checks hold copy to: none when it names nothing, or only a brand."""
        return self.names if self.name and self.name_required else ()

    def named(self, name: str) -> Brief:
        """The brief with the name the person gave (`name:`, or "the product is called …" in its
        thread): asked for, required, shown."""
        return replace(self, name=name, names=(name,), name_required=True)

    def headline(self) -> tuple[str, tuple[str, ...]]:
        """What the reply's header shows: the subject (name, else kind) and up to four facts."""
        return (self.name or self.kind), tuple(self.facts[:4])


def read_brief(text: str, language: str | None = None) -> Brief:
    """The structured brief of ``text`` (already cleaned: ``engine.copy.validation.clean_brief``).
    ``language``: the brief's own (not the copy's: `language: zh` on an English brief still reads
    it as English); None: found in the text."""
    language = language or language_of(text)
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    price = _price(text)
    offers = tuple(dict.fromkeys(m.group(0).strip(" -—:：") for m in _OFFER.finditer(text)
                                 if m.group(0).strip()))[:4]
    numbers = tuple(dict.fromkeys(m.group(0).strip() for m in _NUMBER_WITH_UNIT.finditer(text)
                                  if any(c.isdigit() for c in m.group(0))))
    common = {"text": text, "language": language, "price": price, "offers": offers, "numbers": numbers}
    if _is_page(lines):
        return _page(lines, common)
    pairs = _pairs(text)
    if len(pairs) >= 2 and _mostly_pairs(text, pairs):
        return _attributes(pairs, common)
    if len(lines) >= 2 and sum(bool(_BULLET.match(line)) for line in lines) >= max(2, len(lines) // 2):
        return _bullets(lines, common)
    if len(lines) >= 3 or re.search(r"@\w|\b(?:hey|hi|pls|please|can we|need a|need some)\b|帮忙|麻烦|～",
                                    text, re.IGNORECASE) and len(lines) >= 2:
        return _message(lines, common)
    return _single(text, common)


# --- shapes ------------------------------------------------------------------------------------

def _single(text: str, common: dict) -> Brief:
    """One line or a paragraph: ``Name: facts`` or ``Name product with …``, else prose."""
    head, sep, rest = _split_head(text)
    if (sep and head and len(head) <= 60 and len(head.split()) <= 6 and not _sentence_like(head)
            and not (_CJK.search(head) and (len(head) > 16 or re.search(r"[，,。]", head)))):
        name, names, kind = name_in_title(head, common["language"], split_brand=False)
        facts = _list_items(rest)
        if not kind and facts and len(facts[0].split()) <= 4 and not re.search(r"\d", facts[0]):
            kind = facts[0]  # "Marrow & Vine: small-batch hot sauce, …"
        return Brief(shape="name_facts", name=name, names=names, kind=kind, facts=facts, **common)
    name = name_in_prose(text, common["language"])
    names = name_forms(name) if name else ()
    return Brief(shape="paragraph", name=name, names=names, kind=_kind_in_prose(text), facts=_sentences(text),
                 **common)


# "We are a family-run plumbing and heating firm in Leeds", "Kindred is a builder of …",
# "我们是一家开在苏州老城区的家庭裁缝铺": what the business is.
_EN_KIND = re.compile(r"\b(?:we are|we're|is|are) (?:a|an) ([a-z][\w -]{2,60}?)(?= in | that | with | for |[,.;:]|$)")
_ZH_KIND = re.compile(r"(?:是一[家个款所]|是)(?:[\u3400-\u9fff]{0,12}的)?([\u3400-\u9fff]{2,10}?)(?=[，。,！]|$)")


def _kind_in_prose(text: str) -> str:
    found = (_ZH_KIND if _CJK.search(text) else _EN_KIND).search(text)
    return found.group(1).strip() if found else ""


def _attributes(pairs: list[tuple[str, str]], common: dict) -> Brief:
    name = brand = kind = audience = ""
    kind_rank = -1
    facts = []
    for key, value in pairs:
        lowered = key.lower().strip()
        if lowered in _SUBJECT_KEYS and not name:
            # "Course: Project Management Essentials" names it; "Class: aqua aerobics" is a kind.
            if value[:1].isupper() and not value.isupper() or _CJK.search(value):
                name = value
            elif not kind:
                kind, kind_rank = value, 1
        elif lowered in _NAME_KEYS and not name:
            name = value
        elif lowered in _BRAND_KEYS and not brand:
            brand = value
        elif lowered in _KIND_KEYS and _KIND_KEYS[lowered] > kind_rank:
            kind, kind_rank = value, _KIND_KEYS[lowered]
        elif lowered in _AUDIENCE_KEYS and not audience:
            audience = value
        elif lowered in _PRICE_KEYS:
            continue
        else:
            facts.append(value)
    if name and not _CJK.search(name) and name[:1].islower() and not brand:
        kind, name = kind or name, ""  # "Product: spill kit" says what it is, not what it is called
    # A listing names its product by its brand (暖岛) and its item (干牛肝菌): the copy says the brand.
    shown = re.sub(r"[（(][^）)]*[）)]$", "", brand or name).strip()
    kind = kind or (name if brand else "")
    names = tuple(dict.fromkeys(n for n in (shown, f"{shown}{kind}" if common["language"] == "zh" else "") if n))
    # A brand alone is shown and asked for, but copy need not say it: listing copy often sells the
    # item by its kind (a name key, "品名：云朵枕", is held to).
    return Brief(shape="attributes", name=shown, names=names, kind=kind, facts=tuple(facts),
                 audience=audience, name_required=bool(name and not brand), **common)


def _bullets(lines: list[str], common: dict) -> Brief:
    items = [_BULLET.sub("", line).strip() for line in lines]
    titled = not _BULLET.match(lines[0])
    tag = re.match(r"【([^】]{1,8})】", lines[0]) if titled else None
    if tag:  # 【橙意】赣南脐橙 新季上市: the tag is the brand
        return Brief(shape="bullets", name=tag.group(1), names=(tag.group(1),), kind=_TAG.sub("", items[0]).strip(),
                     facts=tuple(items[1:]), **common)
    # A list that starts with its first bullet has a title only when that bullet names something
    # ("• Northpaw salmon bites"); "- 电动晾衣机，一键升降" is the kind and a fact.
    named_first = bool(re.match(r"[A-Z]", items[0]) or ZH_QUOTED.search(items[0]))
    title = _TAG.sub(" ", items[0]).strip() if titled or (named_first and not _is_fact(items[0])) else ""
    if title and (_sentence_like(title) or len(title.split()) > 8 or re.search(r"[!?？！]|\b(?:pls|please)\b", title)):
        name = name_in_prose("\n".join(lines), common["language"])
        return Brief(shape="bullets", name=name, names=name_forms(name) if name else (), facts=tuple(items[1:]),
                     **common)
    name, names, kind = name_in_title(title, common["language"], split_brand=False) if title else ("", (), "")
    facts = tuple(item for item in items[1 if title or titled else 0:] if item)
    return Brief(shape="bullets", name=name, names=names, kind=kind, facts=facts, **common)


def _page(lines: list[str], common: dict) -> Brief:
    crumbs = [line for line in lines if _BREADCRUMB.search(line)]
    kind = re.split(r"\s+(?:>|›|»|/|&gt;)\s+", crumbs[-1])[-1].strip() if crumbs else ""
    kept = [line for line in lines if not _BREADCRUMB.search(line) and not _FURNITURE.search(line)
            and not _menu_line(line) and not _price_line(line)]
    kept = [re.sub(r"^(?:clearance|new|sale|new in|清仓|新品)\s*[:：]\s*", "", line, flags=re.IGNORECASE)
            for line in kept]
    line = next((line for line in kept if not _pairs(line) and not line[:1].islower()
                 and not re.match(r"(?i)(?:by|from|sold by)\b", line)), "")
    title = re.split(r"\s+[·|｜]\s+", line)[0]  # 栖云茶舍 · 杭州龙井村: the rest is where or what
    facts = tuple(_BULLET.sub("", kept_line) for kept_line in kept if kept_line != line)
    price = common["price"]
    shown = [line, *facts] + ([f"Price: {price}"] if price and price not in " ".join(facts) else [])
    names: tuple[str, ...]
    tag = re.match(r"【([^】]{2,16})】", title)
    if tag and (re.search(r"[A-Za-z0-9]", tag.group(1)) or len(tag.group(1)) >= 5):  # 【零基础日语 N5】
        name, names, title_kind = tag.group(1), (tag.group(1),), ""
    elif title:
        name, names, title_kind = name_in_title(_TAG.sub(" ", title).strip(), common["language"])
    else:
        name, names, title_kind = "", (), ""
    return Brief(shape="page", name=name, names=names, kind=title_kind or kind, facts=facts,
                 distilled="\n".join(part for part in shown if part), **common)


def _message(lines: list[str], common: dict) -> Brief:
    text = "\n".join(lines)
    pairs = dict((k.lower(), v) for k, v in _pairs(text))
    name = next((pairs[k] for k in ("店名", "品牌", "名字", "名称", "产品", "product", "brand", "name")
                 if k in pairs), "")
    if name and _CJK.search(name):
        name, names, _ = name_in_title(name, common["language"])
        return Brief(shape="message", name=name, names=names, facts=tuple(lines[1:]), **common)
    if not name:
        name = name_in_prose(text, common["language"])
    name = re.sub(r"[（(].*$", "", name).strip()
    facts = tuple(_BULLET.sub("", line) for line in lines[1:])
    return Brief(shape="message", name=name, names=name_forms(name) if name else (), facts=facts, **common)


# --- pieces ------------------------------------------------------------------------------------

def _pairs(text: str) -> list[tuple[str, str]]:
    found = list(_PAIR.finditer(text))
    pairs = []
    for this, following in zip(found, [*found[1:], None]):
        value = text[this.end():following.start() if following else len(text)]
        value = value.strip(" ,，;；|｜\n").split("\n")[0].strip()
        if value:
            pairs.append((this.group(1).strip(), value))
    return pairs


def _mostly_pairs(text: str, pairs: list[tuple[str, str]]) -> bool:
    """An attribute list, not a sentence with a colon in it: most of its text is keys and values,
    and the keys are short labels."""
    keys = [key for key, _ in pairs]
    short = sum(len(k) <= 14 for k in keys)
    return short >= 3 or (short >= 2 and len(text) < 40 * len(pairs) + 40)


def _split_head(text: str) -> tuple[str, str, str]:
    match = re.search(r"(?<=\S)\s*[:：]\s*|\s+[—–]\s+|\s+-\s+", text)
    if not match:
        return text, "", ""
    head = text[:match.start()].strip()
    if (re.search(r"[A-Za-z]$", head) and re.match(r"[A-Za-z]", text[match.end():])
            and text[match.start():match.end()] == ":"):
        return text, "", ""  # "N:Philanthropy is…": a colon inside a name
    return head, match.group(0), text[match.end():]


def _sentence_like(head: str) -> bool:
    return bool(re.search(r"\b(?:is|are|we|our|was|has|have)\b|[。！？!?]", head, re.IGNORECASE))


def _list_items(text: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in re.split(r"[,，;；、]|\s+and\s+", text) if item.strip())


def _sentences(text: str) -> tuple[str, ...]:
    return tuple(s.strip() for s in re.split(r"(?<=[.!?。！？])\s*", text) if s.strip())


def _is_fact(line: str) -> bool:
    return bool(re.search(r"\d", line)) or len(line.split()) > 6


def _is_page(lines: list[str]) -> bool:
    furniture = sum(bool(_FURNITURE.search(line) or _BREADCRUMB.search(line) or _menu_line(line))
                    for line in lines)
    return len(lines) >= 4 and furniture >= 2


_NAVIGATION = {"home", "shop", "sale", "about", "contact", "blog", "cart", "basket", "bag", "login", "log", "sign",
               "deals", "support", "help", "account", "brands", "gifts", "new", "pricing", "customers", "services",
               "work", "tours", "destinations", "trips", "browse", "teams", "menu", "search", "stores", "offers",
               "products", "solutions", "company", "careers", "in", "my", "us", "our", "features"}


def _menu_line(line: str) -> bool:
    cells = [cell for cell in re.split(r"\s{2,}|\s*[|｜]\s*|\t", line) if cell.strip()]
    if len(cells) >= 3 and all(len(cell.split()) <= 2 and not re.search(r"\d(?![^(]*\))", cell) for cell in cells):
        return True
    words = line.split()
    navigation = sum(word.lower().strip("()") in _NAVIGATION for word in words)
    return (len(words) >= 4 and navigation >= 2 and not re.search(r"\d", line)
            and all(word[:1].isupper() or word in "&|" for word in words))


def _price_line(line: str) -> bool:
    stripped = PRICE.sub("", line)
    return bool(PRICE.search(line)) and len(re.sub(r"[\W_]|price|was|now|售价|价格|券后价?", "", stripped,
                                                     flags=re.IGNORECASE)) <= 4


def _price(text: str) -> str:
    for line in text.split("\n"):
        for key, value in _pairs(line):
            if key.lower() in _PRICE_KEYS and (found := PRICE.search(value)):
                return found.group(0).strip()
    found = PRICE.search(text)
    return found.group(0).strip() if found else ""
