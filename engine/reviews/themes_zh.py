"""Chinese aspect phrases: jieba segments the text and tags parts of speech; nouns (and verbal
nouns such as 服务, 包装) are the aspects people write about (电池, 屏幕, 物流, 客服态度).

jieba loads its dictionary (~1.5 s) on first use, so a bot that never sees Chinese never pays for it.
"""

from __future__ import annotations

import logging
import re
import threading

logger = logging.getLogger(__name__)

#: part-of-speech tags kept: nouns, other proper nouns, verbal nouns, noun-like morphemes
NOUN_TAGS = ("n", "nz", "vn", "ng", "nr", "ns", "nt")
#: nouns that are about the purchase or the writer, not an aspect of what was bought
GENERIC = set("""
东西 产品 商品 宝贝 物品 东东 问题 感觉 时候 时间 地方 方面 东西 事情 情况 朋友 大家 自己 别人 家人 孩子
老公 老婆 女儿 儿子 妈妈 爸爸 同事 评价 好评 差评 中评 评论 体验 总体 整体 总之 以后 之前 之后 下次 次数
一次 这次 上次 价位 人家 啥 样子 什么 心情 本人 个人 店家 卖家 商家 店铺 小店 掌柜 亲们 买家 好处 优点
缺点 不足 地步 部分 方式 办法 原因 结果 希望 理由 程度 作用 效果好 一点 一下 有点 感谢 谢谢 失望 喜欢
""".split())
_CJK = re.compile(r"[\u3400-\u9fff]")
_SENTENCE = re.compile(r"[^。！？!?；;\n]+[。！？!?；;]*")
MAX_QUOTE = 80  # characters: Chinese says in 80 what English says in 160
_lock = threading.Lock()
_tokenizer = None


def _posseg():
    global _tokenizer
    with _lock:
        if _tokenizer is None:
            import jieba
            import jieba.posseg

            jieba.setLogLevel(logging.WARNING)  # jieba prints its dictionary loading at INFO
            _tokenizer = jieba.posseg.POSTokenizer(jieba.Tokenizer())
        return _tokenizer


def is_chinese(text: str, share: float = 0.3) -> bool:
    """Whether Chinese characters make up at least ``share`` of the letters of ``text``."""
    letters = [c for c in text if c.isalpha()]
    return bool(letters) and sum(bool(_CJK.match(c)) for c in letters) >= share * len(letters)


def chinese_phrases(text: str) -> set[str]:
    """Aspect phrases of a Chinese clause: nouns of two or more characters, and two adjacent nouns
    joined (客服态度, 屏幕亮度) when they stand together."""
    found: set[str] = set()
    previous = None
    for pair in _posseg().cut(text):
        word, flag = pair.word, pair.flag
        is_noun = flag in NOUN_TAGS and len(word) >= 2 and bool(_CJK.match(word)) and word not in GENERIC
        if is_noun:
            found.add(word)
            if previous:
                found.add(previous + word)
        previous = word if is_noun else None
    return found


def chinese_quote(text: str, phrase: str) -> str:
    """The sentence of ``text`` that mentions ``phrase`` (else the first), verbatim, at most MAX_QUOTE chars."""
    sentence = next((m.group(0) for m in _SENTENCE.finditer(text) if phrase in m.group(0)), text).strip()
    if len(sentence) <= MAX_QUOTE:
        return sentence
    at = max(0, sentence.find(phrase) - 20)
    piece = sentence[at : at + MAX_QUOTE]
    return ("…" if at else "") + piece + ("…" if at + MAX_QUOTE < len(sentence) else "")
