"""Latency of one sound-to-scene generation on this CPU, once the model is loaded.

    python benchmarks/audiogan_latency.py [--runs 50]

"generation" is what one scene costs from a sound file: decode, window and analyse the clip, compute
its sound vector and run G (the API endpoint's work). "tab" is the Generate button with its defaults:
class prediction, 4 scenes, the 4-volume row and the 4 scaled sounds. The clip is a shipped synthetic
example. It runs with 1 torch thread and with torch's default (the core count): on a shared machine
a second thread that has to wait for a busy core makes these small convolutions far slower.
"""

from __future__ import annotations

import argparse
import sys
import time

import torch

from common import percentiles, record_result  # noqa: E402  (puts the repo on sys.path)

from facegan.pipelines import SoundToScene  # noqa: E402
from facegan.ui import sound_to_scene  # noqa: E402


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args(argv)
    pipeline = SoundToScene()  # the shipped checkpoints/audiogan, as the tab uses
    clip = sound_to_scene.EXAMPLES[0]
    result: dict = {"checkpoint": pipeline.record["name"], "runs": args.runs}
    for threads in sorted({1, torch.get_num_threads()}):
        torch.set_num_threads(threads)
        generation_ms, tab_ms = [], []
        for run in range(args.runs + 3):  # the first calls compile librosa's kernels
            t0 = time.perf_counter()
            pipeline.generate(pipeline.prepare(clip), 1.0, [run])
            t1 = time.perf_counter()
            sound_to_scene.generate(clip, 1.0, run, 4)
            t2 = time.perf_counter()
            if run >= 3:
                generation_ms.append((t1 - t0) * 1000)
                tab_ms.append((t2 - t1) * 1000)
        result[f"threads_{threads}"] = {"generation": percentiles(generation_ms), "tab_generate": percentiles(tab_ms)}
    record_result("audiogan_latency", result, sys.argv[1:] if argv is None else argv)
    return result


if __name__ == "__main__":
    main()
