"""Result charts with matplotlib's Agg backend: the paper-000 Fig. 7 pie and per-condition bars.

Figures are built with the object API (``Figure`` + Agg canvas), never pyplot, so charts can be drawn
from the app's worker threads without a global figure manager or a display.
"""

from __future__ import annotations

import io

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from facegan.studies.definition import NONE
from facegan.studies.stats import Share, StudyResults

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf")
NONE_COLOUR = "#9a9a9a"


def counted(n: int, noun: str) -> str:
    """A count with its noun, "1 vote" or "5 votes", for titles and summaries."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _colours(shares: list[Share]) -> list[str]:
    """One colour per outcome, the same in both charts; "None" is always grey."""
    named = iter(PALETTE)
    return [NONE_COLOUR if share.outcome == NONE else next(named) for share in shares]


def _new_figure(width: float, height: float) -> Figure:
    figure = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def pie_chart(results: StudyResults) -> Figure:
    """Share of all votes per outcome, as in paper 000's Fig. 7 (A vs B vs None)."""
    figure = _new_figure(5.5, 4.2)
    axes = figure.add_subplot()
    shown = [share for share in results.overall if share.count]
    if not shown:
        axes.text(0.5, 0.5, "no votes yet", ha="center", va="center", fontsize=14)
        axes.set_axis_off()
    else:
        axes.pie(
            [share.count for share in shown],
            labels=[f"{share.label}\n{share.count} ({share.share:.0%})" for share in shown],
            colors=_colours(shown),
            startangle=90,
            counterclock=False,
            wedgeprops={"edgecolor": "white", "linewidth": 1.5},
        )
        axes.set_aspect("equal")
    axes.set_title(
        f"{results.definition.title}\n{counted(results.votes, 'vote')}, "
        f"{counted(results.participants, 'participant')}", fontsize=10,
    )
    return figure


def condition_bars(results: StudyResults) -> Figure:
    """Per condition (target attribute or sound class): each outcome's share with Wilson 95% bars."""
    conditions = list(results.by_condition)
    figure = _new_figure(max(5.5, 1.2 * len(conditions) + 2), 4.2)
    axes = figure.add_subplot()
    if not conditions:
        axes.text(0.5, 0.5, "no votes yet", ha="center", va="center", fontsize=14)
        axes.set_axis_off()
        return figure
    outcomes = results.overall
    width = 0.8 / len(outcomes)
    x = np.arange(len(conditions))
    for k, (outcome, colour) in enumerate(zip(outcomes, _colours(outcomes), strict=True)):
        rows = [next(s for s in results.by_condition[c] if s.outcome == outcome.outcome) for c in conditions]
        values = np.array([row.share for row in rows])
        errors = np.array([values - [row.low for row in rows], [row.high for row in rows] - values])
        axes.bar(x + (k - (len(outcomes) - 1) / 2) * width, values, width, yerr=errors, capsize=3,
                 color=colour, label=outcome.label)
    totals = [results.by_condition[c][0].total for c in conditions]
    axes.set_xticks(x, [f"{c}\nn={n}" for c, n in zip(conditions, totals, strict=True)], fontsize=8)
    axes.set_ylim(0, 1)
    axes.set_ylabel("share of votes (95% Wilson interval)")
    figure.legend(loc="outside lower center", ncols=len(outcomes), fontsize=8, frameon=False)
    figure.suptitle(results.definition.question, fontsize=10)
    return figure


def png_bytes(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def strength_chart(results: StudyResults) -> Figure:
    """Davidson strengths with their bootstrap 95% intervals, strongest on top (a forest plot)."""
    figure = _new_figure(5.5, 1.2 + 0.5 * max(1, len(results.strengths or [])))
    axes = figure.add_subplot()
    if not results.strengths:
        axes.text(0.5, 0.5, results.strengths_note or "no votes yet", ha="center", va="center", fontsize=9, wrap=True)
        axes.set_axis_off()
        return figure
    rows = results.strengths[::-1]
    y = np.arange(len(rows))
    # Lines from low to high rather than error bars: with a handful of votes a bootstrap interval
    # need not contain its estimate, and error bars cannot draw that.
    axes.hlines(y, [row.low for row in rows], [row.high for row in rows], color=PALETTE[0], linewidth=2)
    axes.plot([row.strength for row in rows], y, "o", color=PALETTE[0])
    axes.axvline(1 / len(rows), color=NONE_COLOUR, linestyle="--", linewidth=1)
    axes.set_yticks(y, [results.definition.outcome_label(row.system) for row in rows])
    axes.set_xlim(0, 1)
    axes.set_xlabel("Bradley–Terry–Davidson strength (95% bootstrap interval)", fontsize=8)
    if results.tie:
        tie = results.tie
        axes.set_title(f"tie parameter ν = {tie.estimate:.2f} [{tie.low:.2f}, {tie.high:.2f}]", fontsize=9)
    return figure
