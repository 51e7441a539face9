"""GeneGAN recipe (seed 003): learn object/background features from unpaired with/without sets.

Each sample is a pair of CelebA train faces: Au has the attribute, B-epsilon lacks it. Per step
the discriminator is updated once on

    L_D = d(D_obj(Au), D_obj(Bu)) + d(D_null(Be), D_null(Ae))

(real with-object faces against the transplant, real without-object faces against the removal)
and the generator (encoder + decoder) on Eq. 3:

    L_G = w_adv * (g(D_obj(Bu)) + g(D_null(Ae))) + w_rec * (|Au' - Au| + |Be' - Be|)
          + w_null * |epsilon| + w_parallelogram * |Au + Be - Ae - Bu| + attention terms
          + w_identity * mean(KL(J(Be) || J(Bu)), KL(J(Au) || J(Ae)))

with every L1 a per-pixel (per-element) mean. The children are masks and colours applied to their
parents (``facegan.models.genegan``); the attention terms (GANimation's L1 and total variation on the
four masks) keep each change on the object region and smooth. Inference uses an EMA of G's weights.
``d``/``g`` come from ``facegan.losses.GAN_LOSSES``; the paper's objective is the (non-saturating) log
loss. Horizontal flips on both parents.

The identity term (``--w-identity``, off by default; not in the paper) asks each child to keep its
parent's person: J is the frozen attribute judge's reading of the attributes an object swap must not
change (``facegan.train.judge_terms``: sex, age, skin, nose, ..., less the attribute being swapped and
those that change with it), the same stand-in for an identity network as EGGAN's Eq. 4.

``--match Male`` (not in the paper, which draws the two sets unpaired) gives each Au a partner of the
same sex: with random partners the object feature learns whatever else tells the two sets apart, and in
CelebA that is the sex for Mustache, Eyeglasses and Blond_Hair, so a transplant changed the person.

Adam (2e-4, betas 0.5/0.999) replaces the paper's RMSProp 5e-5 by default because CPU runs get a few
thousand steps: after 300 steps on Smiling (width 32, batch 16) reconstruction L1 was 0.39 with Adam
against 0.47 with RMSProp, the parallelogram residual 0.28 against 0.37. ``--optimizer rmsprop
--lr 5e-5`` is the paper's setting.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field, replace

import torch
from torch import Tensor

from facegan.data.attribute_pairs import ParentPairs, val_pairs
from facegan.data.celeba import CelebADataset
from facegan.losses import GAN_LOSSES, attention_regularizer
from facegan.models.genegan import Discriminator, GeneGANConfig, Generator
from facegan.models.judge import load_judge
from facegan.train.judge_terms import IDENTITY_ATTRIBUTES, JudgeFeatures, identity_loss
from facegan.train.loop import StepContext, TrainData
from facegan.train.recipe import RecipeBase

NAME = "genegan"
LOSS_CHOICES = ("nonsaturating", "minimax", "lsgan", "hinge")
"""Objectives that need no critic constraint (WGAN needs clipping or a penalty, not wired here)."""


@dataclass
class GeneGANTrainConfig:
    """Model config plus every loss weight and optimizer setting, recorded with each checkpoint."""

    model: GeneGANConfig = field(default_factory=GeneGANConfig)
    loss: str = "nonsaturating"
    optimizer: str = "adam"
    lr: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    """Adam only; RMSProp runs with momentum 0 as in the paper."""
    w_adv: float = 1.0
    w_rec: float = 5.0
    w_null: float = 1.0
    w_parallelogram: float = 1.0
    w_mask: float = 0.05
    w_mask_tv: float = 0.1
    w_identity: float = 0.0
    ema_decay: float = 0.999
    judge: str | None = None
    """The identity term's frozen attribute judge (None: the shipped ``checkpoints/attr_judge``)."""
    match: tuple[str, ...] = ()
    """Attributes the two parents of a pair share (``facegan.data.attribute_pairs.ParentPairs``)."""


