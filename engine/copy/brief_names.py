"""Finding what a brief calls its product: in a title ("Kestrel trail headlamp", "青岚保温杯",
"【橙意】赣南脐橙"), or in prose ("Kindred is a builder…", "At Penny & Post we…", "it's called
Drift", "叫「小方盒」"), by the strongest sign first. ``engine.copy.brief`` uses it for every shape."""

from __future__ import annotations

import re

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
# An English name as written: capitalised words, "&", digits inside ("Lantern Trust 5k"),
# a colon inside a word ("Q:Thread").
_CAPS = r"[A-Z][\w'’]*(?::[A-Z]\w*)?(?:[ \t]+(?:&[ \t]+|of[ \t]+|de[ \t]+)?(?:[A-Z][\w'’]*|\d\w*))*"
_EN_MARKED = re.compile(
    r"(?i:\bit(?:'s| is)(?: called| the)?|\bcalled|\bnamed|\bproduct is|\bbrand is|\bour (?:app|brand|shop|"
    r"studio|salon|product|company|client|charity)|\bthis is|\bmeet|\bintroducing|\bwelcome to|^at|\bat|"
    r"\bfor(?: the)?|\bwe(?:'re| are))[ \t]+(?:(?i:the)[ \t]+)?(" + _CAPS + ")",
    re.MULTILINE)
_EN_FIRST_SUBJECT = re.compile(r"^(" + _CAPS + r")\s+(?:is|are|makes|helps|gives|runs|builds|offers|lets|"
                               r"turns|brings|has|sells|teaches|fixes|connects|was)\b")
_EN_ANY_CAPS = re.compile(r"(?<=[a-z,;:—–-] )(?:the )?(" + _CAPS + ")")
_EN_SUBJECT = re.compile(r"(?:^|[.!?]\s+|,\s+)(" + _CAPS + r")\s+(?:is|are|makes|helps|gives|runs|builds|"
                         r"offers|lets|turns|brings|has|sells|teaches|fixes|connects|was)\b", re.MULTILINE)
_EN_LINE_START = re.compile(r"^(?:the\s+)?(" + _CAPS + r")(?:\s+[a-z][\w-]*|\s*[,—–(-]|\s*$)", re.MULTILINE)
_EN_PAREN = re.compile(r"\((" + _CAPS + r")\)")
ZH_QUOTED = re.compile(r"[「『“]([^」』”]{2,12})[」』”]")
_ZH_PAREN = re.compile(r"[（(]([\u3400-\u9fffA-Za-z][\u3400-\u9fffA-Za-z0-9+]{1,10})[）)]")
_ZH_CALLED = re.compile(r"(?:叫做?|名叫|名字[:：]?|品牌[:：]|店名[:：]|产品是|开了一?家|开的是)\s*"
                        r"([\u3400-\u9fffA-Za-z0-9+]{2,10}?)(?=[，,。！!：:（(\s]|是|的|$)", re.MULTILINE)
_ZH_MARKED = re.compile(r"(?:我们是|这里是)\s*(?:[\u3400-\u9fff]{2,4}的)?"
                        r"([\u3400-\u9fffA-Za-z0-9+]{2,10}?)(?=[，,。！!：:（(\s]|是|的|$)", re.MULTILINE)
_ZH_SUBJECT = re.compile(r"(?:^|[。！？\n]|，)([\u3400-\u9fffA-Za-z0-9+]{2,8}?)"
                         r"(?:是一[家个款所]|是开在|每[周天]|给|专[注做])", re.MULTILINE)
# Words that start sentences or requests but name nothing; places after "in"/"at" are not names.
_COMMON = {"groups", "students", "customers", "parents", "most", "japanese", "english", "spanish", "french",
           "chinese", "german", "italian", "portuguese", "monday", "tuesday", "wednesday", "thursday", "friday",
           "saturday", "sunday", "january", "february", "march", "april", "may", "june", "july", "august",
           "september", "october", "november", "december", "we", "our", "the", "this", "it", "its", "hey", "hi",
           "hiya", "hello", "yo", "new", "now", "meet",
           "need", "can", "please", "pls", "for", "with", "every", "each", "a", "an", "your", "you", "get",
           "play", "make", "price", "launching", "product", "type", "brand", "looking", "tucked", "founded",
           "quick", "copy", "team", "all", "entry", "open", "available", "pricing", "new feature", "speaker",
           "thurs", "sun", "sat", "mon", "tue", "wed", "fri", "fb", "ig", "sms", "ios", "android", "b2b",
           "saas", "ai", "uk", "us", "eu", "why", "spring", "summer", "autumn", "winter", "i", "q", "faq",
           "i'm", "im", "my", "everything", "free", "dogs", "cats", "business", "accessories", "plans", "tax",
           "home", "shop", "sale", "details", "about", "services", "heavyweight", "employers", "office"}
