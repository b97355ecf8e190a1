"""Real fine-tunes of the tiny model in a real training process: promotion and hot swap, a candidate
that is not better, the admin commands, restarts, and a training process killed half-way."""

import asyncio
import os
import signal
from datetime import UTC, datetime, timedelta

import pytest

from bot.commands import parse_line
from bot.dispatch import execute
from bot.rendering.learning import finetune_start_text, model_news_text
from engine import CopyRequest, Engine, Feedback, Origin, UserError, Verdict
from engine.generation.transformers_model import load_with_adapters
from engine.learning.dataset import load_dataset
from engine.learning.evaluate import mean_nll
from engine.learning.tokens import encode
from engine.reports.periods import Period
from engine.store import utc_text
from tests.engine.learning.helpers import (
    ADMIN,
    OTHER_TEAM,
    PRODUCTS,
    Channel,
    approved_copy,
    command,
    copy_model,
    seed,
    wait_until,
    with_settings,
)

SLACK_USER = Origin(platform="slack", workspace="T1", channel="C1", user="UNOBODY")


async def table(engine, name):
    async with engine.store.db.execute(f"SELECT * FROM {name} ORDER BY id") as cursor:
        return [dict(row) for row in await cursor.fetchall()]


def nll_on(model, tokenizer, examples) -> float:
    encoded = [encode(tokenizer, e.messages, e.text) for e in examples]
    return mean_nll(model, encoded, tokenizer.pad_token_id)


async def test_changing_the_model_is_for_admins_and_looking_is_for_everyone(learning_config,
                                                                            tiny_backend):
    engine = await Engine.open(learning_config, backend=tiny_backend)
    try:
        for line in ("/finetune now", "/models use base", "/models rollback"):
            with pytest.raises(UserError, match="Only admins"):
                await command(engine, line, SLACK_USER)
        # Anyone may see which model writes the copy and how fine-tuning goes, privately.
        for line, expected in (("/finetune status", "No fine-tune is running"),
                               ("/models", "Active: base")):
            reply = await execute(engine, SLACK_USER, parse_line(line))
            assert reply.ephemeral and reply.text.startswith(expected)
        admin = Origin(platform="slack", workspace="T1", channel="C1", user="UADMIN")
        assert "No fine-tune is running" in await command(engine, "/finetune status", admin)
    finally:
        await engine.close()


async def test_too_few_new_examples_says_how_many_are_missing(learning_config):
    engine = await Engine.open(learning_config)
    try:
        await seed(engine, PRODUCTS[:4])
        reply = await command(engine, "/finetune now")
        assert "4 new approved examples" in reply and "approve 2 more" in reply
        assert await table(engine, "model_versions") == []
        status = await command(engine, "/finetune status")
        assert "4 (6 needed" in status
    finally:
        await engine.close()


