"""The console adapter: a terminal chat where the same commands work as in Slack and Discord."""

from __future__ import annotations

import asyncio
import getpass
import logging
import re
import sys
import threading
from typing import BinaryIO, TextIO

from bot.commands import CopyCommand, RefineCommand, parse_line
from bot.conversation import parse_turn
from bot.dispatch import Reply, execute, execute_turn, failure_text
from bot.rendering.from_reviews import from_reviews_line
from bot.rendering.markup import PLAIN
from bot.rendering.report import report_text
from bot.rendering.reviews import summary_text
from bot.rendering.understood import shortfall_line, understood_line
from engine import CopyPreview, Engine, Origin, ReviewSummary, Thread, UserError, WeeklyReport

logger = logging.getLogger(__name__)

PROMPT = "copybot> "
# A bare "/reviews" (or one naming only its column) starts a paste of reviews, one per line.
PASTE_START = re.compile(rb"^/reviews(\s+column:\s*\S.*)?$", re.IGNORECASE)
GREETING = "copybot console. Type /help for commands, /copy <product> to start, Ctrl-D to leave."
SUMMARY_CHARS = 4000  # a terminal has no message limit; a summary this long is still readable


def review_summary_text(summary: ReviewSummary, max_chars: int = SUMMARY_CHARS) -> str:
    return summary_text(summary, max_chars, PLAIN)


def weekly_report_text(report: WeeklyReport) -> str:
    """The report, and where its chart is (a terminal shows no images)."""
    return report_text(report, PLAIN) + (f"\nChart: {report.chart}" if report.chart else "")


def render_reply(reply: Reply, session: int | None = None) -> str:
    if reply.reviews is not None:
        return review_summary_text(reply.reviews)
    if reply.report is not None:
        return weekly_report_text(reply.report)
    if reply.copy is None:
        return reply.text
    result = reply.copy
    lines = [line for line in (understood_line(result, PLAIN),) if line]
    for variant, source in zip(result.variants, result.sources or [None] * len(result.variants)):
        rewritten = f"  (from #{source})" if source is not None else ""
        lines.append(f"  #{variant.id}  {variant.text}{rewritten}")
    if (shortfall := shortfall_line(result)) is not None:
        lines.append(f"  ({shortfall[0].lower()}{shortfall[1:-1]})")
    if result.from_reviews is not None:
        lines.append(from_reviews_line(result.from_reviews, PLAIN))
    lines.append("Approve with /approve <number>, reject with /reject <number>.")
    if session is not None:
        lines.append(f"Session {session}: change one with /refine <number> <what to change> "
                     "(shorter, in Chinese, for linkedin, more like <number>), or /refine again.")
    return "\n".join(lines)


class ConsoleSession:
    """A terminal has no threads: each /copy opens a numbered session, and /refine works in the
    latest one (or in the session of the variant it names)."""

    def __init__(self) -> None:
        self.conversation: int | None = None

    async def run(self, engine: Engine, origin: Origin, command, progress, preview) -> str:
        if isinstance(command, RefineCommand):
            turn = parse_turn(command.text, engine.presets())
            named = (await engine.conversation(origin, None, targets=turn.targets)
                     if turn.targets else None)
            conversation = named or self.conversation
            if conversation is None:
                raise UserError("There is no session to refine yet; start one with /copy, then "
                                "/refine <number> <what to change>.")
            reply = await execute_turn(engine, origin, conversation, turn, progress=progress,
                                       preview=preview)
            await self._shown(engine, origin, reply)
            self.conversation = conversation
            return render_reply(reply, session=conversation)
        reply = await execute(engine, origin, command, progress=progress, preview=preview)
        if isinstance(command, CopyCommand) and reply.copy is not None:
            result = reply.copy
            await self._shown(engine, origin, reply)
            self.conversation = await engine.open_thread(
                origin, result.generation_id, Thread(origin.channel, str(result.generation_id)))
            return render_reply(reply, session=self.conversation)
        return render_reply(reply)

    @staticmethod
    async def _shown(engine: Engine, origin: Origin, reply: Reply) -> None:
        """The variants are on the screen now: the conversation counts them as delivered."""
        for variant in reply.copy.variants:
            await engine.mark_posted(origin, variant.id, f"console:{variant.id}")