_ZH_COMMON = {"我们", "一家", "一个", "一款", "这是", "你好", "如果", "很多人", "去年冬天", "老板", "各位", "团队",
              "新品", "公司", "产品", "店里", "周年庆", "求文案", "专注", "在吗"}


def name_in_title(title: str, language: str, split_brand: bool = True) -> tuple[str, tuple[str, ...], str]:
    """A title's name, the forms copy may use, and the kind it names: "Kestrel trail headlamp"
    -> Kestrel (Kestrel trail headlamp, Kestrel) and "trail headlamp"; "青岚保温杯" -> 青岚保温杯
    with its three-character runs (Chinese brand and item run together)."""
    title = re.sub(r"\s+-\s+.*$", "", title).strip()  # "Kessa Flat Burr Grinder - Matte Black"
    if _CJK.search(title) and not re.match(r"[A-Za-z]", title):
        parts = title.split()
        head = parts[0]
        quoted = ZH_QUOTED.search(title)
        if quoted:  # 「知遇」考研英语陪跑营
            return quoted.group(1), (quoted.group(1),), ZH_QUOTED.sub("", title).strip()
        if len(parts) > 1 and len(head) <= 4:  # 素禾 法式碎花茶歇裙: the brand, then the item
            return head, (head, "".join(parts[:2])), parts[1]
        # 青岚保温杯: brand and item run together, and most brands are two to four characters.
        return head, tuple(dict.fromkeys((head, head[:4], head[:3], head[:2]))), ""
    at = re.search(r"\b(?:at|from|by) (" + _CAPS + ")", title)
    if at and not title[:1].isupper():
        return at.group(1), (at.group(1),), ""
    title = re.sub(r"^(?:Why|How|Meet|New|Introducing|The)\s+", "", title).rstrip(":：")
    words = title.split()
    brand: list[str] = []
    for word in words:
        if word[:1].isupper() or word[:1].isdigit() and brand or "&" == word or word.lower() in {"of", "and"} and brand:
            brand.append(word)
        else:
            break
    if not brand:  # "bamboo toothbrush with charcoal bristles": what it is, not what it is called
        return "", (), title
    while brand and brand[-1].lower() in {"of", "and", "&"}:
        brand.pop()
    name = " ".join(brand)
    kind = " ".join(words[len(brand):])
    # "Nordvik Women's Insulated Parka": capitalised product words are the kind, not the brand.
    if split_brand and len(brand) > 1 and not kind and language == "en":
        name, kind = brand[0], " ".join(brand[1:])
    return name, tuple(dict.fromkeys((title, name) if name != title else (name,))), kind


def name_in_prose(text: str, language: str) -> str:
    """The name a paragraph or a message gives, by the strongest sign first: quoted (「班小二」), in
    brackets after what it is ("the salon (Velvet Chair)"), marked ("it's called Drift", "叫「小方盒」",
    "At Penny & Post"), the subject of a sentence ("Kindred is a builder…"), or a line that starts
    with it ("Picklebox crisps — …"). "" when it names nothing ("We are a family-run plumbing firm")."""
    if _CJK.search(text) and language == "zh":
        for pattern in (ZH_QUOTED, _ZH_CALLED, _ZH_MARKED, _ZH_PAREN, _ZH_SUBJECT):
            for found in pattern.finditer(text):
                name = found.group(1).strip()
                if (name not in _ZH_COMMON and not re.fullmatch(r"[\d.]+", name)
                        and not name.startswith(("我们", "你")) and not re.match(r"一[家个款所位种支]", name)
                        and not re.search(r"的|一家|一个|在", name)):
                    return name
    patterns = [_EN_PAREN, _EN_FIRST_SUBJECT, _EN_MARKED, _EN_SUBJECT, _EN_LINE_START]
    if "\n" in text:  # a chatty message, mostly lowercase: a capitalised word in it is a name
        patterns.append(_EN_ANY_CAPS)
    for pattern in patterns:
        for found in pattern.finditer(text):
            name = found.group(1).strip().rstrip(".,:")
            name = re.sub(r"\s+(?:[A-Z]{2,}|\d+\w*)$", "", name) if pattern is _EN_LINE_START else name
            if _usable_name(name, text, found.start(1)):
                return name
    return ""


def _usable_name(name: str, text: str, at: int) -> bool:
    first = name.split()[0].lower() if name.split() else ""
    if not name or first in _COMMON or name.lower() in _COMMON or len(name) < 2:
        return False
    before = text[max(0, at - 4):at].lower()
    return not re.search(r"\b(?:in|near|from|across)\s+$", before)


def name_forms(name: str) -> tuple[str, ...]:
    forms = [name]
    if " " in name and not _CJK.search(name):
        first = name.split()[0]
        if len(first) > 2 and first.lower() not in _COMMON:
            forms.append(first)
    return tuple(forms)
