"""How many z to draw per image: class match against the number of candidates D's scene head picks from.

    python benchmarks/audiogan_best_of.py [--checkpoint audiogan] [--counts 1 2 4 8 16] [--draws 3]
        [--truncation 0.7] [--judge scene_judge] [--name audiogan_best_of]

For each held-out clip (4 images, as ``python -m facegan.eval audiogan``), the app's rule draws K
candidate z per image and keeps the one whose image D's scene head finds most like the heard scene
(``SoundToScene.pick_noise``). Each K is scored under ``--draws`` seeds of the candidates, because with
216 clips, and only 8 of them mountain, one draw of z moves the mean over scenes by a few points.
"Heard right" is the class match over the clips whose scene the encoder heard: G's own share.
The cost column is one image's pick (the encoder on the sound at unit gain, then G and D on the
candidates) and its drawing, on 1 thread.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
import torch

from common import percentiles, record_result, timed  # noqa: E402  (puts the repo on sys.path)

from facegan.audio.data import SCENE_OF_SOUND, clip_cache  # noqa: E402
from facegan.audio.examples import EXAMPLE_SOUNDS  # noqa: E402
from facegan.data.scenes import SCENE_CLASSES  # noqa: E402
from facegan.eval.audiogan_metrics import generate, heard_scenes, scene_scores  # noqa: E402
from facegan.eval.scene_judge import load_scene_judge, scene_probabilities  # noqa: E402
from facegan.pipelines import PreparedSound, SoundToScene  # noqa: E402

SAMPLES = 4


def _summary(values: list[float]) -> dict[str, float | list[float]]:
    """Mean and spread over the draws, with each draw kept."""
    return {"mean": round(float(np.mean(values)), 4), "std": round(float(np.std(values)), 4), "draws": values}


@torch.inference_mode()
def _one_image(model: SoundToScene, sound: PreparedSound) -> torch.Tensor:
    """What one image costs once the sound is analysed: the pick and the drawing."""
    logmel, logspec = torch.from_numpy(sound.analysis.logmel)[None], torch.from_numpy(sound.analysis.logspec)[None]
    z = model.pick_noise(logmel, logspec, torch.randn(1, model.best_of, model.config.z_dim))
    return model.generator(torch.zeros(1, model.config.cond_dim), z)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default="audiogan")
    parser.add_argument("--counts", type=int, nargs="+", default=[1, 2, 4, 8, 16], help="candidates per image")
    parser.add_argument("--draws", type=int, default=3, help="seeds of the candidates per count")
    parser.add_argument("--clips", type=int, help="only the first N held-out clips (a quick check)")
    parser.add_argument("--truncation", type=float, default=SoundToScene.TRUNCATION, help="z's scale (the app's)")
    parser.add_argument("--name", default="audiogan_best_of", help="results/NAME.json")
    parser.add_argument(
        "--judge", default="scene_judge", help="scene judge in the checkpoint dir (another one: a second opinion)"
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    judge = load_scene_judge(name=args.judge)
    cache = clip_cache()
    rows = cache.select(held_out=True, with_scene=True)[: args.clips]
    scenes = torch.tensor([SCENE_CLASSES.index(SCENE_OF_SOUND[cache.clips[i].label]) for i in rows])
    targets = scenes.repeat_interleave(SAMPLES)
    result: dict = {
        "checkpoint": args.checkpoint, "judge": args.judge, "truncation": args.truncation, "clips": len(rows),
        "samples_per_clip": SAMPLES, "counts": {},
    }  # fmt: skip
    heard = (heard_scenes(SoundToScene(args.checkpoint, best_of=1), cache, rows) == scenes).repeat_interleave(SAMPLES)
    sound = SoundToScene.prepare(str(EXAMPLE_SOUNDS[0].path))
    for count in args.counts:
        model = SoundToScene(args.checkpoint, truncation=args.truncation, best_of=count)
        images = [generate(model, cache, rows, SAMPLES, seed=draw) for draw in range(args.draws)]
        scores = [scene_scores(scene_probabilities(judge, drawn), targets, 1, heard) for drawn in images]
        cost = timed(lambda m=model: _one_image(m, sound), runs=20)
        heard_right = [r["balanced_class_match_heard_right"] for r in scores if "balanced_class_match_heard_right" in r]
        result["counts"][str(count)] = {
            "class_match_mean_over_scenes": _summary([r["balanced_class_match"] for r in scores]),
            **({"heard_right": _summary(heard_right)} if heard_right else {}),
            "pick_ms_per_image": percentiles(cost)["p50_ms"],
        }
        print(count, result["counts"][str(count)], flush=True)
    record_result(args.name, result, sys.argv[1:] if argv is None else argv, script="audiogan_best_of")
    return result


if __name__ == "__main__":
    main()
