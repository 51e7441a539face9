"""Pairwise comparison tab: user studies (paper 000 Fig. 7, paper 004 Table 6) with durable votes.

Participants see one trial at a time and answer A / B / None (or first / second / neither); each
vote is committed to SQLite before the next trial is shown. Their anonymous id lives in the
browser's localStorage, so a reload resumes where they stopped. Keys 1 / 2 / 0 answer, a click on
an image enlarges it, and the last answer can be undone for 5 seconds (recorded, never deleted). A
fresh start prepares the demo study (``facegan.studies.demo``), so there is always something to try.
The admin accordion lives in ``facegan.ui.study_admin``.

API (for load tests and automation): ``/study_session``, ``/study_next``, ``/study_vote``, ``/study_undo``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np
import soundfile
from PIL import Image

from facegan.errors import UserError
from facegan.studies.definition import CHOICES
from facegan.studies.demo import demo_enabled, prepare_demo_in_background
from facegan.studies.session import Presentation, check_participant_id, new_participant_id, sessions
from facegan.studies.store import UNDO_WINDOW_S
from facegan.ui.common import escape_markdown, user_errors
from facegan.ui.study_admin import build_admin_view
from facegan.validation import whole_number

DESCRIPTION = (
    "Once a study is defined, this tab shows two generated images side by side and asks which one "
    "looks more real or better matches the requested edit (or, for sound studies, which image "
    "matches a sound); answers are stored for the study's statistics."
)
NO_STUDY = "**No study has been defined yet.**"
DEMO_PREPARING = "The demo study is being prepared (a few seconds after the app starts); reload the page soon."
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


# Keys 1 / 2 / 0 press the visible answer buttons; a click on a trial image toggles a full-window
# view. Added once per page by the load event (Gradio 6 takes page CSS only at launch, so the style
# travels with the script and the tab stays self-contained).
STUDY_PAGE_JS = """() => {
    if (window.faceganStudyKeys) return;
    window.faceganStudyKeys = true;
    const style = document.createElement("style");
    style.textContent = `.study-option img { cursor: zoom-in; }
      .study-enlarged { position: fixed !important; inset: 0; z-index: 1000; background: rgba(0,0,0,.9); }
      .study-enlarged img { cursor: zoom-out; width: 100vw !important; height: 100vh !important;
                            max-height: none !important; object-fit: contain; }`;
    document.head.appendChild(style);
    document.addEventListener("keydown", (event) => {
        if (event.target.closest("input, textarea, select, [contenteditable]")) return;
        const id = {"1": "study-first", "2": "study-second", "0": "study-none"}[event.key];
        const button = id && document.getElementById(id);
        if (button && button.offsetParent !== null) { event.preventDefault(); button.click(); }
    });
    document.addEventListener("click", (event) => {
        const option = event.target.closest(".study-option");
        if (option && event.target.tagName === "IMG") option.classList.toggle("study-enlarged");
    });
}"""


def _image(path: Path) -> np.ndarray:
    """A stimulus as pixels: Gradio then serves its own cached copy, so no URL shows where studies live."""
    with Image.open(path) as picture:
        return np.asarray(picture.convert("RGB"))


def _sound(path: Path) -> tuple[int, np.ndarray]:
    """A stimulus sound as (rate, samples), for the same reason as ``_image``."""
    samples, rate = soundfile.read(path, dtype="int16")
    return rate, samples


# Participant view --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Screen:
    """What a participant sees: a message, the consent step, or a trial."""

    notice: str = ""
    title: str = ""
    consent: str | None = None
    trial: Presentation | None = None
    can_undo: bool = False
    """The participant has answered something in an open study (the store decides if it is recent enough)."""


def _no_study_notice() -> str:
    return DEMO_PREPARING if demo_enabled() else NO_STUDY


def screen(study_id: str | None, participant_id: str) -> Screen:
    """Decide the participant's screen from the store alone, so a reload shows the same thing."""
    store = sessions()
    if not study_id:
        return Screen(_no_study_notice() if not store.open_studies() else "Choose a study to take part in.")
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
    answered = progress.answered > 0
    if trial is None:
        thanks = f"**Thank you!** You have answered all {progress.total} trials of this study."
        return Screen(thanks, title, can_undo=answered)
    return Screen("", title, trial=trial, can_undo=answered)


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


@user_errors
def study_undo(study_id: str, participant_id: str) -> dict[str, Any]:
    """Take back the participant's last answer if it is under 5 seconds old; that trial comes next again."""
    vote = sessions().undo(study_id, participant_id)
    return {"status": "undone", "vote_id": vote.vote_id, "trial": vote.trial}