class StreamedVariant:
    """A terminal cannot redraw several lines without escape codes, so the console streams the
    first variant as it is written (the others are being written beside it) and then prints the
    final, cleaned list."""

    def __init__(self, stdout: TextIO) -> None:
        self.stdout = stdout
        self.shown = ""

    def preview(self, preview: CopyPreview) -> None:
        if preview.slot != 0 or not preview.text.startswith(self.shown):
            return
        new = preview.text[len(self.shown):]
        if new:
            if not self.shown:
                self.stdout.write("  writing: ")
            self.stdout.write(new)
            self.stdout.flush()
            self.shown = preview.text

    def end(self) -> None:
        if self.shown:
            self.stdout.write("\n")
            self.stdout.flush()


async def handle_line(engine: Engine, origin: Origin, line: bytes, stdout: TextIO,
                      session: ConsoleSession | None = None) -> str:
    """One typed line in, the text to print out. Never raises for a bad line."""
    session = session or ConsoleSession()
    async def show_progress(note: str) -> None:
        print(note, file=stdout, flush=True)

    stream = StreamedVariant(stdout)
    try:
        command = parse_line(line)
        text = await session.run(engine, origin, command, show_progress, stream.preview)
        stream.end()
        return text
    except Exception as exc:  # the console's error boundary
        stream.end()
        return failure_text(exc)


async def run_console(engine: Engine, stdin: BinaryIO | None = None, stdout: TextIO | None = None,
                      user: str | None = None) -> None:
    stdin = stdin or sys.stdin.buffer
    stdout = stdout or sys.stdout
    origin = Origin(platform="console", workspace="local", channel="terminal",
                    user=user or getpass.getuser())
    interactive = stdin.isatty() if hasattr(stdin, "isatty") else False
    print(GREETING, file=stdout, flush=True)
    session = ConsoleSession()
    while True:
        if interactive:
            print(PROMPT, end="", file=stdout, flush=True)
        line = await read_line(stdin)
        if not line:
            break
        if not line.strip():
            continue
        if PASTE_START.match(line.strip()):
            line = await read_pasted_reviews(stdin, stdout, line)
        # Shutdown cancels the console: a command already running may finish first (shield); a
        # second cancellation (the shutdown deadline) stops it.
        work = asyncio.ensure_future(handle_line(engine, origin, line, stdout, session))
        try:
            text = await asyncio.shield(work)
        except asyncio.CancelledError:
            try:
                text = await work
            except asyncio.CancelledError:
                print("copybot stopped before that command finished; nothing was saved for it.",
                      file=stdout, flush=True)
                raise
            print(text, file=stdout, flush=True)
            raise
        print(text, file=stdout, flush=True)


async def read_pasted_reviews(stdin: BinaryIO, stdout: TextIO, first: bytes) -> bytes:
    """In a terminal a paste arrives line by line: after a bare ``/reviews`` (or one with only
    ``column:``), every line up to an empty one is a review."""
    print("Paste the reviews, one per line, then an empty line.", file=stdout, flush=True)
    lines = [first.rstrip(b"\r\n")]
    while True:
        line = await read_line(stdin)
        if not line or not line.strip():
            return b"\n".join(lines)
        lines.append(line.rstrip(b"\r\n"))


async def read_line(stdin: BinaryIO) -> bytes:
    """One line from ``stdin`` without blocking the loop. A daemon thread, not the default
    executor: a read still blocked when the bot stops must not keep the process alive."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[bytes] = loop.create_future()

    def deliver(result: bytes | None, error: BaseException | None) -> None:
        if future.done():  # the console was cancelled meanwhile
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)

    def read() -> None:
        try:
            result, error = stdin.readline(), None
        except BaseException as exc:  # handed to the awaiting coroutine
            result, error = None, exc
        try:
            loop.call_soon_threadsafe(deliver, result, error)
        except RuntimeError:  # the loop has closed: nobody is waiting any more
            pass

    threading.Thread(target=read, name="copybot-console-input", daemon=True).start()
    return await future
