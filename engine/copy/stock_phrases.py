"""Stock phrases and openers a good editor strikes ("perfect for any occasion", "Hey there!",
"任何场合", "快来试试吧"), read from ``prompts/stock_phrases.toml``: among variants that pass the
brief checks, the ranking shows those that lean on fewer of them first."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

FILE = "stock_phrases.toml"
_CJK = re.compile(r"[\u3400-\u9fff]")


@dataclass(frozen=True)
class StockPhrases:
    phrases: tuple[str, ...] = ()
    openers: tuple[str, ...] = ()

    @classmethod
    def load(cls, prompts_dir: Path) -> StockPhrases:
        """Both languages' lists together (copy in one language rarely holds the other's); none
        when the prompts folder has no such file (a marketer's own folder from before)."""
        path = prompts_dir / FILE
        if not path.is_file():
            return cls()
        with path.open("rb") as file:
            data = tomllib.load(file)
        phrases = [phrase for part in data.values() for phrase in part.get("phrases", ())]
        openers = [opener for part in data.values() for opener in part.get("openers", ())]
        return cls(tuple(dict.fromkeys(p.lower() for p in phrases)), tuple(dict.fromkeys(o.lower() for o in openers)))

    def used(self, text: str) -> list[str]:
        """The stock phrases ``text`` uses, openers first."""
        lowered = " ".join(text.lower().split())
        found = [opener for opener in self.openers if lowered.startswith(opener)]
        for phrase in self.phrases:
            if _CJK.search(phrase):
                hit = phrase in lowered
            else:
                hit = re.search(rf"(?<![\w-]){re.escape(phrase)}(?![\w-])", lowered) is not None
            if hit and not any(phrase in longer for longer in found):
                found.append(phrase)
        return found
