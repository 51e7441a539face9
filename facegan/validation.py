"""Numbers from the UI and the API, checked before they reach a model.

A Gradio API caller can send anything a JSON number or string can hold: NaN, infinities, 2**64, "abc",
a list one value short. Each check turns that into an ``InvalidNumberError`` (a ``UserError``) that
names the field and the range it expects, instead of a blacked-out image reported as success or a
raw overflow message.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from facegan.errors import InvalidNumberError

MAX_SEED = 2**32 - 1


def number(value: Any, name: str, low: float | None = None, high: float | None = None) -> float:
    """``value`` as a finite float within [low, high], or an error saying what was wrong."""
    try:
        result = float(value)
    except (TypeError, ValueError):
        raise InvalidNumberError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(result):
        raise InvalidNumberError(f"{name} must be a finite number, got {value!r}")
    if (low is not None and result < low) or (high is not None and result > high):
        raise InvalidNumberError(f"{name} must be between {low:g} and {high:g}, got {result:g}")
    return result


def whole_number(value: Any, name: str, low: int, high: int) -> int:
    """``value`` as an int within [low, high]; a fractional value is an error, not silently rounded."""
    result = number(value, name, low, high)
    if result != int(result):
        raise InvalidNumberError(f"{name} must be a whole number, got {result:g}")
    return int(result)


def numbers(values: Sequence[Any], name: str, count: int, low: float, high: float) -> np.ndarray:
    """Exactly ``count`` finite numbers in [low, high], as float32 (e.g. the 17 AU intensities)."""
    if len(values) != count:
        raise InvalidNumberError(f"expected {count} {name}, got {len(values)}")
    return np.array([number(v, f"{name} #{i + 1}", low, high) for i, v in enumerate(values)], dtype=np.float32)


MAX_FACES = 99


def face_number(value: Any) -> int:
    """The face index control: empty means the largest face (0)."""
    return 0 if value is None or value == "" else whole_number(value, "face index", 0, MAX_FACES)
