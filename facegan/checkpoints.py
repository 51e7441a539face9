"""Reading checkpoints: what inference (pipelines, judges, evals) needs, without importing training.

A checkpoint is ``<name>.safetensors`` + ``<name>.json``: weight keys are prefixed by module name
(``G.net.0.conv.weight``), so one file holds several networks, and the JSON record says how to
rebuild them. Writing checkpoints (runs, resumable state, export) is ``facegan.train.checkpoint``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from safetensors.torch import load_file
from torch import Tensor, nn

from facegan.errors import CheckpointMissingError


def ema_key(key: str) -> str:
    """Where a network's weight average lives among a recipe's nets and a run checkpoint's modules."""
    return f"{key}_ema"


def load_checkpoint(
    path: str | os.PathLike, train_command: str = "python -m facegan.train ... --export NAME"
) -> tuple[dict[str, dict[str, Tensor]], dict[str, Any]]:
    """Weights split per module (``{"G": state_dict}``) and the JSON record of a checkpoint.

    ``path`` may name the .safetensors file, its .json record, or their common stem. A missing file
    raises ``CheckpointMissingError`` naming ``train_command``, the command that makes it.
    """
    stem = Path(path)
    if stem.suffix in (".safetensors", ".json"):
        stem = stem.with_suffix("")
    weights, record_path = stem.with_name(stem.name + ".safetensors"), stem.with_name(stem.name + ".json")
    if not weights.is_file() or not record_path.is_file():
        raise CheckpointMissingError(
            f"checkpoint {stem.name!r} not found at {stem.parent} (needs {weights.name} and {record_path.name}); "
            f"train it with `{train_command}`"
        )
    state: dict[str, dict[str, Tensor]] = {}
    for key, value in load_file(str(weights)).items():
        module, _, param = key.partition(".")
        state.setdefault(module, {})[param] = value
    return state, json.loads(record_path.read_text(encoding="utf-8"))


def load_modules(modules: Mapping[str, nn.Module], state: Mapping[str, Mapping[str, Tensor]]) -> None:
    """Load per-module state dicts into live modules, strictly: a missing or extra key is a bug."""
    for name, module in modules.items():
        if name not in state:
            raise KeyError(f"checkpoint has no weights for module {name!r} (has {sorted(state)})")
        module.load_state_dict(state[name])
