"""Long text as chat messages under a platform's size limit (Slack ~4,000, Discord 2,000).

One splitter for every adapter; each passes its own limit. Text is cut at line ends first, then at
spaces, and only a word longer than the limit is cut inside; lines are packed into as few messages
as fit. Only whitespace at a cut is lost, and no message is empty or only whitespace.
"""

from __future__ import annotations


def split_text(text: str, limit: int) -> list[str]:
    """``text`` as messages of at most ``limit`` characters, broken at lines, then spaces."""
    if limit < 1:
        raise ValueError("limit must be positive")
    pieces: list[str] = []
    for line in text.split("\n"):
        while len(line) > limit:
            cut = line.rfind(" ", 0, limit + 1)
            cut = cut if cut > 0 else limit
            pieces.append(line[:cut])
            line = line[cut:].lstrip(" ")
        pieces.append(line)
    messages: list[str] = []
    current: str | None = None
    for piece in pieces:
        if current is None:
            current = piece
        elif len(current) + 1 + len(piece) <= limit:
            current += "\n" + piece
        else:
            messages.append(current)
            current = piece
    if current is not None:
        messages.append(current)
    # Blank lines where a message was cut off would only show as a gap at its top or bottom.
    return [message.strip("\n") for message in messages if message.strip()]
