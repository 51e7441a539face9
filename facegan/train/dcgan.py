"""DCGAN recipe: unconditional CelebA faces with any of the lecture's GAN objectives.

``--loss`` picks the objective; each brings the optimizer settings of its paper unless overridden:
Adam(2e-4, 0.5, 0.999) for minimax/non-saturating/LSGAN/hinge, RMSprop(5e-5) with weight clipping and
5 critic steps per G step for WGAN, Adam(1e-4, 0, 0.9) with the gradient penalty, layer-norm critic and
5 critic steps for WGAN-GP. A training step is one discriminator update.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from typing import get_args

import torch
from torch import Tensor, nn

from facegan.data.celeba import CelebADataset
from facegan.losses import GAN_LOSSES, clip_weights, gradient_penalty
from facegan.models.dcgan import RESOLUTIONS, DCGANConfig, Discriminator, Generator
from facegan.nn.blocks import Norm
from facegan.train.loop import StepContext, TrainData
from facegan.train.recipe import RecipeBase, linear_decay

NAME = "dcgan"


@dataclass(frozen=True)
class _LossDefaults:
    optimizer: str
    lr: float
    betas: tuple[float, float]
    n_critic: int
    d_norm: Norm


_ADAM = _LossDefaults("adam", 2e-4, (0.5, 0.999), 1, "batch")
LOSS_DEFAULTS = {
    "minimax": _ADAM,
    "nonsaturating": _ADAM,
    "lsgan": _ADAM,
    "hinge": _ADAM,
    "wgan": _LossDefaults("rmsprop", 5e-5, (0.0, 0.0), 5, "batch"),
    "wgan-gp": _LossDefaults("adam", 1e-4, (0.0, 0.9), 5, "layer"),
}


@dataclass
class DCGANTrainConfig:
    """Model config plus the objective and optimizer settings, recorded with every checkpoint."""

    model: DCGANConfig = field(default_factory=DCGANConfig)
    loss: str = "nonsaturating"
    optimizer: str = "adam"
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)  # Adam only
    n_critic: int = 1
    clip: float = 0.01
    gp_weight: float = 10.0
    lr_decay_steps: int = 0  # > 0: decay both LRs linearly to 0 over this many steps


class DCGANRecipe(RecipeBase):
    """G and D of ``facegan.models.dcgan`` trained with ``GAN_LOSSES[config.loss]``."""

    name = NAME

    def __init__(self, config: DCGANTrainConfig, device: torch.device) -> None:
        super().__init__()
        self.config = config
        self.device = device
        self.G = Generator(config.model).to(device)
        self.D = Discriminator(config.model).to(device)
        self.loss = GAN_LOSSES[config.loss]
        self.nets = {"G": self.G, "D": self.D}
        self.opts = {"G": self._optimizer(self.G, config.lr_g), "D": self._optimizer(self.D, config.lr_d)}
        if config.lr_decay_steps > 0:
            self.scheds = {name: linear_decay(opt, config.lr_decay_steps) for name, opt in self.opts.items()}

    def _optimizer(self, module: nn.Module, lr: float) -> torch.optim.Optimizer:
        if self.config.optimizer == "rmsprop":
            return torch.optim.RMSprop(module.parameters(), lr=lr)
        return torch.optim.Adam(module.parameters(), lr=lr, betas=self.config.betas)

    def _noise(self, n: int) -> Tensor:
        return torch.randn(n, self.config.model.z_dim, device=self.device)

    def train_step(self, batch: tuple[Tensor, Tensor], step: int, ctx: StepContext) -> dict[str, Tensor]:
        """One critic update, and a generator update every ``n_critic`` steps."""
        real = batch[0]
        G, D = ctx.nets["G"], ctx.nets["D"]
        with torch.no_grad(), ctx.autocast():
            fake = self.G(self._noise(real.shape[0]))
        with ctx.autocast():
            real_out, fake_out = D(real), D(fake)
        d_loss = self.loss.d(real_out, fake_out)
        metrics = {
            "d_loss": d_loss.detach(),
            "d_real": real_out.detach().float().mean(),
            "d_fake": fake_out.detach().float().mean(),
        }
        if self.config.loss == "wgan-gp":
            penalty = gradient_penalty(D, real, fake)
            d_loss = d_loss + self.config.gp_weight * penalty
            metrics["gp"] = penalty.detach()
        ctx.optimize("D", d_loss)
        if self.config.loss == "wgan":
            clip_weights(self.D, self.config.clip)
        if (step + 1) % self.config.n_critic == 0:
            # The raw D with frozen weights: no D gradients to compute or all-reduce in the G step.
            self.D.requires_grad_(False)
            with ctx.autocast():
                g_loss = self.loss.g(self.D(G(self._noise(real.shape[0]))))
            ctx.optimize("G", g_loss)
            self.D.requires_grad_(True)
            metrics["g_loss"] = g_loss.detach()
        return metrics

    def sample(self, n: int) -> Tensor:
        """Images from the same fixed noise every time, so grids show progress rather than new draws."""
        z = torch.randn(n, self.config.model.z_dim, generator=torch.Generator().manual_seed(0))
        return self.G(z.to(self.device))


def add_args(parser: argparse.ArgumentParser) -> None:
    """DCGAN's own CLI options; unset optimizer options take the defaults of the chosen --loss."""
    group = parser.add_argument_group("dcgan")
    group.add_argument("--loss", choices=sorted(GAN_LOSSES), default="nonsaturating")
    group.add_argument("--resolution", type=int, choices=RESOLUTIONS, default=64)
    group.add_argument("--width", type=int, default=64, help="channels of the finest feature map")
    group.add_argument("--z-dim", type=int, default=100)
    group.add_argument("--d-norm", choices=get_args(Norm), help="default: per --loss")
    group.add_argument("--spectral", action="store_true", help="spectral norm on every D layer")
    group.add_argument("--optimizer", choices=["adam", "rmsprop"], help="default: per --loss")
    group.add_argument("--lr-g", type=float, help="default: per --loss")
    group.add_argument("--lr-d", type=float, help="default: per --loss")
    group.add_argument("--n-critic", type=int, help="D steps per G step; default: per --loss")
    group.add_argument("--clip", type=float, default=0.01, help="WGAN weight clipping bound")
    group.add_argument("--gp-weight", type=float, default=10.0, help="WGAN-GP penalty weight")
    group.add_argument(
        "--lr-decay-steps", type=int, default=0, help="decay LRs linearly to 0 over this many steps (0: constant)"
    )
    group.add_argument("--split", default="train", help="CelebA split: train, val, test or all")
    group.add_argument("--no-flip", action="store_true", help="no random horizontal flips")
    group.add_argument("--limit", type=int, help="use only the first N images")


