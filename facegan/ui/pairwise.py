"""Pairwise comparison tab: user studies (paper 000 Fig. 7, paper 004 Table 6) with durable votes.

Participants see one trial at a time and answer A / B / None (or first / second / neither); each
vote is committed to SQLite before the next trial is shown. Their anonymous id lives in the
browser's localStorage, so a reload resumes where they stopped. The admin accordion (password from
``FACEGAN_ADMIN_PASSWORD``) creates, generates, closes and analyses studies; nothing a participant
can call returns results or other participants' data.

API (for load tests and automation): ``/study_session``, ``/study_next``, ``/study_vote``.
"""

from __future__ import annotations

import hmac
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd

from facegan.errors import UserError
from facegan.studies.charts import condition_bars, counted, pie_chart
from facegan.studies.definition import (
    CHOICES,
    STUDY_TYPES,
    StudyDefinition,
    example_definitions,
    load_definition,
)
from facegan.studies.export import write_exports
from facegan.studies.session import Presentation, Sessions, check_participant_id, new_participant_id
from facegan.studies.stats import summarize
from facegan.studies.stimuli import STIMULI, generate_stimuli
from facegan.studies.store import StudyStore, studies_dir
from facegan.ui.common import escape_markdown, user_errors
from facegan.ui.rate_limit import FailureLimiter
from facegan.validation import whole_number

DESCRIPTION = (
    "Once a study is defined, this tab shows two generated images side by side and asks which one "
    "looks more real or better matches the requested edit (or, for sound studies, which image "
    "matches a sound); answers are stored for the study's statistics."
)
NO_STUDY = "**No study has been defined yet.**"
ADMIN_ENV = "FACEGAN_ADMIN_PASSWORD"
# Participant events share a pool of workers: votes wait on SQLite's write lock, not on the CPU, so
# more than Gradio's default of one at a time keeps latency low with many participants.
PARTICIPANT_EVENTS: dict[str, Any] = {"concurrency_limit": 16, "concurrency_id": "study_participants"}
# The anonymous participant id lives in the browser's localStorage and is read by the page-load event
# itself, in JavaScript: gr.BrowserState would only be read once this tab has been opened, after the
# load event, and a reload would then start a new participant. getRandomValues, unlike randomUUID,
# also works on plain-http deployments.
PARTICIPANT_KEY = "facegan_study_participant"
READ_PARTICIPANT_JS = f"""() => {{
    let id = localStorage.getItem("{PARTICIPANT_KEY}");
    if (!id) {{
        id = Array.from(crypto.getRandomValues(new Uint8Array(16)), b => b.toString(16).padStart(2, "0")).join("");
        localStorage.setItem("{PARTICIPANT_KEY}", id);
    }}
    return [id];
}}"""


@lru_cache(maxsize=4)
def _sessions(root: Path) -> Sessions:
    return Sessions(StudyStore(root))


def sessions() -> Sessions:
    """Participant operations on ``$FACEGAN_STUDIES`` (read per call, so tests can point it elsewhere)."""
    return _sessions(studies_dir())


_served: set[Path] = set()


def _serve(study_dir: Path) -> None:
    """Let Gradio serve a study's stimuli in place; only ``stimuli/`` (the database stays private)."""
    stimuli = (study_dir / STIMULI).resolve()
    if stimuli not in _served:
        gr.set_static_paths([stimuli])
        _served.add(stimuli)


# Participant view --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Screen:
    """What a participant sees: a message, the consent step, or a trial."""

    notice: str = ""
    title: str = ""
    consent: str | None = None
    trial: Presentation | None = None


def screen(study_id: str | None, participant_id: str) -> Screen:
    """Decide the participant's screen from the store alone, so a reload shows the same thing."""
    store = sessions()
    if not study_id:
        return Screen(NO_STUDY if not store.open_studies() else "Choose a study to take part in.")
    record = store.store.study(study_id)
    if record is None or store.stimuli_status(record) != "ready":
        return Screen(f"There is no study “{escape_markdown(study_id)}” ready to take part in.")
    title = f"### {escape_markdown(record.definition.title)}"
    if record.status != "open":
        return Screen("This study is closed. Thank you for your interest!", title)
    progress = store.progress(study_id, participant_id)
    if progress is None:
        return Screen("", title, consent=escape_markdown(record.definition.consent))
    trial = store.next_trial(study_id, participant_id)
    if trial is None:
        return Screen(f"**Thank you!** You have answered all {progress.total} trials of this study.", title)
    _serve(store.study_dir(study_id))
    return Screen("", title, trial=trial)


def _study_choices() -> list[tuple[str, str]]:
    return [(r.definition.title, r.study_id) for r in sessions().open_studies()]


