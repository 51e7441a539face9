"""What every recipe shares: holding its nets/optimizers/schedulers, weight averages (EMA), the linear
LR decay, and the one-network classifier step.

A recipe only builds its networks and writes ``train_step`` and ``sample``; the accessors the
``Trainer`` calls (``modules``, ``optimizers``, ``schedulers``, ``inference_modules``) live here once.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from facegan.train.checkpoint import ema_key

if TYPE_CHECKING:
    from facegan.train.loop import StepContext


class RecipeBase:
    """Stores ``nets``, ``opts`` and ``scheds`` (filled by the subclass) and hands them to the Trainer."""

    name: str
    exported: tuple[str, ...] = ("G",)  # modules an inference checkpoint needs

    def __init__(self) -> None:
        self.nets: dict[str, nn.Module] = {}
        self.opts: dict[str, torch.optim.Optimizer] = {}
        self.scheds: dict[str, torch.optim.lr_scheduler.LRScheduler] = {}

    def modules(self) -> dict[str, nn.Module]:
        return dict(self.nets)

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return self.opts

    def schedulers(self) -> dict[str, torch.optim.lr_scheduler.LRScheduler]:
        return self.scheds

    def inference_modules(self) -> dict[str, nn.Module]:
        """The exported modules, each replaced by its weight average where it has one."""
        return {key: self.nets.get(ema_key(key), self.nets[key]) for key in self.exported}

    def add_ema(self, key: str) -> nn.Module:
        """Track an exponential moving average of ``nets[key]`` as ``nets["<key>_ema"]``.

        The average is checkpointed and resumed like any network and is what inference ships: it
        smooths out the oscillation of GAN updates at no training cost (Yazici et al. 2019).
        """
        average = copy.deepcopy(self.nets[key]).requires_grad_(False)
        self.nets[ema_key(key)] = average
        return average

    @torch.no_grad()
    def update_ema(self, key: str, step: int, decay: float = 0.999) -> None:
        """One EMA step after an update of ``nets[key]``. The decay ramps up over the first steps
        ((1 + step) / (10 + step)), so the average does not drag the random initialisation along."""
        beta = min(decay, (1 + step) / (10 + step))
        for average, live in zip(self.nets[ema_key(key)].parameters(), self.nets[key].parameters(), strict=True):
            average.lerp_(live, 1 - beta)
        for average, live in zip(self.nets[ema_key(key)].buffers(), self.nets[key].buffers(), strict=True):
            average.copy_(live)


def linear_decay(
    optimizer: torch.optim.Optimizer, total_steps: int, start_fraction: float = 0.0
) -> torch.optim.lr_scheduler.LambdaLR:
    """Constant LR, then linear decay to 0 between ``start_fraction * total_steps`` and ``total_steps``.

    The factor is computed from the live step and ``total_steps`` (not stored in the scheduler state),
    so resuming a finished run with a larger ``--steps`` continues the same schedule to the new end.
    """
    start = int(total_steps * start_fraction)
    span = max(total_steps - start, 1)

    def factor(step: int) -> float:
        return min(1.0, max(0.0, (total_steps - step) / span))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def add_classifier_options(group: Any, width: int, dropout: float, lr: float, lr_decay_steps: int) -> None:
    """The options every classifier recipe (judges, sound classifier) shares, with its own defaults.

    ``group`` is an argparse argument group.
    """
    group.add_argument("--width", type=int, default=width, help="channels of the first conv layer")
    group.add_argument("--dropout", type=float, default=dropout, help="dropout before the linear head")
    group.add_argument("--lr", type=float, default=lr)
    group.add_argument(
        "--lr-decay-steps", type=int, default=lr_decay_steps, help="decay the LR linearly to 0 over N steps (0: off)"
    )


class ClassifierRecipe(RecipeBase):
    """One network, one optimizer, a classification loss: the judges and the sound encoder.

    Batches are ``(inputs, labels)``; subclasses override ``loss`` when it is not plain cross-entropy
    and write ``sample``.
    """

    def __init__(self, key: str, net: nn.Module, optimizer: torch.optim.Optimizer, lr_decay_steps: int = 0) -> None:
        super().__init__()
        self.key = key
        self.exported = (key,)
        self.nets = {key: net}
        self.opts = {key: optimizer}
        if lr_decay_steps > 0:
            self.scheds = {key: linear_decay(optimizer, lr_decay_steps)}

    def loss(self, logits: Tensor, labels: Tensor) -> tuple[Tensor, Tensor]:
        """(loss, accuracy) for fp32 logits: cross-entropy over classes by default."""
        return F.cross_entropy(logits, labels), (logits.argmax(1) == labels).float().mean()

    def train_step(self, batch: tuple[Tensor, Tensor], step: int, ctx: StepContext) -> dict[str, Tensor]:
        """One optimizer step; logs the loss and the batch accuracy."""
        inputs, labels = batch
        with ctx.autocast():
            logits = ctx.nets[self.key](inputs)
        loss, accuracy = self.loss(logits.float(), labels)
        ctx.optimize(self.key, loss)
        return {"loss": loss.detach(), "accuracy": accuracy.detach()}
