"""Rater quality: gold-trial accuracy, consistency on repeated trials, response time, exclusion.

Gold trials pair an edit with the same edit badly corrupted, so one answer is plainly right; a rater
who misses several was not looking. Repeated trials show a pair again later, sides swapped; a rater
who picks the same *system* both times (not the same side) is consistent. Raters who fail at least
``exclude_after_gold_failures`` gold trials are excluded, and results are given with and without them.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from facegan.studies.stimuli import GOLD, REPEAT, Trial
from facegan.studies.store import Vote


@dataclass(frozen=True)
class RaterQuality:
    participant_id: str
    answers: int
    gold_answered: int
    gold_correct: int
    repeats: int
    consistent: int
    median_response_ms: float
    excluded: bool
    reason: str

    @property
    def gold_accuracy(self) -> float | None:
        return self.gold_correct / self.gold_answered if self.gold_answered else None

    @property
    def consistency(self) -> float | None:
        return self.consistent / self.repeats if self.repeats else None


def rate_raters(
    votes: Sequence[Vote], trials: Mapping[int, Trial], exclude_after_gold_failures: int | None
) -> list[RaterQuality]:
    """One row per participant who answered anything, in order of first answer."""
    by_participant: defaultdict[str, list[Vote]] = defaultdict(list)
    for vote in votes:
        by_participant[vote.participant_id].append(vote)
    rows = []
    for participant, own in by_participant.items():
        gold = [v for v in own if trials[v.trial].kind == GOLD]
        gold_correct = sum(v.outcome == trials[v.trial].gold_answer for v in gold)
        outcome_of = {v.trial: v.outcome for v in own}
        pairs = [
            (v.outcome, outcome_of[trials[v.trial].repeat_of])
            for v in own if trials[v.trial].kind == REPEAT and trials[v.trial].repeat_of in outcome_of
        ]  # fmt: skip
        failures = len(gold) - gold_correct
        excluded = exclude_after_gold_failures is not None and failures >= exclude_after_gold_failures
        rows.append(RaterQuality(
            participant_id=participant, answers=len(own), gold_answered=len(gold), gold_correct=gold_correct,
            repeats=len(pairs), consistent=sum(a == b for a, b in pairs),
            median_response_ms=float(statistics.median(v.response_ms for v in own)), excluded=excluded,
            reason=f"failed {failures} of {len(gold)} gold trials (rule: {exclude_after_gold_failures} or more)"
            if excluded else "",
        ))  # fmt: skip
    return rows