def _progress_html(trial: Presentation) -> str:
    return (
        f'<div class="study-progress"><progress value="{trial.position}" max="{trial.total}" '
        f'style="width:100%"></progress><p>Trial {trial.position + 1} of {trial.total}</p></div>'
    )


# API ---------------------------------------------------------------------------------------------


@user_errors
def study_session(study_id: str, participant_id: str = "", consent: bool = False) -> dict[str, Any]:
    """Start (after consent) or resume a participant; an empty id gets a new anonymous one."""
    participant_id = participant_id or new_participant_id()
    progress = sessions().start(study_id, participant_id, consent)
    return {"study_id": study_id, "participant_id": participant_id, "answered": progress.answered,
            "total": progress.total, "done": progress.done}


@user_errors
def study_next(study_id: str, participant_id: str) -> dict[str, Any]:
    """The participant's next trial (its response-time clock starts now); ``done`` when all are answered."""
    trial = sessions().next_trial(study_id, check_participant_id(participant_id))
    if trial is None:
        return {"study_id": study_id, "done": True}
    return {"study_id": study_id, "done": False, "trial": trial.trial, "position": trial.position,
            "total": trial.total, "question": trial.question, "prompt": trial.prompt,
            "choices": dict(zip(CHOICES, trial.choice_labels, strict=True))}


@user_errors
def study_vote(study_id: str, participant_id: str, trial: int, choice: str) -> dict[str, Any]:
    """Answer a shown trial with first / second / none; stored on disk before this returns.

    ``status`` is ``recorded``, or ``duplicate`` when the trial had been answered (the first answer
    stands).
    """
    result = sessions().vote(study_id, participant_id, whole_number(trial, "trial", 0, 10**6), choice)
    return {"status": result.status, "vote_id": result.vote.vote_id, "trial": result.vote.trial,
            "position": result.vote.position, "choice": result.vote.choice}


# Admin -------------------------------------------------------------------------------------------


ADMIN_GUESSES = FailureLimiter(max_failures=5, window_s=60.0)


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
        [r.study_id, r.definition.title, r.definition.type, r.status,
         store.stimuli_status(r),
         store.store.participant_count(r.study_id), len(store.store.votes(r.study_id))]
        for r in store.store.studies()
    ]
    ids = [row[0] for row in rows]
    return pd.DataFrame(rows, columns=STUDY_COLUMNS), gr.update(choices=ids, value=ids[-1] if ids else None)


@user_errors
def admin_studies(password: str) -> tuple[pd.DataFrame, Any]:
    _check_admin(password)
    return _overview()


FORM_FIELDS = ["study_id", "title", "type", "systems", "trials_per_participant", "pool_size", "seed", "consent"]


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


@user_errors
def admin_create(password: str, study_id: str, title: str, study_type: str, systems: str,
                 trials: float, pool: float | None, seed: float, consent: str) -> tuple[str, pd.DataFrame, Any]:
    _check_admin(password)
    definition = StudyDefinition(
        study_id=study_id.strip(), title=title, type=study_type,
        systems=tuple(name.strip() for name in systems.split(",") if name.strip()),
        trials_per_participant=int(trials or 0), seed=int(seed or 0), consent=consent,
        pool_size=int(pool) if pool else None,
    )
    sessions().store.create_study(definition)
    return (f"Created **{definition.study_id}**. Generate its stimuli next.", *_overview())


@user_errors
def admin_generate(password: str, study_id: str, progress: gr.Progress = gr.Progress(track_tqdm=True)) -> str:
    """Generate (or, while nobody has voted, regenerate) a study's stimuli through the pipelines."""
    _check_admin(password)
    store = sessions().store
    record = store.require_study(study_id)
    if store.votes(study_id):
        raise UserError("this study already has votes; its stimuli can no longer change")
    manifest = generate_stimuli(record.definition, sessions().study_dir(study_id), force=True)
    return f"Generated {len(manifest.trials)} trials for **{study_id}**; participants can take part now."


def _set_status(status: str) -> Callable[[str, str], tuple[str, pd.DataFrame, Any]]:
    @user_errors
    def handler(password: str, study_id: str) -> tuple[str, pd.DataFrame, Any]:
        _check_admin(password)
        sessions().store.set_status(study_id, status)
        return (f"**{study_id}** is {status} now.", *_overview())

    return handler


def _percent(value: float) -> str:
    return f"{100 * value:.1f}%"


