"""What every benchmark shares: importing the repo without installing it, and recording results."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = Path(__file__).with_name("results")
sys.path.insert(0, str(REPO_ROOT))


def record_result(name: str, result: dict, argv: list[str], script: str | None = None) -> None:
    """Print the figures and keep them, with the command that produced them, in results/NAME.json
    (``script``: the benchmark's file stem when NAME is not it)."""
    result = {**result, "command": " ".join(["python", f"benchmarks/{script or name}.py", *argv])}
    RESULTS_DIR.mkdir(exist_ok=True)
    (RESULTS_DIR / f"{name}.json").write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))


def percentiles(samples: list[float]) -> dict[str, float]:
    """Median, 95th percentile and worst case of latencies in milliseconds."""
    return {
        "p50_ms": round(float(np.percentile(samples, 50)), 1),
        "p95_ms": round(float(np.percentile(samples, 95)), 1),
        "max_ms": round(float(np.max(samples)), 1),
    }


def timed(fn: Callable[[], object], runs: int, warmup: int = 2) -> list[float]:
    """Milliseconds of ``runs`` calls after ``warmup`` untimed ones."""
    samples = []
    for run in range(warmup + runs):
        start = time.perf_counter()
        fn()
        if run >= warmup:
            samples.append((time.perf_counter() - start) * 1000)
    return samples
