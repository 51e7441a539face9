"""The AU editing tab in a real headless Chromium and through the HTTP API, on a tiny untrained model.

The app runs in its own server whose ``FACEGAN_CHECKPOINTS`` holds only the tiny checkpoint, so the
test never depends on (or loads) the shipped weights.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from facegan.faces.aus import EDITABLE_AU_NUMBERS
from facegan.ui.au_editing import EXAMPLES
from tests.conftest import explain_timeout, serve_app
from tests.test_eggan import tiny_checkpoint

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

ASTRONAUT = EXAMPLES[0]
PANEL_IMAGES = "() => [...document.querySelectorAll('[role=tabpanel]:not([hidden]) img')].map(i => i.src).join()"


@pytest.fixture(scope="module")
def tiny_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    checkpoints = tmp_path_factory.mktemp("eggan_checkpoints")
    tiny_checkpoint(checkpoints)
    with serve_app(tmp_path_factory.mktemp("eggan_server"), {"FACEGAN_CHECKPOINTS": str(checkpoints)}) as url:
        yield url


@pytest.fixture(scope="module")
def page(browser: Browser, tiny_server: str) -> Iterator[Page]:
    page = browser.new_page(viewport={"width": 1280, "height": 1600})
    page.goto(tiny_server)
    page.get_by_role("tab", name="AU editing", exact=True).click()
    yield page
    page.close()


def slider_value(page: Page, au: int) -> float:
    return float(page.locator(f"#au{au} input[type=number]").input_value())


def wait_for_sliders(page: Page, values: dict[int, float]) -> None:
    """Until every listed AU slider shows its value, read together: sliders can redraw in different frames."""
    def shown() -> str:
        return f"sliders never showed {values}; they show { {au: slider_value(page, au) for au in values} }"

    with explain_timeout(shown):
        page.wait_for_function(
            "want => Object.entries(want).every("
            "([au, v]) => Number(document.querySelector(`#au${au} input[type=number]`)?.value) === v)",
            arg={str(au): value for au, value in values.items()},
        )


def wait_for_new_images(page: Page, before: str) -> str:
    page.wait_for_function(f"before => ({PANEL_IMAGES})() !== before", arg=before, timeout=30_000)
    return page.evaluate(PANEL_IMAGES)


def test_upload_sliders_presets_alpha_and_export(page: Page, tmp_path: Path) -> None:
    panel = page.get_by_role("tabpanel").filter(visible=True)
    before = page.evaluate(PANEL_IMAGES)
    panel.locator("input[type=file]").first.set_input_files(ASTRONAUT)
    # ?. : while the sliders re-render, #au12 is absent for a moment
    page.wait_for_function("() => Number(document.querySelector('#au12 input[type=number]')?.value) > 0")
    images = wait_for_new_images(page, before)
    assert slider_value(page, 12) > 2  # sliders start at the face's own AUs: the astronaut smiles

    page.locator("#au26 input[type=range]").fill("4.5")  # a user moving the jaw-drop slider
    images = wait_for_new_images(page, images)
    page.locator("#au26 input[type=range]").dispatch_event("pointerup")  # ... and letting go of it
    panel.get_by_text("Identity", exact=False).first.wait_for(timeout=30_000)  # the readout follows
    images = wait_for_new_images(page, images)  # + its change map
    page.locator("#au_keep_detail input[type=checkbox]").uncheck()  # the generator's own face
    images = wait_for_new_images(page, images)

    panel.get_by_label("Preset (FACS combination)").click()
    page.get_by_role("option", name="surprise").click()
    page.locator("#au_alpha input[type=range]").fill("1")
    wait_for_sliders(page, {1: 4.0, 5: 3.5, 12: 0.0})  # the FACS surprise combination
    images = wait_for_new_images(page, images)

    panel.get_by_label("2D mode: a second target (preset)").click()  # surprise on α, happy on β
    page.get_by_role("option", name="happy").click()
    page.locator("#au_alpha input[type=range]").fill("0")
    page.locator("#au_beta input[type=range]").fill("1")  # the β axis alone: all the way to happy
    wait_for_sliders(page, {12: 4.0, 6: 3.5, 1: 0.0})  # the last blend (α 0, β 1), not one made while they moved

    panel.get_by_role("button", name="Export interpolation strip").click()
    panel.locator("a[href*='interpolation.gif']").first.wait_for(state="attached", timeout=30_000)
    wait_for_new_images(page, images)  # the strip
    page.screenshot(path=tmp_path / "au_editing.png", full_page=True)
    assert not panel.get_by_text("Error").count()


def test_api_endpoint_edits_a_photo(tiny_server: str) -> None:
    from gradio_client import Client, handle_file
    from PIL import Image

    client = Client(tiny_server, verbose=False)
    intensities = [4.0 if n in (6, 12) else 0.0 for n in EDITABLE_AU_NUMBERS]
    edited = client.predict(handle_file(ASTRONAUT), True, *intensities, api_name="/au_edit")
    with Image.open(edited) as image:
        assert image.size == (512, 512)


def test_group_photo_thumbnails_and_all_faces(page: Page) -> None:
    from facegan.paths import GROUP_PHOTO

    panel = page.get_by_role("tabpanel").filter(visible=True)
    before = page.evaluate(PANEL_IMAGES)
    panel.locator("input[type=file]").first.set_input_files(GROUP_PHOTO)
    thumbnails = page.locator("#au_faces .thumbnail-item, #au_faces .grid-container button")
    thumbnails.nth(1).wait_for(timeout=30_000)  # both faces found
    images = wait_for_new_images(page, before)
    thumbnails.nth(1).click()  # the second face becomes the one the sliders show
    face_index = panel.get_by_label("Face (0 = largest)")
    page.wait_for_function("el => el.value === '1'", arg=face_index.element_handle(), timeout=30_000)
    images = wait_for_new_images(page, images)
    page.locator("#au_every_face input[type=checkbox]").check()
    page.locator("#au26 input[type=range]").fill("4.5")
    wait_for_new_images(page, images)
    assert not page.locator("[data-testid=toast-body].error").count()  # Gradio's error toasts, page-wide


def test_stack_undo_redo_and_save_a_recipe(browser: Browser, tiny_server: str) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 1600})  # its own page: an empty photo input
    page.goto(tiny_server)
    page.get_by_role("tab", name="AU editing", exact=True).click()
    panel = page.get_by_role("tabpanel").filter(visible=True)
    before = page.evaluate(PANEL_IMAGES)
    panel.locator("input[type=file]").first.set_input_files(ASTRONAUT)
    page.wait_for_function("() => Number(document.querySelector('#au12 input[type=number]')?.value) > 0")
    images = wait_for_new_images(page, before)  # the photo is encoded: the sliders hold its AUs
    page.locator("#au26 input[type=range]").fill("4.5")
    images = wait_for_new_images(page, images)
    panel.get_by_role("button", name="Stack edit", exact=True).click()
    panel.get_by_text("1 stacked edit(s) applied").wait_for(timeout=30_000)
    panel.get_by_role("button", name="Undo", exact=True).click()
    panel.get_by_text("0 stacked edit(s) applied, 1 to redo").wait_for(timeout=30_000)
    panel.get_by_role("button", name="Redo", exact=True).click()
    panel.get_by_text("1 stacked edit(s) applied").wait_for(timeout=30_000)
    panel.get_by_role("button", name="Save recipe", exact=True).click()
    panel.locator("a[href*='recipe.json']").first.wait_for(state="attached", timeout=30_000)
    errors = page.locator("[data-testid=toast-body].error")
    assert not errors.count(), errors.all_inner_texts()
    page.close()


def test_webcam_mirror_streams_edited_frames(page: Page, tmp_path: Path) -> None:
    """The fake camera plays a moving face; the mirror must keep showing new edited frames."""
    page.get_by_text("Live webcam mirror").click()
    webcam = page.locator("#au_webcam")
    webcam.get_by_text("Click to Access Webcam").click()  # the fake camera needs no permission prompt
    webcam.get_by_role("button", name="capture photo").click(timeout=30_000)  # "Record": start streaming
    mirror_src = "() => document.querySelector('#au_mirror img')?.src || ''"
    page.wait_for_function(f"() => ({mirror_src})() !== ''", timeout=60_000)
    first = page.evaluate(mirror_src)
    page.wait_for_function(f"first => ({mirror_src})() !== first", arg=first, timeout=30_000)  # still streaming
    page.screenshot(path=tmp_path / "mirror.png", full_page=True)
    assert not page.locator("[data-testid=toast-body].error").count()
