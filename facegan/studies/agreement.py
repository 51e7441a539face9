"""Agreement between raters: Krippendorff's alpha for nominal answers.

Fleiss' kappa needs every trial rated by the same number of raters; here each participant answers a
random subset of the pool, so trials have 0 to many ratings. Krippendorff's alpha handles that:
α = 1 - D_observed / D_expected over the pairs of answers given to the same trial (Krippendorff 2011,
"Computing Krippendorff's alpha-reliability"). 1 is perfect agreement, 0 chance level.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence


def krippendorff_alpha_nominal(ratings: Mapping[object, Sequence[str]]) -> float | None:
    """α over ``{unit: [answer, ...]}``; units with one answer carry no pair and are skipped.

    None when there is nothing to compare (no unit with two answers, or every answer the same value).
    """
    pairable = {unit: answers for unit, answers in ratings.items() if len(answers) >= 2}
    coincidence: Counter[tuple[str, str]] = Counter()
    for answers in pairable.values():
        counts = Counter(answers)
        weight = 1 / (len(answers) - 1)
        for c, n_c in counts.items():
            for k, n_k in counts.items():
                coincidence[c, k] += weight * n_c * (n_k - (c == k))
    totals: Counter[str] = Counter()
    for (c, _), value in coincidence.items():
        totals[c] += value
    n = sum(totals.values())
    if n <= 1:
        return None
    observed = sum(value for (c, k), value in coincidence.items() if c != k)
    expected = sum(totals[c] * totals[k] for c in totals for k in totals if c != k) / (n - 1)
    if expected == 0:
        return None
    return 1 - observed / expected