WEIGHTS = ("w_adv", "w_rec", "w_null", "w_parallelogram", "w_mask", "w_mask_tv", "w_identity")
SWAPPED_TOGETHER = {
    "Bangs": ("Receding_Hairline",),
    "Blond_Hair": ("Black_Hair", "Brown_Hair", "Gray_Hair"),
    "Eyeglasses": ("Bags_Under_Eyes", "Arched_Eyebrows", "Bushy_Eyebrows"),  # what the frames cover
    "Mustache": ("No_Beard", "Goatee", "Sideburns"),
    "Wearing_Hat": ("Bald", "Bangs", "Receding_Hairline", "Black_Hair", "Blond_Hair", "Brown_Hair", "Gray_Hair"),
}
"""Attributes that change with the swapped one, so the identity term leaves them free."""


def kept_attributes(attribute: str) -> tuple[str, ...]:
    """The judge's identity attributes a swap of ``attribute`` must keep."""
    free = {attribute, *SWAPPED_TOGETHER.get(attribute, ())}
    return tuple(name for name in IDENTITY_ATTRIBUTES if name not in free)


def make_optimizer(params: object, config: GeneGANTrainConfig) -> torch.optim.Optimizer:
    """RMSProp with momentum 0 (the paper) or Adam (DCGAN's betas)."""
    if config.optimizer == "rmsprop":
        return torch.optim.RMSprop(params, config.lr, momentum=0.0)
    if config.optimizer == "adam":
        return torch.optim.Adam(params, config.lr, config.betas)
    raise ValueError(f"unknown optimizer {config.optimizer!r}; choose rmsprop or adam")


