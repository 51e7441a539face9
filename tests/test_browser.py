"""The real app in a real browser: tabs render, switch, and nothing is fetched from the internet."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from facegan.ui import TITLE, attribute_transfer, au_editing, genegan, pairwise, sound_to_scene

if TYPE_CHECKING:
    from playwright.sync_api import Page

# Each tab's description is shown whether or not its checkpoint exists, so it identifies the panel.
DESCRIPTIONS = {
    "Attribute transfer": attribute_transfer.DESCRIPTION,
    "AU editing": au_editing.DESCRIPTION,
    "GeneGAN": genegan.DESCRIPTION,
    "Sound to scene": sound_to_scene.DESCRIPTION,
    "Pairwise comparison": pairwise.DESCRIPTION,
}


def test_tabs_click_through(browser_page: Page, tmp_path: Path) -> None:
    page = browser_page
    assert page.title() == TITLE
    assert [tab.inner_text().strip() for tab in page.get_by_role("tab").all()] == list(DESCRIPTIONS)
    for index, (label, description) in enumerate(DESCRIPTIONS.items()):
        tab = page.get_by_role("tab", name=label, exact=True)
        tab.click()
        assert tab.get_attribute("aria-selected") == "true"
        page.get_by_role("tabpanel").filter(visible=True).get_by_text(description[:40]).wait_for()
        shot = tmp_path / f"{index}_{label.replace(' ', '_')}.png"
        page.screenshot(path=shot, full_page=True)
        assert shot.stat().st_size > 0


def test_page_stays_offline(browser_page: Page, offsite_requests: list[str]) -> None:
    """Analytics off and local fonts: the page must work with no internet (Spaces, CI, air-gapped)."""
    assert offsite_requests == []
