"""EGGAN recipe (seed 001): AAE + conditional WGAN-GP with AU, identity, perceptual and MS-SSIM terms.

Per step, on a batch of real faces x with their AU intensities u_i (from the annotation cache) and
target AUs u_t taken from other faces of the batch:

    critics:  D_img: WGAN loss + lambda_gp * GP          (Eq. 2)
              D_z:   log loss, N(0, I) samples vs E(x)    (Eq. 1)
              C_exp: Eq. 3's cross-entropy on *real* faces and their own u_i (its own LR, 2e-4)
    E and G:  -D_img(G(l, u_t)) + adv_z(E(x)) + lambda_au * L_au(C_exp(G(l, u_t)), u_t)      (Eq. 3)
              + lambda_id * L_id + lambda_per * L_per (Eq. 5) + lambda_rec * (L1 + 1 - MS-SSIM) (Eq. 6)

with l = E(x) and the reconstruction x^ = G(l, u_i). Weights default to the paper's (100, 60, 20, 100,
gp 20); Adam 1e-4 (C_exp 2e-4) with linear decay over the second half, as in Sec. 4.1.

Two substitutions, both forced by our data and hardware:

- Perceptual features (Eq. 5): no VGG19 weights ship with the project (and none may be downloaded),
  so phi_3 is the third layer of the project's own attribute judge (``checkpoints/attr_judge``, a
  CelebA-trained CNN, frozen), a network trained on faces rather than ImageNet.
- Identity (Eq. 4): C_id is a classifier over identity labels, and CelebA identities here have one or
  two images each, far too few to train one. L_id is instead an embedding distance: the KL divergence
  between the frozen judge's predictions on x and on G(l, u_t) for the 34 CelebA attributes that an
  expression does not change (sex, age, hair, skin, nose, lips, brows, beard, glasses, ...). It is
  zero when the edit keeps what makes the face that person and, unlike a pixel loss, leaves the
  expression free. dlib's face descriptor is not differentiable, and it is the evaluation's identity
  model, so training on it would grade the model with its own loss.

Target AUs: half of the batch gets another face's AUs exactly (the paper), half a random point on the
way there (u_i + alpha (u_t - u_i), alpha ~ U(0, 1)), so G sees the intermediate conditions that
slider edits and Eq. 8's interpolation ask for.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field, replace

import torch
import torch.nn.functional as F
from torch import Tensor

from facegan.data.celeba_aus import CelebAAUDataset, val_faces
from facegan.models.judge import ATTRIBUTE_NAMES, AttributeJudge, load_judge
from facegan.losses import gradient_penalty, minimax_d_loss, ms_ssim, nonsaturating_g_loss, wgan_d_loss, wgan_g_loss
from facegan.models.eggan import (
    INTENSITY_LEVELS,
    AUClassifier,
    EGGANConfig,
    Encoder,
    Generator,
    ImageCritic,
    LatentDiscriminator,
    intensity_classes,
    interpolate_aus,
)
from facegan.train.loop import StepContext, TrainData
from facegan.train.recipe import RecipeBase, linear_decay

NAME = "eggan"
EXPRESSION_ATTRIBUTES = ("Smiling", "Mouth_Slightly_Open", "Narrow_Eyes", "High_Cheekbones", "Attractive", "Blurry")
"""Judge attributes an expression edit may change (or that say nothing about who it is)."""
IDENTITY_ATTRIBUTES = tuple(name for name in ATTRIBUTE_NAMES if name not in EXPRESSION_ATTRIBUTES)
PERCEPTUAL_LAYER = 3
"""phi_3: the judge's first three conv layers (Eq. 5 uses VGG19's third)."""


@dataclass
class EGGANTrainConfig:
    """Model config plus every loss weight and optimizer setting, recorded with each checkpoint."""

    model: EGGANConfig = field(default_factory=EGGANConfig)
    lr: float = 1e-4
    lr_c: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    total_steps: int = 10_000
    w_au: float = 100.0
    w_id: float = 60.0
    w_per: float = 20.0
    w_rec: float = 100.0
    w_gp: float = 20.0
    interpolated_targets: float = 0.5
    """Fraction of each batch whose target is a random point between its own and another face's AUs."""
    perceptual_network: str = "checkpoints/attr_judge.safetensors"
    """The frozen network behind phi_3 and L_id (``--judge``)."""


