"""The command grammar, parsed once for every platform.

    /copy <product description> [tone: …] [audience: …] [channel: …] [length: …] [language: en|zh] [n: 3]
          [name: …]
          [from: reviews]
    /approve <id>   /reject <id>   /withdraw <id>      (the console's stand-in for reactions)
    /refine <id> <what to change>   /refine again      (the console's stand-in for thread replies)
    /reviews [column: …] <pasted reviews, one per line>
    /settings   /settings <name>: <value>   /settings reset <name>
    /report [last]   /models [list | use <version> | rollback]   /finetune [now | status]
    /help

Options are ``name: value`` pairs after the free text; a value runs to the next option. Text in
double quotes is never read as an option, so a description may contain colons when quoted.
Parsing is pure: text in, a command dataclass out, or ``UserError`` with one clear sentence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from engine import CopyRequest, UserError, Verdict

COPY_OPTIONS = ("tone", "audience", "channel", "length", "language", "n", "from", "name")
# What `from:` accepts: the workspace's latest review summary is the one source there is.
REVIEW_SOURCES = frozenset({"reviews", "review", "our reviews", "the reviews", "customer reviews",
                            "评论", "评价", "用户评价"})
MAX_COMMAND_CHARS = 20_000  # /copy descriptions are far shorter; /reviews may paste many lines

_OPTION = re.compile(r"(?:(?<=\s)|^)([A-Za-z][A-Za-z_]*):(?!//)")
_QUOTES = {'"': '"', "“": "”"}


@dataclass(frozen=True)
class CopyCommand:
    request: CopyRequest


@dataclass(frozen=True)
class FeedbackCommand:
    variant_id: int
    verdict: Verdict | None  # None: withdraw the user's feedback on the variant


@dataclass(frozen=True)
class RefineCommand:
    """A turn of the conversation, as typed; ``bot.conversation.parse_turn`` reads it (it needs
    the engine's presets to know a channel from a word)."""

    text: str


@dataclass(frozen=True)
class ReviewsCommand:
    text: str
    column: str | None = None
    # An uploaded/attached file; the adapter fills these in (``dataclasses.replace``) after parsing.
    data: bytes | None = None
    filename: str | None = None


@dataclass(frozen=True)
class SettingsCommand:
    name: str | None = None  # None: show all settings
    value: str | None = None  # None with a name: reset it to the default


@dataclass(frozen=True)
class ReportCommand:
    last_week: bool = False


@dataclass(frozen=True)
class ModelsCommand:
    action: str = "list"  # list | use | rollback
    version: str | None = None


@dataclass(frozen=True)
class FinetuneCommand:
    action: str = "status"  # now | status


@dataclass(frozen=True)
class HelpCommand:
    """The one help text; anything after /help is ignored."""


Command = (CopyCommand | FeedbackCommand | RefineCommand | ReviewsCommand | SettingsCommand | ReportCommand
           | ModelsCommand | FinetuneCommand | HelpCommand)


def _decode(text: str | bytes) -> str:
    if isinstance(text, bytes):
        try:
            return text.decode("utf-8")
        except UnicodeDecodeError:
            raise UserError("That message is not valid UTF-8 text; send plain text.") from None
    return text


def _mask_quoted(text: str) -> str:
    """``text`` with quoted parts blanked out (same length), so option markers inside are ignored."""
    masked, closing = [], None
    for char in text:
        if closing is None and char in _QUOTES:
            closing = _QUOTES[char]
            masked.append(char)
        elif closing is not None:
            masked.append(char if char == closing else " ")
            if char == closing:
                closing = None
        else:
            masked.append(char)
    return "".join(masked)


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] in _QUOTES and value[-1] == _QUOTES[value[0]]:
        return value[1:-1].strip()
    return value


def _is_brief(span: str, keys: int) -> bool:
    """Unknown ``key:`` words before the first option belong to the description when it reads as a
    brief: several of them, or a list after one (commas, lines). A lone "colour: green" is more
    likely a mistyped option, and is refused with the list of options."""
    return keys >= 2 or bool(re.search(r"[,，;；\n]", span))


def split_options(text: str, allowed: tuple[str, ...]) -> tuple[str, dict[str, str]]:
    """``"bamboo brush tone: fun n: 2"`` -> ``("bamboo brush", {"tone": "fun", "n": "2"})``."""
    markers = list(_OPTION.finditer(_mask_quoted(text)))
    first_known = next((i for i, m in enumerate(markers) if m.group(1).lower() in allowed), len(markers))
    if first_known and _is_brief(text[markers[0].start(): markers[first_known].start()
                                      if first_known < len(markers) else len(text)], first_known):
        # "Kestrel headlamp: 450 lumens, 62 g" and "Type: jacket, Material: denim" are a brief's own
        # colons, not options: the description runs up to the first real option.
        markers = markers[first_known:]
    free = _unquote(text[: markers[0].start()] if markers else text)
    options: dict[str, str] = {}
    for i, marker in enumerate(markers):
        name = marker.group(1).lower()
        if name not in allowed:
            names = ", ".join(f"{a}:" for a in allowed)
            raise UserError(
                f"Unknown option {marker.group(1)}:; the options are {names} "
                f"(put text that contains a colon in double quotes)."
            )
        if name in options:
            raise UserError(f"The option {name}: is given twice; give it once.")
        end = markers[i + 1].start() if i + 1 < len(markers) else len(text)
        options[name] = _unquote(text[marker.end():end])
    return free, options


