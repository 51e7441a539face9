"""The GeneGAN tab in a real browser and through the app's HTTP API, with the shipped checkpoints."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from facegan.pipelines import GeneGAN, genegan_attributes
from facegan.ui.genegan import ASTRONAUT, HOPPER
from tests.conftest import explain_timeout

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Locator, Page

ATTRIBUTES = genegan_attributes()
pytestmark = pytest.mark.skipif(not ATTRIBUTES, reason="no checkpoints/genegan_*.safetensors trained yet")
VISIBLE_IMAGES = "n => document.querySelectorAll('[role=tabpanel]:not([hidden]) img').length >= n"


def upload_a_and_b(page: Page) -> tuple[Locator, int]:
    """Open the tab, upload face A and face B; the tab's panel and how many images it showed before."""
    page.get_by_role("tab", name="GeneGAN", exact=True).click()
    panel = page.get_by_role("tabpanel").filter(visible=True)
    before = panel.locator("img").count()
    uploads = panel.locator("input[type=file]")
    # B first: a filled image input drops its file input, which shifts the later ones' indices.
    uploads.nth(1).set_input_files(HOPPER)
    page.wait_for_function(VISIBLE_IMAGES, arg=before + 1)
    uploads.nth(0).set_input_files(ASTRONAUT)
    page.wait_for_function(VISIBLE_IMAGES, arg=before + 2)  # both previews
    for side in "ab":  # each photo's change events have run: its faces are listed
        gallery = f"#genegan_faces_{side}"
        page.locator(f"{gallery} .thumbnail-item, {gallery} .grid-container button").first.wait_for(timeout=60_000)
    return panel, before


def wait_for_note(page: Page, panel: Locator, text: str) -> None:
    """Until the stacked-edit note says ``text``; on a timeout, the failure says what it does say."""
    shown = page.locator("#genegan_history")
    with explain_timeout(lambda: f"the note never said {text!r}; the history panel shows {shown.inner_text()!r}"):
        panel.get_by_text(text).wait_for(timeout=60_000)


def test_upload_two_photos_and_swap_in_the_browser(browser_page: Page, tmp_path: Path) -> None:
    page = browser_page
    panel, before = upload_a_and_b(page)
    panel.get_by_role("button", name="Swap A ↔ B", exact=True).click()
    page.wait_for_function(VISIBLE_IMAGES, arg=before + 4, timeout=30_000)  # + both results
    readouts = panel.locator("table").filter(has_text=ATTRIBUTES[0].replace("_", " "))
    readouts.nth(1).wait_for(timeout=60_000)  # then a readout under each result
    assert readouts.count() == 2
    page.screenshot(path=tmp_path / "genegan.png", full_page=True)
    assert not panel.get_by_text("Error").count()


def test_stacked_edits_on_face_b_with_undo_in_the_browser(browser: Browser, app_server: str) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})  # its own page: empty photo inputs
    page.goto(app_server)
    panel, _ = upload_a_and_b(page)
    page.locator("#genegan_history").get_by_text("Stacked edits on face B").click()  # open the accordion
    panel.get_by_role("button", name="Stack edit", exact=True).click()
    wait_for_note(page, panel, "1 stacked edit(s) applied")
    panel.get_by_label("Remove from B").check()
    panel.get_by_role("button", name="Stack edit", exact=True).click()
    wait_for_note(page, panel, "2 stacked edit(s) applied")
    panel.get_by_role("button", name="Undo", exact=True).click()
    wait_for_note(page, panel, "1 stacked edit(s) applied, 1 to redo")
    assert not page.locator("[data-testid=toast-body].error").count()
    panel.get_by_role("button", name="Remove Image").nth(1).click()  # clear photo B (A's comes first)
    panel.get_by_text("stacked edit(s) applied").wait_for(state="detached", timeout=30_000)
    page.close()


def test_group_photo_thumbnails_pick_face_b(browser: Browser, app_server: str) -> None:
    from facegan.paths import GROUP_PHOTO

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(app_server)
    page.get_by_role("tab", name="GeneGAN", exact=True).click()
    panel = page.get_by_role("tabpanel").filter(visible=True)
    panel.locator("input[type=file]").nth(1).set_input_files(GROUP_PHOTO)  # face B
    thumbnails = page.locator("#genegan_faces_b .thumbnail-item, #genegan_faces_b .grid-container button")
    thumbnails.nth(1).wait_for(timeout=30_000)  # both faces of the group photo, numbered
    thumbnails.nth(1).click()
    face_b = panel.get_by_label("Face of B (0 = largest)")
    page.wait_for_function("el => el.value === '1'", arg=face_b.element_handle(), timeout=30_000)
    before = panel.locator("img").count()
    panel.get_by_role("button", name="Remove", exact=True).click()  # face A is empty: a sentence, not a trace
    page.locator("[data-testid=toast-body].error").first.wait_for(timeout=30_000)
    assert "Upload a photo for face A" in page.locator("[data-testid=toast-body].error").first.inner_text()
    assert panel.locator("img").count() == before
    page.close()


def test_api_endpoints_swap_and_grid(app_server: str) -> None:
    from gradio_client import Client, handle_file
    from PIL import Image

    client = Client(app_server, verbose=False)
    to_a, to_b = client.predict(ATTRIBUTES[0], handle_file(ASTRONAUT), handle_file(HOPPER), api_name="/genegan_swap")
    with Image.open(to_a) as a, Image.open(to_b) as b:
        assert a.size == (512, 512) and b.size == (512, 600)
    faces = [handle_file(p) for p in (HOPPER, ASTRONAUT, HOPPER, HOPPER, ASTRONAUT)]
    grid = client.predict(ATTRIBUTES[0], *faces, 3, api_name="/genegan_grid")
    with Image.open(grid) as image:
        assert image.size[0] == image.size[1] == 3 * GeneGAN.GRID_CELL
