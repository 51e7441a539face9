"""Statistics against hand-computed Wilson intervals and independent Bradley–Terry/Davidson fits; charts, export."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
from pathlib import Path

import numpy as np
import pytest

from facegan.studies.charts import condition_bars, pie_chart, png_bytes, strength_chart
from facegan.studies.definition import StudyDefinition
from facegan.studies.export import votes_csv, write_exports
from facegan.studies import davidson
from facegan.studies.stats import analyse, shares, summarize, wilson_interval
from facegan.studies.stimuli import Option, Trial
from facegan.studies.store import Vote
from tests.test_studies_store import REALISM, SOUND

THREE = StudyDefinition(
    study_id="three", title="Three systems", type="realism", systems=("a", "b", "c"),
    trials_per_participant=3, seed=0,
)


@pytest.mark.parametrize(
    ("successes", "n", "expected"),
    [
        # p = 8/10, z² = 3.8415: centre (0.8 + 0.19207) / 1.38415 = 0.71676,
        # half-width 1.95996 * sqrt(0.016 + 0.0096037) / 1.38415 = 0.22660
        (8, 10, (0.490, 0.943)),
        # p = 1/2: centre 0.5, half-width 1.95996 * sqrt(0.025 + 0.0096037) / 1.38415 = 0.26340
        (5, 10, (0.237, 0.763)),
        # p = 0: upper bound z² / (n + z²) = 3.8415 / 13.8415 = 0.2775
        (0, 10, (0.0, 0.278)),
        (10, 10, (0.722, 1.0)),
        # p = 1/4 of 20: centre (0.25 + 0.096037) / 1.192073 = 0.290282,
        # half-width 1.95996 * sqrt(0.009375 + 0.0024009) / 1.192073 = 0.178405
        (5, 20, (0.112, 0.469)),
    ],
)
def test_wilson_interval_matches_hand_computed_values(successes: int, n: int, expected: tuple) -> None:
    low, high = wilson_interval(successes, n)
    assert (round(low, 3), round(high, 3)) == expected


def test_wilson_edge_cases() -> None:
    assert wilson_interval(0, 0) == (0.0, 1.0)
    with pytest.raises(ValueError):
        wilson_interval(3, 2)


def _newton_bradley_terry(wins: np.ndarray) -> np.ndarray:
    """Independent reference: Newton's method on the log-likelihood in log-strengths, theta_0 = 0."""
    n = len(wins)
    games = wins + wins.T
    theta = np.zeros(n)
    for _ in range(100):
        p = 1 / (1 + np.exp(theta[None, :] - theta[:, None]))  # p[i, j] = P(i beats j)
        gradient = wins.sum(axis=1) - (games * p).sum(axis=1)
        hessian = games * p * (1 - p)
        hessian[np.diag_indices(n)] = -hessian.sum(axis=1)
        step = np.linalg.solve(hessian[1:, 1:], gradient[1:])
        theta[1:] -= step
        if np.abs(step).max() < 1e-13:
            break
    strengths = np.exp(theta)
    return strengths / strengths.sum()


def _comparisons(wins: np.ndarray, items: tuple[str, ...]) -> list[tuple[str, str, str]]:
    return [
        (items[i], items[j], items[i])
        for i in range(len(items)) for j in range(len(items)) for _ in range(int(wins[i, j]))
    ]


def _strengths(fit: davidson.DavidsonFit, items: tuple[str, ...]) -> list[float]:
    return [fit.strengths[item] for item in items]


def test_without_ties_davidson_is_bradley_terry_and_matches_an_independent_newton_fit() -> None:
    # wins[i, j]: how often i beat j
    wins = np.array([[0, 7, 9], [3, 0, 6], [1, 4, 0]], dtype=float)
    fitted = davidson.fit(_comparisons(wins, THREE.systems), THREE.systems)
    assert _strengths(fitted, THREE.systems) == pytest.approx(_newton_bradley_terry(wins), abs=1e-6)
    assert fitted.tie == 0 and sum(fitted.strengths.values()) == pytest.approx(1)


def test_two_systems_have_the_closed_form_ratio() -> None:
    fitted = davidson.fit([("a", "b", "a")] * 6 + [("b", "a", "b")] * 2, ("a", "b"))
    assert fitted.strengths["a"] / fitted.strengths["b"] == pytest.approx(3, rel=1e-5)