async def test_fine_tune_goes_live_without_restart_and_survives_one(learning_config):
    channel = Channel()
    engine = await Engine.open(learning_config)
    base = engine.generator.version
    try:
        engine.set_publisher("console", channel.publish)
        await engine.change_setting(ADMIN, "report_channel", "marketing")
        await seed(engine, PRODUCTS, rejected=[("wool winter socks", "Socks socks socks!!! Click here")])
        dataset = await load_dataset(engine.store, ADMIN.workspace_key, since=None)

        reply = await command(engine, "/finetune now")
        assert reply.startswith("Started fine-tune run 1")
        # /copy keeps being answered while the training process runs.
        result = await engine.copy(ADMIN, CopyRequest(product="hand-thrown coffee mug", n=1))
        assert result.variants
        outcome = await engine.learning.runner.wait()
        assert outcome.status == "promoted", outcome.message
        # The workspace's copy is written by the new version: no restart.
        assert engine.learning.model_name(ADMIN.workspace_key) == "v1"
        assert (await engine.copy(ADMIN, CopyRequest(product="desk lamp", n=1))).model_version == "v1"

        [version] = await table(engine, "model_versions")
        assert version["parent_id"] is None and version["status"] == "promoted"
        assert version["train_examples"] == len(dataset.train)
        assert version["valid_examples"] == len(dataset.validation)
        # The announcement reached the report channel, with the numbers.
        [post] = channel.posts
        assert post.channel == "marketing" and "v1 now writes your copy" in post.text and "NLL" in post.text

        # Training lowered the loss on the training examples.
        base_model, tokenizer = load_with_adapters(learning_config.model, [])
        # The transformers worker serving v1 to this workspace.
        tuned = engine.generator.current.versions["console:local/v1"].backend.model
        assert nll_on(tuned, tokenizer, dataset.train) < 0.95 * nll_on(base_model, tokenizer, dataset.train)

        listing = await command(engine, "/models")
        assert listing.startswith("Active: v1") and "v1  active, from base" in listing
        assert "Last run 1" in await command(engine, "/finetune status")
        # The weekly report's line on what the last fine-tune changed.
        now = datetime.now(UTC)
        news = await engine.learning.model_news(ADMIN.workspace_key, Period(now - timedelta(days=7), now))
        line = model_news_text(news)
        assert line.startswith(f"v1 went live, trained on {len(dataset.train)} approved examples")
        assert await engine.learning.model_news(
            ADMIN.workspace_key, Period(now - timedelta(days=14), now - timedelta(days=7))) is None
    finally:
        await engine.close()

    # After a restart the same version is active.
    engine = await Engine.open(learning_config)
    try:
        assert await copy_model(engine) == "v1"
        assert "Rolled back: the base model" in await command(engine, "/models rollback")
        assert await copy_model(engine) == base
        with pytest.raises(UserError, match="nothing older"):
            await command(engine, "/models rollback")
        assert "v1 now writes" in await command(engine, "/models use v1")
        assert await copy_model(engine) == "v1"
        await command(engine, "/models use base")
    finally:
        await engine.close()
    engine = await Engine.open(learning_config)
    try:
        assert await copy_model(engine) == base
    finally:
        await engine.close()


async def test_killed_training_changes_nothing_and_the_next_run_starts_clean(learning_config):
    long_run = with_settings(learning_config, finetune_epochs=10_000)
    engine = await Engine.open(long_run)
    base = engine.generator.version
    try:
        await seed(engine, PRODUCTS)
        # Two triggers at once (an admin and the weekly schedule) start one run.
        first, second = await asyncio.gather(engine.learning.start(ADMIN.workspace_key, "console:owner"),
                                             engine.learning.start(ADMIN.workspace_key, "schedule"))
        started = [s for s in (first, second) if s.outcome.started]
        assert len(started) == 1
        assert "already running" in finetune_start_text(first if second is started[0] else second)
        progress = engine.learning.runner.progress
        await wait_until(lambda: progress.step >= 1, timeout=180, what="the first training step")
        assert "step" in await command(engine, "/finetune status")
        # Another workspace's admin waits for the machine; nothing of this run is shown to them.
        assert "training another workspace's model" in await command(engine, "/finetune now", OTHER_TEAM)
        theirs = await command(engine, "/finetune status", OTHER_TEAM)
        assert "No fine-tune of this workspace is running" in theirs and "step" not in theirs
        # The bot answers /copy while the training process works.
        assert (await engine.copy(ADMIN, CopyRequest(product="desk lamp", n=1))).variants

        os.kill(progress.pid, signal.SIGKILL)
        outcome = await engine.learning.runner.wait()
        assert outcome.status == "failed" and "killed by SIGKILL" in outcome.message
        assert await copy_model(engine) == base
        assert await table(engine, "model_versions") == []
        assert await table(engine, "model_activations") == []
        runs = await table(engine, "finetune_runs")
        assert [r["status"] for r in runs] == ["failed"]
        data = long_run.data_dir
        assert not any((data / "finetune-work").glob("*")) and not any((data / "versions").glob("*"))
    finally:
        await engine.close()

    # Restarted: the next run starts clean and runs to the end. One training step (the time limit
    # is reached at once) cannot make approved copy 99 % more likely: the candidate is kept, unused.
    channel = Channel()
    engine = await Engine.open(with_settings(learning_config, finetune_margin=0.99, finetune_time_limit=0))
    try:
        engine.set_publisher("console", channel.publish)
        await engine.change_setting(ADMIN, "report_channel", "marketing")
        outcome = await engine.learning.runner.run("schedule", ADMIN.workspace_key)
        assert outcome.status == "rejected", outcome.message
        assert await copy_model(engine) == base
        [version] = await table(engine, "model_versions")
        assert version["name"] == "v1" and version["status"] == "rejected"
        assert await table(engine, "model_activations") == []
        [post] = channel.posts
        assert "v1 on" in post.text and "not promoted" in post.text and "needs +99.0%" in post.text
        assert "time limit" in post.text
        listing = await command(engine, "/models")
        assert listing.startswith("Active: base") and "v1  rejected" in listing
        # Nothing new was approved since that candidate: another trigger does not train again.
        assert "nothing was approved since the last candidate" in await command(engine, "/finetune now")
        # An admin may still choose it by hand.
        assert "had not found it better" in await command(engine, "/models use v1")
        assert await copy_model(engine) == "v1"
    finally:
        await engine.close()


