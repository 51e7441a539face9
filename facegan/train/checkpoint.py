"""Checkpoint files: safetensors weights + a JSON record beside them, and resumable training state.

A run directory holds ``checkpoints/step_00001000.{safetensors,json,train_state.pt}``; the JSON is
written last, so a checkpoint counts as complete only once its record exists and a run killed in the
middle of a save resumes from the previous one. Only the newest ``keep`` checkpoints stay.

Shipped checkpoints are ``<checkpoint_dir>/<name>.safetensors`` + ``<name>.json`` with only the
inference modules; reading them is ``facegan.checkpoints`` (re-exported here), which inference code
imports without importing training.
"""

from __future__ import annotations

import json
import os
import platform
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import save_file
from torch import Tensor, nn

from facegan.checkpoints import ema_key, load_checkpoint, load_modules
from facegan.errors import CheckpointMissingError
from facegan.paths import checkpoint_dir

__all__ = [
    "RECORD_FIELDS", "completed_steps", "ema_key", "export_checkpoint", "export_run", "hardware_info",
    "latest_checkpoint", "load_checkpoint", "load_modules", "load_train_state", "make_record", "module_state",
    "save_checkpoint", "save_weights",
]  # fmt: skip

RECORD_FIELDS = ("name", "model", "config", "data", "steps", "hardware", "wall_time_s", "metrics", "created")
_STEP_FILE = re.compile(r"step_(\d+)\.json$")


def make_record(
    name: str,
    model: str,
    config: Mapping[str, Any],
    data: Mapping[str, Any],
    steps: int,
    hardware: Mapping[str, Any],
    wall_time_s: float,
    metrics: Mapping[str, float],
    **extra: Any,
) -> dict[str, Any]:
    """The JSON record stored beside every weights file; ``extra`` adds fields (e.g. training options)."""
    return {
        "name": name,
        "model": model,
        "config": dict(config),
        "data": dict(data),
        "steps": steps,
        "hardware": dict(hardware),
        "wall_time_s": round(wall_time_s, 3),
        "metrics": dict(metrics),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        **extra,
    }


def _cpu_name() -> str:
    """CPU model from /proc/cpuinfo where available (Linux), else what ``platform`` knows."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    return platform.processor() or platform.machine()


def hardware_info(device: torch.device, world_size: int = 1, amp: str = "off") -> dict[str, Any]:
    """Where the weights were trained, so reported numbers can be tied to a machine."""
    cuda = device.type == "cuda"
    return {
        "device": torch.cuda.get_device_name(device) if cuda else _cpu_name(),
        "device_type": device.type,
        "world_size": world_size,
        "amp": amp,
        "torch": torch.__version__,
        "cuda": torch.version.cuda if cuda else None,
        "cpu_count": os.cpu_count(),
    }


def _atomic_write(path: Path, write: Any) -> None:
    """Write via a temporary sibling and rename, so a kill never leaves a half-written file behind."""
    tmp = path.with_name(path.name + ".tmp")
    write(tmp)
    os.replace(tmp, path)


def module_state(modules: Mapping[str, nn.Module]) -> dict[str, Tensor]:
    """All state dicts flattened into ``<module>.<key>`` CPU tensors (copies: safetensors rejects shared memory)."""
    return {
        f"{name}.{key}": value.detach().to("cpu", copy=True).contiguous()
        for name, module in modules.items()
        for key, value in module.state_dict().items()
    }


def save_weights(path: Path, modules: Mapping[str, nn.Module], record: Mapping[str, Any]) -> None:
    """``path`` (.safetensors) with the modules' weights, then ``path.with_suffix('.json')`` with ``record``."""
    _save_tensors(path, module_state(modules), {**record, "modules": list(modules)})


