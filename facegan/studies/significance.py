"""Per-condition sign tests with Holm's correction: "is A really preferred on *this* target?".

Each test asks whether, among the decisive answers ("None" dropped, as a sign test drops ties), one
side was picked more often than a fair coin would be, two-sided (scipy's exact binomial test). A
study reports one test per condition and pair of outcomes, so Holm's step-down correction keeps the
chance of any false "significant" under 5% without Bonferroni's loss of power.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from scipy.stats import binomtest

from facegan.studies.definition import NONE


@dataclass(frozen=True)
class SignTest:
    condition: str
    first: str
    second: str
    first_wins: int
    second_wins: int
    ties: int
    p_value: float
    p_holm: float

    @property
    def significant(self) -> bool:
        return self.p_holm < 0.05


def holm(p_values: list[float]) -> list[float]:
    """Holm-adjusted p-values (monotone, capped at 1), in the input order."""
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    adjusted = [0.0] * len(p_values)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(p_values) - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


def sign_tests(votes: Iterable[tuple[str, str, str, str]]) -> list[SignTest]:
    """One test per (condition, pair of outcomes) from ``(condition, first, second, outcome)`` rows.

    The pair is ordered by name so that left/right placement does not split it into two tests.
    """
    tallies: defaultdict[tuple[str, str, str], Counter[str]] = defaultdict(Counter)
    for condition, first, second, outcome in votes:
        a, b = sorted((first, second))
        tallies[condition, a, b][outcome] += 1
    rows = []
    for (condition, a, b), tally in sorted(tallies.items()):
        decisive = tally[a] + tally[b]
        p = binomtest(tally[a], decisive, 0.5).pvalue if decisive else 1.0
        rows.append((condition, a, b, tally[a], tally[b], tally[NONE], float(p)))
    adjusted = holm([row[-1] for row in rows])
    return [SignTest(*row, p_holm=q) for row, q in zip(rows, adjusted, strict=True)]
