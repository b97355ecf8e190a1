"""``Engine``: the one entry point the adapters and the CLI use.

It owns the store, the prompt book and the generator worker; adapters hand it platform-neutral
dataclasses (``engine.types``) and get dataclasses back.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import asdict, replace
from datetime import UTC, datetime
from pathlib import Path

from engine.config import EngineConfig
from engine.conversations.prompts import TurnPrompts
from engine.conversations.service import Conversations
from engine.conversations.store import ConversationStore
from engine.copy.brief import Brief, read_brief
from engine.copy.brief_checks import refusal_reason
from engine.copy.compliance import ComplianceRules, StyleGuide
from engine.copy.copywriter import Copywriter, Draft
from engine.copy.prompts import PromptBook
from engine.copy.stock_phrases import StockPhrases
from engine.copy.validation import validate_copy_request
from engine.errors import UserError
from engine.generation.configured import batching_generator, open_configured_generator
from engine.generation.serving import SwitchableGenerator
from engine.generation.transformers_backend import GenerationBackend
from engine.generation.workspace_models import Writer
from engine.learning.export import write_approved, write_pairs
from engine.learning.service import Learning
from engine.learning.status import FinetuneStart, FinetuneStatus, ModelList, ModelSwitch
from engine.reports.figures import WeeklyReport
from engine.reports.service import ReportService
from engine.reviews import ReviewSummary
from engine.reviews.for_copy import review_brief, with_used
from engine.reviews.second_opinion import SecondOpinion, SecondOpinionSettings
from engine.reviews.service import ReviewService
from engine.runtime.health import Health, check_health
from engine.runtime.housekeeping import CHARTS_KEPT, HOUSEKEEPING_CRON, prune_charts
from engine.runtime.journal import InboundEvent, Journal
from engine.runtime.metrics import Metrics
from engine.runtime.scheduler import Scheduler
from engine.store import Store
from engine.types import (
    Announcement,
    CopyPreview,
    CopyRequest,
    CopyResult,
    Feedback,
    FeedbackOutcome,
    Origin,
    Refinement,
    ReviewBrief,
    Thread,
    Understood,
)
from engine.workspace.feedback import Verdicts
from engine.workspace.settings import setting_spec, validate_setting, with_defaults

logger = logging.getLogger(__name__)


class Engine:
    def __init__(self, config: EngineConfig, store: Store, prompts: PromptBook,
                 generator: SwitchableGenerator, metrics: Metrics | None = None,
                 journal: Journal | None = None) -> None:
        self.config = config
        self.journal = journal
        self.metrics = metrics or Metrics()
        self.metrics.watch(generator)
        self.store = store
        self.prompts = prompts
        self.generator = generator
        self.copywriter = Copywriter(prompts, generator, config.max_new_tokens, config.max_rounds,
                                     grounding=config.grounding,
                                     rules=ComplianceRules.load(config.prompts_dir),
                                     stock=StockPhrases.load(config.prompts_dir))
        # platform -> coroutine that posts an Announcement; each running adapter registers its own.
        self._publishers: dict[str, Callable[[Announcement], Awaitable[None]]] = {}
        self.learning = Learning(config, store, prompts, generator, self.announce,
                                 count_run=self.metrics.count_finetune)
        self.conversations = Conversations(ConversationStore(store), prompts,
                                           TurnPrompts.load(config.prompts_dir, prompts), self.copywriter,
                                           model_for=self.learning.model_for)
        self.reports = ReportService(store, config.report_cron, config.data_dir / "reports",
                                     model_version=self.learning.model_name,
                                     announce=self.announce, model_news=self.learning.model_news,
                                     can_announce=lambda platform: platform in self._publishers)
        self.scheduler = Scheduler(store)
        self.verdicts = Verdicts(store, self.finish_event, self._verdict_changed)
        second_opinion = SecondOpinion(generator, config.prompts_dir, SecondOpinionSettings(
            seconds=config.reviews_second_opinion_seconds, share=config.reviews_second_opinion_share))
        self.reviews = ReviewService(store, config.sentiment_model, generator.run_in_model_thread,
                                     second_opinion if second_opinion.enabled else None)

    @classmethod
    async def open(cls, config: EngineConfig, backend: GenerationBackend | None = None) -> Engine:
        """Open the store (migrating it), read the prompts and start the generator.

        Without ``backend`` the configured generator serves (``open_configured_generator``); tests
        and benchmarks pass a synchronous backend of their own, run by the batching worker.
        """
        prompts = PromptBook.load(config.prompts_dir)
        store = await Store.open(config.database_path)
        journal = None
        try:
            journal = await Journal.open(config.database_path)
            if backend is None:
                generator = await open_configured_generator(config, store)
            else:
                generator = batching_generator(backend, config)
        except BaseException:
            if journal is not None:
                await journal.close()
            await store.close()
            raise
        metrics = Metrics()
        switchable = SwitchableGenerator(generator, on_result=metrics.observe_batch,
                                         on_failure=lambda: metrics.count_error("generator"))
        engine = cls(config, store, prompts, switchable, metrics, journal)
        await engine.learning.recover()
        await switchable.warm_up(prompts.warm_up_messages())
        return engine

    async def start_scheduler(self) -> None:
        """Start the scheduled jobs: the weekly fine-tune and the report check. ``copybot run``
        calls it; one-shot CLI commands and tests that do not want background jobs do not."""
        if self.config.finetune_cron.strip().lower() != "off":
            self.scheduler.add_cron_job("finetune", self.config.finetune_cron, self.config.timezone,
                                        self.learning.run_scheduled)
            self.learning.next_run = lambda: self.scheduler.next_run_time("finetune")
        # Reports keep their own per-workspace schedule and exactly-once record; check each minute.
        self.scheduler.add_cron_job("reports", "* * * * *", "UTC", self.post_due_reports, catch_up=False)
        self.scheduler.add_cron_job("housekeeping", HOUSEKEEPING_CRON, "UTC", self.housekeeping)
        await self.scheduler.start()
        self.scheduler.run_now("reports")

    async def close(self) -> None:
        await self.scheduler.shutdown()
        await self.learning.close()
        await self.generator.stop()
        if self.journal is not None:
            await self.journal.close()
        await self.store.close()

    async def health(self) -> Health:
        """Whether the engine can serve now: the model worker runs and the database answers."""
        return await check_health(self.generator, self.store)

    async def __aenter__(self) -> Engine:
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
                   on_accepted: Callable[[CopyRequest], Awaitable[None]] | None = None,
                   on_preview: Callable[[CopyPreview], None] | None = None) -> CopyResult:
        """Write ``request.n`` variants and store them; nothing is stored if generation fails.

        ``on_accepted`` runs once the request has passed validation and the generator has room,
        before the (slow) model work: adapters use it to say "writing 3 variants…" only for
        requests that will be served. ``on_preview`` is given each variant's text as it is written.
        """
        request = validate_copy_request(request)
        self.prompts.limits(request)  # unknown channel or length: fail before queueing
        self.generator.check_capacity()  # a full queue: "busy" now, not after "writing…"
        workspace = origin.workspace_key
        # `from: reviews` without a summary to write from is refused before "writing…" too.
        reviews = await review_brief(self.store, workspace, request) if request.from_reviews else None
        if on_accepted is not None:
            await on_accepted(request)
        await self.store.ensure_workspace(workspace, origin.platform)
        settings = await self.settings(origin)
        examples = await self.store.recent_approved_texts(workspace, self.config.few_shot)
        brief = read_brief(request.product)
        if request.name:
            brief = brief.named(request.name)
        with self.metrics.generation_seconds.time():
            drafts = await self._write(workspace, request, settings["brand_voice"] or None, examples,
                                       on_preview, reviews, brief, StyleGuide.from_settings(settings))
        # In slot order: in an A/B test the two models' variants are mixed, unlabelled.
        written = sorted((slot, text, draft.model_version, writer.trial_id)
                         for writer, draft in drafts for slot, text in zip(writer.slots, draft.texts))
        refused = refusal_reason([check for _, draft in drafts for check in draft.checks])
        if not written:
            because = f" (most {refused})" if refused else ""
            raise UserError(
                f"None of the model's drafts passed the brief checks{because}; add a detail or two "
                "about the product and try again."
            )
        models = "+".join(dict.fromkeys(model for _, _, model, _ in written))
        generation_id, variants = await self.store.save_generation(
            workspace, origin.channel, origin.user, asdict(request), drafts[0][1].messages, models,
            [text for _, text, _, _ in written],
            authors=[(model, trial) for _, _, model, trial in written],
        )
        logger.info("generation %d: %d variants for %s by %s", generation_id, len(variants),
                    workspace, models)
        subject, facts = brief.headline()
        return CopyResult(generation_id, variants, models, requested=request.n,
                          from_reviews=with_used(reviews, (v.text for v in variants)) if reviews else None,
                          understood=Understood(subject, bool(brief.name), facts),
                          shortfall=refused if len(variants) < request.n else "")

    async def _write(self, workspace: str, request: CopyRequest, brand_voice: str | None,
                     examples: list[str], on_preview,
                     reviews: ReviewBrief | None = None, brief: Brief | None = None,
                     style: StyleGuide | None = None) -> list[tuple[Writer, Draft]]:
        """Each writer (one model, or both in an A/B test) writes its share of the variants, at
        the same time; previews land in the slots the variants will have."""
        writers = self.learning.writers(workspace, request.n)

        def previews(writer: Writer):
            if on_preview is None:
                return None
            return lambda index, text: on_preview(CopyPreview(writer.slots[index], text))

        drafts = await asyncio.gather(*(
            self.copywriter.write(replace(request, n=len(writer.slots)), brand_voice, examples,
                                  on_preview=previews(writer), model=writer.model, reviews=reviews,
                                  brief=brief, style=style)
            for writer in writers))
        return list(zip(writers, drafts))

    async def discard_unposted(self, origin: Origin, generation_id: int) -> None:
        """The adapter could not post a /copy: forget the variants it did not post, so nothing
        undelivered is approved by number or trained on."""
        removed = await self.store.discard_unposted(origin.workspace_key, generation_id)
        logger.info("generation %d: %d undelivered variants discarded", generation_id, removed)

    async def mark_posted(self, origin: Origin, variant_id: int, message: str) -> None:
        """Remember which chat message shows a variant, so a reaction on it can name it."""
        await self.store.mark_posted(origin.workspace_key, variant_id, origin.channel, message)

    # --- conversations: a request is a thread, replies in it are turns -----------------------

    async def open_thread(self, origin: Origin, generation_id: int, thread: Thread) -> int:
        """The adapter posted a request's variants in ``thread``: replies there are its turns.
        Returns the conversation's number."""
        return await self.conversations.store.open_thread(origin.workspace_key, thread.channel, thread.thread,
                                                   origin.user, generation_id)

    async def conversation(self, origin: Origin, thread: Thread | None, replied_to: str | None = None,
                           targets: tuple[int, ...] = ()) -> int | None:
        """The conversation a message in ``thread`` (or replying to ``replied_to``) belongs to;
        ``None`` when it is none of copybot's threads. A cheap indexed read: adapters ask it
        before they journal a thread reply, so a busy channel's other threads cost nothing."""
        return await self.conversations.find(origin, thread, replied_to, targets)

    async def refine(self, origin: Origin, conversation_id: int, turn: Refinement,
                     on_accepted: Callable[[int], Awaitable[None]] | None = None,
                     on_preview: Callable[[CopyPreview], None] | None = None) -> CopyResult:
        """Carry out one turn ("#2 shorter", "in Chinese", "again") with the thread as context;
        the new variants are stored as the turn. ``on_accepted`` gets how many are coming."""
        settings = await self.settings(origin)
        with self.metrics.generation_seconds.time():
            return await self.conversations.refine(origin, conversation_id, turn,
                                                   settings["brand_voice"] or None,
                                                   on_accepted=on_accepted, on_preview=on_preview,
                                                   style=StyleGuide.from_settings(settings))

    # --- feedback ------------------------------------------------------------------------------

    def _verdict_changed(self, workspace: str, feedback: Feedback) -> None:
        self.metrics.count_feedback(feedback.verdict.value, feedback.added)
        self.learning.verdict_changed(workspace)  # A/B tests and auto-rollback look, later

    async def record_feedback(self, feedback: Feedback,
                              event: InboundEvent | None = None) -> FeedbackOutcome | None:
        """Store an approval/rejection (or its withdrawal). Returns ``None`` for a message that is
        not one of our variants (reactions elsewhere are none of our business).

        ``event``: the journaled reaction this carries out; it is marked finished in the same
        transaction as the feedback, so a crash never leaves one without the other."""
        return await self.verdicts.record(feedback, event)

    async def posted_variant(self, origin: Origin, message: str) -> int | None:
        """The variant posted as ``message`` in ``origin``'s channel, or ``None``."""
        return await self.store.variant_for_message(origin.workspace_key, origin.channel, message)

    async def verdicts_on_variant(self, origin: Origin, message: str,
                                  reactions: list[tuple[InboundEvent, Feedback | None]]
                                  ) -> list[tuple[InboundEvent, Feedback]]:
        """Of journaled reactions on one message, those that are verdicts (``Feedback``) on a
        variant of ours; every other one is finished as ignored here."""
        return await self.verdicts.on_message(origin, message, reactions)

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
        clean = None if value is None else validate_setting(spec.name, value, await self.settings(origin))
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

    # --- learning: fine-tunes and model versions ------------------------------------------------

    def _require_admin(self, origin: Origin) -> str:
        if not self.is_admin(origin):
            raise UserError("Only admins can run fine-tunes and switch models; ask one "
                            "(admins are listed in COPYBOT_ADMINS).")
        return f"{origin.platform}:{origin.user}"

    async def finetune_now(self, origin: Origin) -> FinetuneStart:
        """Start a fine-tune of the origin's workspace now (or report the one under way, or why
        none can start)."""
        by = self._require_admin(origin)
        await self.store.ensure_workspace(origin.workspace_key, origin.platform)
        return await self.learning.start(origin.workspace_key, by=by)

    # Looking is for everyone: the team's approvals train the model, and which version writes their
    # copy and how the weekly fine-tune went is their feedback (the weekly report says it anyway).
    # Starting a fine-tune and switching models changes everyone's copy: admins only.

    async def finetune_status(self, origin: Origin) -> FinetuneStatus:
        return await self.learning.status(origin.workspace_key)

    async def models(self, origin: Origin) -> ModelList:
        return await self.learning.models(origin.workspace_key)

    async def use_model(self, origin: Origin, version: str) -> ModelSwitch:
        """Have the workspace's copy written by its ``version`` ("base" for the base model); no
        restart needed."""
        by = self._require_admin(origin)
        await self.store.ensure_workspace(origin.workspace_key, origin.platform)
        return await self.learning.use(origin.workspace_key, version, by=by)

    async def rollback_model(self, origin: Origin) -> ModelSwitch:
        """Go back to the model that wrote the workspace's copy before the current one."""
        return await self.learning.rollback(origin.workspace_key, by=self._require_admin(origin))

    # --- reviews -------------------------------------------------------------------------------

    async def summarize_reviews(self, origin: Origin, text: str | None = None, data: bytes | None = None,
                                filename: str | None = None, column: str | None = None) -> ReviewSummary:
        """``/reviews``: sentiment, themes and trend of pasted or uploaded reviews; stored."""
        return await self.reviews.summarize(origin, text, data, filename, column)

    # --- reports -------------------------------------------------------------------------------

    async def report(self, origin: Origin, last_week: bool = False) -> WeeklyReport:
        """``/report``: this week so far, or the last complete week, as data with its chart."""
        await self.store.ensure_workspace(origin.workspace_key, origin.platform)
        return await self.reports.on_demand(origin.workspace_key, last_week, datetime.now(UTC))

    async def post_due_reports(self) -> int:
        """Post the weekly reports that are due; the scheduler calls this every minute."""
        return await self.reports.post_due_reports(datetime.now(UTC))

    # --- housekeeping --------------------------------------------------------------------------

    async def housekeeping(self) -> int:
        """Prune old report charts (the journal prunes its own rows); the scheduler runs it daily.
        Returns how many charts went."""
        charts = await asyncio.to_thread(prune_charts, self.reports.charts_dir, CHARTS_KEPT)
        logger.info("housekeeping: deleted %d report charts", charts)
        return charts

    # --- export ----------------------------------------------------------------------------------

    async def export_approved(self, path: Path, workspace: str | None = None) -> int:
        """Write approved examples as chat-format JSONL (``{"messages": [...]}`` per line)."""
        return await write_approved(self.store, path, workspace)

    async def export_pairs(self, path: Path, workspace: str | None = None) -> int:
        """Write preference pairs (prompt, chosen, rejected; TRL's conversational format) as JSONL."""
        return await write_pairs(self.store, path, workspace)
