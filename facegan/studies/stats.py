"""Study statistics: shares with Wilson 95% intervals, Davidson strengths, tests, agreement, raters.

Wilson's interval (Wilson 1927) rather than the normal approximation because studies are small
and shares near 0 or 1 are common: it never leaves [0, 1] and keeps close to its nominal coverage
for n of 10-20. Strengths are Bradley–Terry with Davidson's tie parameter and bootstrap intervals
over participants (``facegan.studies.davidson``); per-condition sign tests are Holm-corrected
(``significance``); agreement is Krippendorff's alpha (``agreement``).

Only regular trials count towards the results: gold trials and repeats measure the raters
(``raters``). ``analyse`` gives every figure twice, over all raters and over those the study's
exclusion rule keeps.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from facegan.studies import davidson
from facegan.studies.agreement import krippendorff_alpha_nominal
from facegan.studies.definition import NONE, StudyDefinition
from facegan.studies.raters import RaterQuality, rate_raters
from facegan.studies.significance import SignTest, sign_tests
from facegan.studies.stimuli import REGULAR, Trial
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


@dataclass(frozen=True)
class Strength:
    system: str
    strength: float
    low: float
    high: float
    """Bootstrap 95% interval over participants."""
    wins: int
    ties: int
    comparisons: int


@dataclass(frozen=True)
class StudyResults:
    definition: StudyDefinition
    votes: int
    participants: int
    overall: list[Share]
    by_condition: dict[str, list[Share]]
    strengths: list[Strength] | None
    """Davidson strengths of the outcomes (systems, or positive/negative), strongest first."""
    tie: davidson.Interval | None
    """Davidson's ν with its interval."""
    strengths_note: str
    tests: list[SignTest]
    agreement: float | None
    """Krippendorff's alpha (nominal) over trials answered by two raters or more."""
    response_ms_median: float | None
    response_ms_p95: float | None


def summarize(definition: StudyDefinition, votes: Sequence[Vote], resamples: int = 200) -> StudyResults:
    """Every figure of the results view computed from the given (regular) votes."""
    by_condition: dict[str, list[str]] = defaultdict(list)
    for vote in votes:
        by_condition[vote.condition].append(vote.outcome)
    strengths, tie, note = _strengths(definition, votes, resamples)
    times = [vote.response_ms for vote in votes]
    per_trial: dict[int, list[str]] = defaultdict(list)
    for vote in votes:
        per_trial[vote.trial].append(vote.outcome)
    return StudyResults(
        definition=definition,
        votes=len(votes),
        participants=len({vote.participant_id for vote in votes}),
        overall=shares((vote.outcome for vote in votes), definition),
        by_condition={c: shares(outcomes, definition) for c, outcomes in sorted(by_condition.items())},
        strengths=strengths,
        tie=tie,
        strengths_note=note,
        tests=sign_tests((v.condition, v.first, v.second, v.outcome) for v in votes),
        agreement=krippendorff_alpha_nominal(per_trial),
        response_ms_median=float(np.median(times)) if times else None,
        response_ms_p95=float(np.percentile(times, 95)) if times else None,
    )


def _strengths(
    definition: StudyDefinition, votes: Sequence[Vote], resamples: int
) -> tuple[list[Strength] | None, davidson.Interval | None, str]:
    items = [outcome for outcome in definition.outcomes if outcome != NONE]
    by_participant: defaultdict[str, list[davidson.Comparison]] = defaultdict(list)
    for vote in votes:
        by_participant[vote.participant_id].append((vote.first, vote.second, vote.outcome))
    try:
        fitted = davidson.bootstrap(by_participant, items, resamples, seed=definition.seed)
    except ValueError as exc:
        return None, None, str(exc)
    counts = davidson.count((c for rows in by_participant.values() for c in rows), items)
    ranked = sorted(items, key=lambda item: -fitted.strengths[item].estimate)
    index = {item: i for i, item in enumerate(items)}
    rows = [
        Strength(item, fitted.strengths[item].estimate, fitted.strengths[item].low, fitted.strengths[item].high,
                 int(counts.wins[index[item]].sum()), int(counts.ties[index[item]].sum()),
                 int(counts.wins[index[item]].sum() + counts.wins[:, index[item]].sum()
                     + counts.ties[index[item]].sum()))
        for item in ranked
    ]  # fmt: skip
    note = (
        "Bradley–Terry strengths with Davidson's tie parameter ν, summing to 1; 95% intervals from "
        f"{fitted.resamples} bootstrap resamples of participants (BCa, expanded for the number of participants)."
    )
    return rows, fitted.tie, note


@dataclass(frozen=True)
class StudyAnalysis:
    """The study's results over all raters and over the raters its exclusion rule keeps."""

    all: StudyResults
    included: StudyResults
    raters: list[RaterQuality]

    @property
    def excluded(self) -> list[RaterQuality]:
        return [rater for rater in self.raters if rater.excluded]


def analyse(
    definition: StudyDefinition, votes: Sequence[Vote], trials: Sequence[Trial], resamples: int = 200
) -> StudyAnalysis:
    """Rater quality from every answer; results from the regular trials, with and without exclusions."""
    by_index = {trial.trial: trial for trial in trials}
    raters = rate_raters(votes, by_index, definition.exclude_after_gold_failures)
    excluded = {rater.participant_id for rater in raters if rater.excluded}
    regular = [vote for vote in votes if by_index[vote.trial].kind == REGULAR]
    kept = [vote for vote in regular if vote.participant_id not in excluded]
    everyone = summarize(definition, regular, resamples)
    return StudyAnalysis(everyone, summarize(definition, kept, resamples) if excluded else everyone, raters)
