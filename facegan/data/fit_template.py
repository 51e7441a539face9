"""Regenerate ``celeba_template.json``: the mean 68-point shape on the shared CelebA crops.

    python -m facegan.data.fit_template [--data DIR] [--limit N]

Images of the train split only, so evaluation on val never sees its own landmarks in the template.
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime, timezone

import numpy as np
from tqdm import tqdm

from facegan.data.celeba import celeba_root, split_files
from facegan.faces.align import TEMPLATE_PATH, TEMPLATE_SIZE
from facegan.faces.image_io import load_image
from facegan.faces.landmarker import detect_faces


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="dataset root (default: $FACEGAN_DATA or ../shared/data)")
    parser.add_argument("--limit", type=int, default=None, help="use only the first N train images")
    args = parser.parse_args(argv)
    root = celeba_root(args.data)
    shapes = []
    for name in tqdm(split_files(root, "train")[: args.limit], desc="landmarks", unit="img"):
        faces = detect_faces(load_image(root / "images" / name))
        if faces:
            shapes.append(faces[0].points68)
    stacked = np.stack(shapes)
    record = {
        "size": TEMPLATE_SIZE,
        "points68": np.round(stacked.mean(axis=0), 3).tolist(),
        "std_px": np.round(stacked.std(axis=0).mean(), 3).item(),
        "images": len(shapes),
        "source": "shared/data/celeba train split (MediaPipe Face Landmarker, iBUG-68 view)",
        "command": "python -m facegan.data.fit_template" + (f" --limit {args.limit}" if args.limit else ""),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    TEMPLATE_PATH.write_text(json.dumps(record, indent=1) + "\n")
    print(f"wrote {TEMPLATE_PATH} from {len(shapes)} faces (mean per-point std {record['std_px']} px)")


if __name__ == "__main__":
    main()