async def test_each_workspace_learns_from_its_own_team_and_keeps_its_model_to_itself(learning_config):
    channel = Channel()
    engine = await Engine.open(learning_config)
    base = engine.generator.version
    ours, theirs = ADMIN.workspace_key, OTHER_TEAM.workspace_key
    try:
        engine.set_publisher("console", channel.publish)
        engine.set_publisher("slack", channel.publish)
        await engine.change_setting(ADMIN, "report_channel", "marketing")
        await engine.change_setting(OTHER_TEAM, "report_channel", "growth")
        await seed(engine, PRODUCTS)
        await seed(engine, PRODUCTS[:3], origin=OTHER_TEAM)
        our_data = await load_dataset(engine.store, ours, since=None)

        assert (await command(engine, "/finetune now")).startswith("Started fine-tune run")
        outcome = await engine.learning.runner.wait()
        assert outcome.status == "promoted", outcome.message
        # Trained on our approvals alone (the other team's three would make more examples).
        assert outcome.version.train_examples == len(our_data.train)
        # Our copy is written by our v1, theirs by the base model; only our channel heard of it.
        assert await copy_model(engine) == "v1"
        assert await copy_model(engine, OTHER_TEAM) == base
        assert [(p.workspace, p.channel) for p in channel.posts] == [(ours, "marketing")]
        # They see none of it: not in /models, not by name, not in their weekly report's line.
        listing = await command(engine, "/models", OTHER_TEAM)
        assert listing.startswith("Active: base") and not any(
            line.startswith("v1") for line in listing.splitlines())
        with pytest.raises(UserError, match="no model version 'v1'"):
            await command(engine, "/models use v1", OTHER_TEAM)
        with pytest.raises(UserError, match="nothing older"):
            await command(engine, "/models rollback", OTHER_TEAM)
        status = await command(engine, "/finetune status", OTHER_TEAM)
        assert "Active model: base" in status and "since it: 3 (6 needed" in status
        assert "Last run" not in status
        now = datetime.now(UTC)
        assert await engine.learning.model_news(theirs, Period(now - timedelta(days=7), now)) is None

        # Their own fine-tune, on their own data: their own v1, served beside ours.
        await seed(engine, PRODUCTS[3:], origin=OTHER_TEAM)
        assert (await command(engine, "/finetune now", OTHER_TEAM)).startswith("Started fine-tune run")
        outcome = await engine.learning.runner.wait()
        assert outcome.status == "promoted", outcome.message
        assert outcome.version.name == "v1" and outcome.version.workspace == theirs
        assert engine.generator.served == {f"{ours}/v1", f"{theirs}/v1"}
        assert await copy_model(engine) == "v1" and await copy_model(engine, OTHER_TEAM) == "v1"
        assert [(p.workspace, p.channel) for p in channel.posts[1:]] == [(theirs, "growth")]
        # Rolling theirs back leaves ours alone.
        assert "Rolled back: the base model" in await command(engine, "/models rollback", OTHER_TEAM)
        assert await copy_model(engine, OTHER_TEAM) == base and await copy_model(engine) == "v1"
    finally:
        await engine.close()

    engine = await Engine.open(learning_config)  # each workspace keeps its model across a restart
    try:
        assert await copy_model(engine) == "v1" and await copy_model(engine, OTHER_TEAM) == base
        assert engine.generator.served == {f"{ours}/v1"}
    finally:
        await engine.close()


