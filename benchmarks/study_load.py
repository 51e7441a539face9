"""Load: simulated participants vote in parallel through the app's HTTP API; lost/duplicated votes, latency.

    python benchmarks/study_load.py [--participants 20] [--votes 500] [--data DIR]

Starts ``python app.py`` on 127.0.0.1 (a free port) with a fresh ``$FACEGAN_STUDIES`` that holds one
realism study (attrgan vs attrgan_noheatmap from the checkpoint folder, stimuli generated through the
pipeline as for a real study). Each participant runs in its own thread with its own gradio_client:
consent, then ``/study_next`` + ``/study_vote`` until done, then one deliberate repeat of its last vote,
which must come back as a duplicate. Afterwards the database is compared with what clients were told:
a lost vote was acknowledged but is not stored; a duplicated vote is a second row for one trial.
Latency is the client-side round trip of ``/study_vote`` (the vote is on disk when it returns).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import threading
import time
from pathlib import Path

from common import percentiles, record_result  # noqa: E402  (puts the repo on sys.path)

from facegan.app_process import AppProcess  # noqa: E402
from facegan.studies.definition import CHOICES, StudyDefinition  # noqa: E402
from facegan.studies.stimuli import generate_stimuli  # noqa: E402
from facegan.studies.store import StudyStore  # noqa: E402

SYSTEMS = ("attrgan", "attrgan_noheatmap")


def ready_study(root: Path, trials: int, data: str | None) -> StudyDefinition:
    """A realism study with ``trials`` per participant, stimuli generated and registered in ``root``."""
    definition = StudyDefinition(
        study_id="benchmark", title="Benchmark study", type="realism", systems=SYSTEMS,
        trials_per_participant=trials, seed=0,
    )
    generate_stimuli(definition, root / definition.study_id, data)
    StudyStore(root).create_study(definition)
    return definition


def studies_app(root: Path) -> AppProcess:
    """The app serving the studies directory ``root`` (one torch thread unless the caller set it)."""
    env = {"FACEGAN_STUDIES": str(root), "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    return AppProcess(root / "app.log", env)


class Participant:
    """One simulated participant with its own API client; remembers every acknowledged vote."""

    def __init__(self, url: str, study_id: str, seed: int, participant_id: str = "") -> None:
        from gradio_client import Client

        # ssl_verify=False: the app is plain http on 127.0.0.1, so nothing is verified either way, but
        # without it gradio_client builds a CA-bundle SSL context per request (~40 ms CPU), and the
        # simulated clients, not the app, would saturate this machine's two cores.
        self.client = Client(url, verbose=False, download_files=False, ssl_verify=False)
        self.study_id = study_id
        self.rng = random.Random(seed)
        session = self.client.predict(study_id, participant_id, True, api_name="/study_session")
        self.id: str = session["participant_id"]
        self.answered_at_start: int = session["answered"]
        self.acknowledged: list[tuple[int, str]] = []
        self.latencies_ms: list[float] = []

    def vote_next(self) -> bool:
        """Answer the next trial; False when the study is done for this participant."""
        trial = self.client.predict(self.study_id, self.id, api_name="/study_next")
        if trial["done"]:
            return False
        started = time.perf_counter()
        result = self.client.predict(
            self.study_id, self.id, trial["trial"], self.rng.choice(CHOICES), api_name="/study_vote"
        )
        self.latencies_ms.append((time.perf_counter() - started) * 1000)
        self.acknowledged.append((trial["trial"], result["status"]))
        return True

    def repeat_last(self) -> str:
        """Send the last vote again, as a double click or a retried request would."""
        trial = self.acknowledged[-1][0]
        return self.client.predict(self.study_id, self.id, trial, "first", api_name="/study_vote")["status"]


def run_participants(participants: list[Participant], errors: list[str], stop: threading.Event) -> None:
    """Every participant votes to the end (or until ``stop``) in its own thread; errors are collected."""

    def run(participant: Participant) -> None:
        try:
            while not stop.is_set() and participant.vote_next():
                pass
        except Exception as exc:  # noqa: BLE001 - a crash benchmark expects failures; they are counted
            errors.append(f"{participant.id}: {type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=run, args=(p,)) for p in participants]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def vote_audit(root: Path, study_id: str, acknowledged: set[tuple[str, int]]) -> dict[str, int]:
    """Compare the database with the acknowledged votes."""
    rows = [(v.participant_id, v.trial) for v in StudyStore(root).votes(study_id)]
    stored = set(rows)
    return {
        "acknowledged": len(acknowledged),
        "stored": len(rows),
        "lost": len(acknowledged - stored),
        "duplicated": len(rows) - len(stored),
        "stored_not_acknowledged": len(stored - acknowledged),
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=20)
    parser.add_argument("--votes", type=int, default=500, help="in total; split evenly over participants")
    parser.add_argument("--data", help="dataset root (default: $FACEGAN_DATA or ../shared/data)")
    args = parser.parse_args(argv)
    trials = args.votes // args.participants
    with tempfile.TemporaryDirectory(prefix="study-load-") as tmp:
        root = Path(tmp)
        definition = ready_study(root, trials, args.data)
        with studies_app(root) as app:
            participants = [Participant(app.url, definition.study_id, seed) for seed in range(args.participants)]
            errors: list[str] = []
            started, server_cpu, client_cpu = time.perf_counter(), app.cpu_s(), time.process_time()
            run_participants(participants, errors, threading.Event())
            wall_s = time.perf_counter() - started
            server_cpu, client_cpu = app.cpu_s() - server_cpu, time.process_time() - client_cpu
            repeats = [p.repeat_last() for p in participants]
        acknowledged = {(p.id, trial) for p in participants for trial, status in p.acknowledged if status == "recorded"}
        audit = vote_audit(root, definition.study_id, acknowledged)
    latencies = [ms for p in participants for ms in p.latencies_ms]
    result = {
        "participants": args.participants,
        "votes_per_participant": trials,
        **audit,
        "repeats_sent": len(repeats),
        "repeats_reported_duplicate": repeats.count("duplicate"),
        "errors": errors,
        "vote_latency": percentiles(latencies),
        "votes_per_s": round(len(latencies) / wall_s, 1),
        # Both per vote, which takes two API calls (next trial + vote): where the 2 cores' time goes.
        "app_cpu_ms_per_vote": round(1000 * server_cpu / len(latencies), 1),
        "clients_cpu_ms_per_vote": round(1000 * client_cpu / len(latencies), 1),
        "wall_s": round(wall_s, 1),
        "cpu_count": os.cpu_count(),
    }
    record_result("study_load", result, sys.argv[1:] if argv is None else argv)
    return result


if __name__ == "__main__":
    main()
