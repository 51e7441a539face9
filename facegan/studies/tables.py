"""The results tables, built once: the admin view shows them as data frames, the report as HTML."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from facegan.studies.raters import RaterQuality
from facegan.studies.stats import StudyResults


@dataclass(frozen=True)
class Table:
    headers: list[str]
    rows: list[list[Any]]


def percent(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def answers_table(results: StudyResults) -> Table:
    return Table(
        ["answer", "votes", "share", "95% low", "95% high"],
        [[s.label, s.count, percent(s.share), percent(s.low), percent(s.high)] for s in results.overall],
    )


def condition_table(results: StudyResults) -> Table:
    return Table(
        ["condition", "answer", "votes", "of", "share", "95% low", "95% high"],
        [[c, s.label, s.count, s.total, percent(s.share), percent(s.low), percent(s.high)]
         for c, rows in results.by_condition.items() for s in rows],
    )  # fmt: skip


def strength_table(results: StudyResults) -> Table:
    label = results.definition.outcome_label
    return Table(
        ["outcome", "strength", "95% low", "95% high", "wins", "ties", "comparisons"],
        [[label(s.system), round(s.strength, 3), round(s.low, 3), round(s.high, 3), s.wins, s.ties, s.comparisons]
         for s in results.strengths or []],
    )  # fmt: skip


def test_table(results: StudyResults) -> Table:
    label = results.definition.outcome_label
    return Table(
        ["condition", "pair", "wins", "ties", "p", "p (Holm)", "significant"],
        [[t.condition, f"{label(t.first)} vs {label(t.second)}", f"{t.first_wins}–{t.second_wins}", t.ties,
          round(t.p_value, 4), round(t.p_holm, 4), "yes" if t.significant else "no"] for t in results.tests],
    )  # fmt: skip


def rater_table(raters: list[RaterQuality]) -> Table:
    return Table(
        ["participant", "answers", "gold correct", "gold accuracy", "consistency", "median s", "excluded"],
        [[r.participant_id[:12], r.answers, f"{r.gold_correct}/{r.gold_answered}", percent(r.gold_accuracy),
          percent(r.consistency), round(r.median_response_ms / 1000, 1), r.reason or "no"] for r in raters],
    )  # fmt: skip
