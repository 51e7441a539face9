"""Latency of one attribute-transfer edit on this CPU, once the model is loaded.

    python benchmarks/attrgan_latency.py [--runs 50] [--checkpoint attrgan]

"edit" is what the tab does when Transfer is pressed (generator + paste-back into the photo);
"photo to edit" adds detection and alignment, as the API endpoint does for each call. "readout" is
the quality readout (identity, judge before/after, change map), which the tab computes in a second
event after the result is shown, so it never adds to "edit". The photo is the shipped 512x512
example (public domain).
"""

from __future__ import annotations

import argparse
import sys

import torch

from common import percentiles, record_result, timed  # noqa: E402  (puts the repo on sys.path)

from facegan.paths import UI_EXAMPLES_DIR  # noqa: E402
from facegan.pipelines import AttributeTransfer  # noqa: E402
from facegan.quality import readout  # noqa: E402

TARGETS = {"Blond_Hair": True, "Smiling": True}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--checkpoint", default="attrgan")
    args = parser.parse_args(argv)
    pipeline = AttributeTransfer(args.checkpoint)
    photo = str(UI_EXAMPLES_DIR / "astronaut.jpg")
    prepared = pipeline.prepare(photo)
    edit_ms = timed(lambda: pipeline.edit(prepared, TARGETS), args.runs, warmup=3)
    full_ms = timed(lambda: pipeline.edit(pipeline.prepare(photo), TARGETS), args.runs, warmup=3)
    edit = pipeline.edit(prepared, TARGETS)
    readout_ms = timed(
        lambda: readout(edit.aligned, edit.output, pipeline.attributes, edit.requested), args.runs, warmup=3
    )
    result = {
        "edit": percentiles(edit_ms),
        "photo_to_edit": percentiles(full_ms),
        "readout_after_the_result": percentiles(readout_ms),
        "readout_notes": list(readout(edit.aligned, edit.output, pipeline.attributes, edit.requested).notes),
        "checkpoint": args.checkpoint,
        "resolution": pipeline.config.resolution,
        "runs": args.runs,
        "threads": torch.get_num_threads(),
    }
    record_result("attrgan_latency", result, sys.argv[1:] if argv is None else argv)
    return result


if __name__ == "__main__":
    main()