def _variant_id(args: str, command: str) -> int:
    value = args.strip().lstrip("#")
    if not value.isascii() or not value.isdigit() or len(value) > 18:
        raise UserError(f"Give the variant number shown next to it, e.g. /{command} 12.")
    return int(value)


def from_reviews_option(value: str | None) -> bool:
    """``from: reviews`` -> True; no ``from:`` -> False; anything else is refused."""
    if value is None:
        return False
    if " ".join(value.split()).lower() in REVIEW_SOURCES:
        return True
    raise UserError(f"from: takes reviews (copy from this workspace's latest /reviews summary); "
                    f"got {value[:30]!r}.")


def parse_copy(args: str) -> CopyCommand:
    product, options = split_options(args, COPY_OPTIONS)
    n = 3
    if "n" in options:
        raw = options["n"]
        if not (raw.isascii() and raw.isdigit()) or len(raw) > 6:
            raise UserError(f"n: must be a whole number from 1 to 10; got {raw!r}.")
        n = int(raw)
    return CopyCommand(CopyRequest(
        product=product,
        tone=options.get("tone"),
        audience=options.get("audience"),
        ad_channel=options.get("channel"),
        length=options.get("length"),
        language=options.get("language"),
        n=n,
        from_reviews=from_reviews_option(options.get("from")),
        name=options.get("name"),
    ))


def parse_settings(args: str) -> SettingsCommand:
    args = args.strip()
    if not args:
        return SettingsCommand()
    words = args.split(maxsplit=1)
    if words[0].lower() == "reset":
        if len(words) != 2:
            raise UserError("Say which setting to reset, e.g. /settings reset brand_voice.")
        return SettingsCommand(name=words[1].strip().rstrip(":").lower(), value=None)
    name, colon, value = args.partition(":")
    if not colon or not name.strip() or " " in name.strip():
        raise UserError("Write settings as /settings <name>: <value>, e.g. /settings timezone: Europe/Berlin.")
    if not value.strip():
        raise UserError(f"Give {name.strip()}: a value, or use /settings reset {name.strip()}.")
    return SettingsCommand(name=name.strip().lower(), value=_unquote(value))


def parse_command(name: str, args: str | bytes = "") -> Command:
    """Parse one command: ``name`` without the slash, ``args`` the text after it."""
    name = _decode(name).strip().lstrip("/").lower()
    args = _decode(args)
    if len(args) > MAX_COMMAND_CHARS:
        raise UserError(
            f"That message is {len(args):,} characters; commands take at most {MAX_COMMAND_CHARS:,} "
            f"(upload a file for long review lists)."
        )
    if name == "copy":
        return parse_copy(args)
    if name in ("approve", "reject", "withdraw"):
        verdict = {"approve": Verdict.APPROVE, "reject": Verdict.REJECT, "withdraw": None}[name]
        return FeedbackCommand(_variant_id(args, name), verdict)
    if name == "refine":
        words = args.split(maxsplit=1)
        if not words:
            raise UserError("Say what to change, e.g. /refine 2 shorter, /refine 2 in Chinese, "
                            "/refine more like 3 or /refine again.")
        # A bare number names the variant: "/refine 2 shorter" is "#2 shorter", "/refine more
        # like 3" is "more like #3".
        if words[0].isascii() and words[0].isdigit():
            args = f"#{words[0]} " + (words[1] if len(words) > 1 else "")
        return RefineCommand(re.sub(r"\blike\s+(\d{1,18})\b", r"like #\1", args))
    if name == "reviews":
        # Options go on the first line; every line after it is a review.
        first, _, rest = args.lstrip().partition("\n")
        if _OPTION.match(first.strip()):
            _, options = split_options(first, ("column",))
            return ReviewsCommand(text=rest, column=options.get("column"))
        return ReviewsCommand(text=args)
    if name == "settings":
        return parse_settings(args)
    if name == "report":
        period = args.strip().lower()
        if period not in ("", "last", "this"):
            raise UserError("Use /report for this week so far, or /report last for last week.")
        return ReportCommand(last_week=period == "last")
    if name == "models":
        words = args.split()
        if not words or words == ["list"]:
            return ModelsCommand("list")
        if words[0] == "use" and len(words) == 2:
            return ModelsCommand("use", words[1])
        if words == ["rollback"]:
            return ModelsCommand("rollback")
        raise UserError("Use /models, /models use <version> or /models rollback.")
    if name == "finetune":
        action = args.strip().lower() or "status"
        if action not in ("now", "status"):
            raise UserError("Use /finetune now to start a fine-tune, or /finetune status.")
        return FinetuneCommand(action)
    if name == "help":
        return HelpCommand()
    raise UserError(f"There is no /{name[:30]} command; try /help.")


def parse_line(line: str | bytes) -> Command:
    """Parse a whole typed line such as ``/copy bamboo brush n: 2`` (the console's input)."""
    line = _decode(line).strip()
    if not line.startswith("/"):
        raise UserError("Commands start with a slash, e.g. /copy bamboo toothbrush; try /help.")
    # The command name ends at the first space or line break (a paste may start on the next line).
    name, *rest = re.split(r"[ \n]", line[1:], maxsplit=1)
    return parse_command(name, rest[0] if rest else "")
