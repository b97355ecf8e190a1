"""English aspect phrases and quotes (the theme finding itself is ``aspects.py``).

Candidate phrases: 1-3 word runs inside a clause that neither start nor end with a function word,
an opinion word ("great", "terrible") or a generic word ("product", "thing"), so what is left are
aspects: "battery life", "customer service", "delivery". A quote is the sentence of a review that
mentions the phrase, copied verbatim (shortened with "…" when long).
"""

from __future__ import annotations

import logging
import re

logger = logging.getLogger(__name__)

MAX_QUOTE = 160  # characters

STOPWORDS = set("""
a an the and or but nor so yet if then than that this these those there here it its it's itself i me my
mine myself we us our ours you your yours he him his she her hers they them their theirs what which who
whom whose when where why how all any both each few more most other some such no not only own same too
very can will just don't should now is are was were be been being have has had having do does did doing
would could might must shall may to of in on at by for with about against between into through during
before after above below from up down out off over under again further once am as until while because
im i'm ive i've id i'd ill i'll you're you've they're they've we're we've isn't aren't wasn't weren't
hasn't haven't hadn't doesn't didn't won't wouldn't can't cannot couldn't shouldn't it'd that's there's
what's let's also even still ever really quite rather pretty much many lot lots bit little got get gets
getting go goes going went gone make makes made take took one two three first second last next another
every everything something anything nothing thing things way ways time times day days week weeks month
months year years back well way etc though although however since whether either neither like just
""".split())

OPINION = set("""
good great excellent amazing awesome fantastic wonderful brilliant superb perfect perfectly nice lovely
best better love loved loves loving like liked likes enjoy enjoyed happy pleased glad recommend
recommended highly beautiful beautifully gorgeous fine okay ok decent solid impressive impressed
incredible outstanding exceptional fabulous terrific super cool favourite favorite top easy easily
fast quick quickly bad worse worst terrible awful horrible poor poorly hate hated hates disappointed
disappointing disappointment useless waste wasted rubbish garbage junk annoying annoyed angry
frustrating frustrated unhappy sad broken broke cheap cheaply expensive overpriced slow slowly
never always absolutely totally completely extremely super truly simply definitely genuinely honestly
actually literally basically seriously especially particularly certainly overall thanks thank
wow ugh meh stars star five four zero ten sure new old big small whole entire full real right wrong
bit far long short high low hard different same able unable okay alright worth fun funny boring dull
crap dreadful painful pathetic ridiculous stupid regret avoid returned return returning
""".split())

GENERIC = set("""
product products item items thing things stuff purchase purchased buy bought buying order ordered
review reviews use used using user one ones people person guy guys everyone someone anyone nobody
experience overall money lot kind sort part place side end start reason problem problems issue issues
star stars rating company brand seller amazon minute minutes hour hours second seconds work works
worked working job doing done said says say think thought know knew want wanted need needed see saw
look looks looked feel feels felt try tried come comes came give gave put keep kept
""".split())

#: opinion-bearing phrases that are themes in their own right ("easy to use" is a reason people buy)
KEEP_PHRASES = ("easy to use", "easy to set up", "easy to install", "easy to clean", "easy to assemble",
                "easy to read", "value for money", "well made", "well built", "well designed", "good value",
                "great value", "good quality", "poor quality", "bad quality", "hard to use", "too small",
                "too big", "too expensive", "stopped working", "fell apart", "falls apart", "waste of money",
                "waste of time", "not worth")
_KEEP = [(p, re.compile(r"\b" + r"\s+".join(p.split()) + r"\b")) for p in KEEP_PHRASES]

_CLAUSE = re.compile(r"[.!?;:,()\[\]\"“”\n]+|\s[-–—]\s|\s(?:and|but|or|because|although|though|while|so)\s", re.I)
_WORD = re.compile(r"[A-Za-z][A-Za-z'’]*")
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")


def candidate_phrases(text: str) -> set[str]:
    """Lower-cased 1-3 word aspect phrases found in ``text``."""
    found: set[str] = set()
    for clause in _CLAUSE.split(text):
        words = [w.lower().replace("’", "'") for w in _WORD.findall(clause)]
        for n in (1, 2, 3):
            for i in range(len(words) - n + 1):
                gram = words[i : i + n]
                first, last = gram[0], gram[-1]
                if first in STOPWORDS or last in STOPWORDS or first in OPINION or last in OPINION:
                    continue
                if first in GENERIC or last in GENERIC or len(last) < 3 or "'" in last:
                    continue
                if any(w in OPINION for w in gram):
                    continue
                found.add(" ".join(gram))
    lowered = text.lower()
    for phrase, pattern in _KEEP:
        if phrase.split()[0] in lowered and pattern.search(lowered):
            found.add(phrase)
    return found


def english_quote(text: str, phrase: str) -> str:
    """The sentence of ``text`` that mentions ``phrase`` (else the start), verbatim, at most MAX_QUOTE chars."""
    pattern = re.compile(r"\b" + r"\W+".join(map(re.escape, phrase.split())) + r"\b", re.I)
    sentence = text
    for m in _SENTENCE.finditer(text):
        if pattern.search(m.group(0)):
            sentence = m.group(0)
            break
    sentence = sentence.strip()
    if len(sentence) <= MAX_QUOTE:
        return sentence
    hit = pattern.search(sentence)
    start = 0
    if hit and hit.end() > MAX_QUOTE - 20:
        start = sentence.rfind(" ", 0, max(0, hit.start() - 40)) + 1
    piece = sentence[start : start + MAX_QUOTE]
    if start + MAX_QUOTE < len(sentence):
        piece = piece.rsplit(" ", 1)[0]
    return ("…" if start else "") + piece.strip() + ("…" if start + len(piece) < len(sentence) else "")
