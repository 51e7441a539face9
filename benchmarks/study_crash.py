"""Crash: SIGKILL the app mid-study and restart it; every vote acknowledged before a kill must be stored.

    python benchmarks/study_crash.py [--participants 10] [--trials 20] [--kills 3] [--kill-every 50]
                                     [--data DIR]

Participants vote in parallel through the HTTP API (as in study_load.py). Each time another
``--kill-every`` votes have been acknowledged, the app process gets SIGKILL while votes are in
flight; the database is compared with every vote acknowledged so far, the app is started again on
the same studies directory, and every participant resumes with the same anonymous id: their
progress must be what the database holds. After the last kill the study runs to the end and must
hold exactly one vote per trial.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from common import record_result  # noqa: E402  (puts the repo on sys.path)
from study_load import Participant, ready_study, run_participants, studies_app, vote_audit  # noqa: E402

from facegan.app_process import AppProcess  # noqa: E402
from facegan.studies.store import StudyStore  # noqa: E402


def _resume(app: AppProcess, root: Path, study: str, ids: list[str]) -> tuple[list[Participant], int]:
    """New clients for the same participants; also how many resumed exactly at their stored progress."""
    stored = Counter(v.participant_id for v in StudyStore(root).votes(study))
    participants = [Participant(app.url, study, seed, pid) for seed, pid in enumerate(ids)]
    return participants, sum(p.answered_at_start == stored[p.id] for p in participants)


def _vote_then_kill(app: AppProcess, participants: list[Participant], acknowledged: set, target: int) -> int:
    """Vote in parallel until ``target`` votes are acknowledged in all, then SIGKILL the app while
    calls are in flight; returns how many calls failed."""
    errors: list[str] = []
    stop = threading.Event()
    voters = threading.Thread(target=run_participants, args=(participants, errors, stop))
    voters.start()
    while voters.is_alive() and len(acknowledged | _acknowledged(participants)) < target:
        time.sleep(0.005)
    app.kill()
    stop.set()
    voters.join()
    return len(errors)


def _acknowledged(participants: list[Participant]) -> set[tuple[str, int]]:
    return {(p.id, trial) for p in participants for trial, _ in p.acknowledged}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=10)
    parser.add_argument("--trials", type=int, default=20, help="per participant")
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--kill-every", type=int, default=50, help="acknowledged votes between kills")
    parser.add_argument("--data", help="dataset root (default: $FACEGAN_DATA or ../shared/data)")
    args = parser.parse_args(argv)
    if args.kills * args.kill_every >= args.participants * args.trials:
        parser.error("kills x kill-every must be smaller than participants x trials, to kill mid-study")
    kills = []
    with tempfile.TemporaryDirectory(prefix="study-crash-") as tmp:
        root = Path(tmp)
        study = ready_study(root, args.trials, args.data).study_id
        app = studies_app(root)
        app.start()
        try:
            participants = [Participant(app.url, study, seed) for seed in range(args.participants)]
            ids = [p.id for p in participants]
            acknowledged: set[tuple[str, int]] = set()
            for kill in range(1, args.kills + 1):
                failed = _vote_then_kill(app, participants, acknowledged, kill * args.kill_every)
                acknowledged |= _acknowledged(participants)
                audit = vote_audit(root, study, acknowledged)
                restart_s = app.start()
                participants, resumed = _resume(app, root, study, ids)
                kills.append({**audit, "failed_calls": failed, "restart_s": round(restart_s, 1),
                              "participants_resumed_at_stored_progress": resumed})
            errors: list[str] = []
            run_participants(participants, errors, threading.Event())
            final = vote_audit(root, study, acknowledged | _acknowledged(participants))
        finally:
            app.stop()
    result = {
        "participants": args.participants,
        "trials_per_participant": args.trials,
        "kills": kills,
        "lost_at_kills": sum(k["lost"] for k in kills),
        "final": {**final, "expected": args.participants * args.trials, "errors": errors},
    }
    record_result("study_crash", result, sys.argv[1:] if argv is None else argv)
    return result


if __name__ == "__main__":
    main()
