"""The learning loop as the engine uses it: start and watch fine-tunes, list and switch model versions.

Every model switch (a promotion, ``/models use``, ``/models rollback``) loads the new model first,
then records it, then hands it to the generator, under one lock: requests already in a batch finish
on the old model, the next batch uses the new one, and a model that fails to load never goes live.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from engine.config import EngineConfig
from engine.errors import UserError
from engine.learning.dataset import load_dataset
from engine.learning.runner import FinetuneRunner, RunResult
from engine.learning.status import FinetuneStart, FinetuneStatus, ModelList, ModelSwitch, RunRecord
from engine.learning.versions import VersionStore
from engine.serving import base_name
from engine.prompts import PromptBook
from engine.store import Store, parse_utc_text, utc_text
from engine.types import Announcement

logger = logging.getLogger(__name__)

SCHEDULE_TRIGGER = "schedule"


class Learning:
    def __init__(self, config: EngineConfig, store: Store, prompts: PromptBook, generator,
                 announce: Callable[[Announcement], Awaitable[bool]],
                 count_run: Callable[[str], None] | None = None) -> None:
        self.config = config
        self.store = store
        self.generator = generator
        self.base = base_name(config)
        self.versions = VersionStore(store, config.data_dir)
        self._announce = announce
        self._count_run = count_run
        self._switch_lock = asyncio.Lock()
        self.runner = FinetuneRunner(config, store, prompts, self.versions, self._switching,
                                     generator.switch, self._finished)
        # When the next scheduled run is; the engine sets it once the scheduler has the job.
        self.next_run: Callable[[], datetime | None] = lambda: None

    @property
    def local(self) -> bool:
        return self.config.backend == "local"

    def _require_local(self) -> None:
        if not self.local:
            raise UserError("Fine-tunes and model versions are for the local model; with "
                            "COPYBOT_BACKEND=openai, fine-tune on the model server (copybot export "
                            "writes the approved examples).")

    async def _switching(self, switch: Callable[[], Awaitable[object]]) -> object:
        async with self._switch_lock:
            return await switch()

    async def recover(self) -> None:
        await self.runner.recover()

    async def close(self) -> None:
        await self.runner.close()

    # --- fine-tunes ---------------------------------------------------------------------------------

    async def start(self, by: str) -> FinetuneStart:
        self._require_local()
        return FinetuneStart(await self.runner.start(by))

    async def run_scheduled(self) -> RunResult | None:
        """The weekly job: a whole run (or the one already under way), awaited."""
        if not self.local:
            logger.info("scheduled fine-tune skipped: the generator is not the local model")
            return None
        return await self.runner.run(SCHEDULE_TRIGGER)

    async def status(self) -> FinetuneStatus:
        self._require_local()
        active = await self.versions.active(self.base)
        dataset = await load_dataset(self.store, active.data_until if active else None)
        async with self.store.db.execute("SELECT * FROM finetune_runs ORDER BY id DESC LIMIT 1") as cursor:
            row = await cursor.fetchone()
        last = None if row is None else RunRecord(
            row["id"], row["trigger"], row["status"], row["message"], parse_utc_text(row["started_at"]),
            parse_utc_text(row["finished_at"]) if row["finished_at"] else None)
        return FinetuneStatus(
            running=self.runner.progress if self.runner.running else None, last_run=last,
            active=active.name if active else f"base ({self.base})",
            new_examples=dataset.new_examples, needed=self.config.finetune_min_examples,
            next_run=self.next_run(), enabled=self.config.finetune_cron.strip().lower() != "off")

    async def _finished(self, result: RunResult, trigger: str) -> None:
        if self._count_run is not None:
            self._count_run(result.status)
        # A person who asked sees a skip in their reply; the channel hears about scheduled skips.
        if result.status == "skipped" and trigger != SCHEDULE_TRIGGER:
            return
        await self.announce_text(result.message)

    async def announce_text(self, text: str) -> int:
        """Post ``text`` to every workspace's report channel; returns how many were posted."""
        async with self.store.db.execute(
            "SELECT workspace_id, value FROM settings WHERE key = 'report_channel' AND value != ''"
        ) as cursor:
            targets = [(row["workspace_id"], row["value"]) async for row in cursor]
        posted = 0
        for workspace, channel in targets:
            posted += bool(await self._announce(Announcement(workspace, channel, text)))
        return posted

    # --- model versions -------------------------------------------------------------------------------

    async def models(self) -> ModelList:
        self._require_local()
        return ModelList(self.base, await self.versions.active(self.base),
                         await self.versions.activation(self.base), await self.versions.all(self.base))

    async def use(self, name: str, by: str) -> ModelSwitch:
        self._require_local()
        wanted = name.strip().lower()
        async with self._switch_lock:
            if wanted in ("base", self.base.lower()):
                target = None
            else:
                target = await self.versions.get(self.base, wanted)
                if target is None:
                    raise UserError(f"There is no model version {name[:40]!r}; /models lists them.")
            active = await self.versions.active(self.base)
            if (active.id if active else None) == (target.id if target else None):
                return ModelSwitch(target, self.base, "It was already active.")
            generator = await self.versions.load_generator(self.config, target)
            await self.versions.activate(self.base, target, by)
            self.generator.switch(generator)
        note = ("Its evaluation had not found it better; /models rollback goes back."
                if target is not None and target.status == "rejected" else "")
        logger.info("%s switched the model to %s", by, target.name if target else "the base model")
        return ModelSwitch(target, self.base, note)

    async def rollback(self, by: str) -> ModelSwitch:
        self._require_local()
        async with self._switch_lock:
            activation, target = await self.versions.rollback_target(self.base)
            generator = await self.versions.load_generator(self.config, target)
            await self.versions.undo_activation(activation, by)
            self.generator.switch(generator)
        logger.info("%s rolled the model back to %s", by, target.name if target else "the base model")
        return ModelSwitch(target, self.base, rolled_back=True)

    # --- for the weekly report ------------------------------------------------------------------------

    async def finetune_line(self, workspace: str, period) -> str | None:
        """One line on the last fine-tune that finished in ``period`` (None: there was none)."""
        async with self.store.db.execute(
            """SELECT r.status, m.name, m.train_examples, m.metrics, p.name AS parent
               FROM finetune_runs r JOIN model_versions m ON m.id = r.version_id
               LEFT JOIN model_versions p ON p.id = m.parent_id
               WHERE r.finished_at >= ? AND r.finished_at < ? ORDER BY r.id DESC LIMIT 1""",
            (utc_text(period.start), utc_text(period.end)),
        ) as cursor:
            row = await cursor.fetchone()
        if row is None:
            return None
        metrics = json.loads(row["metrics"])
        before, after = metrics["active"]["approved_nll"], metrics["candidate"]["approved_nll"]
        change = f"approved-copy NLL {before:.2f} → {after:.2f} ({(after - before) / before:+.1%})"
        if row["status"] == "promoted":
            return f"{row['name']} went live, trained on {row['train_examples']} approved examples; {change}."
        return f"candidate {row['name']} was not promoted ({change}); {row['parent'] or 'the base model'} stayed."