def test_two_systems_with_ties_have_davidsons_closed_form() -> None:
    """For two items Davidson's MLE is π_a/π_b = W_a/W_b and ν = T / √(W_a W_b) (Davidson 1970)."""
    votes = [("a", "b", "a")] * 9 + [("b", "a", "b")] * 4 + [("a", "b", "none")] * 6
    fitted = davidson.fit(votes, ("a", "b"))
    assert fitted.strengths["a"] / fitted.strengths["b"] == pytest.approx(9 / 4, rel=1e-4)
    assert fitted.tie == pytest.approx(6 / math.sqrt(9 * 4), rel=1e-4)


def _reference_negative_log_likelihood(params: np.ndarray, votes: list, items: tuple[str, ...]) -> float:
    """Written vote by vote from the model's definition, independently of the count-based fit."""
    pi = dict(zip(items, np.exp(np.concatenate([[0.0], params[:-1]])), strict=True))
    nu = np.exp(params[-1])
    total = 0.0
    for first, second, outcome in votes:
        a, b = pi[first], pi[second]
        denominator = a + b + nu * math.sqrt(a * b)
        numerator = nu * math.sqrt(a * b) if outcome == "none" else pi[outcome]
        total -= math.log(numerator / denominator)
    return total


def test_davidson_with_ties_matches_a_direct_maximisation() -> None:
    from scipy.optimize import minimize

    votes = (
        [("a", "b", "a")] * 5 + [("a", "b", "b")] * 2 + [("b", "a", "none")] * 3 + [("b", "c", "b")] * 4
        + [("c", "b", "c")] * 2 + [("c", "b", "none")] * 2 + [("a", "c", "a")] * 6 + [("c", "a", "c")] * 1
        + [("a", "c", "none")] * 1
    )  # fmt: skip
    reference = minimize(_reference_negative_log_likelihood, np.zeros(3), args=(votes, THREE.systems),
                         method="Nelder-Mead", options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 20000})
    pi = np.exp(np.concatenate([[0.0], reference.x[:-1]]))
    fitted = davidson.fit(votes, THREE.systems)
    assert _strengths(fitted, THREE.systems) == pytest.approx(pi / pi.sum(), abs=1e-5)
    assert fitted.tie == pytest.approx(np.exp(reference.x[-1]), rel=1e-4)


def test_davidson_refuses_when_the_estimate_does_not_exist() -> None:
    with pytest.raises(ValueError, match="c never won or tied"):  # c's strength would be 0
        davidson.fit([("a", "b", "a"), ("b", "a", "b"), ("a", "c", "a"), ("b", "c", "b")], THREE.systems)


def test_bootstrap_intervals_contain_the_estimate_and_narrow_with_more_participants() -> None:
    rng = np.random.default_rng(0)
    truth = {"a": 0.5, "b": 0.3, "c": 0.2}
    small = davidson.bootstrap(davidson.simulate(truth, 0.5, 10, 12, rng), tuple(truth), 100)
    large = davidson.bootstrap(davidson.simulate(truth, 0.5, 80, 12, rng), tuple(truth), 100)
    for result in (small, large):
        for interval in (*result.strengths.values(), result.tie):
            assert interval.low <= interval.estimate <= interval.high
    width = lambda r: r.strengths["a"].high - r.strengths["a"].low  # noqa: E731
    assert width(large) < 0.6 * width(small)


def _vote(index: int, first: str, second: str, outcome: str, condition: str = "smiling") -> Vote:
    choice = "first" if outcome == first else "second" if outcome == second else "none"
    return Vote(index, "three", f"participant-{index % 3}", index, 0, condition, first, second, choice, outcome,
                100 * index, "2026-01-01T00:00:00+00:00")


