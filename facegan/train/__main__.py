"""``python -m facegan.train <model> [options]``: train any registered model with the shared loop.

Common options come first in ``--help``; the chosen model adds its own group. Under ``torchrun`` the
same command trains with DistributedDataParallel (``--batch-size`` is per process).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import fields
from pathlib import Path

from facegan.registry import parse_registered_args
from facegan.train import RECIPES, load_recipe
from facegan.train.loop import Trainer, TrainOptions, seed_everything, setup_runtime, teardown_runtime


def _common_parser() -> argparse.ArgumentParser:
    d = TrainOptions()
    parser = argparse.ArgumentParser(
        prog="python -m facegan.train",
        usage=f"%(prog)s {{{','.join(sorted(RECIPES))}}} [options]",
        description="Train a FaceGAN Studio model (CUDA + AMP when available, CPU otherwise).",
        add_help=False,
    )
    parser.add_argument("model", nargs="?", choices=sorted(RECIPES), help="which model to train")
    parser.add_argument("--data", help="dataset root (default: $FACEGAN_DATA or ../shared/data)")
    parser.add_argument("--steps", type=int, default=d.steps, help="total training steps")
    parser.add_argument("--batch-size", type=int, default=d.batch_size, help="per process")
    parser.add_argument("--run-dir", type=Path, help="logs + resumable checkpoints (default: runs/<model>)")
    parser.add_argument("--resume", action="store_true", help="continue from the run dir's newest checkpoint")
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default=d.device)
    parser.add_argument("--amp", choices=["auto", "off", "bf16", "fp16"], default=d.amp)
    parser.add_argument("--num-workers", type=int, default=d.num_workers, help="data loader processes")
    parser.add_argument("--seed", type=int, default=d.seed)
    parser.add_argument("--log-every", type=int, default=d.log_every, help="steps between scalar logs")
    parser.add_argument("--image-every", type=int, default=d.image_every, help="steps between sample grids")
    parser.add_argument("--samples", type=int, default=d.samples, help="images per sample grid")
    parser.add_argument("--ckpt-every", type=int, default=d.ckpt_every, help="steps between checkpoints")
    parser.add_argument("--ckpt-every-s", type=float, default=d.ckpt_every_s, help="seconds between checkpoints")
    parser.add_argument("--keep", type=int, default=d.keep, help="run checkpoints to keep")
    parser.add_argument(
        "--stop-after-cpu-s", type=float, metavar="S", help="save and stop after S seconds of this process's CPU time"
    )
    parser.add_argument(
        "--stop-at", type=int, metavar="STEP", help="save, export and stop at STEP; the LR schedule follows --steps"
    )
    parser.add_argument("--export", metavar="NAME", help="at the end write checkpoints/NAME.{safetensors,json}")
    parser.add_argument("--no-progress", dest="progress", action="store_false", help="no tqdm bar")
    return parser


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Two passes: the model name decides which recipe adds its options to the parser."""
    args = parse_registered_args(_common_parser(), argv, RECIPES, "model", "model")
    args.run_dir = args.run_dir or Path("runs") / args.model
    return args


def main(argv: list[str] | None = None) -> int:
    """Build the chosen recipe, train it, optionally export; returns the process exit code."""
    args = parse_args(argv)
    runtime = setup_runtime(args.device)
    seed_everything(args.seed)
    recipe, data = load_recipe(args.model).build(args, runtime.device)
    options = TrainOptions(**{f.name: getattr(args, f.name) for f in fields(TrainOptions)})
    Trainer(recipe, data, options, runtime).fit()
    # Only after success: tearing the group down while another rank is mid-collective deadlocks it.
    teardown_runtime(runtime)
    return 0


if __name__ == "__main__":
    sys.exit(main())
