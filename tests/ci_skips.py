"""Pytest plugin: under CI (``CI`` set) a skipped test fails the run.

CI has every component installed and ../shared beside the clone, so a skip there is a gap in what the
suite covers rather than a missing optional part.
"""

from __future__ import annotations

import os

import pytest


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run under CI when anything was skipped, naming each skipped test and its reason."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter is not None else []
    under_ci = os.environ.get("CI", "").lower() not in ("", "0", "false", "no")
    if under_ci and skipped and exitstatus == pytest.ExitCode.OK:
        for report in skipped:
            reporter.write_line(f"unexpected skip under CI: {report.nodeid}: {report.longrepr[-1]}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
