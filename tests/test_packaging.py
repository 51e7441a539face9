"""Install sets: one OpenCV behind `cv2`, and a CPU-only torch path that resolves the same pins."""

from __future__ import annotations

from importlib.metadata import version

from packaging.requirements import Requirement

from facegan.paths import REPO_ROOT


def _requirements(name: str) -> dict[str, Requirement]:
    lines = (REPO_ROOT / name).read_text().splitlines()
    parsed = [Requirement(line) for line in lines if line.strip() and not line.startswith(("#", "-"))]
    return {req.name: req for req in parsed}


def test_both_opencv_distributions_are_pinned_to_the_installed_cv2() -> None:
    """mediapipe and face-alignment each pull an OpenCV wheel that writes `cv2`; with one pinned
    version, whichever pip writes last is the same library."""
    import cv2

    pins = _requirements("requirements.txt")
    plain, contrib = pins["opencv-python"].specifier, pins["opencv-contrib-python"].specifier
    assert str(plain) == str(contrib) and str(plain).startswith("==")
    assert version("opencv-python") == version("opencv-contrib-python") == str(plain)[2:]
    assert str(plain)[2:].startswith(cv2.__version__)


def test_the_cpu_only_install_takes_the_cpu_wheels_of_the_same_pins() -> None:
    lines = (REPO_ROOT / "requirements-cpu.txt").read_text().splitlines()
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in lines and "-r requirements.txt" in lines
    pins = _requirements("requirements.txt")
    for name in ("torch", "torchvision"):
        (pin,) = pins[name].specifier  # one exact pin without a local label: `+cpu` builds satisfy it
        assert pin.operator == "==" and "+" not in pin.version
