"""How Slack text shows an emoji; comparing emoji is shared (bot/rendering/emoji_names.py)."""

from __future__ import annotations


def shown(name: str) -> str:
    """``:name:`` renders as the picture in Slack text; unicode stays as it is."""
    return f":{name}:" if name.isascii() else name
