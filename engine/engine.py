"""``Engine``: the one entry point the adapters and the CLI use.

It owns the store, the prompt book and the generator worker; adapters hand it platform-neutral
dataclasses (``engine.types``) and get dataclasses back.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path

from engine.config import EngineConfig
from engine.copywriter import Copywriter
from engine.errors import UserError
from engine.generator import BatchingGenerator
from engine.journal import InboundEvent, Journal
from engine.learning.service import Learning
from engine.learning.status import FinetuneStart, FinetuneStatus, ModelList, ModelSwitch
from engine.learning.versions import load_active_backend
from engine.local_backend import GenerationBackend, LocalBackend, SamplingSettings
from engine.metrics import Metrics
from engine.model import load_model, resolve_model_path
from engine.prompts import PromptBook
from engine.reports import RenderedReport, ReportService
from engine.reviews import ReviewSummary
from engine.reviews.service import ReviewService
from engine.scheduler import Scheduler
from engine.settings import setting_spec, with_defaults
from engine.store import Store
from engine.types import Announcement, CopyRequest, CopyResult, Feedback, FeedbackOutcome, Origin
from engine.validation import validate_copy_request

logger = logging.getLogger(__name__)


def load_local_backend(config: EngineConfig) -> LocalBackend:
    source, name = resolve_model_path(config.model, config.model_cache_dir)
    model, tokenizer = load_model(source, threads=config.threads)
    sampling = SamplingSettings(temperature=config.temperature, top_p=config.top_p)
    return LocalBackend(model, tokenizer, version=name, sampling=sampling)


def load_backend(config: EngineConfig) -> GenerationBackend:
    """The configured backend: the local model, or an OpenAI-compatible server (COPYBOT_BACKEND)."""
    if config.backend == "openai":
        from engine.remote_backend import RemoteBackend

        return RemoteBackend.from_config(config)
    return load_local_backend(config)


class Engine:
    def __init__(self, config: EngineConfig, store: Store, prompts: PromptBook,
                 generator: BatchingGenerator, metrics: Metrics | None = None,
                 journal: Journal | None = None) -> None:
        self.config = config
        self.journal = journal
        self.metrics = metrics or Metrics()
        self.metrics.watch(generator)
        self.store = store
        self.prompts = prompts
        self.generator = generator
        self.copywriter = Copywriter(prompts, generator, config.max_new_tokens, config.max_rounds)
        # platform -> coroutine that posts an Announcement; each running adapter registers its own.
        self._publishers: dict[str, Callable[[Announcement], Awaitable[None]]] = {}
        self.learning = Learning(config, store, prompts, generator, self.announce,
                                 count_run=self.metrics.count_finetune)
        self.reports = ReportService(store, config.report_cron, config.data_dir / "reports",
                                     model_version=lambda: self.generator.version,
                                     announce=self.announce, finetune_line=self.learning.finetune_line)
        self.scheduler = Scheduler(store)
        self.reviews = ReviewService(store, config.sentiment_model, generator.run_in_model_thread)

    @classmethod
    async def open(cls, config: EngineConfig, backend: GenerationBackend | None = None) -> "Engine":
        """Open the store (migrating it), read the prompts and start the generator.

        ``backend`` defaults to the configured one (``load_backend``), loaded in a thread.
        """
        prompts = PromptBook.load(config.prompts_dir)
        store = await Store.open(config.database_path)
        journal = None
        try:
            journal = await Journal.open(config.database_path)
            if backend is None and config.backend == "local":
                # The model version that was active when the bot last ran (fine-tunes survive restarts).
                backend = await load_active_backend(config, store)
            elif backend is None:
                backend = await asyncio.to_thread(load_backend, config)
        except BaseException:
            if journal is not None:
                await journal.close()
            await store.close()
            raise
        metrics = Metrics()
        generator = BatchingGenerator(backend, max_batch=config.max_batch, queue_size=config.queue_size,
                                      metrics=metrics)
        generator.start()
        engine = cls(config, store, prompts, generator, metrics, journal)
        await engine.learning.recover()
        return engine

    async def start_scheduler(self) -> None:
        """Start the scheduled jobs: the weekly fine-tune and the report check. ``copybot run``
        calls it; one-shot CLI commands and tests that do not want background jobs do not."""
        if self.config.finetune_cron.strip().lower() != "off":
            self.scheduler.add_weekly_job("finetune", self.config.finetune_cron, self.config.timezone,
                                          self.learning.run_scheduled)
            self.learning.next_run = lambda: self.scheduler.next_run_time("finetune")
        # Reports keep their own per-workspace schedule and exactly-once record; check each minute.
        self.scheduler.add_cron_job("reports", "* * * * *", "UTC", self.post_due_reports, catch_up=False)
        await self.scheduler.start()
        self.scheduler.run_now("reports")

    async def close(self) -> None:
        await self.scheduler.shutdown()
        await self.learning.close()
        await self.generator.stop()
        if self.journal is not None:
            await self.journal.close()
        await self.store.close()

    async def __aenter__(self) -> "Engine":
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    # --- announcements ---------------------------------------------------------------------------

    def set_publisher(self, platform: str, publish: Callable[[Announcement], Awaitable[None]]) -> None:
        """Called by an adapter at start: how to post to a channel of ``platform``."""
        self._publishers[platform] = publish

    async def announce(self, announcement: Announcement) -> bool:
        """Post to a workspace's channel through its platform's adapter. False (and a log line) when
        that adapter is not running here; a failing post is logged, never raised into a job."""
        platform = announcement.workspace.split(":", 1)[0]
        publish = self._publishers.get(platform)
        if publish is None:
            logger.warning("no %s adapter running; announcement for %s not posted", platform,
                           announcement.workspace)
            return False
        try:
            await publish(announcement)
        except Exception:
            logger.exception("posting an announcement to %s failed", announcement.workspace)
            self.metrics.count_error("announce")
            return False
        return True

    # --- copy ----------------------------------------------------------------------------------

    async def copy(self, origin: Origin, request: CopyRequest,
                   on_accepted: Callable[[CopyRequest], Awaitable[None]] | None = None) -> CopyResult:
        """Write ``request.n`` variants and store them; nothing is stored if generation fails.

        ``on_accepted`` runs once the request has passed validation, before the (slow) model
        work: adapters use it to say "writing 3 variants…" only for requests that will be served.
        """
        request = validate_copy_request(request)
        self.prompts.limits(request)  # unknown channel or length: fail before queueing
        if on_accepted is not None:
            await on_accepted(request)
        workspace = origin.workspace_key
        await self.store.ensure_workspace(workspace, origin.platform)
        settings = await self.settings(origin)
        examples = await self.store.recent_approved_texts(workspace, self.config.few_shot)
        with self.metrics.generation_seconds.time():
            draft = await self.copywriter.write(request, settings["brand_voice"] or None, examples)
        if not draft.texts:
            raise UserError(
                "The model could not write usable copy for that description; add a detail or two "
                "about the product and try again."
            )
        generation_id, variants = await self.store.save_generation(
            workspace, origin.channel, origin.user, asdict(request), draft.messages,
            draft.model_version, draft.texts,
        )
        logger.info("generation %d: %d variants for %s", generation_id, len(variants), workspace)
        return CopyResult(generation_id, variants, draft.model_version, requested=request.n)

    async def mark_posted(self, origin: Origin, variant_id: int, message: str) -> None:
        """Remember which chat message shows a variant, so a reaction on it can name it."""
        await self.store.mark_posted(origin.workspace_key, variant_id, origin.channel, message)

    # --- feedback ------------------------------------------------------------------------------

    async def record_feedback(self, feedback: Feedback,
                              event: InboundEvent | None = None) -> FeedbackOutcome | None:
        """Store an approval/rejection (or its withdrawal). Returns ``None`` for a message that is
        not one of our variants (reactions elsewhere are none of our business).

        ``event``: the journaled reaction this carries out; it is marked finished in the same
        transaction as the feedback, so a crash never leaves one without the other."""
        workspace = feedback.origin.workspace_key
        variant_id = feedback.variant_id
        if variant_id is None:
            if feedback.message is None:
                raise ValueError("feedback names neither a variant nor a message")
            variant_id = await self.store.variant_for_message(
                workspace, feedback.origin.channel, feedback.message
            )
            if variant_id is None:
                if event is not None:
                    await self.finish_event(event, "ignored")
                return None
        elif not await self.store.variant_exists(workspace, variant_id):
            raise UserError(f"There is no variant #{variant_id} in this workspace; check the number.")
        outcome = await self.store.set_feedback(
            variant_id, feedback.origin.user, feedback.verdict, feedback.added,
            finishing_event=None if event is None else event.id,
        )
        if outcome.changed:
            self.metrics.count_feedback(feedback.verdict.value, feedback.added)
        logger.info("feedback on variant %d: %s %s (changed=%s)", variant_id, feedback.verdict.value,
                    "added" if feedback.added else "withdrawn", outcome.changed)
        return outcome

    async def posted_variant(self, origin: Origin, message: str) -> int | None:
        """The variant posted as ``message`` in ``origin``'s channel, or ``None``."""
        return await self.store.variant_for_message(origin.workspace_key, origin.channel, message)

    # --- inbound events: durable before they are acknowledged ---------------------------------

    async def accept_event(self, origin: Origin, event_id: str, kind: str,
                           payload: dict) -> InboundEvent | None:
        """Commit an inbound platform event to the journal; call it before acknowledging the event.

        ``event_id`` is the platform's id for it (Slack ``event_id`` or ``trigger_id``, a Discord
        interaction id). Returns the journaled event, to be carried out and then finished
        (``finish_event``, or ``record_feedback(..., event=)``); ``None`` when that id was accepted
        before (a retry or replay: acknowledge it, do nothing). Raises ``EventNotStored`` when
        it could not be committed: then do not acknowledge it."""
        if self.journal is None:
            raise RuntimeError("the engine was opened without a journal")
        return await self.journal.accept(f"{origin.platform}:{event_id}", origin.platform,
                                         origin.workspace_key, kind, payload)

    async def unfinished_events(self, platform: str) -> list[InboundEvent]:
        """At an adapter's start: the events it acknowledged but did not finish, oldest first."""
        if self.journal is None:
            return []
        return await self.journal.recover(platform)

    async def finish_event(self, event: InboundEvent, outcome: str = "done") -> None:
        """``outcome``: done, ignored (nothing to do) or failed (the user was told)."""
        await self.store.finish_event(event.id, outcome)

    # --- settings ------------------------------------------------------------------------------

    def is_admin(self, origin: Origin) -> bool:
        # Whoever runs the console owns the machine the bot runs on.
        if origin.platform == "console":
            return True
        admins = self.config.admins
        return f"{origin.platform}:{origin.user}" in admins or any(
            f"{origin.platform}:role:{role}" in admins for role in origin.roles
        )

    async def settings(self, origin: Origin) -> dict[str, str]:
        return with_defaults(await self.store.settings(origin.workspace_key))

    async def change_setting(self, origin: Origin, name: str, value: str | None) -> dict[str, str]:
        """Set (or with ``None`` reset) a workspace setting; admins only."""
        if not self.is_admin(origin):
            raise UserError("Only workspace admins can change settings; ask one to do it.")
        spec = setting_spec(name)
        clean = None if value is None else spec.validate(value)
        await self.store.ensure_workspace(origin.workspace_key, origin.platform)
        await self.store.set_setting(origin.workspace_key, spec.name, clean, by=origin.user)
        return await self.settings(origin)

    def presets(self) -> dict[str, list[str]]:
        """Preset names for help texts and autocomplete."""
        return {
            "tone": sorted(self.prompts.tones),
            "channel": sorted(self.prompts.channels),
            "length": list(self.prompts.lengths),
        }

    # --- learning: fine-tunes and model versions (admins only) ----------------------------------

    def _require_admin(self, origin: Origin) -> str:
        if not self.is_admin(origin):
            raise UserError("Only admins can run fine-tunes and switch models; ask one "
                            "(admins are listed in COPYBOT_ADMINS).")
        return f"{origin.platform}:{origin.user}"

    async def finetune_now(self, origin: Origin) -> FinetuneStart:
        """Start a fine-tune now (or report the one under way, or why none can start)."""
        return await self.learning.start(by=self._require_admin(origin))

    async def finetune_status(self, origin: Origin) -> FinetuneStatus:
        self._require_admin(origin)
        return await self.learning.status()

    async def models(self, origin: Origin) -> ModelList:
        self._require_admin(origin)
        return await self.learning.models()

    async def use_model(self, origin: Origin, version: str) -> ModelSwitch:
        """Switch the generator to ``version`` ("base" for the base model); no restart needed."""
        return await self.learning.use(version, by=self._require_admin(origin))

    async def rollback_model(self, origin: Origin) -> ModelSwitch:
        """Go back to the model that was active before the current one."""
        return await self.learning.rollback(by=self._require_admin(origin))

    # --- reviews -------------------------------------------------------------------------------

    async def summarize_reviews(self, origin: Origin, text: str | None = None, data: bytes | None = None,
                                filename: str | None = None, column: str | None = None) -> ReviewSummary:
        """``/reviews``: sentiment, themes and trend of pasted or uploaded reviews; stored."""
        return await self.reviews.summarize(origin, text, data, filename, column)

    # --- reports -------------------------------------------------------------------------------

    async def report(self, origin: Origin, last_week: bool = False, limit: int = 3900) -> RenderedReport:
        """``/report``: this week so far, or the last complete week, as text and a chart."""
        await self.store.ensure_workspace(origin.workspace_key, origin.platform)
        return await self.reports.on_demand(origin.workspace_key, last_week, datetime.now(timezone.utc),
                                            limit=limit)

    async def post_due_reports(self) -> int:
        """Post the weekly reports that are due; the scheduler calls this every minute."""
        return await self.reports.post_due_reports(datetime.now(timezone.utc))

    # --- export --------------------------------------------------------------------------------

    async def export_approved(self, path: Path, workspace: str | None = None) -> int:
        """Write approved examples as chat-format JSONL (``{"messages": [...]}`` per line)."""
        examples = await self.store.approved_examples(workspace)
        partial = path.with_name(path.name + ".partial")
        with partial.open("w", encoding="utf-8") as out:
            for example in examples:
                messages = example.messages + [{"role": "assistant", "content": example.text}]
                out.write(json.dumps({"messages": messages}, ensure_ascii=False) + "\n")
        partial.replace(path)
        return len(examples)
