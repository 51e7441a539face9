"""Shared fixtures: one real app server and one headless Chromium page per test session.

Browser tests for every tab reuse these, so the server (several seconds to start) and the browser
start once.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from facegan.app_process import AppProcess

# Tests never download: model files come from ../shared or the test itself.
os.environ.setdefault("FACEGAN_OFFLINE", "1")
# Importing or serving the app opens the studies database: keep test runs out of the user's own.
os.environ.setdefault("FACEGAN_STUDIES", tempfile.mkdtemp(prefix="facegan-test-studies-"))
# The demo study costs ~20 s of CPU to prepare; only the tests about it turn it on.
os.environ.setdefault("FACEGAN_DEMO_STUDY", "0")
# Tests never read the user's CelebA annotation cache: those that need one ask for ``celeba_annotations``.
_ANNOTATIONS_DIR = tempfile.mkdtemp(prefix="facegan-test-annotations-")
atexit.register(shutil.rmtree, _ANNOTATIONS_DIR, ignore_errors=True)
TEST_ANNOTATIONS = Path(_ANNOTATIONS_DIR) / "celeba.npz"
os.environ["FACEGAN_ANNOTATIONS"] = str(TEST_ANNOTATIONS)
ANNOTATED_PER_SPLIT = 12

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Request

pytest_plugins = ["tests.ci_skips"]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextlib.contextmanager
def explain_timeout(describe: Callable[[], str]) -> Iterator[None]:
    """Around a Playwright wait: a timeout fails the test with ``describe()``, what the page shows instead,
    rather than only the selector that never matched."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        yield
    except PlaywrightTimeout:
        pytest.fail(describe())


@contextlib.contextmanager
def serve_app(log_dir: Path, env: dict[str, str] | None = None) -> Iterator[str]:
    """Run ``python app.py`` on a free port (``env`` added to ours); yield its base URL, stop it afterwards.

    The session's ``app_server`` uses it as is; a test that needs other checkpoints (a tiny model in a
    temporary ``FACEGAN_CHECKPOINTS``) starts its own server with it.
    """
    app = AppProcess(log_dir / "server.log", env or {})
    try:
        app.start()
    except RuntimeError as error:
        pytest.fail(str(error))
    try:
        yield app.url
    finally:
        app.stop()


@pytest.fixture(scope="session")
def celeba_annotations() -> Path:
    """A small annotation cache, the first 12 faces of each split, built once per session (a few seconds)
    where ``FACEGAN_ANNOTATIONS`` points: what the heatmap and AU datasets read on a fresh clone."""
    from facegan.data.annotate import annotate
    from facegan.paths import data_dir
    from tests.faces_helpers import celeba_dir

    celeba_dir()
    if not TEST_ANNOTATIONS.is_file():
        annotate(data_dir(), TEST_ANNOTATIONS, per_split=ANNOTATED_PER_SPLIT)
    return TEST_ANNOTATIONS


@pytest.fixture(scope="session")
def app_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app with the real ``checkpoints/``, one per test session."""
    with serve_app(tmp_path_factory.mktemp("app_server")) as url:
        yield url


@pytest.fixture(scope="session")
def offsite_requests() -> list[str]:
    """URLs the browser page requested from anywhere but the app server (should stay empty: offline)."""
    return []


@pytest.fixture(scope="session")
def chromium() -> str:
    """Path of Debian's chromium (Playwright's own browser download does not work offline).

    Missing chromium skips locally but fails under CI, where a skipped browser test would hide a gap.
    """
    if not Path(CHROMIUM).exists():
        reason = f"{CHROMIUM} not found; install it with `apt-get install -y chromium`"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return CHROMIUM


def write_y4m(frames: list, path: Path, fps: int = 15) -> Path:
    """RGB frames as a YUV4MPEG2 (4:2:0) file: what Chromium's fake camera plays, in a loop."""
    import cv2

    height, width = frames[0].shape[:2]
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for frame in frames:
            out.write(b"FRAME\n" + cv2.cvtColor(frame, cv2.COLOR_RGB2YUV_I420).tobytes())
    return path


@pytest.fixture(scope="session")
def fake_camera(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 1 s clip of an example face moving (``benchmarks/webcam_mirror.py``), for the browser's webcam."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    from webcam_mirror import synthetic_clip

    return write_y4m(synthetic_clip(15), tmp_path_factory.mktemp("camera") / "face.y4m")


@pytest.fixture(scope="session")
def browser(chromium: str, fake_camera: Path) -> Iterator[Browser]:
    """One headless Chromium per session (Playwright's sync API allows one running instance). Its webcam
    is a fake device playing ``fake_camera``, allowed without a prompt."""
    from playwright.sync_api import sync_playwright

    camera = [
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={fake_camera}",
    ]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=[*CHROMIUM_ARGS, *camera])
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def browser_page(browser: Browser, app_server: str, offsite_requests: list[str]) -> Iterator[Page]:
    """A headless Chromium page (Playwright ``Page``) with the app loaded."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})

    def record_offsite(request: Request) -> None:
        # blob: and data: URLs are the page's own memory (Gradio makes blob URLs of media it shows), never the network
        if not request.url.startswith((app_server, "blob:", "data:")):
            offsite_requests.append(request.url)

    page.on("request", record_offsite)
    page.goto(app_server)
    page.get_by_role("tablist").first.wait_for()  # the UI is rendered client-side after load
    yield page
    page.close()