def test_summary_shares_conditions_and_strengths() -> None:
    votes = [
        _vote(1, "a", "b", "a"), _vote(2, "b", "c", "b"), _vote(3, "c", "a", "c", "male"),
        _vote(4, "a", "b", "b", "male"), _vote(5, "b", "c", "none"), _vote(6, "a", "c", "a"),
    ]
    results = summarize(THREE, votes)
    assert [(s.label, s.count) for s in results.overall] == [("a", 2), ("b", 2), ("c", 1), ("None", 1)]
    assert results.votes == 6 and results.participants == 3
    assert list(results.by_condition) == ["male", "smiling"]
    assert [s.count for s in results.by_condition["male"]] == [0, 1, 1, 0]
    # b beat a and c once each and tied c once; a won 2 of 4; c won 1 and tied 1 of 4
    assert [(s.system, s.wins, s.ties, s.comparisons) for s in results.strengths] == [
        ("b", 2, 1, 4), ("a", 2, 0, 4), ("c", 1, 1, 4)
    ]
    assert all(s.low <= s.strength <= s.high for s in results.strengths)
    assert results.response_ms_median == 350
    assert summarize(REALISM, []).strengths is None  # no votes: nothing to fit
    assert "never won" in summarize(REALISM, []).strengths_note


def test_sound_study_outcomes_use_the_paper_labels() -> None:
    rows = shares(["positive", "positive", "negative", "none"], SOUND)
    assert [(s.label, s.count, s.total) for s in rows] == [("Positive", 2, 4), ("Negative", 1, 4), ("Neither", 1, 4)]


def _trial(index: int, kind: str = "regular", **extra: object) -> Trial:
    options = (Option("a", "a", "stimuli/a.png"), Option("b", "b", "stimuli/b.png"))
    return Trial(index, "smiling", "", 0, options, "face.png", kind=kind, **extra)


def test_charts_and_exports(tmp_path: Path) -> None:
    votes = [_vote(1, "a", "b", "a"), _vote(2, "b", "c", "none", "male")]
    analysis = analyse(THREE, votes, [_trial(1), _trial(2)])
    results = analysis.included
    for figure in (pie_chart(results), condition_bars(results), strength_chart(results),
                   pie_chart(summarize(THREE, [])), strength_chart(summarize(THREE, []))):
        assert png_bytes(figure).startswith(b"\x89PNG")
    rows = list(csv.DictReader(io.StringIO(votes_csv(votes))))
    assert [(r["participant_id"], r["outcome"], r["response_ms"]) for r in rows] == [
        ("participant-1", "a", "100"), ("participant-2", "none", "200")
    ]
    files = write_exports(analysis, votes, {"a": {"steps": 1}}, tmp_path)
    assert [f.name for f in files] == [
        "three_votes.csv", "three_results.json", "three_report.html", "three_pie.png", "three_bars.png",
        "three_strengths.png",
    ]
    exported = json.loads(files[1].read_text())
    assert exported["all_raters"]["votes"] == 2 and len(exported["all_votes"]) == 2
    assert exported["all_raters"]["overall"][0]["share"] == 0.5
    assert math.isclose(exported["all_raters"]["overall"][0]["low"], wilson_interval(1, 2)[0])


def test_report_is_one_self_contained_escaped_file(tmp_path: Path) -> None:
    crafted = StudyDefinition(
        study_id="crafted", title="<script>alert(1)</script>", type="realism", systems=("a", "b"),
        trials_per_participant=2, seed=0, gold_trials=1, exclude_after_gold_failures=1,
    )
    votes = [
        _vote(1, "a", "b", "a"), _vote(2, "a", "b", "b"),
        _vote(3, "a", "corrupted", "corrupted"),  # participant-0 fails the gold trial
    ]
    trials = [_trial(1), _trial(2), _trial(3, "gold", gold_answer="a")]
    analysis = analyse(crafted, votes, trials)
    # an interval that misses its estimate (possible with a few votes) still draws
    skewed = dataclasses.replace(analysis.all.strengths[0], low=0.7, high=0.9, strength=0.5)
    assert png_bytes(strength_chart(dataclasses.replace(analysis.all, strengths=[skewed]))).startswith(b"\x89PNG")
    assert [r.participant_id for r in analysis.excluded] == ["participant-0"]
    assert analysis.all.votes == 2 and analysis.included.votes == 2  # the excluded rater gave no regular answer
    report = write_exports(analysis, votes, None, tmp_path)[2].read_text()
    assert "<script>" not in report and "&lt;script&gt;" in report
    assert "failed 1 of 1 gold trials" in report
    assert report.count("data:image/png;base64,") == 3 and "http" not in report.replace("charset", "")
