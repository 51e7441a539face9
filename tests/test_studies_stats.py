"""Statistics against hand-computed Wilson intervals and an independent Bradley–Terry fit; charts, export."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import numpy as np
import pytest

from facegan.studies.charts import condition_bars, pie_chart, png_bytes
from facegan.studies.definition import StudyDefinition
from facegan.studies.export import votes_csv, write_exports
from facegan.studies.stats import bradley_terry, shares, summarize, wilson_interval
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


def test_bradley_terry_matches_an_independent_newton_fit() -> None:
    # wins[i, j]: how often i beat j
    wins = np.array([[0, 7, 9], [3, 0, 6], [1, 4, 0]], dtype=float)
    fitted = bradley_terry(_comparisons(wins, THREE.systems), THREE.systems)
    reference = _newton_bradley_terry(wins)
    assert [fitted[s] for s in THREE.systems] == pytest.approx(reference, abs=1e-9)
    assert sum(fitted.values()) == pytest.approx(1)
    assert fitted["a"] > fitted["b"] > fitted["c"]


def test_two_systems_have_the_closed_form_ratio() -> None:
    fitted = bradley_terry([("a", "b", "a")] * 6 + [("b", "a", "b")] * 2, ("a", "b"))
    assert fitted["a"] / fitted["b"] == pytest.approx(3)


def test_a_tie_counts_as_half_a_win_each() -> None:
    """A None answer equals two half-comparisons: doubling the data turns each tie into one win each way."""
    items = THREE.systems
    with_ties = [("a", "b", "a"), ("a", "b", "none"), ("b", "c", "b"), ("c", "a", "c"), ("c", "b", "none")]
    doubled = []
    for first, second, outcome in with_ties:
        tie = outcome == "none"
        doubled += [(first, second, first), (first, second, second)] if tie else [(first, second, outcome)] * 2
    assert bradley_terry(with_ties, items) == pytest.approx(bradley_terry(doubled, items), abs=1e-9)


def test_bradley_terry_refuses_when_the_estimate_does_not_exist() -> None:
    with pytest.raises(ValueError, match="c never won"):  # c never wins: its strength would be 0
        bradley_terry([("a", "b", "a"), ("b", "a", "b"), ("a", "c", "a"), ("b", "c", "b")], THREE.systems)


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
    # wins with ties as halves: b 2.5, a 2, c 1.5, each of 4 comparisons
    assert [(s.system, s.wins, s.comparisons) for s in results.strengths] == [("b", 2.5, 4), ("a", 2, 4), ("c", 1.5, 4)]
    assert results.response_ms_median == 350
    assert summarize(REALISM, []).strengths is None  # two systems: shares say it all


def test_sound_study_outcomes_use_the_paper_labels() -> None:
    rows = shares(["positive", "positive", "negative", "none"], SOUND)
    assert [(s.label, s.count, s.total) for s in rows] == [("Positive", 2, 4), ("Negative", 1, 4), ("Neither", 1, 4)]


def test_charts_and_exports(tmp_path: Path) -> None:
    votes = [_vote(1, "a", "b", "a"), _vote(2, "b", "c", "none", "male")]
    results = summarize(THREE, votes)
    for figure in (pie_chart(results), condition_bars(results), pie_chart(summarize(THREE, []))):
        assert png_bytes(figure).startswith(b"\x89PNG")
    rows = list(csv.DictReader(io.StringIO(votes_csv(votes))))
    assert [(r["participant_id"], r["outcome"], r["response_ms"]) for r in rows] == [
        ("participant-1", "a", "100"), ("participant-2", "none", "200")
    ]
    files = write_exports(results, votes, {"a": {"steps": 1}}, tmp_path)
    assert [f.name for f in files] == ["three_votes.csv", "three_results.json", "three_pie.png", "three_bars.png"]
    exported = json.loads(files[1].read_text())
    assert exported["votes"] == 2 and len(exported["all_votes"]) == 2
    assert exported["overall"][0]["share"] == 0.5
    assert math.isclose(exported["overall"][0]["low"], wilson_interval(1, 2)[0])
