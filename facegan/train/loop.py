"""The one training loop every model uses.

A model plugs in as a *recipe* (see ``Recipe``): its networks, optimizers and one ``train_step``. The
``Trainer`` owns everything else: device and mixed precision (bf16/fp16 autocast on CUDA, fp32 on
CPU), DistributedDataParallel under ``torchrun``, the data order, tqdm progress, TensorBoard scalars
and sample grids, periodic checkpoints (every N steps and every M seconds) and exact resumption.

Resumption restores weights, optimizers, grad scalers, LR schedulers, the step counter, the position
inside the current epoch and every RNG, so ``k`` steps + resume + ``N - k`` steps equals ``N`` steps
straight (bitwise on CPU with ``num_workers=0``; with worker processes the data order is still exact
but per-sample augmentation randomness is redrawn).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import random
import signal
import threading
import time
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch
import torch.distributed as dist
from torch import Tensor, nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, Dataset, DistributedSampler, Sampler
from tqdm import tqdm

from facegan.train.checkpoint import (
    export_checkpoint,
    hardware_info,
    latest_checkpoint,
    load_checkpoint,
    load_modules,
    load_train_state,
    make_record,
    save_checkpoint,
)

AMP_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


@dataclass
class Runtime:
    """Where this process trains: its device and, under torchrun, its rank in the process group."""

    device: torch.device
    rank: int = 0
    world_size: int = 1

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Only the main process logs, shows progress and writes files."""
        return self.rank == 0


def resolve_device(choice: str = "auto") -> torch.device:
    """``auto`` takes CUDA when present, else the CPU; asking for CUDA without one is an error."""
    if choice == "auto":
        choice = "cuda" if torch.cuda.is_available() else "cpu"
    if choice == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("--device cuda was requested but torch sees no CUDA device")
    return torch.device(choice)


def setup_runtime(device: str = "auto") -> Runtime:
    """Join torchrun's process group when launched by it (WORLD_SIZE > 1): NCCL on CUDA, gloo on CPU."""
    resolved = resolve_device(device)
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size == 1:
        return Runtime(resolved)
    if resolved.type == "cuda":
        resolved = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(resolved)
    dist.init_process_group("nccl" if resolved.type == "cuda" else "gloo")
    return Runtime(resolved, dist.get_rank(), world_size)


def teardown_runtime(runtime: Runtime) -> None:
    """Leave the process group so torchrun sees a clean exit."""
    if runtime.distributed and dist.is_initialized():
        dist.destroy_process_group()


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (all devices): model init must match across runs and ranks."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


CPU_BF16_FLAGS = ("avx512_bf16", "amx_bf16")
"""CPU feature flags of native bf16 arithmetic. Without one, bf16 autocast is emulated and measured
10-17x slower than fp32 (genegan recipe on an AVX2-only EPYC: 7.4 s/step against 0.6 s/step)."""