def config_from_args(args: argparse.Namespace) -> DCGANTrainConfig:
    """Resolve per-loss defaults for the options left unset."""
    defaults = LOSS_DEFAULTS[args.loss]
    return DCGANTrainConfig(
        model=DCGANConfig(
            resolution=args.resolution,
            z_dim=args.z_dim,
            width=args.width,
            d_norm=args.d_norm or defaults.d_norm,
            d_spectral=args.spectral,
        ),
        loss=args.loss,
        optimizer=args.optimizer or defaults.optimizer,
        lr_g=args.lr_g if args.lr_g is not None else defaults.lr,
        lr_d=args.lr_d if args.lr_d is not None else defaults.lr,
        betas=defaults.betas,
        n_critic=args.n_critic or defaults.n_critic,
        clip=args.clip,
        gp_weight=args.gp_weight,
        lr_decay_steps=args.lr_decay_steps,
    )


def build(args: argparse.Namespace, device: torch.device) -> tuple[DCGANRecipe, TrainData]:
    """The recipe and its CelebA data for ``python -m facegan.train dcgan``."""
    config = config_from_args(args)
    dataset = CelebADataset(
        args.data, split=args.split, resolution=config.model.resolution, flip=not args.no_flip, limit=args.limit
    )
    info = {"dir": str(dataset.root), "split": args.split, "counts": {"images": len(dataset)}}
    return DCGANRecipe(config, device), TrainData(dataset, info)
