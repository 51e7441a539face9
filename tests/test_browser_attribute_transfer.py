"""The attribute-transfer tab in a real browser and through the app's HTTP API, with the shipped model."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from facegan.paths import UI_EXAMPLES_DIR
from facegan.ui.common import find_checkpoint

if TYPE_CHECKING:
    from playwright.sync_api import Page

ASTRONAUT = UI_EXAMPLES_DIR / "astronaut.jpg"
pytestmark = pytest.mark.skipif(
    find_checkpoint("attrgan.safetensors") is None, reason="checkpoints/attrgan.safetensors not trained yet"
)


def _image_sources(panel) -> list[str]:
    return [img.get_attribute("src") or "" for img in panel.locator("img").all()]


def test_upload_and_transfer_in_the_browser(browser_page: Page, tmp_path: Path) -> None:
    page = browser_page
    page.get_by_role("tab", name="Attribute transfer", exact=True).click()
    panel = page.get_by_role("tabpanel").filter(visible=True)
    before = len(_image_sources(panel))
    panel.locator("input[type=file]").first.set_input_files(str(ASTRONAUT))
    # photo preview + aligned face + heatmap
    page.wait_for_function(
        "n => document.querySelectorAll('[role=tabpanel]:not([hidden]) img').length >= n", arg=before + 3
    )
    panel.get_by_role("button", name="Transfer", exact=True).click()
    # + edited face, attention, side output, edited photo
    page.wait_for_function(
        "n => document.querySelectorAll('[role=tabpanel]:not([hidden]) img').length >= n", arg=before + 7,
        timeout=30_000,
    )
    # + the quality readout, computed after the result is shown: its table and change map
    panel.get_by_text("Identity", exact=False).first.wait_for(timeout=30_000)
    page.wait_for_function(
        "n => document.querySelectorAll('[role=tabpanel]:not([hidden]) img').length >= n", arg=before + 8,
        timeout=30_000,
    )
    assert panel.locator("table").filter(has_text="Eyeglasses").count() >= 1
    page.screenshot(path=tmp_path / "attribute_transfer.png", full_page=True)
    assert not panel.get_by_text("Error").count()


def test_api_endpoint_returns_the_edited_photo(app_server: str) -> None:
    from gradio_client import Client, handle_file
    from PIL import Image

    client = Client(app_server, verbose=False)
    result = client.predict(
        handle_file(str(ASTRONAUT)), "Blond", ["Smiling"], 0, api_name="/attribute_transfer"
    )
    with Image.open(result) as image:
        assert image.size == (512, 512)
    photo, report = client.predict(
        handle_file(str(ASTRONAUT)), "Blond", ["Smiling"], 0, api_name="/attribute_transfer_readout"
    )
    (face,) = report["faces"]
    assert face["attributes"]["Blond_Hair"]["requested"] and face["identity"]["same_person"] is not None


def test_group_photo_thumbnails_pick_a_face_and_all_faces_are_edited(browser_page: Page, tmp_path: Path) -> None:
    from facegan.ui.attribute_transfer import GROUP_PHOTO

    page = browser_page
    page.reload()
    page.get_by_role("tab", name="Attribute transfer", exact=True).click()
    panel = page.get_by_role("tabpanel").filter(visible=True)
    panel.locator("input[type=file]").first.set_input_files(GROUP_PHOTO)
    thumbnails = panel.locator(".thumbnail-item, button.thumbnail-item, .grid-container button")
    thumbnails.nth(1).wait_for(timeout=30_000)  # the astronaut and Grace Hopper
    thumbnails.nth(1).click()
    face_index = panel.get_by_label("Face (0 = largest)")
    page.wait_for_function("el => el.value === '1'", arg=face_index.element_handle(), timeout=30_000)
    panel.get_by_label("All faces").check()
    panel.get_by_role("button", name="Transfer", exact=True).click()
    panel.get_by_text("Face 1", exact=True).wait_for(timeout=60_000)  # a readout for each face
    page.screenshot(path=tmp_path / "group.png", full_page=True)
    assert panel.get_by_text("Face 0", exact=True).count() == 1 and not panel.get_by_text("Error").count()
