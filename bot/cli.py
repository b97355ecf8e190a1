"""The ``copybot`` command: run the bot, or use the engine from scripts."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from pathlib import Path

from bot.console import review_summary_text
from bot.dispatch import failure_text
from bot.ops.logs import Redactor, configure_logging
from bot.rendering.markup import PLAIN
from bot.rendering.report import report_text
from engine import (
    CopyRequest,
    Engine,
    Origin,
    UserError,
    engine_config_from_env,
    load_dotenv_file,
    load_settings,
    write_labels,
)

logger = logging.getLogger(__name__)


def _quiet_libraries() -> None:
    # Progress bars and hub chatter are noise in a chat console; warnings still reach the log.
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


async def _open_engine() -> Engine:
    return await Engine.open(engine_config_from_env())


async def cmd_run(args: argparse.Namespace) -> int:
    from bot.ops.lifecycle import serve
    from bot.services import bot_services, platform_configured

    settings = load_settings()  # every setting, once: a bad value fails before the model loads
    if args.command == "run" and args.no_console and not platform_configured(settings):
        # A service has no terminal: the console would read end-of-file and exit, and the service
        # manager would restart it forever without saying why.
        raise UserError("No Slack or Discord token is set; set SLACK_BOT_TOKEN (with SLACK_APP_TOKEN "
                        "or SLACK_SIGNING_SECRET) or DISCORD_TOKEN, or use `copybot console` to chat "
                        "in a terminal.")
    async with await Engine.open(settings.engine_config()) as engine:
        await engine.start_scheduler()  # weekly fine-tune, report check; a missed run runs now
        # Platform adapters start here when their tokens are set; with none, the console runs.
        # SIGTERM/Ctrl-C: no new commands, in-flight ones get COPYBOT_SHUTDOWN_SECONDS, then the
        # engine closes (database included) as this block ends.
        if args.command == "console":
            from bot.console import run_console

            services = {"console": run_console(engine)}
        else:
            services = bot_services(engine, settings)
        await serve(engine, services, settings.shutdown_seconds)
    return 0


async def cmd_doctor(args: argparse.Namespace) -> int:
    from bot.ops.doctor import run_doctor

    return await run_doctor()


async def cmd_backup(args: argparse.Namespace) -> int:
    from bot.ops.backup import backup_database

    result = await asyncio.to_thread(backup_database, engine_config_from_env().database_path,
                                     Path(args.path))
    print(f"Backed up {result.variants} variants (schema {result.schema_version}, "
          f"{result.size / 1e6:.1f} MB) to {result.path}")
    return 0


async def cmd_copy(args: argparse.Namespace) -> int:
    from bot.console import StreamedVariant

    request = CopyRequest(product=args.product, tone=args.tone, audience=args.audience,
                          ad_channel=args.channel, length=args.length, language=args.language,
                          n=args.n, name=args.name)
    origin = Origin(platform="console", workspace="local", channel="cli", user="cli")
    # The first variant streams to stderr as it is written; stdout gets the final variants only.
    stream = StreamedVariant(sys.stderr)
    async with await _open_engine() as engine:
        try:
            result = await engine.copy(origin, request, on_preview=stream.preview)
        finally:
            stream.end()
    for variant in result.variants:
        print(f"#{variant.id}\t{variant.text}")
    return 0


async def cmd_export(args: argparse.Namespace) -> int:
    async with await _open_engine() as engine:
        if args.pairs:
            count = await engine.export_pairs(Path(args.path), workspace=args.workspace)
            print(f"Wrote {count} preference pair{'s' if count != 1 else ''} to {args.path}")
            return 0
        count = await engine.export_approved(Path(args.path), workspace=args.workspace)
    print(f"Wrote {count} approved example{'s' if count != 1 else ''} to {args.path}")
    return 0


async def cmd_reviews(args: argparse.Namespace) -> int:
    if args.file == "-":
        data, filename = sys.stdin.buffer.read(), None
    else:
        path = Path(args.file)
        if not path.is_file():
            raise UserError(f"There is no file {args.file}; give a CSV or text file, or - for standard input.")
        data, filename = path.read_bytes(), path.name
    origin = Origin(platform="console", workspace="local", channel="cli", user="cli")
    async with await _open_engine() as engine:
        summary = await engine.summarize_reviews(origin, data=data, filename=filename, column=args.column)
    print(review_summary_text(summary, max_chars=args.max_chars))
    if args.out:
        print(f"Per-review labels written to {write_labels(summary, Path(args.out))}")
    return 0


async def cmd_report(args: argparse.Namespace) -> int:
    platform, _, workspace = args.workspace.partition(":")
    if not workspace:
        raise UserError("Give the workspace as platform:id, e.g. slack:T0123 or console:local.")
    origin = Origin(platform=platform, workspace=workspace, channel="cli", user="cli")
    async with await _open_engine() as engine:
        report = await engine.report(origin, last_week=args.last)
    print(report_text(report, PLAIN))
    if args.out:
        Path(args.out).write_bytes(report.chart.read_bytes())
        print(f"Chart written to {args.out}")
    else:
        print(f"Chart: {report.chart}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="copybot", description="Self-hosted ad-copy assistant.")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the bot (console when no Slack/Discord token is set)")
    run.add_argument("--no-console", action="store_true",
                     help="exit with an error when no Slack or Discord token is set (for services)")
    run.set_defaults(handler=cmd_run, log_level="WARNING")
    console = sub.add_parser("console", help="chat with the bot in this terminal")
    console.set_defaults(handler=cmd_run, log_level="WARNING")

    copy = sub.add_parser("copy", help="print ad-copy variants for a product description")
    copy.add_argument("product")
    copy.add_argument("--tone")
    copy.add_argument("--audience")
    copy.add_argument("--channel", help="ad channel preset, e.g. instagram, tweet, 'email subject'")
    copy.add_argument("--length", help="short, medium, long, or a number of words")
    copy.add_argument("--language", help="en or zh (default: the description's language)")
    copy.add_argument("-n", type=int, default=3, help="number of variants (1-10)")
    copy.add_argument("--name", help="what the copy calls the product (default: read from the description)")
    copy.set_defaults(handler=cmd_copy, log_level="WARNING")

    export = sub.add_parser("export", help="write approved examples (or preference pairs) as JSONL")
    export.add_argument("path")
    export.add_argument("--pairs", action="store_true",
                        help="preference pairs (prompt, chosen, rejected) for DPO trainers instead")
    export.add_argument("--workspace", help="only this workspace, e.g. slack:T0123")
    export.set_defaults(handler=cmd_export, log_level="WARNING")
    reviews = sub.add_parser("reviews", help="summarise customer reviews from a CSV/text file or stdin")
    reviews.add_argument("file", help="a CSV, JSON or text file (one review per line), or - for stdin")
    reviews.add_argument("--column", help="the CSV column holding the review text")
    reviews.add_argument("--out", help="write per-review labels to this .csv or .json file")
    reviews.add_argument("--max-chars", type=int, default=4000, help="longest summary to print")
    reviews.set_defaults(handler=cmd_reviews, log_level="WARNING")

    report = sub.add_parser("report", help="print a workspace's weekly report and write its chart")
    report.add_argument("--workspace", default="console:local", help="platform:id, e.g. slack:T0123")
    report.add_argument("--last", action="store_true", help="the last complete week, not this one so far")
    report.add_argument("--out", help="where to write the chart PNG")
    report.set_defaults(handler=cmd_report, log_level="WARNING")

    doctor = sub.add_parser("doctor", help="check the configuration, tokens, model, database and disk")
    doctor.set_defaults(handler=cmd_doctor, log_level="ERROR")
    backup = sub.add_parser("backup", help="copy the database safely while the bot runs")
    backup.add_argument("path", help="the backup file, or a folder for a timestamped file")
    backup.set_defaults(handler=cmd_backup, log_level="WARNING")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    load_dotenv_file()
    _quiet_libraries()
    configure_logging(args.log_level)
    try:
        return asyncio.run(args.handler(args))
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # the CLI's error boundary: one sentence, details in the log
        # Redacted as log lines are: a secret never reaches the terminal through an error either.
        print(f"copybot: {Redactor.from_env()(failure_text(exc))}", file=sys.stderr)
        return 2 if isinstance(exc, UserError) else 1


if __name__ == "__main__":
    sys.exit(main())
