"""Ship the newest checkpoint of a training run: ``python -m facegan.train.export RUN_DIR NAME``.

Runs normally export themselves at the end (``--export NAME``); this is for one that was stopped
early, such as a CPU run that outlived its session, or for a snapshot on the way (``--step N``), to
evaluate quality against CPU time.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from facegan.train.checkpoint import export_run


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m facegan.train.export", description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("name", help="writes checkpoints/NAME.safetensors + NAME.json")
    parser.add_argument("--modules", nargs="+", default=["G"], help="modules the app needs (default: G)")
    parser.add_argument("--out-dir", type=Path, help="default: checkpoints/ ($FACEGAN_CHECKPOINTS)")
    parser.add_argument("--step", type=int, help="the run's checkpoint at this step (default: the newest)")
    args = parser.parse_args(argv)
    print(export_run(args.run_dir, args.name, args.modules, args.out_dir, args.step))


if __name__ == "__main__":
    main()
