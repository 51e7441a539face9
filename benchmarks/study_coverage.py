"""Coverage of the study's bootstrap 95% intervals in simulated studies (issue: intervals that hold).

    python benchmarks/study_coverage.py [--studies 200] [--resamples 200] [--participants 30] [--trials 12]

Target: every interval contains its true value in 93-97% of the simulated studies.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time

from common import record_result  # noqa: E402  (puts the repo on sys.path)

from facegan.studies.coverage import TRUE_STRENGTHS, TRUE_TIE, coverage  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--studies", type=int, default=200)
    parser.add_argument("--resamples", type=int, default=200)
    parser.add_argument("--participants", type=int, default=30)
    parser.add_argument("--trials", type=int, default=12)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    start = time.perf_counter()
    result = coverage(args.studies, args.resamples, args.participants, args.trials, args.seed, progress=True)
    figures = {
        **dataclasses.asdict(result), "true_strengths": TRUE_STRENGTHS, "true_tie": TRUE_TIE,
        "settings": vars(args), "seconds": round(time.perf_counter() - start, 1),
        "target": "every parameter's coverage in [0.93, 0.97]",
        "met": all(0.93 <= value <= 0.97 for value in result.per_parameter.values()),
    }  # fmt: skip
    record_result("study_coverage", figures, sys.argv[1:])
    for name, value in result.per_parameter.items():
        print(f"{name:>4}: coverage {value:.1%}, median width {result.median_width[name]:.3f}")
    print(f"overall {result.overall:.1%} over {result.studies} studies")


if __name__ == "__main__":
    main()
