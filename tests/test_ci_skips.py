"""The CI guard against skipped tests (``tests/ci_skips.py``)."""

from __future__ import annotations

from facegan.paths import REPO_ROOT

pytest_plugins = ["pytester"]

SKIPPING = "import pytest\n\ndef test_needs_something():\n    pytest.skip('component missing')\n"


def test_a_skip_fails_under_ci_and_passes_elsewhere(pytester, monkeypatch):
    pytester.makepyfile(test_skipping=SKIPPING)
    monkeypatch.setenv("PYTHONPATH", str(REPO_ROOT))
    monkeypatch.setenv("CI", "true")
    under_ci = pytester.runpytest_subprocess("-p", "tests.ci_skips", "-q")
    assert under_ci.ret == 1 and "unexpected skip under CI" in under_ci.stdout.str()
    monkeypatch.delenv("CI")
    assert pytester.runpytest_subprocess("-p", "tests.ci_skips", "-q").ret == 0
