"""Study statistics: shares with Wilson 95% score intervals, and Bradley–Terry strengths.

Wilson's interval (Wilson 1927) rather than the normal approximation because studies are small
and shares near 0 or 1 are common: it never leaves [0, 1] and keeps close to its nominal coverage
for n of 10-20.

Bradley–Terry (P(i beats j) = p_i / (p_i + p_j)) is fitted with Hunter's (2004) MM algorithm. Ties
convention: a "None" answer between i and j counts as half a win for each of them, i.e. we maximise
the Bradley–Terry likelihood with every tie replaced by two half-comparisons. It keeps the
information that the pair looked equally good (both strengths are pulled together) without adding a
tie parameter as Rao–Kupper or Davidson do; with few votes per pair an extra parameter is not
estimable anyway.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from facegan.studies.definition import NONE, StudyDefinition
from facegan.studies.store import Vote

Z95 = 1.959963984540054  # the 97.5th percentile of the standard normal


def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a binomial share; (0, 1) when there are no observations."""
    if n == 0:
        return 0.0, 1.0
    if not 0 <= successes <= n:
        raise ValueError(f"successes must lie in [0, {n}], got {successes}")
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    # At 0 and n the bounds are exactly 0 and 1; rounding would otherwise leave them a hair inside.
    low = 0.0 if successes == 0 else centre - half
    high = 1.0 if successes == n else centre + half
    return low, high


@dataclass(frozen=True)
class Share:
    """How often one outcome was chosen, with its Wilson 95% interval."""

    outcome: str
    label: str
    count: int
    total: int
    low: float
    high: float

    @property
    def share(self) -> float:
        return self.count / self.total if self.total else 0.0


def shares(chosen: Iterable[str], definition: StudyDefinition) -> list[Share]:
    """One Share per outcome of the study (zeros included), in the study's display order."""
    counts = Counter(chosen)
    total = sum(counts.values())
    return [
        Share(outcome, definition.outcome_label(outcome), counts[outcome], total,
              *wilson_interval(counts[outcome], total))
        for outcome in definition.outcomes
    ]


def bradley_terry(
    comparisons: Iterable[tuple[str, str, str]],
    items: Sequence[str],
    tol: float = 1e-12,
    max_iter: int = 100_000,
) -> dict[str, float]:
    """Strengths (summing to 1) from ``(first, second, outcome)`` triples; outcome ``NONE`` is a tie.

    Raises ValueError when the maximum-likelihood estimate does not exist: Hunter's Assumption 1
    needs every item to beat (or tie) some item in every other group, e.g. an item that never
    wins has strength 0.
    """
    index = {item: i for i, item in enumerate(items)}
    wins = np.zeros((len(items), len(items)))  # wins[i, j]: (fractional) wins of i over j
    for first, second, outcome in comparisons:
        a, b = index[first], index[second]
        if outcome == NONE:
            wins[a, b] += 0.5
            wins[b, a] += 0.5
        else:
            winner = index[outcome]
            wins[winner, b if winner == a else a] += 1
    _require_connected(wins, items)
    games = wins + wins.T
    total_wins = wins.sum(axis=1)
    p = np.full(len(items), 1.0 / len(items))
    for _ in range(max_iter):
        updated = total_wins / (games / (p[:, None] + p[None, :])).sum(axis=1)
        updated /= updated.sum()
        converged = np.max(np.abs(updated - p)) < tol
        p = updated
        if converged:
            break
    return {item: float(p[i]) for item, i in index.items()}


def _require_connected(wins: np.ndarray, items: Sequence[str]) -> None:
    """Hunter's Assumption 1: in the directed "i beat j" graph every item reaches every other."""
    n = len(items)
    reach = (wins > 0) | np.eye(n, dtype=bool)
    for k in range(n):  # transitive closure (Warshall); n is the number of systems, a handful
        reach |= reach[:, [k]] & reach[[k], :]
    if not reach.all():
        never_won = [items[i] for i in range(n) if wins[i].sum() == 0]
        never_lost = [items[i] for i in range(n) if wins[:, i].sum() == 0]
        reasons = []
        if never_won:
            reasons.append(f"{', '.join(never_won)} never won")
        if never_lost:
            reasons.append(f"{', '.join(never_lost)} never lost")
        reason = "; ".join(reasons) or "some systems were never compared with the others"
        raise ValueError(
            f"Bradley–Terry strengths cannot be estimated yet: {reason} (Hunter 2004, Assumption 1). "
            "Collect more votes."
        )


@dataclass(frozen=True)
class Strength:
    system: str
    strength: float
    wins: float
    """Wins, ties counting half."""
    comparisons: int


@dataclass(frozen=True)
class StudyResults:
    definition: StudyDefinition
    votes: int
    participants: int
    overall: list[Share]
    by_condition: dict[str, list[Share]]
    strengths: list[Strength] | None
    """Bradley–Terry, for realism studies of more than two systems (when it can be fitted)."""
    strengths_note: str
    response_ms_median: float | None
    response_ms_p95: float | None


def summarize(definition: StudyDefinition, votes: Sequence[Vote]) -> StudyResults:
    """Everything the results view and the exports show, computed from the stored votes."""
    by_condition: dict[str, list[str]] = defaultdict(list)
    for vote in votes:
        by_condition[vote.condition].append(vote.outcome)
    strengths, note = None, ""
    if definition.type == "realism" and len(definition.systems) > 2:
        strengths, note = _strengths(definition, votes)
    times = [vote.response_ms for vote in votes]
    return StudyResults(
        definition=definition,
        votes=len(votes),
        participants=len({vote.participant_id for vote in votes}),
        overall=shares((vote.outcome for vote in votes), definition),
        by_condition={c: shares(outcomes, definition) for c, outcomes in sorted(by_condition.items())},
        strengths=strengths,
        strengths_note=note,
        response_ms_median=float(np.median(times)) if times else None,
        response_ms_p95=float(np.percentile(times, 95)) if times else None,
    )


def _strengths(definition: StudyDefinition, votes: Sequence[Vote]) -> tuple[list[Strength] | None, str]:
    comparisons = [(vote.first, vote.second, vote.outcome) for vote in votes]
    try:
        fitted = bradley_terry(comparisons, definition.systems)
    except ValueError as exc:
        return None, str(exc)
    wins: defaultdict[str, float] = defaultdict(float)
    games: Counter[str] = Counter()
    for first, second, outcome in comparisons:
        games.update((first, second))
        if outcome == NONE:
            wins[first] += 0.5
            wins[second] += 0.5
        else:
            wins[outcome] += 1
    ranked = sorted(fitted.items(), key=lambda item: -item[1])
    return [Strength(system, value, wins[system], games[system]) for system, value in ranked], (
        "Bradley–Terry strengths sum to 1; a None answer counts as half a win for each side."
    )