# Layout ------------------------------------------------------------------------------------------


def build_tab() -> None:
    """Lay out the tab's contents; must be called inside a ``gr.Tab``."""
    gr.Markdown(DESCRIPTION)
    prepare_demo_in_background(sessions())
    _participant_view()
    build_admin_view()
    for endpoint in (study_session, study_next, study_vote, study_undo):
        gr.api(endpoint, api_name=endpoint.__name__, **PARTICIPANT_EVENTS)


def _participant_view() -> None:
    participant = gr.Textbox(visible=False)  # filled from localStorage on load (READ_PARTICIPANT_JS)
    shown = gr.State(None)  # the trial on screen, so a vote names what the participant saw
    study = gr.Dropdown(_study_choices(), value=None, label="Study", interactive=True)
    title = gr.Markdown("")
    notice = gr.Markdown(_no_study_notice() if not sessions().open_studies() else "")
    with gr.Column(visible=False) as consent_box:
        consent_text = gr.Markdown("")
        agree = gr.Checkbox(label="I have read the text above and agree to take part")
        start = gr.Button("Start", variant="primary")
    with gr.Column(visible=False) as trial_box:
        progress = gr.HTML()
        question = gr.Markdown("")
        audio = gr.Audio(label="Sound", type="numpy", interactive=False, visible=False)
        reference = gr.Image(label="Input", interactive=False, height=192, visible=False)
        images = {"buttons": ["fullscreen"], "interactive": False, "height": 256, "min_width": 140,
                  "elem_classes": ["study-option"]}  # fmt: skip
        with gr.Row():  # two columns of 140 px fit side by side on a 390 px phone screen
            first = gr.Image(label="A", **images)
            second = gr.Image(label="B", **images)
        with gr.Row():
            buttons = [
                gr.Button(label, variant="primary", elem_id=f"study-{choice}", min_width=80)
                for choice, label in zip(CHOICES, ("A", "B", "None"), strict=True)
            ]
        gr.Markdown("Keys: **1** first, **2** second, **0** none. Click an image to enlarge it.")
    undo = gr.Button(f"Undo my last answer (within {UNDO_WINDOW_S:g} s)", size="sm", visible=False)
    view = [notice, title, consent_box, consent_text, agree, trial_box, progress, question, audio, reference,
            first, second, *buttons, shown, undo]

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
                gr.update(value=_sound(trial.audio) if trial.audio else None, visible=trial.audio is not None),
                gr.update(value=_image(trial.reference) if trial.reference else None,
                          visible=trial.reference is not None),
                gr.update(value=_image(trial.first), label=labels[0]),
                gr.update(value=_image(trial.second), label=labels[1]),
                *(gr.update(value=label) for label in labels), trial.trial,
            ]
        return [
            current.notice, current.title, gr.update(visible=current.consent is not None),
            current.consent or "", False, *trial_updates, gr.update(visible=current.can_undo),
        ]

    @user_errors
    def on_load(participant_id: str, request: gr.Request) -> list[Any]:
        check_participant_id(participant_id)
        open_studies = sessions().open_studies()
        choices = [(r.definition.title, r.study_id) for r in open_studies]
        ids = [value for _, value in choices]
        wanted = request.query_params.get("study")
        demos = [r.study_id for r in open_studies if r.definition.demo]
        chosen = wanted or (ids[0] if len(ids) == 1 else demos[0] if demos else None)
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

    def on_undo(study_id: str | None, participant_id: str) -> list[Any]:
        def take_back() -> None:
            if not study_id:
                raise UserError("choose a study first")
            sessions().undo(study_id, participant_id)

        return respond(study_id, participant_id, take_back)

    shared = {"api_visibility": "private", "show_progress": "minimal", **PARTICIPANT_EVENTS}
    page = gr.context.Context.root_block
    page.load(on_load, [participant], [participant, study, *view], js=READ_PARTICIPANT_JS, **shared)
    page.load(None, js=STUDY_PAGE_JS)
    undo.click(on_undo, [study, participant], view, **shared)
    study.input(user_errors(lambda s, p: show(screen(s, p))), [study, participant], view, **shared)
    # Joining is idempotent, so a Start clicked again while the last one (say, refused for the unticked box)
    # is still at the server runs after it rather than being dropped; a vote is never repeated.
    start.click(on_start, [study, participant, agree], view, trigger_mode="always_last", **shared)
    for choice, button in zip(CHOICES, buttons, strict=True):
        button.click(on_vote(choice), [study, participant, shown], view, trigger_mode="once", **shared)
