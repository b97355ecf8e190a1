"""Running a parsed command against the engine, and the one error boundary every adapter uses.

``execute`` turns a command into a platform-neutral ``Reply``: plain text, or the engine's data
(copy variants, a review summary, a weekly report), which each adapter renders for its platform. ``failure_text``
is the boundary: a ``UserError`` is shown as it is, anything else is logged with its traceback
and the user gets an apology without the exception text.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.commands import (
    Command,
    CopyCommand,
    FeedbackCommand,
    FinetuneCommand,
    HelpCommand,
    ModelsCommand,
    ReportCommand,
    ReviewsCommand,
    SettingsCommand,
)
from bot.flow.messages import GENERIC_FAILURE
from bot.ops.logs import request_scope
from bot.rendering.learning import finetune_start_text, finetune_status_text, model_list_text, model_switch_text
from engine import (
    WORKSPACE_SETTINGS,
    CopyPreview,
    CopyRequest,
    CopyResult,
    Engine,
    Feedback,
    Origin,
    Refinement,
    ReviewSummary,
    UserError,
    Verdict,
    WeeklyReport,
)

logger = logging.getLogger(__name__)



@dataclass(frozen=True)
class Reply:
    text: str = ""  # plain text; the adapter escapes it for its platform
    copy: CopyResult | None = None  # adapters post each variant as its own message
    ephemeral: bool = False  # only the person who asked needs to see it
    reviews: ReviewSummary | None = None  # /reviews: the adapter renders it
    report: WeeklyReport | None = None  # /report: the adapter renders it, with its chart


def failure_text(exc: BaseException) -> str:
    if isinstance(exc, UserError):
        return str(exc)
    logger.error("command failed", exc_info=exc)
    return GENERIC_FAILURE


def help_text(engine: Engine) -> str:
    presets = engine.presets()
    return "\n".join([
        "/copy <product description> [tone: …] [audience: …] [channel: …] [length: …] [language: …] [n: 3] "
        "[from: reviews] [name: …]",
        f"    tones: {', '.join(presets['tone'])} (or your own words)",
        f"    channels: {', '.join(presets['channel'])}",
        f"    lengths: {', '.join(presets['length'])}, or a number of words",
        "    language: en or zh (default: the description's own language)",
        "    n: how many variants, 1 to 10. Paste the brief as it is (Name: facts, Type: jacket, Material: …); "
        "quote it if it has one lone colon.",
        "    name: what the copy calls the product, when the reply's \"Read as\" line got it wrong.",
        "    from: reviews writes from your latest /reviews summary: it uses what customers praise and "
        "avoids claims their complaints contradict.",
        "React to a variant to approve (✅ 👍) or reject (❌ 👎) it; in the console: /approve <number>, "
        "/reject <number>, /withdraw <number>.",
        "Each request is a thread: reply in it (mention me on Discord) with #2 shorter, make them "
        "more formal, translate #1 to Chinese, more like #3, for linkedin, or again; in the "
        "console: /refine 2 shorter, /refine again.",
        "/reviews <one review per line>, or attach a CSV/text file (column: <name> picks the text column)",
        "/settings, /settings <name>: <value>, /settings reset <name>  (admins; names: "
        + ", ".join(WORKSPACE_SETTINGS) + ")",
        "/report [last]   /models [list | use <version> | rollback]   /finetune [now | status]",
    ])


def settings_text(settings: dict[str, str]) -> str:
    lines = [f"{name}: {settings.get(name) or '(not set)'}  — {spec.description}"
             for name, spec in WORKSPACE_SETTINGS.items()]
    return "\n".join(lines)


async def execute(engine: Engine, origin: Origin, command: Command, *,
                  progress: Callable[[str], Awaitable[None]] | None = None,
                  preview: Callable[[CopyPreview], None] | None = None) -> Reply:
    """Carry out ``command`` for ``origin``. Raises ``UserError`` for problems the user can fix.

    ``progress`` is given a short note (e.g. "Writing 3 variants…") once slow work has been
    accepted, so the adapter can show it while the user waits; ``preview`` each /copy variant's
    text as the model writes it.
    Every command runs under a request id (the adapter's, or a new one) and is counted in the
    engine's metrics by how it ended.
    """
    with request_scope(), engine.metrics.count_request(command_name(command)):
        return await _execute(engine, origin, command, progress=progress, preview=preview)


async def execute_turn(engine: Engine, origin: Origin, conversation_id: int, turn: Refinement, *,
                       progress: Callable[[str], Awaitable[None]] | None = None,
                       preview: Callable[[CopyPreview], None] | None = None,
                       on_accepted: Callable[[int], Awaitable[None]] | None = None) -> Reply:
    """Carry out one turn of a conversation (a reply in a copybot thread, a Shorter button,
    the console's /refine). Raises ``UserError`` for problems the person can fix.
    ``on_accepted`` is told how many variants are coming, before the model starts."""
    async def accepted(count: int) -> None:
        if on_accepted is not None:
            await on_accepted(count)
        if progress is not None:
            await progress(f"Writing {count} variant{'s' if count != 1 else ''}…")

    with request_scope(), engine.metrics.count_request("refine"):
        return Reply(copy=await engine.refine(origin, conversation_id, turn, on_accepted=accepted,
                                              on_preview=preview))


def command_name(command: Command) -> str:
    """``CopyCommand`` -> ``copy``: the metrics label."""
    return type(command).__name__.removesuffix("Command").lower()


async def _execute(engine: Engine, origin: Origin, command: Command, *,
                   progress: Callable[[str], Awaitable[None]] | None,
                   preview: Callable[[CopyPreview], None] | None) -> Reply:
    if isinstance(command, CopyCommand):
        async def accepted(request: CopyRequest) -> None:
            if progress is not None:
                await progress(f"Writing {request.n} variant{'s' if request.n != 1 else ''}…")

        return Reply(copy=await engine.copy(origin, command.request, on_accepted=accepted,
                                            on_preview=preview))
    if isinstance(command, FeedbackCommand):
        return await _feedback(engine, origin, command)
    if isinstance(command, SettingsCommand):
        if command.name is None:
            return Reply(settings_text(await engine.settings(origin)), ephemeral=True)
        settings = await engine.change_setting(origin, command.name, command.value)
        shown = settings.get(command.name) or "(not set)"
        return Reply(f"{command.name} is now: {shown}", ephemeral=True)
    if isinstance(command, HelpCommand):
        return Reply(help_text(engine), ephemeral=True)
    if isinstance(command, ReportCommand):
        return Reply(report=await engine.report(origin, last_week=command.last_week))
    if isinstance(command, ModelsCommand):
        if command.action == "use":
            return Reply(model_switch_text(await engine.use_model(origin, command.version)))
        if command.action == "rollback":
            return Reply(model_switch_text(await engine.rollback_model(origin)))
        return Reply(model_list_text(await engine.models(origin)), ephemeral=True)
    if isinstance(command, FinetuneCommand):
        if command.action == "now":
            return Reply(finetune_start_text(await engine.finetune_now(origin)))
        return Reply(finetune_status_text(await engine.finetune_status(origin)), ephemeral=True)
    if isinstance(command, ReviewsCommand):
        summary = await engine.summarize_reviews(origin, text=command.text or None, data=command.data,
                                                 filename=command.filename, column=command.column)
        return Reply(reviews=summary)
    raise TypeError(f"unhandled command {command!r}")


async def _feedback(engine: Engine, origin: Origin, command: FeedbackCommand) -> Reply:
    if command.verdict is None:  # withdraw both kinds of feedback this user gave
        for verdict in Verdict:
            outcome = await engine.record_feedback(
                Feedback(origin, verdict, added=False, variant_id=command.variant_id))
        return Reply(f"Withdrew your feedback on #{command.variant_id}; it is now {outcome.status}.",
                     ephemeral=True)
    outcome = await engine.record_feedback(
        Feedback(origin, command.verdict, added=True, variant_id=command.variant_id))
    word = "Approved" if command.verdict is Verdict.APPROVE else "Rejected"
    note = "" if outcome.changed else " (you had already said so)"
    # Privately: whoever gave a verdict needs the answer, the channel does not.
    return Reply(f"{word} #{command.variant_id}{note}; it is now {outcome.status} "
                 f"({outcome.approvals} approve, {outcome.rejections} reject).", ephemeral=True)
