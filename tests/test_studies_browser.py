"""A participant completes the shipped 5-trial example study in headless Chromium; the admin sees the votes.

The app runs as a subprocess with its own studies directory, holding the example study with stimuli
generated through the real pipeline from tiny untrained generators on CelebA val faces.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from facegan.app_process import AppProcess
from facegan.studies.definition import example_definitions, load_definition
from facegan.studies.stimuli import generate_stimuli
from facegan.studies.store import StudyStore
from tests.faces_helpers import celeba_dir
from tests.test_studies_stimuli import tiny_generators

if TYPE_CHECKING:
    from playwright.sync_api import Page

ADMIN_PASSWORD = "let-me-see"
STUDY = load_definition(example_definitions()["attrgan_vs_ablation"])


@pytest.fixture(scope="session")
def study_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """(URL, studies directory) of ``python app.py`` serving the ready example study."""
    celeba_dir()
    root = tmp_path_factory.mktemp("studies")
    env = {
        "FACEGAN_CHECKPOINTS": str(tiny_generators(tmp_path_factory.mktemp("checkpoints"))),
        "FACEGAN_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "FACEGAN_STUDIES": str(root),
    }
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FACEGAN_CHECKPOINTS", env["FACEGAN_CHECKPOINTS"])
        generate_stimuli(STUDY, root / STUDY.study_id)
    StudyStore(root).create_study(STUDY)
    with AppProcess(root / "app.log", env) as app:
        yield app.url, root


@pytest.fixture
def page(browser_page: Page) -> Iterator[Page]:
    """A fresh browser context (its own localStorage: a new participant) in the session's Chromium."""
    context = browser_page.context.browser.new_context(viewport={"width": 1280, "height": 1000})
    yield context.new_page()
    context.close()


def _open_tab(page: Page, url: str):
    page.goto(url)
    page.get_by_role("tab", name="Pairwise comparison", exact=True).click()
    return page.get_by_role("tabpanel").filter(visible=True)


def test_participant_completes_the_study_and_the_admin_sees_the_votes(
    page: Page, study_app: tuple[str, Path], tmp_path: Path
) -> None:
    url, root = study_app
    panel = _open_tab(page, f"{url}?study={STUDY.study_id}")
    panel.get_by_text(STUDY.consent[:60]).wait_for()
    panel.get_by_role("button", name="Start", exact=True).click()  # without consent: refused
    page.get_by_text("tick the box").first.wait_for()
    panel.get_by_label("I have read the text above and agree to take part").check()
    panel.get_by_role("button", name="Start", exact=True).click()
    panel.get_by_text("Trial 1 of 5").wait_for()
    panel.get_by_text(STUDY.question).wait_for()
    page.screenshot(path=tmp_path / "trial.png", full_page=True)
    sources = page.locator("img").evaluate_all("images => images.map(image => image.src)")
    assert sources and not [src for src in sources if str(root) in src or "stimuli" in src]  # no study paths

    answers = {"A": "first", "B": "second", "None": "none"}
    clicks = ["A", "B", "None", "A", "B"]
    panel.get_by_role("button", name=clicks[0], exact=True).click()
    panel.get_by_text("Trial 2 of 5").wait_for()
    panel = _open_tab(page, f"{url}?study={STUDY.study_id}")  # a reload resumes at trial 2
    panel.get_by_text("Trial 2 of 5").wait_for()
    for number, label in enumerate(clicks[1:], start=2):
        panel.get_by_text(f"Trial {number} of 5").wait_for()
        panel.get_by_role("button", name=label, exact=True).click()
    panel.get_by_text("You have answered all 5 trials").wait_for()

    votes = StudyStore(root).votes(STUDY.study_id)
    assert [v.choice for v in votes] == [answers[label] for label in clicks]
    assert [v.position for v in votes] == [0, 1, 2, 3, 4]
    assert len({v.participant_id for v in votes}) == 1 and len({v.trial for v in votes}) == 5
    assert all(v.response_ms > 0 for v in votes)
    assert not panel.get_by_text("votes from").count()  # participants never see results

    panel.get_by_text("Admin", exact=True).click()
    panel.get_by_label("Admin password").fill(ADMIN_PASSWORD)
    panel.get_by_role("button", name="Show studies", exact=True).click()
    panel.get_by_role("gridcell", name=STUDY.title).wait_for()
    panel.get_by_role("button", name="Show results", exact=True).click()
    panel.get_by_text("5 answers").first.wait_for()
    for suffix in ("votes.csv", "results.json", "report.html", "pie.png", "bars.png", "strengths.png"):
        panel.get_by_label(f"{STUDY.study_id}_{suffix}", exact=True).wait_for()
    table = panel.get_by_label("Answers without excluded raters (Wilson 95%)")
    counts = {label: str(sum(v.outcome == label for v in votes)) for label in STUDY.systems}
    for system, count in counts.items():
        row = table.get_by_role("row").filter(has=page.get_by_role("gridcell", name=system, exact=True))
        assert count in row.inner_text()
    page.screenshot(path=tmp_path / "results.png", full_page=True)


def test_a_study_link_opens_the_study_tab(study_app: tuple[str, Path], page: Page) -> None:
    url, _root = study_app
    page.goto(f"{url}?study={STUDY.study_id}")
    page.get_by_role("tab", name="Pairwise comparison", selected=True).wait_for()
    page.get_by_text(STUDY.consent[:60]).wait_for()
    page.goto(url)  # without a link the app opens on its first tab
    page.get_by_role("tab", name="Attribute transfer", selected=True).wait_for()


def test_a_crafted_study_link_shows_text_not_markup(study_app: tuple[str, Path], page: Page) -> None:
    """``?study=`` is pasted into the page: tags, forms, images and links in it must stay plain text."""
    from urllib.parse import quote

    url, _root = study_app
    crafted = '<h1 id="injected">Admin</h1><form id="phish" action="//evil"></form>![x](//evil/x.png)'
    panel = _open_tab(page, f"{url}?study={quote(crafted)}")
    panel.get_by_text("ready to take part in").wait_for(timeout=30_000)
    assert page.locator("#injected").count() == 0 and page.locator("#phish").count() == 0
    assert page.locator("img[src*='evil']").count() == 0
    assert panel.get_by_text('<h1 id="injected">Admin</h1>', exact=False).count() == 1