class GeneGANRecipe(RecipeBase):
    """G (encoder + decoder) and the two-headed D of ``facegan.models.genegan``, trained on Eq. 2-5."""

    name = NAME

    def __init__(self, config: GeneGANTrainConfig, device: torch.device, preview: tuple[Tensor, Tensor]) -> None:
        if config.loss not in LOSS_CHOICES:
            raise ValueError(f"unknown loss {config.loss!r}; choose from {LOSS_CHOICES}")
        super().__init__()
        self.config = config
        self.device = device
        self.G = Generator(config.model).to(device)
        self.D = Discriminator(config.model).to(device)
        self.nets = {"G": self.G, "D": self.D}
        self.opts = {name: make_optimizer(net.parameters(), config) for name, net in self.nets.items()}
        self.G_ema = self.add_ema("G")
        self.gan = GAN_LOSSES[config.loss]
        self.judge = None
        if config.w_identity:
            self.judge = JudgeFeatures(load_judge(config.judge, device), kept_attributes(config.model.attribute))
        self.preview = tuple(t.to(device) for t in preview)

    def train_step(self, batch: tuple[Tensor, Tensor], step: int, ctx: StepContext) -> dict[str, Tensor]:
        """One D update on detached children, then one G update on Eq. 3."""
        cfg = self.config
        au, be = batch
        n = au.shape[0]
        G, D = ctx.nets["G"], ctx.nets["D"]

        with ctx.autocast():
            kids = G(au, be)
        # One D batch of reals and fakes, so BatchNorm statistics never tell the two apart.
        with ctx.autocast():
            obj_logit, null_logit = D(torch.cat([au, be, kids.ae.detach(), kids.bu.detach()]))
        d_obj = self.gan.d(obj_logit[:n], obj_logit[3 * n :])
        d_null = self.gan.d(null_logit[n : 2 * n], null_logit[2 * n : 3 * n])
        ctx.optimize("D", d_obj + d_null)

        self.D.requires_grad_(False)
        with ctx.autocast():
            obj_logit, null_logit = D(torch.cat([au, be, kids.ae, kids.bu]))
        g_obj = self.gan.g(obj_logit[3 * n :])
        g_null = self.gan.g(null_logit[2 * n : 3 * n])
        rec = (kids.au.float() - au).abs().mean() + (kids.be.float() - be).abs().mean()
        null = kids.epsilon.float().abs().mean()
        parallelogram = (au + be - kids.ae.float() - kids.bu.float()).abs().mean()
        attention = attention_regularizer(kids.masks, cfg.w_mask, cfg.w_mask_tv)
        identity = torch.zeros(())
        if self.judge is not None:
            with ctx.autocast():
                _, logits = self.judge(torch.cat([au, be, kids.ae, kids.bu]))
            identity = identity_loss(logits[2 * n :], logits[: 2 * n].detach())  # Ae against Au, Bu against Be
        g_loss = (
            cfg.w_adv * (g_obj + g_null) + cfg.w_rec * rec + cfg.w_null * null + cfg.w_parallelogram * parallelogram
            + attention + cfg.w_identity * identity
        )
        ctx.optimize("G", g_loss)
        self.update_ema("G", step, cfg.ema_decay)
        self.D.requires_grad_(True)
        transplant_mask, removal_mask = kids.masks[3 * n :].detach().mean(), kids.masks[2 * n : 3 * n].detach().mean()
        return {
            "d_obj": d_obj.detach(), "d_null": d_null.detach(), "g_obj": g_obj.detach(), "g_null": g_null.detach(),
            "rec": rec.detach(), "null": null.detach(), "parallelogram": parallelogram.detach(),
            "mask_bu": transplant_mask, "mask_ae": removal_mask, "identity": identity.detach(),
        }

    def sample(self, n: int) -> Tensor:
        """Rows of [Au, Be, Ae (removed), Bu (transplanted), Au', Be'] for fixed val pairs, by the weight
        average that inference uses."""
        au, be = (t[: max(1, n // 6)] for t in self.preview)
        kids = self.G_ema(au, be)
        return torch.stack([au, be, kids.ae, kids.bu, kids.au, kids.be], dim=1).flatten(0, 1)


def add_args(parser: argparse.ArgumentParser) -> None:
    """genegan's own CLI options (defaults: the paper's network at a CPU-sized width)."""
    defaults = GeneGANTrainConfig()
    group = parser.add_argument_group("genegan")
    group.add_argument("--attribute", default=defaults.model.attribute, help="CelebA attribute, e.g. Smiling")
    group.add_argument("--width", type=int, default=defaults.model.width, help="encoder channels: width, 2x, 4x")
    group.add_argument("--object-channels", type=int, default=defaults.model.object_channels, help="channels of u")
    group.add_argument("--d-width", type=int, default=defaults.model.d_width)
    group.add_argument("--loss", choices=LOSS_CHOICES, default=defaults.loss)
    group.add_argument("--optimizer", choices=["adam", "rmsprop"], default=defaults.optimizer)
    group.add_argument("--lr", type=float, default=defaults.lr, help="LR of G and D")
    group.add_argument("--ema-decay", type=float, default=defaults.ema_decay, help="G's weight average")
    for weight in WEIGHTS:
        group.add_argument(f"--{weight.replace('_', '-')}", type=float, default=getattr(defaults, weight))
    group.add_argument("--judge", help="the identity term's attribute judge (default: checkpoints/attr_judge)")
    group.add_argument("--limit", type=int, help="use only the first N training images")
    group.add_argument(
        "--match", nargs="*", default=list(defaults.match), metavar="ATTRIBUTE",
        help="CelebA attributes both parents of a pair share, e.g. Male, so the object does not learn them",
    )


def config_from_args(args: argparse.Namespace) -> GeneGANTrainConfig:
    model = GeneGANConfig(
        attribute=args.attribute, width=args.width, object_channels=args.object_channels, d_width=args.d_width
    )
    weights = {w: getattr(args, w) for w in WEIGHTS}
    return replace(
        GeneGANTrainConfig(), model=model, loss=args.loss, optimizer=args.optimizer, lr=args.lr,
        ema_decay=args.ema_decay, judge=args.judge, match=tuple(args.match), **weights,
    )


def build(args: argparse.Namespace, device: torch.device) -> tuple[GeneGANRecipe, TrainData]:
    """The recipe and its CelebA train pairs for ``python -m facegan.train genegan``."""
    config = config_from_args(args)
    model = config.model
    faces = CelebADataset(
        args.data, "train", model.resolution, [model.attribute, *config.match], flip=True, limit=args.limit
    )
    dataset = ParentPairs(faces)
    preview = val_pairs(args.data, model.attribute, model.resolution)
    info = {
        "dir": str(faces.root), "split": "train", "attribute": model.attribute, "matched": list(config.match),
        "counts": {"with": len(dataset.with_object), "without": len(dataset.without_object)},
    }
    return GeneGANRecipe(config, device, preview), TrainData(dataset, info)
