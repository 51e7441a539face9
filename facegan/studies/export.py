"""Results export: every answer as CSV, the analysis as JSON, the charts as PNG, and one HTML report.

The report is a single self-contained file (charts inlined as base64 PNG, no scripts, no external
links) that can be mailed to a co-author or attached to a paper's supplement: definition, results
with and without excluded raters, tests, agreement, rater quality and the charts.
"""

from __future__ import annotations

import base64
import csv
import dataclasses
import html
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from facegan.studies.charts import condition_bars, pie_chart, png_bytes, strength_chart
from facegan.studies.stats import Share, StudyAnalysis, StudyResults
from facegan.studies.store import Vote
from facegan.studies.tables import Table, answers_table, rater_table, strength_table, test_table

VOTE_COLUMNS = [field.name for field in dataclasses.fields(Vote)]


def votes_csv(votes: Sequence[Vote]) -> str:
    """One row per answer, undone ones included (participant ids are anonymous random ids)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=VOTE_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(dataclasses.asdict(vote) for vote in votes)
    return buffer.getvalue()


def _share(share: Share) -> dict[str, Any]:
    return {**dataclasses.asdict(share), "share": share.share}


def _results(results: StudyResults) -> dict[str, Any]:
    return {
        "votes": results.votes,
        "participants": results.participants,
        "overall": [_share(share) for share in results.overall],
        "by_condition": {c: [_share(share) for share in rows] for c, rows in results.by_condition.items()},
        "strengths": [dataclasses.asdict(s) for s in results.strengths] if results.strengths else None,
        "tie_parameter": dataclasses.asdict(results.tie) if results.tie else None,
        "strengths_note": results.strengths_note,
        "sign_tests": [{**dataclasses.asdict(t), "significant": t.significant} for t in results.tests],
        "krippendorff_alpha": results.agreement,
        "response_ms": {"median": results.response_ms_median, "p95": results.response_ms_p95},
    }


def results_json(analysis: StudyAnalysis, votes: Sequence[Vote], checkpoints: dict[str, Any] | None) -> dict[str, Any]:
    """The analysis the results view shows, plus the checkpoints compared and every answer."""
    return {
        "definition": analysis.all.definition.to_dict(),
        "checkpoints": checkpoints,
        "all_raters": _results(analysis.all),
        "without_excluded": _results(analysis.included),
        "raters": [
            {**dataclasses.asdict(r), "gold_accuracy": r.gold_accuracy, "consistency": r.consistency}
            for r in analysis.raters
        ],
        "confidence": "shares: Wilson score 95%; strengths: participant bootstrap 95% (bias-corrected)",
        "all_votes": [dataclasses.asdict(vote) for vote in votes],
    }


def _html(table: Table) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in table.headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in table.rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _results_html(results: StudyResults) -> str:
    alpha = "–" if results.agreement is None else f"{results.agreement:.3f}"
    parts = [
        f"<p>{results.votes} answers from {results.participants} participants. Krippendorff's α = {alpha}.</p>",
        _html(answers_table(results)),
    ]
    if results.strengths:
        parts.append(_html(strength_table(results)))
    parts += [f"<p>{html.escape(results.strengths_note)}</p>", _html(test_table(results))]
    return "\n".join(parts)


def _image(figure_png: bytes, alt: str) -> str:
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{base64.b64encode(figure_png).decode()}">'


def report_html(analysis: StudyAnalysis, charts: dict[str, bytes]) -> str:
    """The one-file report (every text escaped: titles and ids come from the study definition)."""
    definition = analysis.all.definition
    raters = _html(rater_table(analysis.raters))
    figures = "".join(_image(data, name) for name, data in charts.items())
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(definition.title)}: study report</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em}}
table{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #ccc;padding:.25em .6em;text-align:right}}
img{{max-width:100%}}pre{{background:#f4f4f4;padding:1em;overflow:auto}}</style></head><body>
<h1>{html.escape(definition.title)}</h1>
<p>Question: {html.escape(definition.question)}</p>
{figures}
<h2>Results, all raters</h2>
{_results_html(analysis.all)}
<h2>Results without excluded raters ({len(analysis.excluded)} excluded)</h2>
{_results_html(analysis.included)}
<h2>Raters</h2>
<p>Exclusion rule: {html.escape(str(definition.exclude_after_gold_failures or "none"))} failed gold trials
or more.</p>
{raters}
<h2>Study definition</h2>
<pre>{html.escape(json.dumps(definition.to_dict(), indent=1))}</pre>
</body></html>
"""


def write_exports(
    analysis: StudyAnalysis, votes: Sequence[Vote], checkpoints: dict[str, Any] | None, directory: Path
) -> list[Path]:
    """``<study>_votes.csv``, ``_results.json``, ``_report.html`` and the charts as PNG files."""
    directory.mkdir(parents=True, exist_ok=True)
    stem = analysis.all.definition.study_id
    charts = {
        f"{stem}_pie.png": png_bytes(pie_chart(analysis.included)),
        f"{stem}_bars.png": png_bytes(condition_bars(analysis.included)),
        f"{stem}_strengths.png": png_bytes(strength_chart(analysis.included)),
    }
    files = {
        f"{stem}_votes.csv": votes_csv(votes).encode(),
        f"{stem}_results.json": (json.dumps(results_json(analysis, votes, checkpoints), indent=1) + "\n").encode(),
        f"{stem}_report.html": report_html(analysis, charts).encode(),
        **charts,
    }
    for name, data in files.items():
        (directory / name).write_bytes(data)
    return [directory / name for name in files]
