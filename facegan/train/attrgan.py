"""Attribute-transfer recipe (seed 000): adversarial + attribute classification + identity + bidirectional.

The generator is updated every ``n_critic`` critic steps with

    L_G = L_adv + w_cls * L_cls(fake) + w_id * |G(x, 0) - x|
          + w_cycle * (|G(G(x, d), -d) - x| + |heatmap cycle|) + w_latent * |E(G(x, d)) - E(x)|
          + w_heatmap * |side output - input heatmap| + attention terms (sparse, smooth masks)

where d = c_trg - c_src is the attribute change the generator is asked for (see
``facegan.models.attrgan``), and the critic with L_D = L_adv + w_cls * L_cls(real) + its penalty.
With ``guide`` set, a frozen attribute classifier trained on its own (``attr_guide``, not the
eval's judge) adds w_guide * BCE(guide(low_pass(fake)), target) to L_G: the discriminator's classifier starts from
nothing, the guide gives G a useful attribute gradient from the first step. The guide sees the edit
through a random low-pass (down to 24-48 px and back) plus a little noise: at full resolution its
gradient was met with adversarial dot lattices and coloured stripes over the eyes (seen in our first
CPU run), which no other classifier would read as the attribute. A total-variation term on the
change (w_change_tv) keeps such high-frequency patterns expensive as well. Two objectives:

- ``wgan-gp`` (the paper's): Wasserstein critic with gradient penalty, 5 critic steps per G step;
- ``hinge`` (default): hinge loss with a lazy R1 penalty on reals (every ``r1_every`` steps, scaled
  to match), one critic step per G step, so G gets five times the updates per CPU-hour.

Targets are the batch's own attribute vectors shuffled across the batch (StarGAN's scheme), so target
combinations (one hair colour at most, realistic co-occurrences) follow the data. Adam with linear LR
decay over the second half of training, horizontal flips, and an EMA of G's weights for inference.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field, replace

import torch
import torch.nn.functional as F
from torch import Tensor

from facegan.data.celeba_landmarks import CelebAHeatmapDataset
from facegan.models.judge import ATTRIBUTE_NAMES, load_judge_file
from facegan.losses import (
    attention_regularizer,
    gradient_penalty,
    hinge_d_loss,
    r1_penalty,
    total_variation,
    wgan_d_loss,
    wgan_g_loss,
)
from facegan.models.attrgan import (
    STARGAN_ATTRIBUTES,
    AttrGANConfig,
    Discriminator,
    Generator,
    heatmap_input,
    toggle_attribute,
)
from facegan.paths import checkpoint_dir
from facegan.train.loop import StepContext, TrainData
from facegan.train.recipe import RecipeBase, linear_decay

NAME = "attrgan"
GUIDE_CHECKPOINT = "attr_guide"
GUIDE_COMMAND = (
    "OMP_NUM_THREADS=1 python -m facegan.train judge --steps 1000 --batch-size 64 --num-workers 1 "
    "--lr-decay-steps 1000 --width 32 --seed 1 --run-dir runs/attr_guide --export attr_guide"
)


@dataclass
class AttrGANTrainConfig:
    """Model config plus every loss weight and optimizer setting, recorded with each checkpoint."""

    model: AttrGANConfig = field(default_factory=AttrGANConfig)
    gan_loss: str = "hinge"
    """``hinge`` (+ lazy R1) or ``wgan-gp`` (the paper's)."""
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    n_critic: int = 1
    total_steps: int = 20_000
    w_gp: float = 10.0
    w_r1: float = 1.0
    r1_every: int = 4
    w_cls: float = 1.0
    w_id: float = 10.0
    w_cycle: float = 10.0
    w_latent: float = 1.0
    w_heatmap: float = 10.0
    w_mask: float = 0.02
    w_mask_tv: float = 0.1
    guide: str | None = GUIDE_CHECKPOINT
    """Checkpoint of a frozen attribute classifier whose verdict on edits G also learns from (None: off)."""
    w_guide: float = 10.0
    w_change_tv: float = 1.0
    ema_decay: float = 0.999


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
        self.G_ema = self.add_ema("G")
        self.guide = None
        if config.guide:
            self.guide = load_judge_file(checkpoint_dir() / config.guide, GUIDE_COMMAND, device).requires_grad_(False)
            self.guide_columns = [ATTRIBUTE_NAMES.index(name) for name in config.model.attributes]
        self.opts = {
            "G": torch.optim.Adam(self.G.parameters(), config.lr_g, config.betas),
            "D": torch.optim.Adam(self.D.parameters(), config.lr_d, config.betas),
        }
        self.scheds = {name: linear_decay(opt, config.total_steps, 0.5) for name, opt in self.opts.items()}
        self.preview = tuple(t.to(device) for t in preview)

    def _heatmap(self, heatmap: Tensor) -> Tensor | None:
        return heatmap_input(self.config.model, heatmap)

    def _critic_loss(
        self, real: Tensor, source: Tensor, fake: Tensor, step: int, ctx: StepContext
    ) -> dict[str, Tensor]:
        """One critic update on a real and a generated batch; returns its logged terms."""
        cfg = self.config
        D = ctx.nets["D"]
        lazy_r1 = cfg.gan_loss == "hinge" and step % cfg.r1_every == 0
        real = real.detach().requires_grad_(lazy_r1)
        with ctx.autocast():
            real_patch, real_logits = D(real)
            fake_patch, _ = D(fake)
        d_cls = F.binary_cross_entropy_with_logits(real_logits.float(), source)
        terms = {"d_cls": d_cls}
        if cfg.gan_loss == "wgan-gp":
            terms["d_adv"] = wgan_d_loss(real_patch, fake_patch)
            terms["gp"] = gradient_penalty(lambda x: self.D(x)[0], real, fake)
            penalty = cfg.w_gp * terms["gp"]
        else:
            terms["d_adv"] = hinge_d_loss(real_patch, fake_patch)
            penalty = real_patch.new_zeros((), dtype=torch.float32)
            if lazy_r1:
                terms["r1"] = r1_penalty(real_patch, real)
                penalty = cfg.w_r1 / 2 * cfg.r1_every * terms["r1"]
        ctx.optimize("D", terms["d_adv"] + cfg.w_cls * d_cls + penalty)
        return {key: value.detach() for key, value in terms.items()}

    def train_step(self, batch: tuple[Tensor, Tensor, Tensor], step: int, ctx: StepContext) -> dict[str, Tensor]:
        """One critic update; a generator update every ``n_critic`` steps."""
        cfg = self.config
        real, source, heatmap = batch
        heatmap = self._heatmap(heatmap)
        target = source[torch.randperm(source.shape[0], device=source.device)]
        G = ctx.nets["G"]

        change = target - source
        with torch.no_grad(), ctx.autocast():
            fake = self.G(real, heatmap, change).image
        metrics = self._critic_loss(real, source, fake, step, ctx)

        if (step + 1) % cfg.n_critic == 0:
            self.D.requires_grad_(False)
            with ctx.autocast():
                edit = G(real, heatmap, change)
                fake_patch, fake_logits = self.D(edit.image)
                same = G(real, heatmap, torch.zeros_like(change))
                back = G(edit.image, edit.heatmap, -change)
                edit_latent = self.G.encode(edit.image, edit.heatmap)
            g_adv = wgan_g_loss(fake_patch)
            g_cls = F.binary_cross_entropy_with_logits(fake_logits.float(), target)
            g_id = (same.image.float() - real).abs().mean()
            g_cycle = (back.image.float() - real).abs().mean()
            g_latent = (edit_latent.float() - edit.latent.float()).abs().mean()
            # The no-change pass needs no mask terms: its identity loss already asks for an empty mask.
            g_mask = sum(attention_regularizer(out.mask, cfg.w_mask, cfg.w_mask_tv) for out in (edit, back))
            g_loss = (
                g_adv + cfg.w_cls * g_cls + cfg.w_id * g_id + cfg.w_cycle * g_cycle + cfg.w_latent * g_latent + g_mask
            )
            g_change_tv = total_variation(edit.image.float() - real)
            g_loss = g_loss + cfg.w_change_tv * g_change_tv
            metrics["g_change_tv"] = g_change_tv.detach()
            if self.guide is not None:
                guide_logits = self.guide(low_pass(edit.image.float()))[:, self.guide_columns]
                g_guide = F.binary_cross_entropy_with_logits(guide_logits, target)
                g_loss = g_loss + cfg.w_guide * g_guide
                metrics["g_guide"] = g_guide.detach()
            if heatmap is not None:
                g_heatmap = (edit.heatmap.float() - heatmap).abs().mean()
                g_cycle_heatmap = (back.heatmap.float() - heatmap).abs().mean()
                g_loss = g_loss + cfg.w_heatmap * g_heatmap + cfg.w_cycle * g_cycle_heatmap
                metrics["g_heatmap"] = g_heatmap.detach()
            ctx.optimize("G", g_loss)
            self.update_ema("G", step // cfg.n_critic, cfg.ema_decay)
            self.D.requires_grad_(True)
            metrics.update(
                g_adv=g_adv.detach(), g_cls=g_cls.detach(), g_id=g_id.detach(), g_cycle=g_cycle.detach(),
                g_latent=g_latent.detach(), mask_mean=edit.mask.detach().float().mean(),
            )
        return metrics

    def sample(self, n: int) -> Tensor:
        """Rows of [input, one edit per attribute (that attribute toggled)] for fixed preview faces, by
        the weight average that inference uses."""
        images, source, heatmap = (t[: max(1, n // (self.config.model.num_attributes + 1))] for t in self.preview)
        heatmap = self._heatmap(heatmap)
        rows = [images]
        for index in range(self.config.model.num_attributes):
            target = toggle_attribute(source, index, self.config.model.attributes)
            rows.append(self.G_ema(images, heatmap, target - source).image)
        return torch.stack(rows, dim=1).flatten(0, 1)


WEIGHTS = (
    "w_gp", "w_r1", "w_cls", "w_id", "w_cycle", "w_latent", "w_heatmap", "w_mask", "w_mask_tv", "w_guide",
    "w_change_tv",
)


def low_pass(images: Tensor, sizes: tuple[int, int] = (24, 48), noise: float = 0.02) -> Tensor:
    """A random blur by resampling (down to a random size in ``sizes``, back up) plus Gaussian noise:
    what the guide sees, so only changes that survive it (colour, shape) can move its verdict."""
    size = int(torch.randint(sizes[0], sizes[1] + 1, ()))
    full = images.shape[-2:]
    small = F.interpolate(images, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
    blurred = F.interpolate(small, size=full, mode="bilinear", align_corners=False)
    return blurred + noise * torch.randn_like(blurred)


def add_args(parser: argparse.ArgumentParser) -> None:
    """attrgan's own CLI options (defaults: the paper's recipe at 64 px for CPU training)."""
    defaults = AttrGANTrainConfig()
    group = parser.add_argument_group("attrgan")
    group.add_argument("--resolution", type=int, choices=[64, 128], default=64, help="64: measured best on CPU")
    group.add_argument("--attributes", nargs="+", default=list(STARGAN_ATTRIBUTES))
    group.add_argument("--no-heatmap", action="store_true", help="ablation: no landmark heatmap input/output")
    group.add_argument("--g-width", type=int, default=defaults.model.g_width)
    group.add_argument("--d-width", type=int, default=defaults.model.d_width)
    group.add_argument("--gan-loss", choices=["hinge", "wgan-gp"], default=defaults.gan_loss)
    group.add_argument("--n-critic", type=int, default=defaults.n_critic, help="critic steps per G step")
    group.add_argument("--lr", type=float, default=defaults.lr_g, help="Adam LR of G and D")
    group.add_argument("--ema-decay", type=float, default=defaults.ema_decay, help="G's weight average")
    group.add_argument(
        "--guide", default=defaults.guide, help="frozen attribute classifier checkpoint guiding G ('none': off)"
    )
    for weight in WEIGHTS:
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
    weights = {w: getattr(args, w) for w in WEIGHTS}
    return replace(
        AttrGANTrainConfig(), model=model, gan_loss=args.gan_loss, lr_g=args.lr, lr_d=args.lr,
        n_critic=args.n_critic, ema_decay=args.ema_decay, guide=None if args.guide == "none" else args.guide,
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
