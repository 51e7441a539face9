"""facegan.app_process: the helper that browser tests and study benchmarks start the app with."""

from __future__ import annotations

from pathlib import Path

import pytest

from facegan.app_process import AppProcess, answers, free_port


def test_nothing_answers_on_a_free_port() -> None:
    assert not answers(f"http://127.0.0.1:{free_port()}/")


def test_a_server_that_does_not_come_up_in_time_is_stopped_and_its_output_reported(tmp_path: Path) -> None:
    app = AppProcess(tmp_path / "app.log")
    with pytest.raises(RuntimeError, match="did not start serving"):
        app.start(timeout_s=0.0)
    assert app.process is not None and app.process.poll() is not None
