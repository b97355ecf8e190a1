"""Live evidence decides which model writes a workspace's copy: a candidate that passed the offline
check goes live only by winning a blind A/B test, and an auto-promoted version that the team approves
clearly less than its predecessor is rolled back. Real fine-tunes of the tiny model; the "team" is
the test, deciding by which model wrote a variant (what the team's taste would track)."""

import random
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from scipy.stats import fisher_exact

from bot.rendering.learning import model_news_text
from engine import CopyRequest, Engine, EngineConfig, Feedback, Verdict
from engine.errors import UserError
from engine.generation.contract import ServedVersion
from engine.generation.serving import SwitchableGenerator
from engine.generation.workspace_models import Assignment, WorkspaceModels, Writer
from engine.learning.trials import Tally, decide_trial, p_better, rollback_p
from engine.reports.periods import Period
from tests.engine.learning.helpers import ADMIN, OTHER_TEAM, PRODUCTS, Channel, command, copy_model, seed, with_settings


async def authors(engine, generation_id: int) -> list[tuple[int, str]]:
    async with engine.store.db.execute(
            "SELECT id, model_version FROM variants WHERE generation_id = ? ORDER BY position",
            (generation_id,)) as cursor:
        return [(row["id"], row["model_version"]) async for row in cursor]


async def judge(engine, taste, requests: int, n: int = 2, origin=ADMIN, until=None) -> list[list[str]]:
    """/copy requests whose variants the team approves or rejects by ``taste(model)``: ``requests``
    of them, or with ``until``, as many as it takes (at most 20) for ``until()`` to hold (the tiny
    model sometimes writes nothing usable for one of the two). Returns who wrote each request's
    variants, in the order they were shown."""
    sets = []
    for i in range(20 if until else requests):
        if until is not None and until():
            break
        try:
            result = await engine.copy(origin, CopyRequest(product=f"{PRODUCTS[i % len(PRODUCTS)]} deluxe", n=n))
        except UserError:  # the tiny model wrote nothing usable this time: the next request
            continue
        written = await authors(engine, result.generation_id)
        sets.append([model for _, model in written])
        for variant_id, model in written:
            await engine.record_feedback(Feedback(origin, taste(model), variant_id=variant_id))
            await engine.learning.evidence.settled()  # each verdict looked at before the next
    return sets


def half_and_half():
    """A taste that approves every other variant of each model: no model is better."""
    seen = {}

    def taste(model):
        seen[model] = seen.get(model, 0) + 1
        return Verdict.APPROVE if seen[model] % 2 else Verdict.REJECT
    return taste


async def start_trial(config, channel):
    engine = await Engine.open(config)
    engine.set_publisher("console", channel.publish)
    await engine.change_setting(ADMIN, "report_channel", "marketing")
    await seed(engine, PRODUCTS)
    await command(engine, "/finetune now")
    outcome = await engine.learning.runner.wait()
    return engine, outcome


def test_the_decision_is_one_sided_fisher_at_a_fixed_horizon():
    assert decide_trial(Tally(3, 0), Tally(0, 3), needed=4, alpha=0.05) is None  # not yet
    clear = decide_trial(Tally(4, 0), Tally(0, 4), needed=4, alpha=0.05)
    assert clear.promote and clear.p_value == pytest.approx(1 / 70)
    even = decide_trial(Tally(2, 2), Tally(2, 2), needed=4, alpha=0.05)
    assert not even.promote and even.p_value > 0.5
    # Worse, or better by chance-sized amounts, never promotes.
    assert not decide_trial(Tally(10, 20), Tally(20, 10), needed=30, alpha=0.05).promote
    assert not decide_trial(Tally(17, 13), Tally(15, 15), needed=30, alpha=0.05).promote
    assert p_better(Tally(24, 6), Tally(12, 18)) < 0.01
    # Rollback wants a full window and a strict level.
    assert rollback_p(Tally(0, 5), Tally(6, 0), window=6, alpha=0.01) is None
    assert rollback_p(Tally(0, 6), Tally(6, 0), window=6, alpha=0.01) == pytest.approx(1 / 924)
    assert rollback_p(Tally(2, 4), Tally(4, 2), window=6, alpha=0.01) is None


def test_a_share_of_requests_mix_both_models_in_random_places():
    class Loaded:  # what a generator loaded with both versions says it serves
        version = "base"
        served = frozenset({"w/v1", "w/v2"})

    models = WorkspaceModels(EngineConfig(data_dir=Path("unused")), SwitchableGenerator(Loaded()),
                             rng=random.Random(7))
    incumbent = ServedVersion("w/v1", "v1", ())
    candidate = ServedVersion("w/v2", "v2", ())
    models.start_serving({"w": Assignment(incumbent, candidate, share=0.3, trial_id=9)})
    plans = [models.writers("w", 3) for _ in range(1000)]
    mixed = [plan for plan in plans if len(plan) == 2]
    assert 0.25 < len(mixed) / len(plans) < 0.35
    for plan in plans:
        assert sorted(slot for writer in plan for slot in writer.slots) == [0, 1, 2]
    assert all(plan == [Writer("w/v1", [0, 1, 2])] for plan in plans if len(plan) == 1)
    candidate_slots = [tuple(plan[0].slots) for plan in mixed]
    assert all(plan[0].model == "w/v2" and plan[0].trial_id == 9 for plan in mixed)
    # One or two of three, anywhere in the set.
    assert {len(slots) for slots in candidate_slots} == {1, 2}
    assert {slot for slots in candidate_slots for slot in slots} == {0, 1, 2}
    assert len(set(candidate_slots)) == 6
    # Outside a test the active model writes everything.
    assert models.writers("other", 2) == [Writer(None, [0, 1])]


