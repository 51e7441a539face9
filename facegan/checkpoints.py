"""Reading checkpoints: what inference (pipelines, judges, evals) needs, without importing training.

A checkpoint is ``<name>.safetensors`` + ``<name>.json``: weight keys are prefixed by module name
(``G.net.0.conv.weight``), so one file holds several networks, and the JSON record says how to
rebuild them. Writing checkpoints (runs, resumable state, export) is ``facegan.train.checkpoint``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from safetensors.torch import load_file
from torch import Tensor, nn

from facegan.errors import CheckpointMissingError
from facegan.paths import checkpoint_dir


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


def train_command(recipe: str, name: str, *options: str) -> str:
    """The command that trains and exports checkpoint ``name``: the one source of every "train it with" hint."""
    return shlex.join(["python", "-m", "facegan.train", recipe, *options, "--export", name])


def load_shipped(
    name: str, recipe: str, directory: Path | None = None, *options: str
) -> tuple[dict[str, dict[str, Tensor]], dict[str, Any]]:
    """``load_checkpoint`` of ``<directory or checkpoint_dir()>/<name>``, naming its train command if missing."""
    return load_checkpoint((directory or checkpoint_dir()) / name, train_command(recipe, name, *options))


def weights_path(name: str, directory: Path | None = None) -> Path:
    """The shipped weights file ``load_shipped`` reads: what an edit recipe names (by sha256)."""
    return (directory or checkpoint_dir()) / f"{name}.safetensors"


T = TypeVar("T")


def config_from_record(cls: type[T], values: Mapping[str, Any]) -> T:
    """A config dataclass from its JSON form: JSON has no tuples, so fields declared as tuples get them back."""
    fields = {f.name: str(f.type) for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    return cls(**{
        key: tuple(value) if isinstance(value, list) and fields[key].startswith("tuple") else value
        for key, value in values.items()
    })  # fmt: skip
