"""Results export: every vote as CSV, the summary (with the votes) as JSON, and the charts as PNG."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from facegan.studies.charts import condition_bars, pie_chart, png_bytes
from facegan.studies.stats import Share, StudyResults
from facegan.studies.store import Vote

VOTE_COLUMNS = [field.name for field in dataclasses.fields(Vote)]


def votes_csv(votes: Sequence[Vote]) -> str:
    """One row per vote (participant ids are the anonymous random ids, nothing else about people)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=VOTE_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(dataclasses.asdict(vote) for vote in votes)
    return buffer.getvalue()


def _share(share: Share) -> dict[str, Any]:
    return {**dataclasses.asdict(share), "share": share.share}


def results_json(results: StudyResults, votes: Sequence[Vote], checkpoints: dict[str, Any] | None) -> dict[str, Any]:
    """The summary the results view shows, plus the checkpoints compared and the raw votes."""
    return {
        "definition": results.definition.to_dict(),
        "checkpoints": checkpoints,
        "votes": results.votes,
        "participants": results.participants,
        "overall": [_share(share) for share in results.overall],
        "by_condition": {c: [_share(share) for share in rows] for c, rows in results.by_condition.items()},
        "bradley_terry": [dataclasses.asdict(s) for s in results.strengths] if results.strengths else None,
        "bradley_terry_note": results.strengths_note,
        "response_ms": {"median": results.response_ms_median, "p95": results.response_ms_p95},
        "confidence": "Wilson score interval, 95%",
        "all_votes": [dataclasses.asdict(vote) for vote in votes],
    }


def write_exports(
    results: StudyResults, votes: Sequence[Vote], checkpoints: dict[str, Any] | None, directory: Path
) -> list[Path]:
    """``<study>_votes.csv``, ``<study>_results.json``, ``<study>_pie.png`` and ``<study>_bars.png``."""
    directory.mkdir(parents=True, exist_ok=True)
    stem = results.definition.study_id
    files = {
        f"{stem}_votes.csv": votes_csv(votes).encode(),
        f"{stem}_results.json": (json.dumps(results_json(results, votes, checkpoints), indent=1) + "\n").encode(),
        f"{stem}_pie.png": png_bytes(pie_chart(results)),
        f"{stem}_bars.png": png_bytes(condition_bars(results)),
    }
    for name, data in files.items():
        (directory / name).write_bytes(data)
    return [directory / name for name in files]
