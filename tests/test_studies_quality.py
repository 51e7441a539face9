"""Rater quality, sign tests with Holm, Krippendorff's alpha, the planner and interval coverage."""

from __future__ import annotations

import math

import pytest

from facegan.studies.agreement import krippendorff_alpha_nominal
from facegan.studies.coverage import coverage
from facegan.studies.planner import plan_study, progress
from facegan.studies.raters import rate_raters
from facegan.studies.significance import holm, sign_tests
from facegan.studies.stimuli import GOLD, REPEAT, Option, Trial
from facegan.studies.store import Vote


def test_holm_matches_hand_computed_adjustments() -> None:
    # sorted 0.01, 0.02, 0.04, 0.30 -> x4, x3, x2, x1 = 0.04, 0.06, 0.08, 0.30 (already monotone)
    assert holm([0.04, 0.01, 0.30, 0.02]) == pytest.approx([0.08, 0.04, 0.30, 0.06])
    assert holm([0.5, 0.4]) == pytest.approx([0.8, 0.8])  # monotone: the larger p never gets a smaller q
    assert holm([0.9, 0.8, 0.7]) == pytest.approx([1.0, 1.0, 1.0])  # capped at 1


def test_sign_tests_pool_both_placements_and_drop_ties() -> None:
    rows = [("smiling", "a", "b", "a")] * 9 + [("smiling", "b", "a", "a")] + [("smiling", "a", "b", "none")] * 5
    rows += [("male", "a", "b", "b")] * 3 + [("male", "a", "b", "a")] * 3
    tests = {t.condition: t for t in sign_tests(rows)}
    smiling, male = tests["smiling"], tests["male"]
    assert (smiling.first_wins, smiling.second_wins, smiling.ties) == (10, 0, 5)
    assert smiling.p_value == pytest.approx(2 * 0.5**10)  # two-sided exact binomial
    assert smiling.p_holm == pytest.approx(2 * smiling.p_value) and smiling.significant
    assert male.p_value == pytest.approx(1.0) and not male.significant


def test_krippendorff_alpha_matches_the_published_example() -> None:
    """Krippendorff (2011), "Computing Krippendorff's alpha-reliability", nominal data: α = 0.743."""
    coders = [
        "1 2 3 3 2 1 4 1 2 . . .",
        "1 2 3 3 2 2 4 1 2 5 . 3",
        ". 3 3 3 2 3 4 2 2 5 1 .",
        "1 2 3 3 2 4 4 1 2 5 1 .",
    ]
    units: dict[int, list[str]] = {}
    for row in coders:
        for unit, value in enumerate(row.split()):
            if value != ".":
                units.setdefault(unit, []).append(value)
    assert krippendorff_alpha_nominal(units) == pytest.approx(0.743, abs=5e-4)
    assert krippendorff_alpha_nominal({0: ["a", "a"], 1: ["b", "b"]}) == pytest.approx(1.0)
    assert krippendorff_alpha_nominal({0: ["a"]}) is None


def test_planner_gives_the_textbook_sample_sizes() -> None:
    # ±10 points at p = 0.65: 1.96² · 0.65 · 0.35 / 0.01 = 87.4 -> 88 decisive answers
    plan = plan_study(0.65, trials_per_participant=8, half_width=0.10)
    assert (plan.decisive_votes, plan.votes, plan.participants) == (88, 88, 11)
    # 80% power for p = 0.65 vs 0.5: ((1.96 · 0.5 + 0.8416 · 0.477) / 0.15)² = 84.6 -> 85; 20% ties -> 107
    powered = plan_study(0.65, trials_per_participant=10, tie_rate=0.2, power=0.8)
    assert (powered.decisive_votes, powered.votes, powered.participants) == (85, 107, 11)
    assert "11 participants × 10 trials" in powered.describe()
    with pytest.raises(ValueError, match="exactly 50%"):
        plan_study(0.5, 10, power=0.8)
    with pytest.raises(ValueError, match="half-width, a target power"):
        plan_study(0.6, 10)


def test_planner_progress_reports_when_the_target_is_reached() -> None:
    plan = plan_study(0.65, trials_per_participant=8, half_width=0.10)
    assert not progress(30, 15, plan).reached
    done = progress(60, 32, plan)
    assert done.reached and done.half_width <= 0.10 and "reached" in done.describe(plan)


def _trial(index: int, kind: str = "regular", **extra: object) -> Trial:
    options = (Option("a", "a", "x.png"), Option("b", "b", "y.png"))
    return Trial(index, "gold" if kind == GOLD else "smiling", "", 0, options, "face.png", kind=kind, **extra)


def _vote(vote_id: int, participant: str, trial: int, outcome: str, response_ms: int = 1000) -> Vote:
    return Vote(vote_id, "s", participant, trial, 0, "smiling", "a", "b", "first", outcome, response_ms, "t")


def test_raters_gold_accuracy_consistency_and_exclusion() -> None:
    trials = {0: _trial(0), 1: _trial(1), 2: _trial(2, REPEAT, repeat_of=0), 3: _trial(3, REPEAT, repeat_of=1),
              4: _trial(4, GOLD, gold_answer="a"), 5: _trial(5, GOLD, gold_answer="a")}  # fmt: skip
    votes = [
        # careful: both gold right, both repeats the same system
        _vote(1, "careful", 0, "a", 900), _vote(2, "careful", 1, "b", 1100), _vote(3, "careful", 2, "a", 1000),
        _vote(4, "careful", 3, "b"), _vote(5, "careful", 4, "a"), _vote(6, "careful", 5, "a"),
        # careless: picks the corrupted image once, flips on one repeat
        _vote(7, "careless", 0, "a", 200), _vote(8, "careless", 1, "b", 300), _vote(9, "careless", 2, "b", 200),
        _vote(10, "careless", 3, "b", 250), _vote(11, "careless", 4, "corrupted", 100), _vote(12, "careless", 5, "a"),
    ]  # fmt: skip
    careful, careless = rate_raters(votes, trials, exclude_after_gold_failures=1)
    assert (careful.gold_accuracy, careful.consistency, careful.excluded) == (1.0, 1.0, False)
    assert (careless.gold_accuracy, careless.consistency, careless.excluded) == (0.5, 0.5, True)
    assert careless.reason == "failed 1 of 2 gold trials (rule: 1 or more)"
    assert careless.median_response_ms == 225
    assert not any(r.excluded for r in rate_raters(votes, trials, exclude_after_gold_failures=2))


def test_bootstrap_intervals_hold_their_95_percent_in_simulated_studies() -> None:
    """A reduced run of benchmarks/study_coverage.py (200 studies there: 93.5-97% per parameter).

    60 studies x 4 parameters: a sound 95% interval lands within about ±3.5 points of 95% here.
    """
    result = coverage(studies=60, resamples=100, seed=1)
    assert 0.915 <= result.overall <= 0.985, result
    assert all(value >= 0.85 for value in result.per_parameter.values()), result
    assert math.isfinite(result.median_width["tie"])
