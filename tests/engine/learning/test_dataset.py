"""Fine-tuning data: the generator's own prompt with the approved copy as the answer, duplicates out,
a train/validation split that depends on the variant ids alone."""

import random
from datetime import UTC, datetime, timedelta

from engine import Engine
from engine.learning.dataset import Example, Pair, build_dataset, load_dataset, split
from tests.engine.learning.helpers import ADMIN, OTHER_TEAM, approved_copy, seed

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


VOCAB = ("fresh bold bright calm quick smart soft warm cool clean crisp light deep pure rich wild "
         "coffee socks lamp kettle shoes bottle sheets pot brush backpack morning night city trail "
         "today now yours made built loved").split()


def distinct_copy(seed: int) -> str:
    """Copy that shares little with any other seed's (the guard drops near-duplicates)."""
    return " ".join(random.Random(seed).sample(VOCAB, 7)) + "."


def example(variant_id: int, text: str, hours: int = 0, approvers=("alice",), generation=None) -> Example:
    return Example(variant_id, [{"role": "user", "content": f"prompt {variant_id}"}], text,
                   T0 + timedelta(hours=hours), generation_id=generation, approvers=tuple(approvers))


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


def test_the_guard_drops_near_duplicates_off_brief_copy_and_one_persons_excess():
    def approved_by(i, text, person, product="cold brew coffee"):
        e = example(i, text, hours=i, approvers=(person,))
        return Example(e.variant_id, e.messages, e.text, e.at, {"product": product}, None, e.approvers)

    team = [approved_by(i, f"{distinct_copy(i)} Cold brew coffee, smooth as ever.", "bob")
            for i in range(1, 5)]
    alice = [approved_by(i, f"{distinct_copy(i)} Cold brew coffee for slow mornings.", "alice")
             for i in range(10, 22)]
    near = approved_by(30, team[0].text.replace("smooth as ever.", "smooth as ever!"), "bob")
    invented = approved_by(31, "Cold brew coffee now 70% off, only 3 left!", "bob")  # numbers not in the brief
    other_product = approved_by(32, "This smartwatch tracks every step you take.", "bob")
    dataset = build_dataset(team + alice + [near, invented, other_product], [], since=None,
                            validation_share=0.0)
    texts = {e.text for e in dataset.train}
    assert near.text not in texts and invented.text not in texts and other_product.text not in texts
    assert dataset.dropped["near-duplicate"] == 1 and dataset.dropped["off-brief"] == 2
    # Alice approved 12 of 16: she keeps as many as everyone else together, her newest.
    held_out = {e.variant_id for e in dataset.validation}  # one example is always held out
    hers = [e.variant_id for e in alice if e.variant_id not in held_out]
    others = [e for e in dataset.train if e.approvers != ("alice",)]
    mine = sorted(e.variant_id for e in dataset.train if e.approvers == ("alice",))
    assert len(others) >= 3 and mine == hers[-len(others):]
    assert dataset.dropped["one person"] == len(hers) - len(others)
    assert dataset.describe_guard() == (f"dropped 1 near-duplicates, 2 failing the brief checks, "
                                        f"{len(hers) - len(others)} over one person's half share")
    # A team of one is not balanced against itself, and says so.
    solo = build_dataset(alice, [], since=None, validation_share=0.0)
    assert len(solo.train) == 11 and solo.one_person  # one of 12 held out
    assert solo.describe_guard() == "every approval is one person's"


def test_preference_pairs_train_only_when_their_approved_answer_is_on_the_training_side():
    approved = [example(i, distinct_copy(i), generation=i) for i in range(1, 11)]
    preferences = [Pair([{"role": "user", "content": f"prompt {i}"}], distinct_copy(i), "Buy!!!", i)
                   for i in range(1, 11)]
    dataset = build_dataset(approved, [], since=None, preferences=preferences)
    held_out = {e.variant_id for e in dataset.validation}
    assert held_out and {p.chosen_id for p in dataset.pairs} == {e.variant_id for e in dataset.train}
    assert not {p.chosen_id for p in dataset.pairs} & held_out


def test_split_is_fixed_by_the_ids_whatever_the_order_or_company():
    examples = [example(i, distinct_copy(i)) for i in range(1, 201)]
    train, validation = split(examples)
    again_train, again_validation = split(list(reversed(examples)))
    assert {e.variant_id for e in validation} == {e.variant_id for e in again_validation}
    assert 20 <= len(validation) <= 60  # about a fifth
    # An example stays on its side when others are added.
    bigger_train, bigger_validation = split(examples + [example(i, distinct_copy(i)) for i in range(201, 400)])
    assert {e.variant_id for e in validation} <= {e.variant_id for e in bigger_validation}
    assert {e.variant_id for e in train} <= {e.variant_id for e in bigger_train}
    # Two examples: one of them is always held out, so a candidate can be checked.
    assert len(split(examples[:2])[1]) == 1


def test_only_approvals_after_the_active_model_are_trained_on():
    approved = [example(i, distinct_copy(i), hours=i) for i in range(1, 41)]
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
