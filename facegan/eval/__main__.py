"""``python -m facegan.eval <command> [options]``: run a registered evaluation and record its figures.

Each command prints its own report and returns its figures; they are written, with the command line
that produced them, to ``--out`` (default ``benchmarks/results/eval_<command>.json``).
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

from facegan.eval import COMMANDS, load_command
from facegan.paths import REPO_ROOT
from facegan.registry import parse_registered_args

RESULTS_DIR = REPO_ROOT / "benchmarks" / "results"


def _common_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m facegan.eval",
        usage=f"%(prog)s {{{','.join(sorted(COMMANDS))}}} [options]",
        description="Evaluate FaceGAN Studio models and judges; figures go to benchmarks/results/.",
        add_help=False,
    )
    parser.add_argument("command", nargs="?", choices=sorted(COMMANDS), help="which evaluation to run")
    parser.add_argument("--data", help="dataset root (default: $FACEGAN_DATA or ../shared/data)")
    parser.add_argument("--device", default="cpu", help="torch device for the networks (cpu, cuda, cuda:1)")
    parser.add_argument("--out", type=Path, help="results JSON (default: benchmarks/results/eval_<command>.json)")
    return parser


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Two passes, as in ``facegan.train``: the command adds its own options to the parser."""
    args = parse_registered_args(_common_parser(), argv, COMMANDS, "command", "command")
    args.out = args.out or RESULTS_DIR / f"eval_{args.command}.json"
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the chosen command and write its figures plus the command line; returns the exit code."""
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    result = load_command(args.command).run(args)
    result = {**result, "command": shlex.join(["python", "-m", "facegan.eval", *argv])}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(f"figures written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
