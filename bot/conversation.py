"""What people write to copybot outside slash commands, parsed once for every platform.

A mention or a DM that starts a request takes the /copy grammar, and a few options may be written
naturally where there is no doubt: ``3 instagram captions for our cold brew, playful`` is n: 3,
channel: instagram, tone: playful, product "our cold brew". A reply in a copybot thread is a turn:

    #2 shorter · make them more formal · translate #1 to Chinese · more like #3 · for linkedin ·
    again · 短一点 · 翻译成中文 · tone: witty (the /copy options work too)

Parsing is pure: text in, a ``CopyCommand`` or a ``Refinement`` out, or ``UserError`` with one
sentence saying what is wrong and what is allowed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from bot.commands import COPY_OPTIONS, CopyCommand, parse_copy, split_options
from engine import Refinement, TurnKind, UserError

TURN_OPTIONS = ("tone", "channel", "length", "language")
# "the product is called Nordlys", "it's called Drift", "call it Drift", "产品名是云朵枕", "名字叫小方盒".
_NAME_CORRECTION = re.compile(
    r"^(?:(?:no,?\s*)?(?:the\s+)?(?:product|brand|name|it)(?:'s|\s+is)?\s+(?:called|named)|call\s+it|"
    r"the\s+name\s+is|name:)\s*(?P<name>.+)$|"
    r"^(?:不对，?)?(?:产品名称?|品牌名?|名字|名称)(?:是|叫|为|：|:)\s*(?P<zh>.+)$",
    re.IGNORECASE)
TURN_HINT = ("Tell me what to change, e.g. #2 shorter, make them more formal, translate #1 to "
             "Chinese, more like #3, for linkedin, or again.")
REQUEST_HINT = ("Tell me what to write about, e.g. 3 instagram captions for our cold brew, playful "
                "(or the /copy options: tone:, channel:, n: …).")
MAX_VARIANTS = 10

_TARGET = re.compile(r"#\s?(\d{1,18})\b")
_AGAIN = re.compile(r"^(again|more|another|another one|one more|more options|new ones|try again|"
                    r"再来|再写|再来一个|再来一批|换一批|重新写)[\s.!！。]*$", re.I)
_LIKE = re.compile(r"\b(more|another|one|something|others?|write (?:one )?more)\s+(?:one\s+)?like\b|"
                   r"\bsimilar to\b|\blike this\b|像|类似", re.I)
_SHORTER = re.compile(r"\b(shorter|shorten|more concise|tighter|trim it)\b|短一点|短一些|更短|精简|简短", re.I)
_LONGER = re.compile(r"\b(longer|expand it|lengthen)\b|长一点|长一些|更长", re.I)
_TO_CHINESE = re.compile(r"\b(?:in|into|to)\s+(?:simplified\s+)?(?:chinese|mandarin)\b|"
                         r"\bchinese version\b|翻译成中文|改成中文|用中文|中文版|中文", re.I)
_TO_ENGLISH = re.compile(r"\b(?:in|into|to)\s+english\b|\benglish version\b|翻译成英文|英文版|英文|英语", re.I)
# Words that carry no change of their own once the recognised parts are gone.
_FILLER = re.compile(r"\b(please|pls|can you|could you|make|rewrite|redo|translate|write|them|it|"
                     r"these|those|this|one|all|of|a bit|a little|bit|little|version|versions|"
                     r"variant|variants|and|too|also|just|the|now)\b|请|把|帮我|一下|它们?|这个|翻译",
                     re.I)
_REQUEST = re.compile(
    r"^(?:(?:please\s+)?(?:write|give|make|draft|create)\s+(?:me\s+|us\s+)?)?(?:(\d{1,3})\s+)?"
    r"(?:(?P<channel>CHANNELS)\s+)?(?:new\s+)?(?:captions?|posts?|ads?|variants?|versions?|options?|"
    r"headlines?|taglines?|slogans?|lines?|copy|copies|emails?|texts?|tweets?|subject lines?|ideas?)"
    r"\s+(?:for|about|on)\s+(?P<product>.+)$", re.I | re.S)
_LEADING_COUNT = re.compile(r"^(\d{1,3})\s+\D")
# "… for our earbuds, from our reviews": the request's last words ask for `from: reviews`.
_FROM_REVIEWS = re.compile(r"[,;，]?\s*(?:\b(?:from|based on|using)\s+(?:our\s+|the\s+|my\s+)?(?:customer\s+)?"
                           r"reviews|根据(?:顾客|用户)?(?:评价|评论))[\s.!。]*$", re.I)


def _alternatives(names: Sequence[str]) -> str:
    return "|".join(re.escape(name) for name in sorted(names, key=len, reverse=True)) or "(?!)"


def parse_request(text: str, presets: Mapping[str, Sequence[str]]) -> CopyCommand:
    """A mention or DM asking for copy -> the /copy it means. Options written as ``name: value``
    win; a count, a channel preset and a trailing tone preset are read from plain words."""
    free, options = split_options(text.strip(), COPY_OPTIONS)
    free = free.strip()
    if not free and not options:
        raise UserError(REQUEST_HINT)
    pattern = re.compile(_REQUEST.pattern.replace("CHANNELS", _alternatives(presets["channel"])),
                         re.I | re.S)
    natural: dict[str, str] = {}
    match = pattern.match(free)
    if match:
        if match.group(1):
            natural["n"] = match.group(1)
        if match.group("channel"):
            natural["channel"] = match.group("channel").lower()
        free = match.group("product").strip()
    elif (count := _LEADING_COUNT.match(free)) and int(count.group(1)) > MAX_VARIANTS:
        natural["n"] = count.group(1)
    tone_at_end = re.compile(rf"[,;，]\s*({_alternatives(presets['tone'])})[\s.!。]*$", re.I)
    for _ in range(2):  # either order: "…, playful, from reviews" or "… from reviews, playful"
        if "from" not in natural and (source := _FROM_REVIEWS.search(free)):
            natural["from"], free = "reviews", free[: source.start()].strip()
        if "tone" not in natural and (tone := tone_at_end.search(free)):
            natural["tone"], free = tone.group(1).lower(), free[: tone.start()].strip()
    if "n" in natural and int(natural["n"]) > MAX_VARIANTS and "n" not in options:
        raise UserError(f"I write 1 to {MAX_VARIANTS} variants at a time; how many would you like "
                        "(e.g. 3 instagram captions for …)?")
    if not free:
        raise UserError(REQUEST_HINT)
    merged = {**natural, **options}
    args = " ".join([f'"{free}"' if '"' not in free else free]
                    + [f"{name}: {value}" for name, value in merged.items()])
    return parse_copy(args)


def _channel(lowered: str, channels: Sequence[str]) -> tuple[str | None, str]:
    found = re.search(rf"\b(?:for|as|into|to)\s+(?:an?\s+)?({_alternatives(channels)})\b", lowered)
    if found is None:
        return None, lowered
    return found.group(1), lowered[: found.start()] + " " + lowered[found.end():]


def parse_turn(text: str, presets: Mapping[str, Sequence[str]],
               targets: tuple[int, ...] = ()) -> Refinement:
    """A reply in a copybot thread -> the turn it asks for. ``targets``: variants the platform
    already named (a button on a variant, a reply to one); ``#N`` in the text adds to them."""
    instruction = " ".join(text.split())
    if not instruction:
        raise UserError(TURN_HINT)
    corrected = _NAME_CORRECTION.match(instruction)
    if corrected:  # the brief was misread: the same variants again, under the right name
        name = (corrected.group("name") or corrected.group("zh")).strip(" \"'“”「」『』.。!！")
        if not name:
            raise UserError("Say what the product is called, e.g. the product is called Nordlys.")
        return Refinement(instruction, TurnKind.REWRITE, targets, name=name[:60])
    free, options = split_options(instruction, TURN_OPTIONS)
    named = tuple(int(n) for n in _TARGET.findall(free))
    targets = tuple(dict.fromkeys(targets + named))
    rest = _TARGET.sub(" ", free).strip()
    if _AGAIN.match(rest) and not targets:
        return Refinement(instruction, TurnKind.AGAIN, **_option_fields(options))
    kind = TurnKind.REWRITE
    lowered = rest.lower()
    if _LIKE.search(lowered):
        kind = TurnKind.LIKE
        lowered = _LIKE.sub(" ", lowered)
    length_change = 0
    if _SHORTER.search(lowered):
        length_change, lowered = -1, _SHORTER.sub(" ", lowered)
    elif _LONGER.search(lowered):
        length_change, lowered = 1, _LONGER.sub(" ", lowered)
    language = None
    if _TO_CHINESE.search(lowered):
        language, lowered = "zh", _TO_CHINESE.sub(" ", lowered)
    elif _TO_ENGLISH.search(lowered):
        language, lowered = "en", _TO_ENGLISH.sub(" ", lowered)
    channel, lowered = _channel(lowered, presets["channel"])
    fields = {"language": language, "ad_channel": channel} | _option_fields(options)
    change = " ".join(_FILLER.sub(" ", lowered).split()).strip(" ,.;:!?，。")
    if kind is TurnKind.LIKE:
        if not targets:
            raise UserError("Say which variant to write more like, e.g. more like #3.")
        return Refinement(instruction, kind, targets, change="", **fields)
    if not (change or length_change or any(fields.values())):
        raise UserError(TURN_HINT)
    # The words as typed, for the prompt: "more formal", not the lower-cased remains.
    shown_change = _as_typed(rest, change) if change else ""
    return Refinement(instruction, kind, targets, change=shown_change, length_change=length_change,
                      **fields)


def _as_typed(original: str, lowered_change: str) -> str:
    at = original.lower().find(lowered_change)
    return original[at: at + len(lowered_change)] if at >= 0 else lowered_change


def _option_fields(options: Mapping[str, str]) -> dict[str, str | None]:
    fields: dict[str, str | None] = {}
    if "tone" in options:
        fields["tone"] = options["tone"]
    if "channel" in options:
        fields["ad_channel"] = options["channel"]
    if "language" in options:
        fields["language"] = options["language"]
    if "length" in options:
        raise UserError("A reply changes the length with shorter or longer; for an exact length "
                        "start a new request with length:.")
    return fields
