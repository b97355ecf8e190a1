"""How a platform writes what the layouts need: bold, escaped user text, mentions, code blocks."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

_BROADCAST = re.compile(r"@(everyone|here|channel)", re.I)


def defuse_broadcasts(text: str) -> str:
    """``@everyone`` and friends with a zero-width space, so no platform reads them as a ping."""
    return _BROADCAST.sub("@\u200b\\1", text)


@dataclass(frozen=True)
class Markup:
    bold: Callable[[str], str]
    user_text: Callable[[str], str]  # reviews, model output, theme labels: escaped once, here
    own_text: Callable[[str], str]  # copybot's own sentences (they may quote a `column`)
    mention: Callable[[str], str]  # a platform user id -> how a message names that person
    code_blocks: bool  # fence aligned rows (trend tables) in ``` blocks


PLAIN = Markup(bold=lambda text: text, user_text=defuse_broadcasts, own_text=defuse_broadcasts,
               mention=lambda user: user, code_blocks=False)
