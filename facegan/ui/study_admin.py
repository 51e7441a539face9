"""The admin side of the Pairwise comparison tab: studies, stimuli, the planner, results and reports.

Everything here needs the password in ``FACEGAN_ADMIN_PASSWORD`` (wrong guesses are rate-limited);
nothing a participant can call returns results or other participants' data.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd

from facegan.errors import UserError
from facegan.studies.charts import condition_bars, counted, pie_chart, strength_chart
from facegan.studies.definition import STUDY_TYPES, StudyDefinition, example_definitions, load_definition
from facegan.studies.demo import reset_demo
from facegan.studies.export import write_exports
from facegan.studies.planner import Plan, plan_study, progress
from facegan.studies.session import sessions
from facegan.studies.stats import StudyAnalysis, analyse
from facegan.studies.stimuli import generate_stimuli
from facegan.studies.tables import (
    Table,
    answers_table,
    condition_table,
    rater_table,
    strength_table,
    test_table,
)
from facegan.ui.common import escape_markdown, export_folder, user_errors
from facegan.ui.rate_limit import FailureLimiter
from facegan.validation import number, whole_number

ADMIN_ENV = "FACEGAN_ADMIN_PASSWORD"
ADMIN_GUESSES = FailureLimiter(max_failures=5, window_s=60.0)
EXPORT_PREFIX = "facegan-study-"

def _check_admin(password: str) -> None:
    expected = os.environ.get(ADMIN_ENV)
    if not expected:
        raise UserError(f"admin is disabled: start the app with {ADMIN_ENV} set")
    ADMIN_GUESSES.check()
    if not hmac.compare_digest((password or "").encode(), expected.encode()):
        ADMIN_GUESSES.failed()
        raise UserError("wrong admin password")


STUDY_COLUMNS = ["study", "title", "type", "status", "stimuli", "participants", "votes"]


def _overview() -> tuple[pd.DataFrame, Any]:
    store = sessions()
    rows = [
        [r.study_id, r.definition.title + (" (demo)" if r.definition.demo else ""), r.definition.type, r.status,
         store.stimuli_status(r), store.store.participant_count(r.study_id), len(store.store.votes(r.study_id))]
        for r in store.store.studies()
    ]  # fmt: skip
    ids = [row[0] for row in rows]
    return pd.DataFrame(rows, columns=STUDY_COLUMNS), gr.update(choices=ids, value=ids[-1] if ids else None)


@user_errors
def admin_studies(password: str) -> tuple[pd.DataFrame, Any]:
    _check_admin(password)
    return _overview()


FORM_FIELDS = [
    "study_id", "title", "type", "systems", "trials_per_participant", "pool_size", "seed", "gold_trials",
    "repeat_trials", "exclude_after_gold_failures", "consent",
]  # fmt: skip


@user_errors
def admin_load_definition(password: str, example: str | None, upload: str | None) -> list[Any]:
    """Fill the form from an uploaded definition file, else from the chosen shipped example."""
    _check_admin(password)
    path = Path(upload) if upload else example_definitions().get(example or "")
    if path is None:
        raise UserError("choose an example or upload a definition file first")
    definition = load_definition(path).to_dict()
    definition["systems"] = ", ".join(definition["systems"])
    return [definition[name] for name in FORM_FIELDS]


def _optional_count(value: float | None, name: str) -> int | None:
    return None if value in (None, "") else whole_number(value, name, 0, 10**6)


@user_errors
def admin_create(
    password: str, study_id: str, title: str, study_type: str, systems: str, trials: float, pool: float | None,
    seed: float, gold: float | None, repeats: float | None, exclude_after: float | None, consent: str,
) -> tuple[str, pd.DataFrame, Any]:  # fmt: skip
    _check_admin(password)
    definition = StudyDefinition(
        study_id=study_id.strip(), title=title, type=study_type,
        systems=tuple(name.strip() for name in systems.split(",") if name.strip()),
        trials_per_participant=whole_number(trials, "trials per participant", 1, 10**6),
        seed=whole_number(seed or 0, "seed", 0, 2**31 - 1), consent=consent,
        pool_size=_optional_count(pool, "trials generated") or None,
        gold_trials=_optional_count(gold, "gold trials") or 0,
        repeat_trials=_optional_count(repeats, "repeated trials") or 0,
        exclude_after_gold_failures=_optional_count(exclude_after, "exclusion rule") or None,
    )  # fmt: skip
    sessions().store.create_study(definition)
    return (f"Created **{escape_markdown(definition.study_id)}**. Generate its stimuli next.", *_overview())


@user_errors
def admin_generate(password: str, study_id: str, progress: gr.Progress = gr.Progress(track_tqdm=True)) -> str:
    """Generate (or, while nobody has voted, regenerate) a study's stimuli through the pipelines."""
    _check_admin(password)
    store = sessions().store
    record = store.require_study(study_id)
    if store.votes(study_id, include_undone=True):
        raise UserError("this study already has votes; its stimuli can no longer change")
    manifest = generate_stimuli(record.definition, sessions().study_dir(study_id), force=True)
    study = escape_markdown(study_id)
    return f"Generated {len(manifest.trials)} trials for **{study}**; participants can take part now."