async def test_weekly_run_missed_while_down_runs_once_at_start_up(learning_config, tiny_backend):
    config = with_settings(learning_config, finetune_cron="0 3 * * 1", timezone="Europe/Berlin")
    engine = await Engine.open(config, backend=tiny_backend)
    try:
        await seed(engine, PRODUCTS[:2])
        await engine.change_setting(ADMIN, "report_channel", "marketing")
        async with engine.store.transaction() as db:  # the last weekly run was three weeks ago
            await db.execute("INSERT INTO scheduled_jobs(name, last_finished_at) VALUES ('finetune', ?)",
                             (utc_text(datetime.now(UTC) - timedelta(weeks=3)),))
        channel = Channel()
        engine.set_publisher("console", channel.publish)
        await engine.start_scheduler()
        await wait_until(lambda: any("Fine-tune" in p.text for p in channel.posts), what="the catch-up run")
        finetune_posts = [p.text for p in channel.posts if "Fine-tune" in p.text]
        assert finetune_posts == ["Fine-tune skipped: 2 new approved examples since the base model, "
                                  "6 needed — approve 4 more."]
        status = await command(engine, "/finetune status")
        assert "Next scheduled run: " in status and "(schedule" in status
    finally:
        await engine.close()


async def seed_choices(engine) -> None:
    """For each product, one request whose house-style variant the team approved and whose shouty
    variant it rejected."""
    await engine.store.ensure_workspace(ADMIN.workspace_key, ADMIN.platform)
    for product in PRODUCTS:
        request = CopyRequest(product=product, n=2)
        _, (chosen, rejected) = await engine.store.save_generation(
            ADMIN.workspace_key, ADMIN.channel, ADMIN.user, {"product": product},
            engine.prompts.messages(request), engine.generator.version,
            [approved_copy(product), f"{product.upper()}!!! CLICK NOW!!! LIMITED!!!"])
        for variant in (chosen, rejected):  # delivered: undelivered copy is never learned from
            await engine.mark_posted(ADMIN, variant.id, f"message-{variant.id}")
        await engine.record_feedback(Feedback(ADMIN, Verdict.APPROVE, variant_id=chosen.id))
        await engine.record_feedback(Feedback(ADMIN, Verdict.REJECT, variant_id=rejected.id))


async def pair_margin_after_fine_tune(config):
    engine = await Engine.open(config)
    try:
        await seed_choices(engine)
        dataset = await load_dataset(engine.store, ADMIN.workspace_key, since=None)
        await command(engine, "/finetune now")
        outcome = await engine.learning.runner.wait()
        assert outcome.status == "promoted", outcome.message
        return outcome, dataset
    finally:
        await engine.close()


async def test_the_teams_choices_between_variants_train_the_model_too(learning_config, tmp_path):
    """An approved and a rejected variant of one request are a preference pair: the run learns from
    them (DPO beside the approved copy) and says how many it used."""
    outcome, dataset = await pair_margin_after_fine_tune(learning_config)
    pairs = outcome.version.metrics["preference_pairs"]
    assert pairs == len(dataset.train) and pairs >= 5
    assert (f"{len(dataset.train)} approved examples and {pairs} preference pairs ({pairs} from one "
            f"request)") in outcome.message
    margin = outcome.version.metrics["pair_margin"]
    # The same data with preference learning off: approvals alone move the margin less.
    approvals_only, _ = await pair_margin_after_fine_tune(
        with_settings(learning_config, data_dir=tmp_path / "approvals-only", finetune_dpo_beta=0.0))
    assert approvals_only.version.metrics["preference_pairs"] == 0
    assert "pairs" not in approvals_only.message
    # Measured on the same pairs: the candidate trained on them prefers the approved answer (its
    # log-probability lead over the rejected one) clearly more than the one trained on approvals.
    without = approvals_only.version.metrics["pair_margin"]
    assert without["active"] == pytest.approx(margin["active"])
    assert margin["candidate"] - margin["active"] > 1.1 * (without["candidate"] - without["active"])
