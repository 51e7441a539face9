"""Durable study storage: one SQLite database (stdlib ``sqlite3``) beside the studies' stimuli.

Why these settings: WAL lets participants read while another one writes and survives a killed
process; ``synchronous=FULL`` syncs every commit to disk, so a vote acknowledged to a participant
is never lost, even on power failure; the busy timeout makes concurrent writers wait instead of
failing. Each thread gets its own connection (sqlite3 connections must not be shared across
threads), and several app processes may use the same file.

Each trial is answerable once: ``UNIQUE(study_id, participant_id, trial)`` on the votes, and a
second answer comes back as ``status="duplicate"`` with the first one, never as an error.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from facegan.errors import UserError
from facegan.paths import cache_dir
from facegan.studies.definition import CHOICES, StudyDefinition

DB_NAME = "studies.sqlite3"
BUSY_TIMEOUT_MS = 30_000
Status = Literal["open", "closed"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS studies (
    study_id   TEXT PRIMARY KEY,
    definition TEXT NOT NULL,
    status     TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    created_at TEXT NOT NULL,
    closed_at  TEXT
);
CREATE TABLE IF NOT EXISTS participants (
    study_id       TEXT NOT NULL REFERENCES studies (study_id),
    participant_id TEXT NOT NULL,
    consent_at     TEXT NOT NULL,
    plan           TEXT NOT NULL,  -- JSON [{"trial": i, "swap": bool}, ...] in the order shown
    PRIMARY KEY (study_id, participant_id)
);
CREATE TABLE IF NOT EXISTS presentations (
    study_id       TEXT NOT NULL,
    participant_id TEXT NOT NULL,
    trial          INTEGER NOT NULL,
    shown_at       REAL NOT NULL,  -- unix seconds when the server last sent this trial
    PRIMARY KEY (study_id, participant_id, trial),
    FOREIGN KEY (study_id, participant_id) REFERENCES participants (study_id, participant_id)
);
CREATE TABLE IF NOT EXISTS votes (
    vote_id        INTEGER PRIMARY KEY,
    study_id       TEXT NOT NULL,
    participant_id TEXT NOT NULL,
    trial          INTEGER NOT NULL,
    position       INTEGER NOT NULL,  -- 0-based place of the trial in the participant's order
    condition      TEXT NOT NULL,
    first          TEXT NOT NULL,     -- outcome shown on the left (A / first)
    second         TEXT NOT NULL,     -- outcome shown on the right (B / second)
    choice         TEXT NOT NULL CHECK (choice IN ('first', 'second', 'none')),
    outcome        TEXT NOT NULL,     -- the outcome picked, or 'none'
    response_ms    INTEGER NOT NULL,  -- server time from showing the trial to receiving the vote
    voted_at       TEXT NOT NULL,
    UNIQUE (study_id, participant_id, trial),
    FOREIGN KEY (study_id, participant_id) REFERENCES participants (study_id, participant_id)
);
"""


def studies_dir() -> Path:
    """Root of the database and every study's stimuli: ``$FACEGAN_STUDIES``, else the user cache.

    Stimuli derived from CelebA must stay outside the repository, hence a cache default.
    """
    env = os.environ.get("FACEGAN_STUDIES")
    return Path(env).expanduser() if env else cache_dir() / "studies"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class StudyRecord:
    definition: StudyDefinition
    status: Status
    created_at: str
    closed_at: str | None

    @property
    def study_id(self) -> str:
        return self.definition.study_id


@dataclass(frozen=True)
class PlannedTrial:
    """One step of a participant's randomised plan: which trial, and whether its two options swap."""

    trial: int
    swap: bool


@dataclass(frozen=True)
class Vote:
    vote_id: int
    study_id: str
    participant_id: str
    trial: int
    position: int
    condition: str
    first: str
    second: str
    choice: str
    outcome: str
    response_ms: int
    voted_at: str


@dataclass(frozen=True)
class VoteResult:
    """``recorded``: this call stored the vote; ``duplicate``: the trial was answered before (``vote``)."""

    status: Literal["recorded", "duplicate"]
    vote: Vote


