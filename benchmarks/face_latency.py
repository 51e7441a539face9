"""Latency of the face path on a 1024x1024 photo: detect + landmarks + align + paste-back.

    python benchmarks/face_latency.py [--data DIR] [--runs 200]

The photo is a CelebA crop enlarged to a 512 px face on a 1024x1024 textured canvas; the "edit" pasted
back is the aligned crop itself, so only the pipeline is timed, not a generator.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from common import record_result  # noqa: E402  (puts the repo on sys.path)

from facegan.faces import align_face, detect_face, load_image, paste_back  # noqa: E402
from facegan.data.celeba import celeba_root  # noqa: E402



def synthetic_photo(root: Path) -> np.ndarray:
    crop = load_image(root / "images" / "000040.jpg")
    rng = np.random.default_rng(0)
    photo = cv2.GaussianBlur(rng.normal(120, 30, (1024, 1024, 3)).clip(0, 255).astype(np.uint8), (0, 0), 4)
    photo[200:712, 300:812] = cv2.resize(crop, (512, 512), interpolation=cv2.INTER_CUBIC)
    return photo


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="dataset root (default: $FACEGAN_DATA or ../shared/data)")
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args(argv)
    photo = synthetic_photo(celeba_root(args.data))
    stages = {"detect+landmarks": [], "align": [], "paste_back": [], "total": []}
    for run in range(args.runs + 10):
        t0 = time.perf_counter()
        face = detect_face(photo)
        t1 = time.perf_counter()
        aligned = align_face(photo, face.points68)
        t2 = time.perf_counter()
        paste_back(photo, aligned.crop, aligned)
        t3 = time.perf_counter()
        if run >= 10:
            for key, seconds in zip(stages, (t1 - t0, t2 - t1, t3 - t2, t3 - t0)):
                stages[key].append(seconds * 1000)
    result = {
        key: {"p50_ms": round(float(np.percentile(v, 50)), 2), "p95_ms": round(float(np.percentile(v, 95)), 2)}
        for key, v in stages.items()
    }
    result["photo"] = "1024x1024"
    result["runs"] = args.runs
    result["machine"] = f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} threads"
    record_result("face_latency", result, sys.argv[1:] if argv is None else argv)
    return result


if __name__ == "__main__":
    main()
