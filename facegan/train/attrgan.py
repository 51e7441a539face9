"""Attribute-transfer recipe (seed 000): WGAN-GP + attribute classification + identity + bidirectional.

Per step the critic is updated once; every ``n_critic`` steps the generator is updated with

    L_G = L_adv + w_cls * L_cls(fake) + w_id * |G(x, c_src) - x|
          + w_cycle * (|G(G(x, c_trg), c_src) - x| + |heatmap cycle|) + w_latent * |E(G(x, c_trg)) - E(x)|
          + w_heatmap * |side output - input heatmap|

and the critic with L_D = L_adv + w_cls * L_cls(real) + w_gp * GP. Targets are the batch's own
attribute vectors shuffled across the batch (StarGAN's scheme), so target combinations (one hair
colour at most, realistic co-occurrences) follow the data. Adam with linear LR decay over the second
half of training and horizontal flips, as the paper describes.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field, replace

import torch
import torch.nn.functional as F
from torch import Tensor

from facegan.data.celeba_landmarks import CelebAHeatmapDataset
from facegan.losses import gradient_penalty, wgan_d_loss, wgan_g_loss
from facegan.models.attrgan import (
    STARGAN_ATTRIBUTES,
    AttrGANConfig,
    Discriminator,
    Generator,
    heatmap_to_signed,
    toggle_attribute,
)
from facegan.train.loop import StepContext, TrainData
from facegan.train.recipe import RecipeBase, linear_decay

NAME = "attrgan"


@dataclass
class AttrGANTrainConfig:
    """Model config plus every loss weight and optimizer setting, recorded with each checkpoint."""

    model: AttrGANConfig = field(default_factory=AttrGANConfig)
    lr_g: float = 1e-4
    lr_d: float = 1e-4
    betas: tuple[float, float] = (0.5, 0.999)
    n_critic: int = 5
    total_steps: int = 20_000
    w_gp: float = 10.0
    w_cls: float = 1.0
    w_id: float = 10.0
    w_cycle: float = 10.0
    w_latent: float = 1.0
    w_heatmap: float = 10.0


class AttrGANRecipe(RecipeBase):
    """G and D of ``facegan.models.attrgan`` trained with the paper's objective."""

    name = NAME

    def __init__(self, config: AttrGANTrainConfig, device: torch.device, preview: tuple[Tensor, ...]) -> None:
        super().__init__()
        self.config = config
        self.device = device
        self.G = Generator(config.model).to(device)
        self.D = Discriminator(config.model).to(device)
        self.nets = {"G": self.G, "D": self.D}
        self.opts = {
            "G": torch.optim.Adam(self.G.parameters(), config.lr_g, config.betas),
            "D": torch.optim.Adam(self.D.parameters(), config.lr_d, config.betas),
        }
        self.scheds = {name: linear_decay(opt, config.total_steps, 0.5) for name, opt in self.opts.items()}
        self.preview = tuple(t.to(device) for t in preview)

    def _heatmap(self, heatmap: Tensor) -> Tensor | None:
        return heatmap_to_signed(heatmap) if self.config.model.use_heatmap else None

    def train_step(self, batch: tuple[Tensor, Tensor, Tensor], step: int, ctx: StepContext) -> dict[str, Tensor]:
        """One critic update; a generator update every ``n_critic`` steps."""
        cfg = self.config
        real, source, heatmap = batch
        heatmap = self._heatmap(heatmap)
        target = source[torch.randperm(source.shape[0], device=source.device)]
        G, D = ctx.nets["G"], ctx.nets["D"]

        with torch.no_grad(), ctx.autocast():
            fake = self.G(real, heatmap, target).image
        with ctx.autocast():
            real_patch, real_logits = D(real)
            fake_patch, _ = D(fake)
        d_adv = wgan_d_loss(real_patch, fake_patch)
        d_cls = F.binary_cross_entropy_with_logits(real_logits.float(), source)
        penalty = gradient_penalty(lambda x: self.D(x)[0], real, fake)
        ctx.optimize("D", d_adv + cfg.w_cls * d_cls + cfg.w_gp * penalty)
        metrics = {"d_adv": d_adv.detach(), "d_cls": d_cls.detach(), "gp": penalty.detach()}

        if (step + 1) % cfg.n_critic == 0:
            self.D.requires_grad_(False)
            with ctx.autocast():
                edit = G(real, heatmap, target)
                fake_patch, fake_logits = self.D(edit.image)
                same = G(real, heatmap, source).image
                back = G(edit.image, edit.heatmap, source)
                edit_latent = self.G.encode(edit.image, edit.heatmap)
            g_adv = wgan_g_loss(fake_patch)
            g_cls = F.binary_cross_entropy_with_logits(fake_logits.float(), target)
            g_id = (same.float() - real).abs().mean()
            g_cycle = (back.image.float() - real).abs().mean()
            g_latent = (edit_latent.float() - edit.latent.float()).abs().mean()
            g_loss = g_adv + cfg.w_cls * g_cls + cfg.w_id * g_id + cfg.w_cycle * g_cycle + cfg.w_latent * g_latent
            if heatmap is not None:
                g_heatmap = (edit.heatmap.float() - heatmap).abs().mean()
                g_cycle_heatmap = (back.heatmap.float() - heatmap).abs().mean()
                g_loss = g_loss + cfg.w_heatmap * g_heatmap + cfg.w_cycle * g_cycle_heatmap
                metrics["g_heatmap"] = g_heatmap.detach()
            ctx.optimize("G", g_loss)
            self.D.requires_grad_(True)
            metrics.update(
                g_adv=g_adv.detach(), g_cls=g_cls.detach(), g_id=g_id.detach(), g_cycle=g_cycle.detach(),
                g_latent=g_latent.detach(),
            )
        return metrics

    def sample(self, n: int) -> Tensor:
        """Rows of [input, one edit per attribute (that attribute toggled)] for fixed preview faces."""
        images, source, heatmap = (t[: max(1, n // (self.config.model.num_attributes + 1))] for t in self.preview)
        heatmap = self._heatmap(heatmap)
        rows = [images]
        for index in range(self.config.model.num_attributes):
            target = toggle_attribute(source, index, self.config.model.attributes)
            rows.append(self.G(images, heatmap, target).image)
        return torch.stack(rows, dim=1).flatten(0, 1)


def add_args(parser: argparse.ArgumentParser) -> None:
    """attrgan's own CLI options (defaults: the paper's recipe at 64 px for CPU training)."""
    defaults = AttrGANTrainConfig()
    group = parser.add_argument_group("attrgan")
    group.add_argument("--resolution", type=int, choices=[64, 128], default=64, help="128 on a GPU, 64 on CPU")
    group.add_argument("--attributes", nargs="+", default=list(STARGAN_ATTRIBUTES))
    group.add_argument("--no-heatmap", action="store_true", help="ablation: no landmark heatmap input/output")
    group.add_argument("--g-width", type=int, default=defaults.model.g_width)
    group.add_argument("--d-width", type=int, default=defaults.model.d_width)
    group.add_argument("--n-critic", type=int, default=defaults.n_critic)
    group.add_argument("--lr", type=float, default=defaults.lr_g, help="Adam LR of G and D")
    for weight in ("w_gp", "w_cls", "w_id", "w_cycle", "w_latent", "w_heatmap"):
        group.add_argument(f"--{weight.replace('_', '-')}", type=float, default=getattr(defaults, weight))
    group.add_argument("--limit", type=int, help="use only the first N training images")
    group.add_argument("--annotations", help="annotation cache (default: the user cache)")


def config_from_args(args: argparse.Namespace) -> AttrGANTrainConfig:
    model = AttrGANConfig(
        resolution=args.resolution,
        attributes=tuple(args.attributes),
        use_heatmap=not args.no_heatmap,
        g_width=args.g_width,
        d_width=args.d_width,
        d_layers=5 if args.resolution == 64 else 6,
    )
    weights = {w: getattr(args, w) for w in ("w_gp", "w_cls", "w_id", "w_cycle", "w_latent", "w_heatmap")}
    return replace(
        AttrGANTrainConfig(), model=model, lr_g=args.lr, lr_d=args.lr, n_critic=args.n_critic,
        total_steps=args.steps, **weights,
    )


def build(args: argparse.Namespace, device: torch.device) -> tuple[AttrGANRecipe, TrainData]:
    """The recipe and its CelebA data (train split, with heatmaps) for ``python -m facegan.train attrgan``."""
    config = config_from_args(args)
    model = config.model
    dataset = CelebAHeatmapDataset(
        args.data, "train", model.resolution, model.attributes, flip=True, limit=args.limit,
        sigma=model.heatmap_sigma, annotations=args.annotations,
    )
    preview_set = CelebAHeatmapDataset(
        args.data, "val", model.resolution, model.attributes, limit=8, sigma=model.heatmap_sigma,
        annotations=args.annotations,
    )
    preview = tuple(torch.stack(parts) for parts in zip(*(preview_set[i] for i in range(len(preview_set)))))
    info = {"dir": str(dataset.root), "split": "train", "counts": {"images": len(dataset)}}
    return AttrGANRecipe(config, device, preview), TrainData(dataset, info)
