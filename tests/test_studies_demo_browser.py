"""The demo study end to end in headless Chromium, as on a fresh clone: prepared at start, taken on a
phone-sized screen with the keyboard, one answer undone, then analysed and reset by the admin.

The app runs with the repository's shipped checkpoints and an empty studies directory, so this is
exactly what a visitor of a new Space sees.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from facegan.app_process import AppProcess
from facegan.studies.definition import load_definition
from facegan.studies.demo import DEMO_DEFINITIONS
from facegan.studies.store import StudyStore

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

ADMIN_PASSWORD = "demo-admin"
DEMO = load_definition(DEMO_DEFINITIONS[0])
TOTAL = DEMO.trials_per_participant + DEMO.gold_trials + DEMO.repeat_trials


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    root = tmp_path_factory.mktemp("demo_studies")
    env = {"FACEGAN_DEMO_STUDY": "1", "FACEGAN_STUDIES": str(root), "FACEGAN_ADMIN_PASSWORD": ADMIN_PASSWORD}
    with AppProcess(root / "app.log", env) as app:
        yield app.url, root


@pytest.fixture
def phone(browser_page: Page) -> Iterator[Page]:
    """A new participant (own localStorage) on a 390 x 844 screen."""
    context = browser_page.context.browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True)
    yield context.new_page()
    context.close()


def _open_demo(page: Page, url: str) -> Locator:
    """The tab once the background preparation has made the demo study ready (reloading until then)."""
    for _ in range(60):
        page.goto(url)
        page.get_by_role("button", name="More tabs").click()  # on a phone the tab bar folds into a menu
        page.get_by_role("button", name="Pairwise comparison", exact=True).click()
        panel = page.get_by_role("tabpanel").filter(visible=True)
        title = panel.get_by_text(DEMO.title)
        try:
            title.wait_for(timeout=5_000)
            return panel
        except Exception:  # noqa: BLE001 - playwright's TimeoutError; still preparing, reload
            continue
    raise AssertionError("the demo study never became ready")


def test_a_visitor_takes_the_demo_study_and_the_admin_analyses_and_resets_it(
    phone: Page, demo_app: tuple[str, Path], tmp_path: Path
) -> None:
    url, root = demo_app
    panel = _open_demo(phone, url)  # the first demo study is chosen without a link
    panel.get_by_label("I have read the text above and agree to take part").check()
    panel.get_by_role("button", name="Start", exact=True).click()
    panel.get_by_text(f"Trial 1 of {TOTAL}").wait_for()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling
    first, second = (panel.locator(".study-option img").nth(k) for k in range(2))
    first.wait_for()
    assert first.bounding_box()["width"] > 100 and second.bounding_box()["width"] > 100
    first.click()  # enlarge, then back
    assert phone.locator(".study-enlarged").count() == 1
    phone.screenshot(path=tmp_path / "enlarged.png")
    phone.locator(".study-enlarged img").click()
    assert phone.locator(".study-enlarged").count() == 0
    phone.screenshot(path=tmp_path / "trial.png", full_page=True)

    phone.keyboard.press("1")
    panel.get_by_text(f"Trial 2 of {TOTAL}").wait_for()
    panel.get_by_role("button", name="Undo my last answer", exact=False).click()  # within 5 s
    panel.get_by_text(f"Trial 1 of {TOTAL}").wait_for()
    keys = ["2", "0", "1", "2", "1", "1", "2", "0", "1", "2", "1", "2"]
    for position, key in enumerate(keys, start=1):
        panel.get_by_text(f"Trial {position} of {TOTAL}").wait_for()
        phone.keyboard.press(key)
    panel.get_by_text(f"You have answered all {TOTAL} trials").wait_for()

    history = StudyStore(root).votes("demo", include_undone=True)
    standing = [v for v in history if v.undone_at is None]
    assert len(history) == TOTAL + 1 and len(standing) == TOTAL
    assert history[0].choice == "first" and history[0].undone_at and history[1].trial == history[0].trial
    assert [v.choice for v in standing] == [{"1": "first", "2": "second", "0": "none"}[k] for k in keys]

    panel.get_by_text("Admin", exact=True).click()
    panel.get_by_label("Admin password").fill(ADMIN_PASSWORD)
    panel.get_by_role("button", name="Show studies", exact=True).click()
    panel.get_by_role("gridcell", name=f"{DEMO.title} (demo)").wait_for()
    panel.get_by_label("Study to manage").click()
    phone.get_by_role("option", name=DEMO.study_id, exact=True).click()
    panel.get_by_role("button", name="Show results", exact=True).click()
    panel.get_by_text(f"{DEMO.trials_per_participant} answers").first.wait_for()
    panel.get_by_label("demo_report.html", exact=True).wait_for()
    panel.get_by_text("Planner: how many participants?").click()
    panel.get_by_role("button", name="Plan", exact=True).click()
    panel.get_by_text("participants ×").wait_for()
    panel.get_by_role("button", name="Reset demo study", exact=True).click()
    panel.get_by_text("The demo study starts afresh").wait_for()
    store = StudyStore(root)
    assert store.votes("demo") == []
    archives = [r for r in store.studies() if r.study_id.startswith("demo-archive-")]
    assert len(archives) == 1 and len(store.votes(archives[0].study_id, include_undone=True)) == TOTAL + 1
