"""Do the study intervals hold? Simulated studies with known strengths and tie rate.

Each simulated study has ``participants`` raters answering ``trials`` random pairs by the Davidson
model with the true strengths and ν; its bootstrap 95% intervals (``davidson.bootstrap``) either
contain each true value or not. Over many studies, a sound interval contains it about 95% of the
time; ``benchmarks/study_coverage.py`` runs 200 studies, the test suite a smaller count.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from tqdm import tqdm

from facegan.studies import davidson

TRUE_STRENGTHS = {"a": 0.5, "b": 0.3, "c": 0.2}
TRUE_TIE = 0.5
"""ν = 0.5: two equal systems tie 20% of the time, about what the demo study sees."""


@dataclass(frozen=True)
class Coverage:
    studies: int
    per_parameter: dict[str, float]
    """Share of studies whose interval contains the truth, per strength and for ν ("tie")."""
    overall: float
    median_width: dict[str, float]


def coverage(
    studies: int, resamples: int = 200, participants: int = 30, trials: int = 12, seed: int = 0,
    strengths: Mapping[str, float] = TRUE_STRENGTHS, tie: float = TRUE_TIE, progress: bool = False,
) -> Coverage:  # fmt: skip
    """Run ``studies`` simulated studies and count how often each interval holds its true value."""
    rng = np.random.default_rng(seed)
    truth = {**strengths, "tie": tie}
    hits: dict[str, list[bool]] = {name: [] for name in truth}
    widths: dict[str, list[float]] = {name: [] for name in truth}
    for study in tqdm(range(studies), desc="simulated studies", disable=not progress):
        votes = davidson.simulate(strengths, tie, participants, trials, rng)
        result = davidson.bootstrap(votes, tuple(strengths), resamples, seed=seed * 100_003 + study)
        intervals = {**result.strengths, "tie": result.tie}
        for name, interval in intervals.items():
            hits[name].append(interval.low <= truth[name] <= interval.high)
            widths[name].append(interval.high - interval.low)
    return Coverage(
        studies=studies,
        per_parameter={name: float(np.mean(h)) for name, h in hits.items()},
        overall=float(np.mean([h for rows in hits.values() for h in rows])),
        median_width={name: float(np.median(w)) for name, w in widths.items()},
    )
