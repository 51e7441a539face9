"""Latency of the GeneGAN tab's operations on this CPU, once the model is loaded.

    python benchmarks/genegan_latency.py [--runs 20] [--attribute Smiling] [--size 5] [--threads N]

"grid" is what the tab renders for prepared faces (5 encodings, size x size decodings, tiling);
"photos to grid" adds detecting and aligning the five photos, as the Build grid button and the
``genegan_grid`` API do for each call; "swap" is both crossbreeds pasted back into both photos. The
photos are the shipped public-domain examples. The target: a 5x5 grid from 5 photos in under 300 ms on
1 thread (the app serves every request on one torch thread).
"""

from __future__ import annotations

import argparse
import sys

import torch

from common import percentiles, record_result, timed  # noqa: E402  (puts the repo on sys.path)

from facegan.paths import UI_EXAMPLES_DIR  # noqa: E402
from facegan.pipelines import GeneGAN  # noqa: E402

PHOTOS = [str(UI_EXAMPLES_DIR / name) for name in ("astronaut.jpg", "grace_hopper.jpg")]


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--attribute", default="Smiling")
    parser.add_argument("--size", type=int, default=5, help="grid side (2 to 8)")
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's, all cores)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    model = GeneGAN(args.attribute)
    a, b = (model.prepare(photo) for photo in PHOTOS)
    references = [a, b, b, a]
    five_photos = [PHOTOS[0], PHOTOS[0], PHOTOS[1], PHOTOS[1], PHOTOS[0]]

    def photos_to_grid() -> None:
        target, *refs = (model.prepare(photo) for photo in five_photos)
        model.grid(target, refs, args.size)

    grid_ms = timed(lambda: model.grid(a, references, args.size), args.runs)
    full_ms = timed(photos_to_grid, args.runs)
    swap_ms = timed(lambda: model.swap(a, b), args.runs)
    result = {
        "grid": percentiles(grid_ms),
        "photos_to_grid": percentiles(full_ms),
        "swap": percentiles(swap_ms),
        "grid_size": args.size,
        "attribute": args.attribute,
        "width": model.config.width,
        "runs": args.runs,
        "threads": torch.get_num_threads(),
    }
    record_result("genegan_latency", result, sys.argv[1:] if argv is None else argv)
    return result


if __name__ == "__main__":
    main()