class JudgeFeatures:
    """The frozen attribute judge as a feature extractor: phi_3 maps and identity-attribute logits."""

    def __init__(self, judge: AttributeJudge) -> None:
        self.judge = judge.eval().requires_grad_(False)
        self.columns = [ATTRIBUTE_NAMES.index(name) for name in IDENTITY_ATTRIBUTES]

    def __call__(self, images: Tensor) -> tuple[Tensor, Tensor]:
        """(phi_3 features, identity logits) of faces in [-1, 1]; gradients flow to the images."""
        size = self.judge.config.resolution
        x = F.interpolate(images, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
        phi = x
        for index, layer in enumerate(self.judge.features):
            x = layer(x)
            if index == PERCEPTUAL_LAYER - 1:
                phi = x
        logits = self.judge.head(F.adaptive_avg_pool2d(x, 1))
        return phi.float(), logits[:, self.columns].float()


def identity_loss(fake_logits: Tensor, real_logits: Tensor) -> Tensor:
    """KL(p_real || p_fake) over the identity attributes, mean per attribute (0 when they agree)."""
    p = torch.sigmoid(real_logits)
    return F.binary_cross_entropy_with_logits(fake_logits, p) - F.binary_cross_entropy_with_logits(real_logits, p)


def au_loss(logits: Tensor, aus: Tensor) -> Tensor:
    """Eq. 3: cross-entropy of each AU's 6-level prediction against the rounded intensity, mean over AUs."""
    return F.cross_entropy(logits.float().reshape(-1, INTENSITY_LEVELS), intensity_classes(aus).reshape(-1))


def draw_targets(aus: Tensor, interpolated: float) -> Tensor:
    """Another face's AUs per sample (a batch permutation), a random fraction of the way for some rows."""
    other = aus[torch.randperm(aus.shape[0], device=aus.device)]
    alpha = torch.rand(aus.shape[0], 1, device=aus.device)
    alpha = torch.where(torch.rand(aus.shape[0], 1, device=aus.device) < interpolated, alpha, torch.ones_like(alpha))
    return interpolate_aus(aus, other, alpha)


class EGGANRecipe(RecipeBase):
    """E, G, D_img, D_z and C_exp of ``facegan.models.eggan`` trained on Eq. 7."""

    name = NAME
    exported = ("E", "G")

    def __init__(
        self, config: EGGANTrainConfig, device: torch.device, judge: AttributeJudge, preview: tuple[Tensor, Tensor]
    ) -> None:
        super().__init__()
        self.config = config
        self.device = device
        model = config.model
        self.E, self.G, self.C = Encoder(model).to(device), Generator(model).to(device), AUClassifier(model).to(device)
        self.D, self.Dz = ImageCritic(model).to(device), LatentDiscriminator(model).to(device)
        self.nets = {"E": self.E, "G": self.G, "D": self.D, "Dz": self.Dz, "C": self.C}
        self.opts = {
            "G": torch.optim.Adam([*self.E.parameters(), *self.G.parameters()], config.lr, config.betas),
            "D": torch.optim.Adam(self.D.parameters(), config.lr, config.betas),
            "Dz": torch.optim.Adam(self.Dz.parameters(), config.lr, config.betas),
            "C": torch.optim.Adam(self.C.parameters(), config.lr_c, config.betas),
        }
        self.scheds = {name: linear_decay(opt, config.total_steps, 0.5) for name, opt in self.opts.items()}
        self.features = JudgeFeatures(judge.to(device))
        self.preview = tuple(t.to(device) for t in preview)

    def train_step(self, batch: tuple[Tensor, Tensor], step: int, ctx: StepContext) -> dict[str, Tensor]:
        """Critic, latent discriminator and C_exp updates, then one joint E + G update."""
        cfg = self.config
        real, aus = batch
        n = real.shape[0]
        target = draw_targets(aus, cfg.interpolated_targets)
        E, G, D, Dz, C = (ctx.nets[k] for k in ("E", "G", "D", "Dz", "C"))

        with ctx.autocast():
            latent = E(real)
            fake, rec = G(torch.cat([latent, latent]), torch.cat([target, aus])).split(n)
            real_score, fake_score = D(torch.cat([real, fake.detach()])).split(n)
            prior = torch.randn_like(latent, dtype=torch.float32)
            z_real, z_fake = Dz(torch.cat([prior.to(latent.dtype), latent.detach()])).split(n)
            c_real = C(real)
        d_adv = wgan_d_loss(real_score, fake_score)
        penalty = gradient_penalty(self.D, real, fake)
        ctx.optimize("D", d_adv + cfg.w_gp * penalty)
        dz_loss = minimax_d_loss(z_real, z_fake)
        ctx.optimize("Dz", dz_loss)
        c_loss = au_loss(c_real, aus)
        ctx.optimize("C", c_loss)

        frozen = (self.D, self.Dz, self.C)
        for net in frozen:
            net.requires_grad_(False)
        with ctx.autocast():
            g_adv = wgan_g_loss(D(fake))
            gz_adv = nonsaturating_g_loss(Dz(latent))
            g_au = au_loss(C(fake), target)
            phi, logits = self.features(torch.cat([real, fake, rec]))
        phi_real, phi_fake, phi_rec = phi.split(n)
        logits_real, logits_fake, _ = logits.split(n)
        g_id = identity_loss(logits_fake, logits_real.detach())
        g_per = F.mse_loss(phi_fake, phi_real.detach()) + F.mse_loss(phi_rec, phi_real.detach())
        g_l1 = (rec.float() - real).abs().mean()
        g_ssim = 1 - ms_ssim(rec.float(), real)
        g_loss = (
            g_adv + gz_adv + cfg.w_au * g_au + cfg.w_id * g_id + cfg.w_per * g_per + cfg.w_rec * (g_l1 + g_ssim)
        )
        ctx.optimize("G", g_loss)
        for net in frozen:
            net.requires_grad_(True)
        return {
            "d_adv": d_adv.detach(), "gp": penalty.detach(), "dz": dz_loss.detach(), "c_au": c_loss.detach(),
            "g_adv": g_adv.detach(), "gz_adv": gz_adv.detach(), "g_au": g_au.detach(), "g_id": g_id.detach(),
            "g_per": g_per.detach(), "rec_l1": g_l1.detach(), "rec_msssim": (1 - g_ssim).detach(),
        }  # fmt: skip

    def sample(self, n: int) -> Tensor:
        """Rows of [input, reconstruction, edit towards the next face's AUs, that next face]."""
        images, aus = (t[: max(2, n // 4)] for t in self.preview)
        latent = self.E(images)
        other = images.roll(1, 0), aus.roll(1, 0)
        rows = [images, self.G(latent, aus), self.G(latent, other[1]), other[0]]
        return torch.stack(rows, dim=1).flatten(0, 1)


def add_args(parser: argparse.ArgumentParser) -> None:
    """eggan's own CLI options (defaults: the paper's losses at CPU-sized widths)."""
    defaults = EGGANTrainConfig()
    model = defaults.model
    group = parser.add_argument_group("eggan")
    group.add_argument("--resolution", type=int, choices=[64, 128], default=model.resolution)
    group.add_argument("--latent-dim", type=int, default=model.latent_dim)
    group.add_argument("--g-channels", type=int, nargs="+", help="G's block widths (default: by resolution)")
    group.add_argument("--d-width", type=int, default=model.d_width)
    group.add_argument("--lr", type=float, default=defaults.lr, help="Adam LR of E, G, D_img, D_z")
    group.add_argument("--lr-c", type=float, default=defaults.lr_c, help="Adam LR of C_exp")
    for weight in ("w_au", "w_id", "w_per", "w_rec", "w_gp", "interpolated_targets"):
        group.add_argument(f"--{weight.replace('_', '-')}", type=float, default=getattr(defaults, weight))
    group.add_argument("--decay-steps", type=int, help="LR decay horizon: the second half of N steps (default --steps)")
    group.add_argument("--judge", help="perceptual/identity network (default: checkpoints/attr_judge.safetensors)")
    group.add_argument("--limit", type=int, help="use only the first N training images")
    group.add_argument("--annotations", help="annotation cache (default: the user cache)")


def config_from_args(args: argparse.Namespace) -> EGGANTrainConfig:
    default = EGGANConfig()
    blocks = 6 if args.resolution == 128 else 5
    g_channels = tuple(args.g_channels) if args.g_channels else default.g_channels[len(default.g_channels) - blocks :]
    model = EGGANConfig(
        resolution=args.resolution, latent_dim=args.latent_dim, g_channels=g_channels, d_width=args.d_width,
        d_layers=blocks,
    )
    weights = {w: getattr(args, w) for w in ("w_au", "w_id", "w_per", "w_rec", "w_gp", "interpolated_targets")}
    total = args.decay_steps or args.steps
    config = replace(EGGANTrainConfig(), model=model, lr=args.lr, lr_c=args.lr_c, total_steps=total, **weights)
    return replace(config, perceptual_network=args.judge) if args.judge else config


def build(args: argparse.Namespace, device: torch.device) -> tuple[EGGANRecipe, TrainData]:
    """The recipe and its annotated CelebA train faces for ``python -m facegan.train eggan``."""
    config = config_from_args(args)
    resolution = config.model.resolution
    dataset = CelebAAUDataset(args.data, "train", resolution, flip=True, limit=args.limit, annotations=args.annotations)
    preview = val_faces(args.data, resolution, 8, args.annotations)
    info = {"dir": str(dataset.root), "split": "train", "counts": {"images": len(dataset)}}
    return EGGANRecipe(config, device, load_judge(args.judge), preview), TrainData(dataset, info)