def cpu_has_native_bf16(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """True when the CPU's flags list a native bf16 instruction set (Linux; False where unknown)."""
    if not cpuinfo.is_file():
        return False
    for line in cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith("flags"):
            return any(flag in line.split() for flag in CPU_BF16_FLAGS)
    return False


def resolve_amp(choice: str, device: torch.device) -> torch.dtype | None:
    """Autocast dtype. ``auto`` picks what is fast on this machine: bf16 on CUDA GPUs that support it,
    fp16 on older ones; on the CPU bf16 only where it is native (``cpu_has_native_bf16``), else fp32."""
    if choice == "auto":
        if device.type != "cuda":
            return torch.bfloat16 if cpu_has_native_bf16() else None
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if choice == "off":
        return None
    if choice == "fp16" and device.type != "cuda":
        raise ValueError("fp16 autocast needs CUDA; use --amp bf16 or off on the CPU")
    return AMP_DTYPES[choice]


@dataclass
class TrainData:
    """A recipe's dataset plus what the checkpoint record says about it (dir, split, counts)."""

    dataset: Dataset
    info: dict[str, Any]


class StepContext:
    """What ``train_step`` needs from the loop: the (possibly DDP-wrapped) nets, autocast, optimizer steps."""

    def __init__(
        self,
        device: torch.device,
        nets: Mapping[str, nn.Module],
        optimizers: Mapping[str, torch.optim.Optimizer],
        scalers: Mapping[str, torch.amp.GradScaler],
        amp_dtype: torch.dtype | None,
    ) -> None:
        self.device = device
        self.nets = nets
        self.optimizers = optimizers
        self.scalers = scalers
        self.amp_dtype = amp_dtype

    def autocast(self) -> torch.amp.autocast:
        """Mixed-precision region for forward passes (a no-op when AMP is off)."""
        return torch.amp.autocast(self.device.type, dtype=self.amp_dtype, enabled=self.amp_dtype is not None)

    def optimize(self, name: str, loss: Tensor) -> None:
        """zero_grad, backward and step of optimizer ``name``, through its own fp16 loss scaler.

        Each optimizer has its own scaler: D and G gradients differ by orders of magnitude, and an
        overflow in one must not skip the other's step.
        """
        optimizer, scaler = self.optimizers[name], self.scalers[name]
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()


class Recipe(Protocol):
    """One model's training logic, independent of devices, files and logging."""

    name: str  # model family, e.g. "dcgan"; recorded in checkpoints
    config: Any  # a dataclass; ``asdict(config)`` goes into the checkpoint record

    def modules(self) -> dict[str, nn.Module]:
        """Every network whose weights are checkpointed, already on the training device."""

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """Optimizers by name; ``StepContext.optimize(name, loss)`` steps them."""

    def schedulers(self) -> dict[str, torch.optim.lr_scheduler.LRScheduler]:
        """LR schedulers, stepped once after every ``train_step`` (may be empty)."""

    def train_step(self, batch: Any, step: int, ctx: StepContext) -> dict[str, float | Tensor]:
        """One iteration on a device batch; returns scalars to log (tensors are averaged lazily)."""

    def sample(self, n: int) -> Tensor:
        """``n`` images in [-1, 1] for the TensorBoard grid, deterministic across calls."""

    def inference_modules(self) -> dict[str, nn.Module]:
        """The modules an inference checkpoint needs, by the name it stores them under (``{"G": ...}``);
        a module with a weight average (``<name>_ema``) is exported as that average."""


@dataclass
class TrainOptions:
    """Loop settings shared by every recipe (the CLI's common options)."""

    steps: int = 10_000
    batch_size: int = 64
    run_dir: Path = Path("runs/default")
    device: str = "auto"
    amp: str = "auto"
    num_workers: int = 4
    seed: int = 0
    log_every: int = 50
    image_every: int = 1000
    samples: int = 64
    ckpt_every: int = 1000
    ckpt_every_s: float = 300.0
    keep: int = 2
    resume: bool = False
    stop_after_cpu_s: float | None = None
    """Save and stop once this process has used this much CPU time: equal-budget comparisons on a
    shared machine, where wall time depends on what else runs."""
    stop_at: int | None = None
    """Save, export and stop at this step while the LR schedule still follows ``steps``: how a run that
    was stopped early (a CPU session's end) is reproduced exactly."""
    export: str | None = None
    progress: bool = True


class _SkipSampler(Sampler[int]):
    """One epoch of a DistributedSampler's order, starting ``skip`` samples in (mid-epoch resume)."""

    def __init__(self, base: DistributedSampler, skip: int) -> None:
        self.base = base
        self.skip = skip

    def __iter__(self) -> Iterator[int]:
        return itertools.islice(iter(self.base), self.skip, None)

    def __len__(self) -> int:
        return max(len(self.base) - self.skip, 0)


class _MeanTracker:
    """Running sums of step metrics; tensors stay on the device until logged (no sync per step)."""

    def __init__(self) -> None:
        self.sums: dict[str, float | Tensor] = {}
        self.counts: dict[str, int] = {}

    def add(self, metrics: Mapping[str, float | Tensor]) -> None:
        for key, value in metrics.items():
            value = value.detach().float() if isinstance(value, Tensor) else float(value)
            self.sums[key] = self.sums.get(key, 0.0) + value
            self.counts[key] = self.counts.get(key, 0) + 1

    def pop(self) -> dict[str, float]:
        means = {key: float(total) / self.counts[key] for key, total in self.sums.items()}
        self.sums, self.counts = {}, {}
        return means


class _StopFlag:
    """Turns the first SIGTERM/SIGINT into 'save and stop after this step'; a second one acts as usual."""

    def __init__(self) -> None:
        self.requested = False
        self._previous: dict[int, Any] = {}

    def _handle(self, signum: int, _frame: Any) -> None:
        self.requested = True
        signal.signal(signum, self._previous[signum])

    @contextlib.contextmanager
    def installed(self) -> Iterator[_StopFlag]:
        if threading.current_thread() is not threading.main_thread():  # signal handlers are main-only
            yield self
            return
        for signum in (signal.SIGTERM, signal.SIGINT):
            self._previous[signum] = signal.signal(signum, self._handle)
        try:
            yield self
        finally:
            for signum, handler in self._previous.items():
                signal.signal(signum, handler)


def _to_device(batch: Any, device: torch.device) -> Any:
    if isinstance(batch, Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, Mapping):
        return {key: _to_device(value, device) for key, value in batch.items()}
    if isinstance(batch, list | tuple):
        return type(batch)(_to_device(value, device) for value in batch)
    return batch


def _rng_state(device: torch.device) -> dict[str, Any]:
    """Every RNG a step may draw from; NumPy's key array as a tensor so ``weights_only`` loading works."""
    name, keys, pos, has_gauss, cached = np.random.get_state()
    state = {
        "python": random.getstate(),
        "numpy": (name, torch.from_numpy(keys.astype(np.int64)), pos, has_gauss, cached),
        "torch": torch.get_rng_state(),
    }
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def _set_rng_state(state: Mapping[str, Any], device: torch.device) -> None:
    random.setstate(state["python"])
    name, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((name, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and device.type == "cuda":
        torch.cuda.set_rng_state(state["cuda"], device)


class Trainer:
    """Runs a recipe for ``options.steps`` steps with logging, checkpoints and resumption."""

    def __init__(self, recipe: Recipe, data: TrainData, options: TrainOptions, runtime: Runtime | None = None) -> None:
        self.recipe = recipe
        self.data = data
        self.options = options
        self.runtime = runtime or Runtime(resolve_device(options.device))
        self.device = self.runtime.device
        self.run_dir = Path(options.run_dir)
        self.modules = recipe.modules()
        self.optimizers = recipe.optimizers()
        self.schedulers = recipe.schedulers()
        self.amp_dtype = resolve_amp(options.amp, self.device)
        fp16 = self.amp_dtype == torch.float16
        self.scalers = {name: torch.amp.GradScaler(self.device.type, enabled=fp16) for name in self.optimizers}
        self.step = 0
        self.epoch = 0
        self.batch_in_epoch = 0
        self.wall_time_s = 0.0
        self.cpu_time_s = 0.0
        self.metrics: dict[str, float] = {}
        self.sampler = DistributedSampler(
            data.dataset, num_replicas=self.runtime.world_size, rank=self.runtime.rank, shuffle=True, seed=options.seed
        )
        if len(self.sampler) < options.batch_size:
            raise ValueError(
                f"{len(data.dataset)} samples over {self.runtime.world_size} process(es) cannot fill "
                f"one batch of {options.batch_size}"
            )
        torch.manual_seed(options.seed + self.runtime.rank)  # different noise per rank, same init before
        if options.resume:
            self._resume()
        self.ctx = StepContext(self.device, self._wrap_ddp(), self.optimizers, self.scalers, self.amp_dtype)
        if self.device.type == "cuda":
            torch.backends.cudnn.benchmark = True
            torch.backends.cuda.matmul.allow_tf32 = True
            torch.backends.cudnn.allow_tf32 = True

    def _wrap_ddp(self) -> dict[str, nn.Module]:
        """DDP wrappers for trainable modules when distributed (gradients all-reduced in backward)."""
        if not self.runtime.distributed:
            return dict(self.modules)
        device_ids = [self.device.index] if self.device.type == "cuda" else None
        return {
            name: DistributedDataParallel(module, device_ids=device_ids)
            if any(p.requires_grad for p in module.parameters())
            else module
            for name, module in self.modules.items()
        }

    def _epoch_loader(self) -> DataLoader:
        """This epoch's loader, skipping the batches already consumed before a resume.

        Its own generator keeps worker seeding off the global RNG, which belongs to the recipe.
        """
        self.sampler.set_epoch(self.epoch)
        skip = self.batch_in_epoch * self.options.batch_size
        return DataLoader(
            self.data.dataset,
            batch_size=self.options.batch_size,
            sampler=_SkipSampler(self.sampler, skip),
            num_workers=self.options.num_workers,
            pin_memory=self.device.type == "cuda",
            drop_last=True,
            generator=torch.Generator().manual_seed(self.options.seed + self.epoch),
        )

    def _batches(self) -> Iterator[Any]:
        """Batches forever, epoch after epoch; ``self.epoch`` advances once an epoch is exhausted."""
        while True:
            yield from self._epoch_loader()
            self.epoch += 1
            self.batch_in_epoch = 0

    def _agree(self, save: bool, stop: bool) -> tuple[bool, bool]:
        """Rank 0's decision to save/stop (time- and signal-driven) for every rank, so collectives match."""
        if not self.runtime.distributed:
            return save, stop
        flags = torch.tensor([save, stop], dtype=torch.int32, device=self.device)
        dist.broadcast(flags, src=0)
        return bool(flags[0]), bool(flags[1])

    def fit(self) -> dict[str, float]:
        """Train to ``options.steps``, checkpointing on the way and at the end; returns the last metrics."""
        opts, main = self.options, self.runtime.is_main
        writer = self._writer() if main else None
        tracker = _MeanTracker()
        bar = tqdm(total=opts.steps, initial=self.step, disable=not (main and opts.progress), dynamic_ncols=True)
        batches = self._batches()
        last_save = clock = time.monotonic()
        cpu_clock = time.process_time()
        try:
            with _StopFlag().installed() as stop_flag:
                while self.step < opts.steps:
                    batch = _to_device(next(batches), self.device)
                    tracker.add(self.recipe.train_step(batch, self.step, self.ctx))
                    self._step_schedulers()
                    self.step += 1
                    self.batch_in_epoch += 1
                    now = time.monotonic()
                    self.wall_time_s += now - clock
                    self.cpu_time_s += time.process_time() - cpu_clock
                    clock, cpu_clock = now, time.process_time()
                    over_cpu = opts.stop_after_cpu_s is not None and self.cpu_time_s >= opts.stop_after_cpu_s
                    out_of_budget = over_cpu or (opts.stop_at is not None and self.step >= opts.stop_at)
                    bar.update(1)
                    if self.step % opts.log_every == 0 or self.step == opts.steps:
                        self._log_scalars(tracker.pop(), writer, bar)
                    if writer is not None and self.step % opts.image_every == 0:
                        self._log_images(writer)
                    save, stop = self._agree(
                        self.step % opts.ckpt_every == 0 or now - last_save >= opts.ckpt_every_s,
                        stop_flag.requested or out_of_budget,
                    )
                    if save or stop or self.step == opts.steps:
                        self.save()
                        last_save = time.monotonic()
                    if stop:
                        break
        finally:
            bar.close()
            if writer is not None:
                writer.close()
        if opts.export and main and self.step >= min(opts.steps, opts.stop_at or opts.steps):
            self.export(opts.export)
        if self.runtime.distributed:
            dist.barrier()  # no rank leaves (and tears down the group) while rank 0 still writes files
        return self.metrics

    def _step_schedulers(self) -> None:
        """Advance every LR schedule by one step.

        torch warns when an optimizer has not stepped since the last schedule step; here that is by
        design (G idles during extra critic steps, fp16 overflow skips a step), so the warning is muted.
        """
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r"Detected call of `lr_scheduler\.step\(\)` before")
            for scheduler in self.schedulers.values():
                scheduler.step()

    def _writer(self) -> Any:
        from torch.utils.tensorboard import SummaryWriter

        return SummaryWriter(str(self.run_dir / "tb"))

    def _log_scalars(self, metrics: dict[str, float], writer: Any, bar: tqdm) -> None:
        self.metrics = metrics
        if writer is None:
            return
        for key, value in metrics.items():
            writer.add_scalar(f"train/{key}", value, self.step)
        for name, optimizer in self.optimizers.items():
            writer.add_scalar(f"lr/{name}", optimizer.param_groups[0]["lr"], self.step)
        bar.set_postfix({key: f"{value:.3g}" for key, value in metrics.items()}, refresh=False)

    @torch.no_grad()
    def _log_images(self, writer: Any) -> None:
        """Sample grid in eval mode (BatchNorm running stats), then back to training mode."""
        from torchvision.utils import make_grid

        training = {name: module.training for name, module in self.modules.items()}
        for module in self.modules.values():
            module.eval()
        images = self.recipe.sample(self.options.samples).float().cpu()
        for name, module in self.modules.items():
            module.train(training[name])
        writer.add_image("samples", make_grid((images.clamp(-1, 1) + 1) / 2, nrow=8), self.step)

    def record(self, name: str | None = None) -> dict[str, Any]:
        """The JSON record describing the weights at the current step."""
        amp = next((k for k, v in AMP_DTYPES.items() if v == self.amp_dtype), "off")
        samples_seen = self.step * self.options.batch_size * self.runtime.world_size
        return make_record(
            name=name or self.run_dir.name,
            model=self.recipe.name,
            config=asdict(self.recipe.config),
            data={**self.data.info, "samples_seen": samples_seen},
            steps=self.step,
            hardware=hardware_info(self.device, self.runtime.world_size, amp),
            wall_time_s=self.wall_time_s,
            metrics=self.metrics,
            cpu_time_s=round(self.cpu_time_s, 3),
            images_per_s=round(samples_seen / self.wall_time_s, 2) if self.wall_time_s else None,
            train={**asdict(self.options), "run_dir": str(self.options.run_dir)},
        )

    def save(self) -> Path | None:
        """Checkpoint the current step (collective under DDP: every rank's RNG goes into rank 0's file)."""
        rng = _rng_state(self.device)
        rngs = [rng]
        if self.runtime.distributed:
            rngs = [None] * self.runtime.world_size
            dist.all_gather_object(rngs, rng)
        if not self.runtime.is_main:
            return None
        state = {
            "step": self.step,
            "epoch": self.epoch,
            "batch_in_epoch": self.batch_in_epoch,
            "wall_time_s": self.wall_time_s,
            "cpu_time_s": self.cpu_time_s,
            "metrics": self.metrics,
            "optimizers": {k: v.state_dict() for k, v in self.optimizers.items()},
            "scalers": {k: v.state_dict() for k, v in self.scalers.items()},
            "schedulers": {k: v.state_dict() for k, v in self.schedulers.items()},
            "rng": rngs,
        }
        return save_checkpoint(self.run_dir, self.modules, self.record(), state, keep=self.options.keep)

    def _resume(self) -> None:
        """Continue from the newest complete checkpoint in the run dir; a fresh run dir starts at step 0."""
        path = latest_checkpoint(self.run_dir)
        if path is None:
            return
        weights, _record = load_checkpoint(path)
        load_modules(self.modules, weights)
        state = load_train_state(path)
        for group in ("optimizers", "scalers", "schedulers"):
            for key, obj in getattr(self, group).items():
                obj.load_state_dict(state[group][key])
        self._refresh_learning_rates()
        self.step, self.epoch, self.batch_in_epoch = state["step"], state["epoch"], state["batch_in_epoch"]
        self.wall_time_s, self.metrics = state["wall_time_s"], state["metrics"]
        self.cpu_time_s = state["cpu_time_s"]
        if len(state["rng"]) == self.runtime.world_size:
            _set_rng_state(state["rng"][self.runtime.rank], self.device)
        else:  # world size changed: fresh but still deterministic streams
            seed_everything(self.options.seed + self.runtime.rank + self.step)

    def _refresh_learning_rates(self) -> None:
        """Set each optimizer's LR from its schedule at the resumed step.

        The saved LR belongs to the schedule the run was started with; a resume with a larger
        ``--steps`` stretches that schedule (``linear_decay``), and the next step must already use it.
        """
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r"To get the last learning rate computed by the scheduler")
            for scheduler in self.schedulers.values():
                for group, lr in zip(scheduler.optimizer.param_groups, scheduler.get_lr(), strict=True):
                    group["lr"] = lr

    def export(self, name: str, out_dir: Path | None = None) -> Path:
        """Write the shipped inference checkpoint ``<name>.safetensors`` + ``<name>.json``."""
        return export_checkpoint(name, self.recipe.inference_modules(), self.record(name), out_dir)
