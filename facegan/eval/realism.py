"""The realism figure every generator's eval reports: a Fréchet distance in a judge network's features,
next to the floor that sampling alone gives (two disjoint sets of real photos)."""

from __future__ import annotations

import numpy as np
from scipy import linalg


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets (the FID formula)."""
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean = linalg.sqrtm(cov_a @ cov_b).real
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(cov_a + cov_b - 2 * covmean))


def realism(features: dict[str, np.ndarray]) -> dict[str, float]:
    """Fréchet distance of each generated set's first half to the second half of ``features["real"]``,
    and of the real halves to each other (``real_floor``). Halves keep the real sets disjoint, so the
    floor is what sampling alone gives at that size."""
    half = len(features["real"]) // 2
    real = features["real"][half:]
    generated = {key: values[:half] for key, values in features.items() if key != "real"}
    halves = {**generated, "real_floor": features["real"][:half]}
    return {key: round(frechet_distance(values, real), 3) for key, values in halves.items()}
