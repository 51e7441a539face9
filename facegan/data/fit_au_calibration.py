"""Regenerate ``au_calibration.json`` from the CelebA annotation cache (train split only).

    python -m facegan.data.fit_au_calibration [--data DIR] [--annotations FILE] [--percentile 99.5]
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime, timezone

import numpy as np

from facegan.data.annotate import load_annotations
from facegan.data.celeba import celeba_root, split_files
from facegan.faces.aus import AU_NUMBERS, CALIBRATION_PATH, raw_au_scores


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="dataset root (default: $FACEGAN_DATA or ../shared/data)")
    parser.add_argument("--annotations", help="annotation cache (default: the user cache)")
    parser.add_argument("--percentile", type=float, default=99.5)
    args = parser.parse_args(argv)
    table = load_annotations(args.annotations)
    train = set(split_files(celeba_root(args.data), "train"))
    rows = np.array([table.found[i] and str(n) in train for i, n in enumerate(table.names)])
    raw = raw_au_scores(table.blendshapes[rows], list(table.blendshape_names), table.points68[rows])
    scores = np.percentile(raw, args.percentile, axis=0)
    record = {
        "scores": {str(n): round(float(s), 4) for n, s in zip(AU_NUMBERS, scores)},
        "percentile": args.percentile,
        "faces": int(rows.sum()),
        "source": "shared/data/celeba train split, MediaPipe Face Landmarker blendshapes",
        "command": "python -m facegan.data.fit_au_calibration",
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    CALIBRATION_PATH.write_text(json.dumps(record, indent=1) + "\n")
    print(json.dumps(record["scores"]))


if __name__ == "__main__":
    main()
