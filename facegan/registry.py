"""Name -> module registries behind ``python -m facegan.train`` and ``python -m facegan.eval``.

A registered module is imported only when chosen and adds its own CLI options, so a new model or
metric is one registry line plus its module.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Mapping
from types import ModuleType


def load_registered(registry: Mapping[str, str], name: str, kind: str) -> ModuleType:
    """The module registered under ``name``; ``kind`` ("model", "command") words the error."""
    if name not in registry:
        raise KeyError(f"unknown {kind} {name!r}; choose from {sorted(registry)}")
    return importlib.import_module(registry[name])


def parse_registered_args(
    parser: argparse.ArgumentParser, argv: list[str] | None, registry: Mapping[str, str], dest: str, kind: str
) -> argparse.Namespace:
    """Two passes: the positional ``dest`` picks a module, which adds its own options before the real parse.

    ``parser`` must be built with ``add_help=False`` so ``--help`` can list the chosen module's options.
    """
    known, _ = parser.parse_known_args(argv)
    chosen = getattr(known, dest)
    if chosen:
        load_registered(registry, chosen, kind).add_args(parser)
    parser.add_argument("-h", "--help", action="help", help=f"show this help (with a {dest}: its options too)")
    args = parser.parse_args(argv)
    if getattr(args, dest) is None:
        parser.error(f"choose a {kind}: {', '.join(sorted(registry))}")
    return args
