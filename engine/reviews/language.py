"""A small, deterministic language guess: enough to tell English from the languages the bundled model
cannot read, so such reviews are skipped and reported instead of being guessed at silently.

Non-Latin scripts are recognised by their Unicode block; Latin-script languages by their common
function words. Text too short to tell counts as English (``None`` is returned).
"""

from __future__ import annotations

import logging
import re
import unicodedata

logger = logging.getLogger(__name__)

LANGUAGE_NAMES = {
    "en": "English", "es": "Spanish", "fr": "French", "de": "German", "it": "Italian",
    "pt": "Portuguese", "nl": "Dutch", "sv": "Swedish", "da": "Danish/Norwegian", "pl": "Polish",
    "tr": "Turkish", "id": "Indonesian", "ru": "Russian or another Cyrillic-script language",
    "zh": "Chinese", "ja": "Japanese", "ko": "Korean", "ar": "Arabic", "he": "Hebrew", "el": "Greek",
    "th": "Thai", "hi": "Hindi or another Devanagari-script language", "und": "an unrecognised language",
}

_FUNCTION_WORDS = {
    "en": "the and is it this that was for with not but very i my you they have are of to in on at be so "
          "too all just would will can had were its it's i'm don't didn't doesn't what when which there "
          "their than them these those been really after only also because could should we our your he she "
          "great good bad love works product",
    "es": "el la los las que y es muy pero para con por una lo se del al está esta este fue más todo "
          "como cuando también porque sin ya hay mi su nos le les producto bien ni estoy tiene "
          "pedido llegó calidad bueno buena excelente malo mala perfecto recomiendo gracias",
    "fr": "le la les des est et une du pas très pour avec mais que qui je il elle nous vous ce cette sur "
          "dans au aux été c'est j'ai n'est tout bien mon ma mes produit ne sont avait était rien "
          "bon bonne mauvais nul génial parfait merci",
    "de": "der das und ist nicht sehr ein eine mit für auf ich zu dem aber auch wie noch nur "
          "gut sich sind wir ihr nach bei habe kein keine wurde leider schnell produkt schlecht toll "
          "danke empfehlen",
    "it": "il lo la che è e molto non per con una del della sono ma anche questo questa mi ho tutto "
          "bene gli nel alla prodotto ottimo perché più buono pessimo grazie consiglio",
    "pt": "o os as que e é muito não para com um uma do da em mas por foi eu produto ótimo bom você "
          "está são mais isso meu minha já chegou péssimo obrigado recomendo",
    "nl": "het een en niet zeer heel met voor dat maar ook ik op te zijn goed erg wel "
          "geen nog wij mijn slecht aanrader",
    "sv": "och är inte mycket det att för med som jag på av har till bra",
    "da": "og er ikke meget veldig det at for med som jeg på av har til godt",
    "pl": "nie jest bardzo się na to że i w z do ale jak tak już produkt dobry",
    "tr": "çok bir ve bu için ama değil ürün ile da gibi daha güzel",
    "id": "sangat dan yang tidak ini untuk dengan saya bagus tapi sudah barang",
}
_WORDS = {lang: set(words.split()) for lang, words in _FUNCTION_WORDS.items()}
_TOKEN = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
_SCRIPTS = (
    ("HIRAGANA", "ja"), ("KATAKANA", "ja"), ("CJK", "zh"), ("HANGUL", "ko"), ("CYRILLIC", "ru"),
    ("ARABIC", "ar"), ("HEBREW", "he"), ("GREEK", "el"), ("THAI", "th"), ("DEVANAGARI", "hi"),
)


def _script(ch: str) -> str | None:
    name = unicodedata.name(ch, "")
    for prefix, lang in _SCRIPTS:
        if name.startswith(prefix):
            return lang
    return None


def detect_language(text: str) -> str | None:
    """Best guess of ``text``'s language as a code from ``LANGUAGE_NAMES``; None when too short to tell."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return None
    scripts: dict[str, int] = {}
    for c in letters:
        if ord(c) > 0x24F:
            lang = _script(c)
            if lang:
                scripts[lang] = scripts.get(lang, 0) + 1
    if scripts:
        lang, count = max(scripts.items(), key=lambda kv: kv[1])
        if count > len(letters) / 2:
            if lang == "zh" and ("ja" in scripts):
                return "ja"
            return lang
    tokens = [t.lower() for t in _TOKEN.findall(text)]
    if not tokens:
        return None
    scores = {lang: sum(t in words for t in tokens) for lang, words in _WORDS.items()}
    english = scores.pop("en")
    other, best = max(scores.items(), key=lambda kv: kv[1])
    if best >= 2 and best > 1.5 * english and best >= 0.15 * len(tokens):
        return other
    non_ascii = sum(1 for c in letters if ord(c) > 127)
    if english == 0 and len(tokens) >= 3 and non_ascii > 0.2 * len(letters):
        return "und"  # accented gibberish: a wrongly decoded file or an unlisted language
    if english == 0 and best >= 2:
        return other  # short: "Muy bueno", "Sehr gut"
    return "en" if english else None


def language_name(code: str) -> str:
    return LANGUAGE_NAMES.get(code, code)
