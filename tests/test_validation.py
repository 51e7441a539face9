"""Numbers from the UI and the API: every bad value becomes a message that names the field."""

from __future__ import annotations

import math

import numpy as np
import pytest

from facegan.errors import InvalidNumberError, UserError
from facegan.validation import MAX_SEED, face_number, number, numbers, whole_number


@pytest.mark.parametrize(
    ("value", "message"),
    [(math.nan, "finite"), (math.inf, "finite"), ("abc", "must be a number"), (None, "must be a number"),
     (7.5, "between 0 and 5")],
)
def test_bad_numbers_name_the_field(value, message):
    with pytest.raises(InvalidNumberError, match=message) as raised:
        number(value, "α", 0, 5)
    assert "α" in str(raised.value) and isinstance(raised.value, UserError)


def test_good_numbers_pass_through():
    assert number("0.25", "α", 0, 1) == 0.25 and whole_number(3.0, "grid size", 2, 8) == 3
    assert face_number(None) == 0 and face_number("") == 0 and face_number(2) == 2


@pytest.mark.parametrize("seed", [2**63, 2**64, -1, 1.5, math.nan])
def test_seeds_outside_the_generators_range_are_refused(seed):
    with pytest.raises(InvalidNumberError, match="seed"):
        whole_number(seed, "seed", 0, MAX_SEED)


def test_a_vector_needs_exactly_its_count_of_finite_values():
    assert numbers([0] * 17, "AU intensities", 17, 0, 5).dtype == np.float32
    for values in ([0] * 16, [0] * 18):
        with pytest.raises(InvalidNumberError, match=f"expected 17 AU intensities, got {len(values)}"):
            numbers(values, "AU intensities", 17, 0, 5)
    with pytest.raises(InvalidNumberError, match="AU intensities #3"):
        numbers([0, 0, math.nan] + [0] * 14, "AU intensities", 17, 0, 5)
