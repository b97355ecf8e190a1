"""Fine-tuning data: the generator's own prompt with the approved copy as the answer, duplicates out,
a train/validation split that depends on the variant ids alone."""

from datetime import datetime, timedelta, timezone

from engine import Engine
from engine.learning.dataset import Example, build_dataset, load_dataset, split
from tests.learning.conftest import ADMIN, OTHER_TEAM, approved_copy, seed

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)


def example(variant_id: int, text: str, hours: int = 0) -> Example:
    return Example(variant_id, [{"role": "user", "content": f"prompt {variant_id}"}], text,
                   T0 + timedelta(hours=hours))


def test_duplicates_are_removed_keeping_the_earliest_variant():
    approved = [example(7, "Fresh  coffee, every  morning."), example(3, "fresh coffee, every morning."),
                example(9, "Sleep better tonight.")]
    rejected = [example(11, "FRESH COFFEE, EVERY MORNING."), example(12, "Buy now!!!"), example(13, "buy now!!!")]
    dataset = build_dataset(approved, rejected, since=None)
    kept = sorted(e.variant_id for e in dataset.train + dataset.validation)
    assert kept == [3, 9]  # the later copies of the same text are gone
    # Rejected copy that was also approved elsewhere is not evidence against it.
    assert [e.variant_id for e in dataset.rejected] == [12]
    assert dataset.new_examples == 2


def test_split_is_fixed_by_the_ids_whatever_the_order_or_company():
    examples = [example(i, f"copy number {i}") for i in range(1, 201)]
    train, validation = split(examples)
    again_train, again_validation = split(list(reversed(examples)))
    assert {e.variant_id for e in validation} == {e.variant_id for e in again_validation}
    assert 20 <= len(validation) <= 60  # about a fifth
    # An example stays on its side when others are added.
    bigger_train, bigger_validation = split(examples + [example(i, f"copy {i}") for i in range(201, 400)])
    assert {e.variant_id for e in validation} <= {e.variant_id for e in bigger_validation}
    assert {e.variant_id for e in train} <= {e.variant_id for e in bigger_train}
    # Two examples: one of them is always held out, so a candidate can be checked.
    assert len(split(examples[:2])[1]) == 1


def test_only_approvals_after_the_active_model_are_trained_on():
    approved = [example(i, f"copy number {i}", hours=i) for i in range(1, 41)]
    since = T0 + timedelta(hours=30)
    dataset = build_dataset(approved, [], since=since, tried_until=T0 + timedelta(hours=35))
    assert dataset.new_examples == 10
    assert dataset.untried_examples == 5
    assert all(e.at > since for e in dataset.train)
    assert dataset.data_until == max(e.at for e in dataset.train)
    # Validation keeps older held-out examples too: a later run is checked on them again.
    assert any(e.at <= since for e in dataset.validation)


async def test_examples_come_from_the_store_in_chat_form_and_from_one_workspace_only(
        learning_config, tiny_backend):
    engine = await Engine.open(learning_config, backend=tiny_backend)
    try:
        await seed(engine, ["bamboo toothbrush", "cold brew coffee", "bamboo toothbrush"],
                   rejected=[("steel water bottle", "Bottle bottle bottle. Buy.")])
        # Another team's approvals and rejections are never this team's training data.
        await seed(engine, ["linen bed sheets"], rejected=[("wool winter socks", "Socks. Buy now.")],
                   origin=OTHER_TEAM)
        dataset = await load_dataset(engine.store, ADMIN.workspace_key, since=None)
        theirs = await load_dataset(engine.store, OTHER_TEAM.workspace_key, since=None)
    finally:
        await engine.close()
    assert [e.text for e in theirs.train + theirs.validation] == [approved_copy("linen bed sheets")]
    assert [e.text for e in theirs.rejected] == ["Socks. Buy now."]
    examples = dataset.train + dataset.validation
    assert sorted(e.text for e in examples) == sorted([approved_copy("bamboo toothbrush"),
                                                        approved_copy("cold brew coffee")])
    chat = examples[0].chat()
    # The prompt is exactly what the generator was given for that request.
    product = examples[0].request["product"]
    assert chat["messages"][-1]["role"] == "user" and product in chat["messages"][-1]["content"]
    assert chat["answer"] == approved_copy(product)
    assert [e.text for e in dataset.rejected] == ["Bottle bottle bottle. Buy."]
