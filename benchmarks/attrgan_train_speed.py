"""CPU seconds per attrgan training step, and per generator update, for the choices issue 12 weighs.

    OMP_NUM_THREADS=1 python benchmarks/attrgan_train_speed.py [--steps 5] [--batch-size 16]

Each configuration runs the real recipe (``AttrGANRecipe.train_step``, guide off) on a random batch
for ``--steps`` timed steps after one warm-up, on this process's CPU clock, so other jobs on the
machine do not distort it. Precision is what ``--amp auto`` picks here. A configuration with
``n_critic`` 5 updates G once per 5 steps; "per G update" is what decides how far a CPU-hour goes.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace

import torch

from common import record_result  # noqa: E402  (puts the repo on sys.path)

from facegan.models.attrgan import AttrGANConfig  # noqa: E402
from facegan.train.attrgan import AttrGANRecipe, AttrGANTrainConfig  # noqa: E402
from facegan.train.loop import StepContext, cpu_has_native_bf16, resolve_amp  # noqa: E402

CONFIGS = {
    "hinge+R1, 64 px, width 16, channels-last (shipped)": {"gan_loss": "hinge", "n_critic": 1},
    "WGAN-GP n_critic 5, 64 px, width 16, channels-last": {"gan_loss": "wgan-gp", "n_critic": 5},
    "hinge+R1, 128 px, width 16, channels-last": {"gan_loss": "hinge", "n_critic": 1, "resolution": 128},
    "hinge+R1, 64 px, width 32, channels-last": {"gan_loss": "hinge", "n_critic": 1, "g_width": 32},
    "hinge+R1, 64 px, width 16, contiguous": {"gan_loss": "hinge", "n_critic": 1, "channels_last": False},
}


def seconds_per_step(options: dict, steps: int, batch_size: int) -> float:
    resolution = options.get("resolution", 64)
    model = AttrGANConfig(
        resolution=resolution, d_layers=5 if resolution == 64 else 6, g_width=options.get("g_width", 16)
    )
    config = replace(AttrGANTrainConfig(), model=model, gan_loss=options["gan_loss"], n_critic=options["n_critic"],
                     guide=None)
    device = torch.device("cpu")
    preview = (torch.zeros(1, 3, resolution, resolution), torch.zeros(1, 7), torch.zeros(1, 1, resolution, resolution))
    recipe = AttrGANRecipe(config, device, preview)
    layout = torch.channels_last if options.get("channels_last", True) else torch.contiguous_format
    for net in recipe.nets.values():
        net.to(memory_format=layout)
    scalers = {name: torch.amp.GradScaler("cpu", enabled=False) for name in recipe.opts}
    ctx = StepContext(device, recipe.nets, recipe.opts, scalers, resolve_amp("auto", device))
    generator = torch.Generator().manual_seed(0)
    batch = (
        (torch.rand(batch_size, 3, resolution, resolution, generator=generator) * 2 - 1).contiguous(
            memory_format=layout
        ),
        (torch.rand(batch_size, 7, generator=generator) > 0.5).float(),
        torch.rand(batch_size, 1, resolution, resolution, generator=generator).contiguous(memory_format=layout),
    )
    recipe.train_step(batch, 0, ctx)
    start = time.process_time()
    for step in range(steps * options["n_critic"]):
        recipe.train_step(batch, step + 1, ctx)
    return (time.process_time() - start) / (steps * options["n_critic"])


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=5, help="timed G updates per configuration")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--only", nargs="+", choices=list(CONFIGS), help="a subset of the configurations")
    args = parser.parse_args(argv)
    rows = {}
    for name in args.only or CONFIGS:
        options = CONFIGS[name]
        step_s = seconds_per_step(options, args.steps, args.batch_size)
        rows[name] = {
            "s_per_step": round(step_s, 3),
            "s_per_g_update": round(step_s * options["n_critic"], 3),
            "g_updates_per_cpu_hour": round(3600 / (step_s * options["n_critic"])),
        }
    result = {
        "configurations": rows,
        "batch_size": args.batch_size,
        "threads": torch.get_num_threads(),
        "native_bf16": cpu_has_native_bf16(),
        "amp": str(resolve_amp("auto", torch.device("cpu"))),
    }
    record_result("attrgan_train_speed", result, sys.argv[1:] if argv is None else argv)
    return result


if __name__ == "__main__":
    main()