@user_errors
def admin_results(password: str, study_id: str) -> tuple:
    """Tables, charts and export files of one study (admin only)."""
    _check_admin(password)
    store = sessions()
    record = store.store.require_study(study_id)
    votes = store.store.votes(study_id)
    results = summarize(record.definition, votes)
    overall = pd.DataFrame(
        [[s.label, s.count, _percent(s.share), _percent(s.low), _percent(s.high)] for s in results.overall],
        columns=["answer", "votes", "share", "95% low", "95% high"],
    )
    by_condition = pd.DataFrame(
        [[c, s.label, s.count, s.total, _percent(s.share), _percent(s.low), _percent(s.high)]
         for c, rows in results.by_condition.items() for s in rows],
        columns=["condition", "answer", "votes", "of", "share", "95% low", "95% high"],
    )
    strengths = pd.DataFrame(
        [[s.system, round(s.strength, 4), s.wins, s.comparisons] for s in results.strengths or []],
        columns=["system", "Bradley–Terry strength", "wins (ties ½)", "comparisons"],
    )
    summary = (
        f"**{counted(results.votes, 'vote')}** from **{counted(results.participants, 'participant')}** "
        f"({record.status})."
        + (f" Median response time {results.response_ms_median / 1000:.1f} s." if votes else "")
        + (f"\n\n{results.strengths_note}" if results.strengths_note else "")
    )
    manifest = store.manifest(study_id)
    files = write_exports(results, votes, manifest.checkpoints if manifest else None,
                          Path(tempfile.mkdtemp(prefix="facegan-study-")))
    return (summary, overall, by_condition, gr.update(value=strengths, visible=bool(results.strengths)),
            pie_chart(results), condition_bars(results), [str(f) for f in files])


# Layout ------------------------------------------------------------------------------------------


def build_tab() -> None:
    """Lay out the tab's contents; must be called inside a ``gr.Tab``."""
    gr.Markdown(DESCRIPTION)
    _participant_view()
    _admin_view()
    for endpoint in (study_session, study_next, study_vote):
        gr.api(endpoint, api_name=endpoint.__name__, **PARTICIPANT_EVENTS)


def _participant_view() -> None:
    participant = gr.Textbox(visible=False)  # filled from localStorage on load (READ_PARTICIPANT_JS)
    shown = gr.State(None)  # the trial on screen, so a vote names what the participant saw
    study = gr.Dropdown(_study_choices(), value=None, label="Study", interactive=True)
    title = gr.Markdown("")
    notice = gr.Markdown(NO_STUDY if not sessions().open_studies() else "")
    with gr.Column(visible=False) as consent_box:
        consent_text = gr.Markdown("")
        agree = gr.Checkbox(label="I have read the text above and agree to take part")
        start = gr.Button("Start", variant="primary")
    with gr.Column(visible=False) as trial_box:
        progress = gr.HTML()
        question = gr.Markdown("")
        audio = gr.Audio(label="Sound", type="filepath", interactive=False, visible=False)
        reference = gr.Image(label="Input", interactive=False, height=192, visible=False)
        with gr.Row():
            first = gr.Image(label="A", interactive=False, height=256)
            second = gr.Image(label="B", interactive=False, height=256)
        with gr.Row():
            buttons = [gr.Button(label, variant="primary") for label in ("A", "B", "None")]
    view = [notice, title, consent_box, consent_text, agree, trial_box, progress, question, audio, reference,
            first, second, *buttons, shown]

    def show(current: Screen) -> list[Any]:
        """The view's components for a screen, in the order of ``view``."""
        trial = current.trial
        if trial is None:
            trial_updates = [gr.update(visible=False)] + [gr.update()] * 9 + [None]
        else:
            labels = trial.choice_labels
            trial_updates = [
                gr.update(visible=True), _progress_html(trial),
                f"**{escape_markdown(trial.question)}**"
                + (f"\n\n{escape_markdown(trial.prompt)}" if trial.prompt else ""),
                gr.update(value=str(trial.audio) if trial.audio else None, visible=trial.audio is not None),
                gr.update(value=str(trial.reference) if trial.reference else None,
                          visible=trial.reference is not None),
                gr.update(value=str(trial.first), label=labels[0]),
                gr.update(value=str(trial.second), label=labels[1]),
                *(gr.update(value=label) for label in labels), trial.trial,
            ]
        return [
            current.notice, current.title, gr.update(visible=current.consent is not None),
            current.consent or "", False, *trial_updates,
        ]

    @user_errors
    def on_load(participant_id: str, request: gr.Request) -> list[Any]:
        check_participant_id(participant_id)
        choices = _study_choices()
        ids = [value for _, value in choices]
        wanted = request.query_params.get("study")
        chosen = wanted if wanted else (ids[0] if len(ids) == 1 else None)
        return [participant_id, gr.update(choices=choices, value=chosen if chosen in ids else None),
                *show(screen(chosen, participant_id))]

    @user_errors
    def respond(study_id: str | None, participant_id: str, action: Callable[[], object]) -> list[Any]:
        """Do what the participant asked, then show their screen.

        A refused action (no consent, a closed study) is a warning toast over an intact screen; a
        raised gr.Error would also put every output of the event in an error state.
        """
        try:
            action()
        except UserError as exc:
            gr.Warning(str(exc))
        return show(screen(study_id, participant_id))

    def on_start(study_id: str | None, participant_id: str, consent: bool) -> list[Any]:
        def join() -> None:
            if not study_id:
                raise UserError("choose a study first")
            sessions().start(study_id, participant_id, consent)

        return respond(study_id, participant_id, join)

    def on_vote(choice: str) -> Callable[[str, str, int | None], list[Any]]:
        def handler(study_id: str, participant_id: str, trial: int | None) -> list[Any]:
            def record() -> None:
                if trial is not None:  # None when no trial is on screen (a click after the last answer)
                    sessions().vote(study_id, participant_id, trial, choice)

            return respond(study_id, participant_id, record)

        return handler

    shared = {"api_visibility": "private", "show_progress": "minimal", **PARTICIPANT_EVENTS}
    gr.context.Context.root_block.load(
        on_load, [participant], [participant, study, *view], js=READ_PARTICIPANT_JS, **shared
    )
    study.input(user_errors(lambda s, p: show(screen(s, p))), [study, participant], view, **shared)
    start.click(on_start, [study, participant, agree], view, **shared)
    for choice, button in zip(CHOICES, buttons, strict=True):
        button.click(on_vote(choice), [study, participant, shown], view, trigger_mode="once", **shared)