def set_status(status: str) -> Callable[[str, str], tuple[str, pd.DataFrame, Any]]:
    @user_errors
    def handler(password: str, study_id: str) -> tuple[str, pd.DataFrame, Any]:
        _check_admin(password)
        sessions().store.set_status(study_id, status)
        return (f"**{escape_markdown(study_id)}** is {status} now.", *_overview())

    return handler


@user_errors
def admin_reset_demo(password: str, study_id: str) -> tuple[str, pd.DataFrame, Any]:
    """Start the demo study afresh; its answers so far move to a closed archive study."""
    _check_admin(password)
    archived = reset_demo(sessions(), study_id)
    return (f"The demo study starts afresh; its earlier answers are kept in **{archived}** (closed).", *_overview())


# Planner -------------------------------------------------------------------------------------------


def _plan(win_rate: float, tie_rate: float, half_width: float | None, power: float | None, trials: int) -> Plan:
    try:
        return plan_study(
            number(win_rate, "expected win rate", 0, 100) / 100, trials, number(tie_rate, "None rate", 0, 100) / 100,
            None if half_width in (None, "") else number(half_width, "interval half-width", 0, 100) / 100,
            None if power in (None, "") else number(power, "power", 0, 100) / 100,
        )  # fmt: skip
    except ValueError as exc:
        raise UserError(str(exc)) from exc


@user_errors
def admin_plan(
    password: str, study_id: str | None, win_rate: float, tie_rate: float, half_width: float | None,
    power: float | None,
) -> str:  # fmt: skip
    """Participants x trials for the goal, and, for a chosen study, whether its answers meet it yet."""
    _check_admin(password)
    record = sessions().store.study(study_id) if study_id else None
    trials = record.definition.trials_per_participant if record else 10
    plan = _plan(win_rate, tie_rate, half_width, power, trials)
    text = plan.describe()
    if record is not None:
        first, second = [o for o in record.definition.outcomes if o != "none"][:2]
        votes = [v for v in sessions().store.votes(record.study_id) if {v.first, v.second} == {first, second}]
        wins = [sum(v.outcome == side for v in votes) for side in (first, second)]
        text += (
            f"\n\n**{escape_markdown(record.study_id)}** ({escape_markdown(first)} vs {escape_markdown(second)}): "
            + progress(wins[0], wins[1], plan).describe(plan)
        )
    return text


# Results -------------------------------------------------------------------------------------------


def _frame(table: Table) -> pd.DataFrame:
    return pd.DataFrame(table.rows, columns=table.headers)


def _summary(analysis: StudyAnalysis, status: str) -> str:
    everyone, kept = analysis.all, analysis.included
    alpha = "–" if kept.agreement is None else f"{kept.agreement:.2f}"
    text = (
        f"**{counted(everyone.votes, 'answer')}** to regular trials from "
        f"**{counted(everyone.participants, 'participant')}** ({status}). "
        f"{len(analysis.excluded)} excluded by the gold-trial rule; tables and charts below are without them "
        f"({counted(kept.votes, 'answer')}). Agreement (Krippendorff's α): {alpha}."
    )
    if kept.response_ms_median is not None:
        text += f" Median response time {kept.response_ms_median / 1000:.1f} s."
    if kept.tie is not None:
        text += f" Tie parameter ν = {kept.tie.estimate:.2f} [{kept.tie.low:.2f}, {kept.tie.high:.2f}]."
    return text + (f"\n\n{escape_markdown(kept.strengths_note)}" if kept.strengths_note else "")


@user_errors
def admin_results(password: str, study_id: str) -> tuple:
    """Tables, charts and export files of one study (admin only)."""
    _check_admin(password)
    store = sessions()
    record = store.store.require_study(study_id)
    manifest = store.manifest(study_id)
    if manifest is None:
        raise UserError("this study has no stimuli yet, so it has no results")
    votes = store.store.votes(study_id)
    analysis = analyse(record.definition, votes, manifest.trials)
    kept = analysis.included
    overall, all_overall = _frame(answers_table(kept)), _frame(answers_table(analysis.all))
    by_condition, strengths, tests = (_frame(build(kept)) for build in (condition_table, strength_table, test_table))
    raters = _frame(rater_table(analysis.raters))
    files = write_exports(
        analysis, store.store.votes(study_id, include_undone=True), manifest.checkpoints, export_folder(EXPORT_PREFIX)
    )
    return (
        _summary(analysis, record.status), overall, all_overall, by_condition, strengths, tests, raters,
        pie_chart(kept), condition_bars(kept), strength_chart(kept), [str(f) for f in files],
    )  # fmt: skip


# Layout ------------------------------------------------------------------------------------------