async def test_a_candidate_the_team_prefers_wins_its_blind_test_and_goes_live(learning_config):
    config = with_settings(learning_config, ab_share=1.0, ab_verdicts=4)
    channel = Channel()
    engine, outcome = await start_trial(config, channel)
    base = engine.generator.version
    try:
        assert outcome.status == "trial", outcome.message
        [started] = channel.posts
        assert "v1 passed the offline check" in started.text and "Once each has 4" in started.text
        listing = await command(engine, "/models")
        assert listing.startswith("Active: base") and "v1  trial" in listing
        assert "v1 is in a blind A/B test on 100% of requests: 0 and 0 of the 4 verdicts" in listing
        # Another workspace's copy is untouched by our test.
        assert await copy_model(engine, OTHER_TEAM) == base
        # The next fine-tune waits for the result.
        assert "still in its A/B test" in await command(engine, "/finetune now")
    finally:
        await engine.close()

    engine = await Engine.open(config)  # the test survives a restart
    engine.set_publisher("console", channel.publish)
    try:
        sets = await judge(engine, lambda model: Verdict.APPROVE if model == "v1" else Verdict.REJECT,
                           requests=0, until=lambda: len(channel.posts) > 1)
        # Each set mixed both models (share 1.0, one variant each; the tiny model sometimes
        # writes nothing usable for one of them).
        assert all(set(s) <= {"v1", base} for s in sets)
        assert [s for s in sets if len(s) == 2] and all(len(set(s)) == len(s) for s in sets)
        decided = channel.posts[-1].text
        assert decided.startswith("v1 won its blind A/B test against the base model")
        # Decided at the verdict that gave the model behind its 4th (each verdict is looked at
        # before the next); the one ahead may have more (the tiny model sometimes writes nothing
        # usable for the other in a request).
        won = re.search(r"v1: (\d+) of (\d+) approved \(100%\)", decided)
        lost = re.search(r": 0 of (\d+) approved \(0%\)", decided)
        assert won and lost and won[1] == won[2], decided
        approvals, rejections = int(won[1]), int(lost[1])
        assert min(approvals, rejections) == 4 and max(approvals, rejections) >= 4
        # The p-value a reviewer would compute: one-sided Fisher on the 2x2 table.
        expected_p = fisher_exact([[approvals, 0], [0, rejections]], alternative="greater").pvalue
        assert f"p = {expected_p:.3f}" in decided
        assert await copy_model(engine) == "v1"
        assert (await command(engine, "/models")).startswith("Active: v1")
        now = datetime.now(UTC)
        news = await engine.learning.model_news(ADMIN.workspace_key, Period(now - timedelta(days=7), now))
        line = model_news_text(news)
        assert "went into a blind A/B test against the base model" in line
        assert line.endswith(f"v1 won its A/B test against the base model: {approvals} of {approvals} approved "
                             f"(100%) vs 0 of {rejections} approved (0%) (p = {expected_p:.3f}).")
        assert engine.generator.served == {"console:local/v1"}
    finally:
        await engine.close()


async def test_a_candidate_that_is_not_clearly_better_is_dropped(learning_config):
    config = with_settings(learning_config, ab_share=1.0, ab_verdicts=4)
    channel = Channel()
    engine, outcome = await start_trial(config, channel)
    base = engine.generator.version
    try:
        assert outcome.status == "trial", outcome.message
        await judge(engine, half_and_half(), requests=0, until=lambda: len(channel.posts) > 1)
        decided = channel.posts[-1].text
        assert decided.startswith("v1 did not clearly beat the base model") and "was dropped" in decided
        assert await copy_model(engine) == base
        assert "v1  dropped" in await command(engine, "/models")
        assert engine.generator.served == frozenset()
    finally:
        await engine.close()


async def test_an_admin_switching_models_ends_the_test(learning_config):
    config = with_settings(learning_config, ab_share=1.0, ab_verdicts=4)
    engine, outcome = await start_trial(config, Channel())
    base = engine.generator.version
    try:
        assert outcome.status == "trial", outcome.message
        assert "already active" in await command(engine, "/models use base")
        assert "v1 now writes" in await command(engine, "/models use v1")
        assert await copy_model(engine) == "v1"
        async with engine.store.db.execute("SELECT outcome FROM model_trials") as cursor:
            assert [row["outcome"] for row in await cursor.fetchall()] == ["cancelled"]
        # Its variants are no longer mixed with the base model's.
        sets = await judge(engine, lambda model: Verdict.APPROVE, requests=2)
        assert all(base not in s for s in sets)
    finally:
        await engine.close()


async def test_an_auto_promoted_version_the_team_rejects_is_rolled_back(learning_config):
    config = with_settings(learning_config, rollback_window=6)
    channel = Channel()
    engine = await Engine.open(config)
    base = engine.generator.version
    try:
        engine.set_publisher("console", channel.publish)
        await engine.change_setting(ADMIN, "report_channel", "marketing")
        await seed(engine, PRODUCTS)  # the base model's copy, all approved
        await command(engine, "/finetune now")
        assert (await engine.learning.runner.wait()).status == "promoted"
        rejected = []

        def reject(model):
            rejected.append(model)
            return Verdict.REJECT

        await judge(engine, reject, requests=0, n=1, until=lambda: len(rejected) >= 5)
        assert len(channel.posts) == 1  # 5 verdicts: the window (6) is not full
        await judge(engine, reject, requests=0, n=1, until=lambda: len(rejected) >= 6)
        text = channel.posts[-1].text
        assert text.startswith("Rolled back v1") and "v1: 0 of 6 approved (0%)" in text
        assert "6 of 6 approved (100%)" in text and "p = 0.001" in text
        assert await copy_model(engine) == base
    finally:
        await engine.close()
