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
    assert report["attributes"]["Blond_Hair"]["requested"] and report["identity"]["same_person"] is not None
