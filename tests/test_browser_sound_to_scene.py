"""The sound-to-scene tab in a real browser and through the app's HTTP API, with the shipped checkpoint."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from facegan.paths import checkpoint_dir
from facegan.ui.sound_to_scene import EXAMPLES

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.skipif(
    not (checkpoint_dir() / "audiogan.safetensors").is_file(), reason="checkpoints/audiogan.safetensors not trained yet"
)
VISIBLE_IMAGES = "n => document.querySelectorAll('[role=tabpanel]:not([hidden]) img').length >= n"


def test_upload_a_sound_and_generate_in_the_browser(browser_page: Page, tmp_path: Path) -> None:
    page = browser_page
    page.get_by_role("tab", name="Sound to scene", exact=True).click()
    panel = page.get_by_role("tabpanel").filter(visible=True)
    before = panel.locator("img").count()
    panel.locator("input[type=file]").first.set_input_files(EXAMPLES[0])
    panel.get_by_role("button", name="Generate", exact=True).click()
    page.wait_for_function(VISIBLE_IMAGES, arg=before + 8, timeout=60_000)  # 4 scenes + the 4-volume row
    page.wait_for_function(
        "() => document.querySelectorAll('[role=tabpanel]:not([hidden]) audio').length >= 5", timeout=30_000
    )  # the upload's player + the four scaled sounds
    assert "→" in panel.inner_text()  # the predicted class → scene label
    page.screenshot(path=tmp_path / "sound_to_scene.png", full_page=True)
    assert not panel.get_by_text("Error").count()


def test_blend_two_sounds_in_the_browser(browser_page: Page) -> None:
    page = browser_page
    page.reload()  # a fresh tab: the test before left a sound in the upload box
    page.get_by_role("tab", name="Sound to scene", exact=True).click()
    panel = page.get_by_role("tabpanel").filter(visible=True)
    panel.locator("input[type=file]").first.set_input_files(EXAMPLES[0])
    panel.get_by_text("Blend two sounds").click()
    page.locator("#second_sound input[type=file]").set_input_files(EXAMPLES[1])
    before = panel.locator("img").count()
    panel.get_by_role("button", name="Blend", exact=True).click()
    page.wait_for_function(VISIBLE_IMAGES, arg=before + 6, timeout=60_000)  # the blend + the 5-step strip
    assert not page.locator("[data-testid=toast-body].error").count()


def test_api_endpoint_returns_a_scene(app_server: str) -> None:
    from gradio_client import Client, handle_file
    from PIL import Image

    client = Client(app_server, verbose=False)
    result = client.predict(handle_file(EXAMPLES[0]), 2.0, 3, api_name="/sound_to_scene")
    with Image.open(result) as image:
        assert image.size == (64, 64)
