"""What one visitor may cost the server: upload size, session capacity, cache cleanup."""

from __future__ import annotations

import os

import httpx

import app
from facegan.ui import CACHE_CLEANUP, build_app


def test_oversized_uploads_are_refused_before_they_are_stored(app_server: str) -> None:
    upload = f"{app_server.rstrip('/')}/gradio_api/upload"
    small = httpx.post(upload, files={"files": ("a.png", b"x" * 1000)}, timeout=60)
    assert small.status_code == 200
    big = httpx.post(upload, files={"files": ("b.png", b"x" * 21_000_000)}, timeout=60)
    assert big.status_code == 413 and "maximum allowed size of 20971520 bytes" in big.text


def test_limits_are_set_where_the_app_is_served_and_built() -> None:
    assert app.SERVING_LIMITS == {"max_file_size": "20mb", "state_session_capacity": 1000}
    assert app.demo._queue.max_size == app.QUEUE_LIMITS["max_size"] == 64
    # each kind of request on at most half the cores, so every kind keeps moving
    assert app.demo._queue.default_concurrency_limit == max(1, len(os.sched_getaffinity(0)) // 2)
    assert build_app().delete_cache == CACHE_CLEANUP


def test_photo_uploads_reach_the_app_loader_as_the_original_file(tmp_path) -> None:
    """16-bit greyscale and huge images are not decoded or converted by Gradio on the way in."""
    import numpy as np
    from gradio.data_classes import ImageData
    from PIL import Image

    from facegan.faces import load_image
    from facegan.ui.common import photo_input

    deep = tmp_path / "deep.png"
    Image.fromarray((np.arange(64 * 64).reshape(64, 64) * 16).astype(np.uint16)).save(deep)
    component = photo_input("Photo")
    received = component.preprocess(ImageData(path=str(deep), orig_name="deep.png"))
    assert received == str(deep) and Image.open(received).mode.startswith("I;16")
    assert load_image(received).shape == (64, 64, 3)


def test_empty_and_non_image_uploads_get_a_sentence_through_the_api(app_server: str, tmp_path) -> None:
    """Gradio no longer opens uploads itself: the app's loader names the problem in the API error."""
    import re

    import pytest
    from gradio_client import Client, handle_file

    empty, text = tmp_path / "empty.png", tmp_path / "notes.png"
    empty.write_bytes(b"")
    text.write_text("hello")
    client = Client(app_server, verbose=False)
    for upload, message in ((empty, "is empty (0 bytes)"), (text, "could not be read as an image")):
        with pytest.raises(Exception, match=re.escape(message)):
            client.predict(handle_file(str(upload)), True, *[0.0] * 16, api_name="/au_edit")


def test_the_photo_component_hands_over_any_upload_unopened(tmp_path) -> None:
    from gradio.data_classes import ImageData

    from facegan.ui.common import photo_input

    text = tmp_path / "notes.png"
    text.write_text("hello")
    component = photo_input("Photo")
    assert component.preprocess(ImageData(path=str(text), orig_name="notes.png")) == str(text)
    assert component.preprocess(None) is None
    assert component.get_block_name() == "image" and component.api_info()["title"] == "ImageData"
