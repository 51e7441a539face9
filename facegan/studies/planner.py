"""How many participants a pairwise study needs, and whether a running one has enough.

The primary comparison is A against B (for sound studies: the matching image against the other).
Among decisive answers the share p for A is a binomial proportion, so

- for a 95% interval of half-width w: n ≈ z² p(1 - p) / w²;
- for power 1 - β to tell p from 0.5 (two-sided sign test at level α):
  n ≈ ((z_{1-α/2} · 0.5 + z_{1-β} · √(p(1 - p))) / (p - 0.5))²  (the normal approximation).

"None" answers carry no side, so the total number of answers is n / (1 - tie rate), and participants
are that many answers divided by the regular trials each one gives. Answers of one participant are
treated as independent; with strong rater effects add participants rather than trials.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

from facegan.studies.stats import Z95, wilson_interval

NORMAL = NormalDist()


@dataclass(frozen=True)
class Plan:
    win_rate: float
    tie_rate: float
    half_width: float | None
    power: float | None
    decisive_votes: int
    votes: int
    participants: int
    trials_per_participant: int

    def describe(self) -> str:
        goals = []
        if self.half_width is not None:
            goals.append(f"a 95% interval of ±{self.half_width:.0%}")
        if self.power is not None:
            goals.append(f"{self.power:.0%} power to tell {self.win_rate:.0%} from 50%")
        return (
            f"For {' and '.join(goals)} at an expected win rate of {self.win_rate:.0%} with "
            f"{self.tie_rate:.0%} “None” answers: {self.decisive_votes} decisive answers, "
            f"{self.votes} answers in all, so **{self.participants} participants × "
            f"{self.trials_per_participant} trials**."
        )


def plan_study(
    win_rate: float, trials_per_participant: int, tie_rate: float = 0.0, half_width: float | None = None,
    power: float | None = None, alpha: float = 0.05,
) -> Plan:  # fmt: skip
    """The smallest study meeting every goal given (an interval half-width, a power, or both)."""
    if not 0 < win_rate < 1:
        raise ValueError("the expected win rate must lie strictly between 0 and 1")
    if not 0 <= tie_rate < 1:
        raise ValueError("the share of None answers must lie in [0, 1)")
    if half_width is None and power is None:
        raise ValueError("give a target interval half-width, a target power, or both")
    if trials_per_participant < 1:
        raise ValueError("each participant answers at least one trial")
    needed = 1.0
    spread = win_rate * (1 - win_rate)
    if half_width is not None:
        if not 0 < half_width < 0.5:
            raise ValueError("the interval half-width must lie in (0, 0.5)")
        needed = max(needed, Z95**2 * spread / half_width**2)
    if power is not None:
        if not 0 < power < 1:
            raise ValueError("the power must lie strictly between 0 and 1")
        if win_rate == 0.5:
            raise ValueError("no study has power against a win rate of exactly 50%; expect a difference")
        z = NORMAL.inv_cdf(1 - alpha / 2) * 0.5 + NORMAL.inv_cdf(power) * math.sqrt(spread)
        needed = max(needed, (z / (win_rate - 0.5)) ** 2)
    decisive = math.ceil(needed)
    votes = math.ceil(decisive / (1 - tie_rate))
    return Plan(
        win_rate, tie_rate, half_width, power, decisive, votes, math.ceil(votes / trials_per_participant),
        trials_per_participant,
    )  # fmt: skip


@dataclass(frozen=True)
class PlanProgress:
    first_wins: int
    second_wins: int
    half_width: float
    reached: bool

    def describe(self, plan: Plan) -> str:
        decisive = self.first_wins + self.second_wins
        state = "**reached**" if self.reached else "not reached yet"
        return (
            f"So far {decisive} of {plan.decisive_votes} decisive answers; the interval is "
            f"±{self.half_width:.1%} wide. Target {state}."
        )


def progress(first_wins: int, second_wins: int, plan: Plan) -> PlanProgress:
    """Whether the decisive answers collected so far meet the plan (count, and interval width if planned)."""
    decisive = first_wins + second_wins
    low, high = wilson_interval(first_wins, decisive)
    half = (high - low) / 2
    reached = decisive >= plan.decisive_votes and (plan.half_width is None or half <= plan.half_width)
    return PlanProgress(first_wins, second_wins, half, reached)


def main(argv: list[str] | None = None) -> int:
    """``python -m facegan.studies.planner``: print the plan for the given goal."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m facegan.studies.planner", description=__doc__.splitlines()[0])
    parser.add_argument("--win-rate", type=float, required=True, help="expected share of A among decisive answers")
    parser.add_argument("--trials", type=int, required=True, help="regular trials per participant")
    parser.add_argument("--tie-rate", type=float, default=0.0, help="expected share of None answers")
    parser.add_argument("--half-width", type=float, help="target half-width of the 95%% interval")
    parser.add_argument("--power", type=float, help="target power of the sign test against 50%%")
    args = parser.parse_args(argv)
    try:
        plan = plan_study(args.win_rate, args.trials, args.tie_rate, args.half_width, args.power)
    except ValueError as exc:
        parser.error(str(exc))
    print(plan.describe().replace("**", ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
