"""The rule that decides whether a candidate goes live, on planted numbers."""

import math

from engine.learning.evaluate import Scores, decide

ACTIVE = Scores(approved_nll=2.50, rejected_nll=2.80, clean_rate=0.75)


def test_clearly_better_candidate_is_promoted():
    decision = decide(ACTIVE, Scores(approved_nll=2.20, rejected_nll=2.70, clean_rate=0.75), margin=0.05)
    assert decision.promote
    assert math.isclose(decision.improvement, 0.12)
    assert all(reason.endswith(": ok") for reason in decision.reasons)


def test_improvement_below_the_margin_is_not_enough():
    decision = decide(ACTIVE, Scores(approved_nll=2.45, rejected_nll=2.90, clean_rate=0.75), margin=0.05)
    assert not decision.promote
    assert "not enough" in decision.reasons[0] and "needs +5.0%" in decision.reasons[0]
    # The same numbers pass with a smaller margin.
    assert decide(ACTIVE, Scores(2.45, 2.90, 0.75), margin=0.01).promote


def test_a_worse_candidate_is_never_promoted_even_with_a_zero_margin():
    assert not decide(ACTIVE, Scores(2.60, 3.00, 0.75), margin=0.0).promote


def test_rejected_copy_must_not_gain_on_approved_copy():
    # Approved copy got 10 % more likely, rejected copy even more: the candidate learned "more ad
    # copy", not the team's taste.
    decision = decide(ACTIVE, Scores(approved_nll=2.25, rejected_nll=2.40, clean_rate=0.75), margin=0.05)
    assert not decision.promote
    assert any("rejected copy gained" in reason for reason in decision.reasons)


def test_without_rejected_copy_that_check_is_left_out():
    decision = decide(Scores(2.5), Scores(2.2), margin=0.05)
    assert decision.promote and len(decision.reasons) == 1


def test_more_junk_in_sampled_answers_blocks_promotion():
    worse = decide(ACTIVE, Scores(2.20, 2.70, clean_rate=0.5), margin=0.05)
    assert not worse.promote and any("more junk" in reason for reason in worse.reasons)
    # One sample in eight fewer is within tolerance.
    assert decide(ACTIVE, Scores(2.20, 2.70, clean_rate=0.625), margin=0.05).promote


def test_broken_numbers_are_rejected():
    assert not decide(ACTIVE, Scores(float("nan"), 2.7, 0.75), margin=0.0).promote
    assert not decide(ACTIVE, Scores(float("inf"), 2.7, 0.75), margin=0.0).promote


def test_one_unlucky_sample_of_a_few_is_not_a_regression():
    # Four samples: one fewer clean output is 25 % — one draw, not more junk; two fewer is.
    active = Scores(2.50, 2.80, clean_rate=1.0, clean_samples=4)
    assert decide(active, Scores(2.20, 2.70, clean_rate=0.75, clean_samples=4), margin=0.05).promote
    two_fewer = decide(active, Scores(2.20, 2.70, clean_rate=0.5, clean_samples=4), margin=0.05)
    assert not two_fewer.promote and any("more junk" in reason for reason in two_fewer.reasons)
