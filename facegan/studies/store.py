"""Durable study storage: one SQLite database (stdlib ``sqlite3``) beside the studies' stimuli.

Why these settings: WAL lets participants read while another one writes and survives a killed
process; ``synchronous=FULL`` syncs every commit to disk, so a vote acknowledged to a participant
is never lost, even on power failure; the busy timeout makes concurrent writers wait instead of
failing. Each thread gets its own connection (sqlite3 connections must not be shared across
threads), and several app processes may use the same file.

Each trial has one standing answer: a second answer comes back as ``status="duplicate"`` with the
first one, never as an error. A participant may undo their last answer within ``UNDO_WINDOW_S``; the
undo is a row of its own (``undos``) and the vote stays, so nothing is ever deleted. The trial can
then be answered again as its next ``attempt``. Resetting the demo study likewise moves its
participants and votes to a closed archive study instead of deleting them.
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
UNDO_WINDOW_S = 5.0
Status = Literal["open", "closed"]

STUDY_TABLES = """
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
"""
VOTES_TABLE = """
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
    attempt        INTEGER NOT NULL DEFAULT 0,  -- 1, 2, ... after an undo of the earlier answer
    UNIQUE (study_id, participant_id, trial, attempt),
    FOREIGN KEY (study_id, participant_id) REFERENCES participants (study_id, participant_id)
);
"""
UNDOS_TABLE = """
CREATE TABLE IF NOT EXISTS undos (
    vote_id   INTEGER PRIMARY KEY,  -- the vote taken back (it stays in votes)
    undone_at TEXT NOT NULL
);
"""
SCHEMA = STUDY_TABLES + VOTES_TABLE + UNDOS_TABLE
VOTE_COLUMNS = (
    "vote_id, study_id, participant_id, trial, position, condition, first, second, choice, outcome, "
    "response_ms, voted_at"
)
"""The columns of the first schema's votes table, before ``attempt``: what a migration copies."""


VOTES_WITH_UNDOS = "SELECT v.*, u.undone_at FROM votes v LEFT JOIN undos u ON u.vote_id = v.vote_id"


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
    attempt: int = 0
    undone_at: str | None = None


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
        self._migrate()

    def _migrate(self) -> None:
        """Bring a database of the first schema (one answer per trial, no undo) to this one, in one
        transaction; its votes are copied as attempt 0."""
        with self._write() as conn:
            columns = {row["name"] for row in conn.execute("PRAGMA table_info(votes)")}
            if "attempt" in columns:
                return
            conn.execute("ALTER TABLE votes RENAME TO votes_first_schema")
            conn.execute(VOTES_TABLE)
            conn.execute(f"INSERT INTO votes ({VOTE_COLUMNS}) SELECT {VOTE_COLUMNS} FROM votes_first_schema")
            conn.execute("DROP TABLE votes_first_schema")

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
        """Trials with a standing (not undone) answer."""
        rows = self._conn().execute(
            f"{VOTES_WITH_UNDOS} WHERE v.study_id = ? AND v.participant_id = ? AND u.vote_id IS NULL",
            (study_id, participant_id),
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
            attempt = conn.execute(
                "SELECT COUNT(*) FROM votes WHERE study_id = ? AND participant_id = ? AND trial = ?",
                (study_id, participant_id, trial),
            ).fetchone()[0]
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
                "choice, outcome, response_ms, voted_at, attempt) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (study_id, participant_id, trial, position, condition, first, second, choice, outcome,
                 max(0, round((received - shown["shown_at"]) * 1000)), _now(), attempt),
            )
            vote = self._vote_row(conn, study_id, participant_id, trial)
        assert vote is not None
        return VoteResult("recorded", vote)

    @staticmethod
    def _vote_row(conn: sqlite3.Connection, study_id: str, participant_id: str, trial: int) -> Vote | None:
        """The standing (not undone) answer to a trial, if any."""
        row = conn.execute(
            f"{VOTES_WITH_UNDOS} WHERE v.study_id = ? AND v.participant_id = ? AND v.trial = ? "
            "AND u.vote_id IS NULL",
            (study_id, participant_id, trial),
        ).fetchone()
        return Vote(**dict(row)) if row else None

    def votes(self, study_id: str, include_undone: bool = False) -> list[Vote]:
        """The standing answers (for statistics), or every answer ever given with its undo time (exports)."""
        where = "" if include_undone else " AND u.vote_id IS NULL"
        rows = self._conn().execute(
            f"{VOTES_WITH_UNDOS} WHERE v.study_id = ?{where} ORDER BY v.vote_id", (study_id,)
        ).fetchall()
        return [Vote(**dict(row)) for row in rows]

    def undo_last(self, study_id: str, participant_id: str, window_s: float = UNDO_WINDOW_S) -> Vote:
        """Take back the participant's latest standing answer if it is under ``window_s`` old.

        The vote row stays; an ``undos`` row marks it, so the trial becomes unanswered again.
        """
        with self._write() as conn:
            row = conn.execute(
                f"{VOTES_WITH_UNDOS} WHERE v.study_id = ? AND v.participant_id = ? AND u.vote_id IS NULL "
                "ORDER BY v.vote_id DESC LIMIT 1",
                (study_id, participant_id),
            ).fetchone()
            if row is None:
                raise UserError("there is no answer to undo")
            vote = Vote(**dict(row))
            age = datetime.now(UTC) - datetime.fromisoformat(vote.voted_at)
            if age.total_seconds() > window_s:
                raise UserError(f"an answer can be undone only within {window_s:g} seconds")
            conn.execute("INSERT INTO undos (vote_id, undone_at) VALUES (?, ?)", (vote.vote_id, _now()))
        return dataclasses.replace(vote, undone_at=_now())

    def archive(self, study_id: str) -> str:
        """Move the study's participants, presentations and votes to a new closed study
        ``<id>-archive-<time>`` (same definition, new id) and return its id: a reset that deletes nothing."""
        record = self.require_study(study_id)
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S-%f")
        archived = dataclasses.replace(record.definition, study_id=f"{study_id[:40]}-archive-{stamp}", demo=False)
        with self._write() as conn:
            conn.execute("PRAGMA defer_foreign_keys = ON")
            conn.execute(
                "INSERT INTO studies (study_id, definition, status, created_at, closed_at) "
                "VALUES (?, ?, 'closed', ?, ?)",
                (archived.study_id, json.dumps(archived.to_dict()), record.created_at, _now()),
            )
            for table in ("participants", "presentations", "votes"):
                conn.execute(f"UPDATE {table} SET study_id = ? WHERE study_id = ?", (archived.study_id, study_id))
        return archived.study_id

    def participant_count(self, study_id: str) -> int:
        return self._conn().execute(
            "SELECT COUNT(*) FROM participants WHERE study_id = ?", (study_id,)
        ).fetchone()[0]
