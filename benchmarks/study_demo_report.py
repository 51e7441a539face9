"""The demo study's report with simulated raters, through the same session API participants use.

    python benchmarks/study_demo_report.py [--participants 24] [--careless 3] [--out docs/study_report]

Generates the demo study's stimuli with the shipped checkpoints in a temporary studies directory,
then lets simulated raters take it: careful ones answer by a Davidson model (attrgan strength 0.6
against 0.4, tie parameter ν = 0.5) and pass gold trials 97% of the time; careless ones answer at
random. The exclusion rule should catch the careless raters. Writes the one-file HTML report, the
charts, CSV and JSON to ``--out`` (docs/user_studies.md shows the charts), and prints the planner's figures
for the demo study. These are simulated answers, not a human study.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import tempfile
from pathlib import Path

from common import record_result  # noqa: E402  (puts the repo on sys.path)

from facegan.studies.definition import NONE  # noqa: E402
from facegan.studies.demo import ensure_demo  # noqa: E402
from facegan.studies.export import write_exports  # noqa: E402
from facegan.studies.planner import plan_study, progress  # noqa: E402
from facegan.studies.session import Sessions  # noqa: E402
from facegan.studies.stats import analyse  # noqa: E402
from facegan.studies.stimuli import GOLD  # noqa: E402
from facegan.studies.store import StudyStore  # noqa: E402

STRENGTHS = {"attrgan": 0.6, "attrgan_noheatmap": 0.4}
TIE = 0.5


def careful_choice(first: str, second: str, gold_answer: str | None, rng: random.Random) -> str:
    """first / second / none for a rater who looks: the Davidson model, or the right gold answer."""
    if gold_answer is not None:
        right = "first" if first == gold_answer else "second"
        return right if rng.random() < 0.97 else ("second" if right == "first" else "first")
    a, b = STRENGTHS[first], STRENGTHS[second]
    tie = TIE * math.sqrt(a * b)
    u = rng.random() * (a + b + tie)
    return "first" if u < a else "second" if u < a + b else NONE


def take_part(sessions: Sessions, study: str, participant: str, careless: bool, rng: random.Random) -> None:
    sessions.start(study, participant, consent=True)
    trials = {t.trial: t for t in sessions.manifest(study).trials}
    swaps = {step.trial: step.swap for step in sessions.store.plan(study, participant)}
    while (shown := sessions.next_trial(study, participant)) is not None:
        trial = trials[shown.trial]
        first, second = (o.outcome for o in (trial.options[::-1] if swaps[shown.trial] else trial.options))
        gold = trial.gold_answer if trial.kind == GOLD else None
        choice = rng.choice(["first", "second", NONE]) if careless else careful_choice(first, second, gold, rng)
        sessions.vote(study, participant, shown.trial, choice)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=24, help="careful simulated raters")
    parser.add_argument("--careless", type=int, default=3, help="raters answering at random")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("docs/study_report"))
    args = parser.parse_args()
    rng = random.Random(args.seed)
    sessions = Sessions(StudyStore(Path(tempfile.mkdtemp(prefix="facegan-demo-report-"))))
    study = ensure_demo(sessions)
    for k in range(args.participants + args.careless):
        take_part(sessions, study, f"simulated-{k:03d}", careless=k >= args.participants, rng=rng)
    record = sessions.store.require_study(study)
    votes = sessions.store.votes(study)
    analysis = analyse(record.definition, votes, sessions.manifest(study).trials, resamples=500)
    files = write_exports(analysis, votes, sessions.manifest(study).checkpoints, args.out)
    plan = plan_study(0.6, record.definition.trials_per_participant, tie_rate=0.2, half_width=0.1, power=0.8)
    kept = [v for v in analysis.included.by_condition.values()]
    decisive = {o: sum(s.count for rows in kept for s in rows if s.outcome == o) for o in STRENGTHS}
    reached = progress(decisive["attrgan"], decisive["attrgan_noheatmap"], plan)
    excluded = [r.participant_id for r in analysis.excluded]
    figures = {
        "participants": args.participants + args.careless,
        "excluded": excluded,
        "careless_caught": sum(int(p.split("-")[1]) >= args.participants for p in excluded),
        "strengths": {s.system: [round(s.strength, 3), round(s.low, 3), round(s.high, 3)]
                      for s in analysis.included.strengths or []},
        "true_strengths": STRENGTHS,
        "tie": [round(analysis.included.tie.estimate, 3), round(analysis.included.tie.low, 3),
                round(analysis.included.tie.high, 3)] if analysis.included.tie else None,
        "krippendorff_alpha": analysis.included.agreement,
        "plan": plan.describe().replace("**", ""),
        "progress": reached.describe(plan).replace("**", ""),
        "files": [str(f) for f in files],
    }  # fmt: skip
    record_result("study_demo_report", figures, sys.argv[1:])


if __name__ == "__main__":
    main()
