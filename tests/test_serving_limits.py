"""What one visitor may cost the server: upload size, session capacity, cache cleanup."""

from __future__ import annotations

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
    assert build_app().delete_cache == CACHE_CLEANUP