def _admin_view() -> None:
    with gr.Accordion("Admin", open=False):
        if not os.environ.get(ADMIN_ENV):
            gr.Markdown(
                f"Admin is disabled. Start the app with the environment variable `{ADMIN_ENV}` set to a "
                "password to create studies, generate stimuli, close studies and see results."
            )
            return
        password = gr.Textbox(label="Admin password", type="password")
        message = gr.Markdown("")
        with gr.Row():
            list_studies = gr.Button("Show studies")
            chosen = gr.Dropdown([], label="Study", interactive=True)
        overview = gr.Dataframe(headers=STUDY_COLUMNS, interactive=False, label="Studies")
        with gr.Row():
            generate = gr.Button("Generate stimuli")
            close = gr.Button("Close study")
            reopen = gr.Button("Reopen study")
            show_results = gr.Button("Show results", variant="primary")
        with gr.Accordion("New study", open=False):
            with gr.Row():
                example = gr.Dropdown(list(example_definitions()), label="Example definition")
                upload = gr.File(label="...or a definition file", file_types=[".json"], type="filepath")
                load = gr.Button("Fill the form")
            with gr.Row():
                form = [
                    gr.Textbox(label="Study id (a-z, 0-9, - and _)"),
                    gr.Textbox(label="Title"),
                    gr.Radio(list(STUDY_TYPES), value="realism", label="Type"),
                    gr.Textbox(label="Systems (checkpoint names, comma-separated)"),
                ]
            with gr.Row():
                form += [
                    gr.Number(label="Trials per participant", value=5, precision=0, minimum=1),
                    gr.Number(label="Trials generated (empty: as many as per participant)", precision=0),
                    gr.Number(label="Random seed", value=0, precision=0),
                ]
            form.append(gr.Textbox(label="Consent text", lines=3, value=StudyDefinition.consent))
            create = gr.Button("Create study")
        summary = gr.Markdown("")
        with gr.Row():
            overall = gr.Dataframe(label="All votes (Wilson 95% intervals)", interactive=False)
            strengths = gr.Dataframe(label="Bradley–Terry strengths", interactive=False, visible=False)
        by_condition = gr.Dataframe(label="Per condition", interactive=False)
        with gr.Row():
            pie = gr.Plot(label="Answers", show_label=False)
            bars = gr.Plot(label="Per condition", show_label=False)
        downloads = gr.File(label="Export (CSV, JSON, charts)", file_count="multiple", interactive=False)

    private = {"api_visibility": "private"}
    listing = [overview, chosen]
    list_studies.click(admin_studies, [password], listing, **private)
    load.click(admin_load_definition, [password, example, upload], form, **private)
    create.click(admin_create, [password, *form], [message, *listing], **private)
    generate.click(admin_generate, [password, chosen], message, **private)
    close.click(_set_status("closed"), [password, chosen], [message, *listing], **private)
    reopen.click(_set_status("open"), [password, chosen], [message, *listing], **private)
    show_results.click(
        admin_results, [password, chosen], [summary, overall, by_condition, strengths, pie, bars, downloads],
        **private,
    )