def _save_tensors(path: Path, tensors: Mapping[str, Tensor], record: Mapping[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    _atomic_write(path, lambda tmp: save_file(dict(tensors), str(tmp), metadata={"steps": str(record["steps"])}))
    text = json.dumps(record, indent=2, default=str) + "\n"
    _atomic_write(path.with_suffix(".json"), lambda tmp: tmp.write_text(text, encoding="utf-8"))


def _step_path(run_dir: Path, step: int, suffix: str) -> Path:
    return run_dir / "checkpoints" / f"step_{step:08d}{suffix}"


def save_checkpoint(
    run_dir: Path,
    modules: Mapping[str, nn.Module],
    record: Mapping[str, Any],
    train_state: Mapping[str, Any],
    keep: int = 2,
) -> Path:
    """Save weights, record and the (unshipped) optimizer/RNG state of step ``record['steps']``.

    Returns the weights path. Older checkpoints beyond the newest ``keep`` are deleted.
    """
    step = int(record["steps"])
    state_path = _step_path(run_dir, step, ".train_state.pt")
    state_path.parent.mkdir(parents=True, exist_ok=True)
    _atomic_write(state_path, lambda tmp: torch.save(dict(train_state), tmp))
    weights = _step_path(run_dir, step, ".safetensors")
    save_weights(weights, modules, record)
    for old in completed_steps(run_dir)[:-keep]:
        for suffix in (".json", ".safetensors", ".train_state.pt"):
            _step_path(run_dir, old, suffix).unlink(missing_ok=True)
    return weights


def completed_steps(run_dir: Path) -> list[int]:
    """Steps of the complete checkpoints in a run directory, oldest first."""
    folder = run_dir / "checkpoints"
    if not folder.is_dir():
        return []
    return sorted(int(m.group(1)) for p in folder.iterdir() if (m := _STEP_FILE.match(p.name)))


def latest_checkpoint(run_dir: Path) -> Path | None:
    """Weights path of the newest complete checkpoint in ``run_dir``, or None for a fresh run."""
    steps = completed_steps(run_dir)
    return _step_path(run_dir, steps[-1], ".safetensors") if steps else None


def load_train_state(weights_path: Path) -> dict[str, Any]:
    """The optimizer/scaler/scheduler/RNG/data-position state saved with a run checkpoint."""
    path = weights_path.with_name(weights_path.name.removesuffix(".safetensors") + ".train_state.pt")
    return torch.load(path, map_location="cpu", weights_only=True)


def export_checkpoint(
    name: str, modules: Mapping[str, nn.Module], record: Mapping[str, Any], out_dir: Path | None = None
) -> Path:
    """Ship ``<out_dir>/<name>.safetensors`` + ``<name>.json`` (default: the project's checkpoints/)."""
    path = (out_dir or checkpoint_dir()) / f"{name}.safetensors"
    save_weights(path, modules, {**record, "name": name})
    return path


def export_run(
    run_dir: Path, name: str, modules: Sequence[str], out_dir: Path | None = None, step: int | None = None
) -> Path:
    """Ship the newest checkpoint of a run (or the one at ``step``), finished or not, with only the
    inference ``modules`` (each module's weight average ``<module>_ema`` where the run kept one, as
    ``Trainer.export`` does).

    For runs stopped before their planned steps (e.g. a CPU session that ended): the record keeps the
    steps actually trained, so nobody mistakes it for the full schedule. ``step`` ships a snapshot on
    the way, for the eval at several points of a run (quality against CPU time).
    """
    steps = completed_steps(run_dir)
    if not steps:
        raise CheckpointMissingError(f"no complete checkpoint in {run_dir}")
    if step is not None and step not in steps:
        raise CheckpointMissingError(f"{run_dir} has no complete checkpoint at step {step}; it has {steps}")
    state, record = load_checkpoint(_step_path(run_dir, steps[-1] if step is None else step, ".safetensors"))
    tensors = {
        f"{module}.{key}": value
        for module in modules
        for key, value in state.get(ema_key(module), state[module]).items()
    }
    path = (out_dir or checkpoint_dir()) / f"{name}.safetensors"
    _save_tensors(path, tensors, {**record, "name": name, "modules": list(modules)})
    return path
