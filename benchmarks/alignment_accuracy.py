"""Alignment accuracy: can detect+align recover a CelebA crop hidden in a bigger, transformed photo?

Each val crop is placed on a 512x512 canvas under a random similarity (rotation within +/-30 deg,
scale 0.5-2x, random shift); the pipeline then detects and aligns the face. We report the mean
distance (pixels at 128) between the 68 landmarks measured on the recovered crop and on the original
crop, and the failure rate (no face found, or mean error above the failure threshold).

    python benchmarks/alignment_accuracy.py [--data DIR] [--n 500] [--seed 0]
"""

from __future__ import annotations

import argparse
import sys

import cv2
import numpy as np
from tqdm import tqdm

from common import record_result  # noqa: E402  (puts the repo on sys.path)

from facegan.data.celeba import celeba_root, split_files  # noqa: E402
from facegan.errors import NoFaceError  # noqa: E402
from facegan.faces import detect_faces, load_image, prepare_face  # noqa: E402

CANVAS = 512
FAIL_PX = 5.0


def random_placement(rng: np.random.Generator, crop: np.ndarray) -> np.ndarray:
    """Warp the crop onto a textured canvas under a random similarity that keeps it inside."""
    angle = rng.uniform(-30, 30)
    scale = float(np.exp(rng.uniform(np.log(0.5), np.log(2.0))))
    size = crop.shape[0]
    matrix = cv2.getRotationMatrix2D(((size - 1) / 2, (size - 1) / 2), angle, scale)
    half = size * scale * 0.71
    centre = rng.uniform(half, CANVAS - half, size=2) if CANVAS > 2 * half else np.full(2, CANVAS / 2)
    matrix[:, 2] += centre - (size - 1) / 2
    background = rng.normal(128, 20, size=(CANVAS, CANVAS, 3)).clip(0, 255).astype(np.uint8)
    background = cv2.GaussianBlur(background, (0, 0), 3)
    canvas = cv2.warpAffine(crop, matrix, (CANVAS, CANVAS), flags=cv2.INTER_LINEAR,
                            borderMode=cv2.BORDER_TRANSPARENT, dst=background)
    return canvas


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="dataset root (default: $FACEGAN_DATA or ../shared/data)")
    parser.add_argument("--n", type=int, default=500, help="number of val crops")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    root = celeba_root(args.data)
    paths = [root / "images" / name for name in split_files(root, "val")]
    chosen = [paths[i] for i in rng.choice(len(paths), size=min(args.n, len(paths)), replace=False)]
    errors, failures, no_reference = [], 0, 0
    for path in tqdm(chosen, desc="alignment", unit="img"):
        crop = load_image(path)
        reference = detect_faces(crop)
        if not reference:
            no_reference += 1
            continue
        try:
            recovered = prepare_face(random_placement(rng, crop)).aligned.crop
            measured = detect_faces(recovered)
        except NoFaceError:
            measured = []
        if not measured:
            failures += 1
            continue
        error = float(np.linalg.norm(measured[0].points68 - reference[0].points68, axis=1).mean())
        if error > FAIL_PX:
            failures += 1
        else:
            errors.append(error)
    tried = len(chosen) - no_reference
    result = {
        "images": tried,
        "skipped_no_face_in_original": no_reference,
        "mean_error_px": round(float(np.mean(errors)), 3),
        "median_error_px": round(float(np.median(errors)), 3),
        "p95_error_px": round(float(np.percentile(errors, 95)), 3),
        "failure_rate": round(failures / max(tried, 1), 4),
        "failure_threshold_px": FAIL_PX,
        "seed": args.seed,
    }
    record_result("alignment_accuracy", result, sys.argv[1:] if argv is None else argv)
    return result


if __name__ == "__main__":
    main()