class StudyStore:
    """All reads and writes of studies, participants and votes for one studies directory."""

    def __init__(self, root: str | os.PathLike | None = None) -> None:
        self.root = Path(root) if root is not None else studies_dir()
        self.root.mkdir(parents=True, exist_ok=True)
        self.path = self.root / DB_NAME
        self._local = threading.local()
        self._conn().executescript(SCHEMA)

    def _conn(self) -> sqlite3.Connection:
        """This thread's connection, opened on first use."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            # isolation_level=None: no implicit transactions; writes use explicit BEGIN IMMEDIATE.
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("PRAGMA foreign_keys = ON")
            self._local.conn = conn
        return conn

    def close(self) -> None:
        """Close this thread's connection (others close when their threads end)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taking the write lock up front so checks and writes see one state."""
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    # Studies ---------------------------------------------------------------------------------------

    def create_study(self, definition: StudyDefinition) -> StudyRecord:
        with self._write() as conn:
            if conn.execute("SELECT 1 FROM studies WHERE study_id = ?", (definition.study_id,)).fetchone():
                raise UserError(f"a study with id {definition.study_id!r} already exists; choose another id")
            conn.execute(
                "INSERT INTO studies (study_id, definition, created_at) VALUES (?, ?, ?)",
                (definition.study_id, json.dumps(definition.to_dict()), _now()),
            )
        return self.require_study(definition.study_id)

    @staticmethod
    def _study(row: sqlite3.Row) -> StudyRecord:
        return StudyRecord(
            StudyDefinition.from_dict(json.loads(row["definition"])), row["status"], row["created_at"],
            row["closed_at"],
        )

    def study(self, study_id: str) -> StudyRecord | None:
        row = self._conn().execute("SELECT * FROM studies WHERE study_id = ?", (study_id,)).fetchone()
        return self._study(row) if row else None

    def require_study(self, study_id: str) -> StudyRecord:
        record = self.study(study_id)
        if record is None:
            raise UserError(f"there is no study {study_id!r}")
        return record

    def studies(self) -> list[StudyRecord]:
        rows = self._conn().execute("SELECT * FROM studies ORDER BY created_at, study_id").fetchall()
        return [self._study(row) for row in rows]

    def set_status(self, study_id: str, status: Status) -> StudyRecord:
        with self._write() as conn:
            updated = conn.execute(
                "UPDATE studies SET status = ?, closed_at = ? WHERE study_id = ?",
                (status, _now() if status == "closed" else None, study_id),
            ).rowcount
        if not updated:
            raise UserError(f"there is no study {study_id!r}")
        return self.require_study(study_id)

    # Participants ----------------------------------------------------------------------------------

    def join(self, study_id: str, participant_id: str, plan: list[PlannedTrial]) -> list[PlannedTrial]:
        """Record consent and the participant's plan; joining again keeps the first plan (resume)."""
        with self._write() as conn:
            status = conn.execute("SELECT status FROM studies WHERE study_id = ?", (study_id,)).fetchone()
            if status is None:
                raise UserError(f"there is no study {study_id!r}")
            if status["status"] != "open":
                raise UserError("this study is closed and takes no more participants")
            conn.execute(
                "INSERT INTO participants (study_id, participant_id, consent_at, plan) VALUES (?, ?, ?, ?) "
                "ON CONFLICT DO NOTHING",
                (study_id, participant_id, _now(), json.dumps([dataclasses.asdict(step) for step in plan])),
            )
        stored = self.plan(study_id, participant_id)
        assert stored is not None
        return stored

    def plan(self, study_id: str, participant_id: str) -> list[PlannedTrial] | None:
        """The participant's recorded trial order and placements, or None before consent."""
        row = self._conn().execute(
            "SELECT plan FROM participants WHERE study_id = ? AND participant_id = ?", (study_id, participant_id)
        ).fetchone()
        return [PlannedTrial(**step) for step in json.loads(row["plan"])] if row else None

    def answered(self, study_id: str, participant_id: str) -> set[int]:
        rows = self._conn().execute(
            "SELECT trial FROM votes WHERE study_id = ? AND participant_id = ?", (study_id, participant_id)
        ).fetchall()
        return {row["trial"] for row in rows}

    def mark_shown(self, study_id: str, participant_id: str, trial: int) -> None:
        """Start the response-time clock of a trial (again, when it is shown again after a reload)."""
        with self._write() as conn:
            conn.execute(
                "INSERT INTO presentations (study_id, participant_id, trial, shown_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT DO UPDATE SET shown_at = excluded.shown_at",
                (study_id, participant_id, trial, time.time()),
            )

    # Votes -----------------------------------------------------------------------------------------

    def record_vote(
        self, study_id: str, participant_id: str, trial: int, choice: str, *,
        condition: str, first: str, second: str, outcome: str,
    ) -> VoteResult:
        """Store one answer, committed (and synced) before returning; a repeat returns the first.

        The caller (``facegan.studies.session``) maps the choice to an outcome from the stimuli; this
        checks what only the database knows: the study is open and the trial was shown to this
        participant.
        """
        received = time.time()
        if choice not in CHOICES:
            raise UserError(f"unknown choice {choice!r}; answer one of {', '.join(CHOICES)}")
        with self._write() as conn:
            existing = self._vote_row(conn, study_id, participant_id, trial)
            if existing is not None:
                return VoteResult("duplicate", existing)
            status = conn.execute("SELECT status FROM studies WHERE study_id = ?", (study_id,)).fetchone()
            if status is None or status["status"] != "open":
                raise UserError("this study is closed; no more answers are taken")
            shown = conn.execute(
                "SELECT shown_at FROM presentations WHERE study_id = ? AND participant_id = ? AND trial = ?",
                (study_id, participant_id, trial),
            ).fetchone()
            if shown is None:
                raise UserError(f"trial {trial} has not been shown to this participant")
            plan = self.plan(study_id, participant_id) or []
            position = next((i for i, step in enumerate(plan) if step.trial == trial), None)
            if position is None:
                raise UserError(f"trial {trial} is not in this participant's plan")
            conn.execute(
                "INSERT INTO votes (study_id, participant_id, trial, position, condition, first, second, "
                "choice, outcome, response_ms, voted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (study_id, participant_id, trial, position, condition, first, second, choice, outcome,
                 max(0, round((received - shown["shown_at"]) * 1000)), _now()),
            )
            vote = self._vote_row(conn, study_id, participant_id, trial)
        assert vote is not None
        return VoteResult("recorded", vote)

    @staticmethod
    def _vote_row(conn: sqlite3.Connection, study_id: str, participant_id: str, trial: int) -> Vote | None:
        row = conn.execute(
            "SELECT * FROM votes WHERE study_id = ? AND participant_id = ? AND trial = ?",
            (study_id, participant_id, trial),
        ).fetchone()
        return Vote(**dict(row)) if row else None

    def votes(self, study_id: str) -> list[Vote]:
        rows = self._conn().execute(
            "SELECT * FROM votes WHERE study_id = ? ORDER BY vote_id", (study_id,)
        ).fetchall()
        return [Vote(**dict(row)) for row in rows]

    def participant_count(self, study_id: str) -> int:
        return self._conn().execute(
            "SELECT COUNT(*) FROM participants WHERE study_id = ?", (study_id,)
        ).fetchone()[0]