def build_admin_view() -> None:
    """The admin accordion; must be called inside the tab."""
    with gr.Accordion("Admin", open=False):
        if not os.environ.get(ADMIN_ENV):
            gr.Markdown(
                f"Admin is disabled. Start the app with the environment variable `{ADMIN_ENV}` set to a "
                "password to create studies, generate stimuli, plan, close studies and see results."
            )
            return
        password = gr.Textbox(label="Admin password", type="password")
        message = gr.Markdown("")
        with gr.Row():
            list_studies = gr.Button("Show studies")
            chosen = gr.Dropdown([], label="Study to manage", interactive=True)
        overview = gr.Dataframe(headers=STUDY_COLUMNS, interactive=False, label="Studies")
        with gr.Row():
            generate = gr.Button("Generate stimuli")
            close = gr.Button("Close study")
            reopen = gr.Button("Reopen study")
            reset = gr.Button("Reset demo study")
            show_results = gr.Button("Show results", variant="primary")
        form = _new_study_form()
        with gr.Accordion("Planner: how many participants?", open=False):
            with gr.Row():
                win_rate = gr.Number(label="Expected win rate of A over B (%)", value=65)
                tie_rate = gr.Number(label="Expected “None” answers (%)", value=20)
                half_width = gr.Number(label="Target 95% interval half-width (%)", value=10)
                power = gr.Number(label="Target power (%, empty: none)", value=80)
            plan = gr.Button("Plan")
            plan_text = gr.Markdown("")
        summary = gr.Markdown("")
        with gr.Row():
            overall = gr.Dataframe(label="Answers without excluded raters (Wilson 95%)", interactive=False)
            all_overall = gr.Dataframe(label="Answers, all raters", interactive=False)
        strengths = gr.Dataframe(label="Bradley–Terry–Davidson strengths (bootstrap 95%)", interactive=False)
        by_condition = gr.Dataframe(label="Per condition", interactive=False)
        tests = gr.Dataframe(label="Sign tests per condition (Holm-corrected)", interactive=False)
        raters = gr.Dataframe(label="Raters: gold accuracy, consistency, response time", interactive=False)
        with gr.Row():
            pie = gr.Plot(label="Answers", show_label=False)
            bars = gr.Plot(label="Per condition", show_label=False)
            forest = gr.Plot(label="Strengths", show_label=False)
        downloads = gr.File(label="Export (report, CSV, JSON, charts)", file_count="multiple", interactive=False)

    private = {"api_visibility": "private"}
    listing = [overview, chosen]
    list_studies.click(admin_studies, [password], listing, **private)
    form.load.click(admin_load_definition, [password, form.example, form.upload], form.fields, **private)
    form.create.click(admin_create, [password, *form.fields], [message, *listing], **private)
    generate.click(admin_generate, [password, chosen], message, **private)
    close.click(set_status("closed"), [password, chosen], [message, *listing], **private)
    reopen.click(set_status("open"), [password, chosen], [message, *listing], **private)
    reset.click(admin_reset_demo, [password, chosen], [message, *listing], **private)
    plan.click(admin_plan, [password, chosen, win_rate, tie_rate, half_width, power], plan_text, **private)
    show_results.click(
        admin_results, [password, chosen],
        [summary, overall, all_overall, by_condition, strengths, tests, raters, pie, bars, forest, downloads],
        **private,
    )  # fmt: skip


@dataclass
class _StudyForm:
    example: gr.Dropdown
    upload: gr.File
    load: gr.Button
    fields: list[Any]
    create: gr.Button


def _new_study_form() -> _StudyForm:
    with gr.Accordion("New study", open=False):
        with gr.Row():
            example = gr.Dropdown(list(example_definitions()), label="Example definition")
            upload = gr.File(label="...or a definition file", file_types=[".json"], type="filepath")
            load = gr.Button("Fill the form")
        with gr.Row():
            fields = [
                gr.Textbox(label="Study id (a-z, 0-9, - and _)"),
                gr.Textbox(label="Title"),
                gr.Radio(list(STUDY_TYPES), value="realism", label="Type"),
                gr.Textbox(label="Systems (checkpoint names, comma-separated)"),
            ]
        with gr.Row():
            fields += [
                gr.Number(label="Trials per participant", value=5, precision=0, minimum=1),
                gr.Number(label="Trials generated (empty: as many as per participant)", precision=0),
                gr.Number(label="Random seed", value=0, precision=0),
            ]
        with gr.Row():
            fields += [
                gr.Number(label="Gold trials (attention checks)", value=2, precision=0, minimum=0),
                gr.Number(label="Repeated trials (consistency)", value=2, precision=0, minimum=0),
                gr.Number(label="Exclude after this many failed gold trials (empty: never)", value=1, precision=0),
            ]
        fields.append(gr.Textbox(label="Consent text", lines=3, value=StudyDefinition.consent))
        create = gr.Button("Create study")
    return _StudyForm(example, upload, load, fields, create)
