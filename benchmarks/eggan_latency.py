"""Latency of the AU editing tab on this CPU, once the model is loaded.

    python benchmarks/eggan_latency.py [--runs 100] [--warmup 5] [--frames 8] [--threads N] [--generated-face]

"render" is what one slider move costs: the tab's handler for an already encoded photo (generator
pass at the model's resolution, paste-back into the full photo, enlargement of the crop for display),
with a new random AU vector each run, in the tab's default mode (the photo's detail kept; the
generator's own face with ``--generated-face``, written to its own results file). "encode" is what an upload costs once: detection, alignment,
AU measurement and the encoder. "strip" renders an interpolation strip of ``--frames`` frames. The
photo is the shipped public-domain astronaut (512x512). The target: a slider move under 30 ms p50 on 1
thread.
``--threads`` sets torch's intra-op threads (default: torch's choice, one per core); on a machine
where other jobs hold cores, 1 thread avoids oversubscription stalls.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
import torch

from common import percentiles, record_result, timed  # noqa: E402  (puts the repo on sys.path)

from facegan.paths import UI_EXAMPLES_DIR  # noqa: E402
from facegan.faces.aus import EDITABLE_AU_NUMBERS, preset_aus  # noqa: E402
from facegan.ui import au_editing  # noqa: E402

PHOTO = str(UI_EXAMPLES_DIR / "astronaut.jpg")
TARGET_MS = 30.0


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--threads", type=int, help="torch intra-op threads (default: torch's choice)")
    parser.add_argument("--generated-face", action="store_true", help="time the mode without the photo's detail")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    au_editing.pipeline.cache_clear()
    editor = au_editing.pipeline()
    face = editor.encode(PHOTO)
    rng = np.random.default_rng(0)
    keep_detail = not args.generated_face

    def slider_move() -> None:
        au_editing.render_sliders(face, keep_detail, None, False, *rng.uniform(0, 5, len(EDITABLE_AU_NUMBERS)).round(2))

    def strip() -> None:
        editor.interpolate(face, preset_aus("happy"), args.frames, keep_detail)

    render_ms = timed(slider_move, args.runs, args.warmup)
    encode_ms = timed(lambda: editor.encode(PHOTO), max(1, args.runs // 5), args.warmup)
    strip_ms = timed(strip, max(1, args.runs // 5))
    render = percentiles(render_ms)
    result = {
        "render": render,
        "encode": percentiles(encode_ms),
        "strip": percentiles(strip_ms),
        "render_under_target": render["p50_ms"] < TARGET_MS,
        "target_ms": TARGET_MS,
        "resolution": editor.config.resolution,
        "photo": "astronaut.jpg 512x512",
        "frames": args.frames,
        "keep_detail": keep_detail,
        "runs": args.runs,
        "threads": torch.get_num_threads(),
    }
    name = "eggan_latency" if keep_detail else "eggan_latency_generated_face"
    record_result(name, result, sys.argv[1:] if argv is None else argv, script="eggan_latency")
    return result


if __name__ == "__main__":
    main()
