"""EGGAN recipe (seed 001): AAE + conditional WGAN-GP with AU, identity, perceptual and MS-SSIM terms.

Per step, on a batch of real faces x with their AU intensities u_i (from the annotation cache) and
target AUs u_t taken from other faces of the batch:

    critics:  D_img: WGAN loss + lambda_gp * GP          (Eq. 2)
              D_z:   log loss, N(0, I) samples vs E(x)    (Eq. 1)
              C_exp: Eq. 3's cross-entropy on *real* faces and their own u_i (its own LR, 2e-4), and with
                     ``--w-c-edits`` on G's edits and the annotator's reading of them
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
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import torch
import torch.nn.functional as F
from torch import Tensor

from facegan.checkpoints import load_shipped
from facegan.data.celeba_aus import CelebAAUDataset, measure_aus, val_faces
from facegan.models.judge import AttributeJudge, load_judge
from facegan.losses import (
    attention_regularizer,
    gradient_penalty,
    minimax_d_loss,
    ms_ssim,
    nonsaturating_g_loss,
    wgan_d_loss,
    wgan_g_loss,
)
from facegan.models.eggan import (
    INTENSITY_LEVELS,
    AUClassifier,
    EGGANConfig,
    Encoder,
    Expression,
    Generator,
    ImageCritic,
    Latent,
    LatentDiscriminator,
    apply_change,
    expression_change,
    intensity_classes,
    interpolate_aus,
)
from facegan.train.judge_terms import JudgeFeatures, identity_loss
from facegan.train.loop import StepContext, TrainData
from facegan.train.recipe import RecipeBase, linear_decay

NAME = "eggan"


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
    w_mask: float = 10.0
    w_mask_tv: float = 10.0
    """GANimation's mask terms for the gated G: L1 keeps the change on few pixels, TV keeps it smooth."""
    ema_decay: float = 0.999
    w_c_edits: float = 0.0
    """Weight of C_exp's Eq. 3 loss on G's (detached) edits, labelled by the annotator that labels the real
    faces (``--w-c-edits``). C_exp then reads generated faces as the annotator does, so patterns the
    annotator does not measure as an AU (stripes, colour) stop earning G AU credit."""
    c_warmup: int = 0
    """Steps that train C_exp alone first: a G started from ``init`` then gets AU gradients from a classifier
    that can already read AUs, not from a random one (the ungated checkpoint ships without C_exp)."""
    init: str | None = None
    """A shipped checkpoint E and G start from (``--init``), e.g. the ungated ``eggan_plain``."""


NEW_IN_G = ("to_mask.", "skips.")
"""Parts of G a checkpoint from before them lacks: they keep their initialisation (the skips' is zero)."""


def load_init(encoder: Encoder, generator: Generator, state: Mapping[str, Mapping[str, Tensor]]) -> None:
    """Start E and G from a checkpoint's weights. A gated G may start from an ungated one, and a G with
    skips from one without: the parts the checkpoint lacks (``NEW_IN_G``) keep their initialisation."""
    encoder.load_state_dict(state["E"])
    missing, unexpected = generator.load_state_dict(state["G"], strict=False)
    if unexpected or any(not key.startswith(NEW_IN_G) for key in missing):
        raise ValueError(f"init checkpoint does not fit G: missing {missing}, unexpected {unexpected}")


def au_loss(logits: Tensor, aus: Tensor) -> Tensor:
    """Eq. 3: cross-entropy of each AU's 6-level prediction against the rounded intensity, mean over AUs."""
    return F.cross_entropy(logits.float().reshape(-1, INTENSITY_LEVELS), intensity_classes(aus).reshape(-1))


def c_exp_losses(C: AUClassifier, real: Tensor, aus: Tensor, fakes: Tensor | None) -> tuple[Tensor, Tensor]:
    """C_exp's Eq. 3 loss on the real faces, and on the edits (if given) labelled by the annotator; edits
    it finds no face in are left out."""
    on_edits = torch.zeros((), device=real.device)
    if fakes is not None:
        measured, found = measure_aus(fakes)
        if found.any():
            keep = torch.from_numpy(found).to(real.device)
            on_edits = au_loss(C(fakes.detach()[keep]), torch.from_numpy(measured[found]).to(real.device))
    return au_loss(C(real), aus), on_edits


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
        self,
        config: EGGANTrainConfig,
        device: torch.device,
        judge: AttributeJudge,
        preview: tuple[Tensor, Tensor],
        init: Mapping[str, Mapping[str, Tensor]] | None = None,
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
        if init is not None:
            load_init(self.E, self.G, init)
        self.E_ema, self.G_ema = self.add_ema("E"), self.add_ema("G")
        self.features = JudgeFeatures(judge.to(device))
        self.preview = tuple(t.to(device) for t in preview)

    def generate(self, E: Encoder, G: Generator, real: Tensor, aus: Tensor, target: Tensor) -> tuple[
        Tensor, Tensor, Latent, Tensor | None
    ]:
        """(faces to judge, reconstruction, latent, mask). A gated G is judged twice: its own face (the
        generated-face mode) and the input plus its masked change (the photo mode), so that both modes
        show the target expression."""
        n = real.shape[0]
        latent = E(real)
        out = G(latent.map(lambda t: torch.cat([t, t])), torch.cat([target, aus]))
        fake, rec = out.face.split(n)
        if out.mask is None:
            return fake, rec, latent, None
        edit = apply_change(real, expression_change(Expression(fake, out.mask[:n]), rec))
        return torch.cat([fake, edit]), rec, latent, out.mask[:n]

    def train_step(self, batch: tuple[Tensor, Tensor], step: int, ctx: StepContext) -> dict[str, Tensor]:
        """Critic, latent discriminator and C_exp updates, then one joint E + G update."""
        cfg = self.config
        real, aus = batch
        n = real.shape[0]
        target = draw_targets(aus, cfg.interpolated_targets)
        E, G, D, Dz, C = (ctx.nets[k] for k in ("E", "G", "D", "Dz", "C"))
        if step < cfg.c_warmup:
            with ctx.autocast(), torch.no_grad():
                fakes = self.generate(E, G, real, aus, target)[0] if cfg.w_c_edits else None
            with ctx.autocast():
                c_real, c_edits = c_exp_losses(C, real, aus, fakes)
            ctx.optimize("C", c_real + cfg.w_c_edits * c_edits)
            return {"c_au": c_real.detach(), "c_edits": c_edits.detach()}

        with ctx.autocast():
            fakes, rec, latent, mask = self.generate(E, G, real, aus, target)
            real_score, fake_score = D(torch.cat([real, fakes.detach()])).split([n, len(fakes)])
            prior = torch.randn_like(latent.code, dtype=torch.float32)
            z_real, z_fake = Dz(torch.cat([prior.to(latent.code.dtype), latent.code.detach()])).split(n)
            c_real, c_edits = c_exp_losses(C, real, aus, fakes if cfg.w_c_edits else None)
        d_adv = wgan_d_loss(real_score, fake_score)
        penalty = gradient_penalty(self.D, real.repeat(len(fakes) // n, 1, 1, 1), fakes)
        ctx.optimize("D", d_adv + cfg.w_gp * penalty)
        dz_loss = minimax_d_loss(z_real, z_fake)
        ctx.optimize("Dz", dz_loss)
        ctx.optimize("C", c_real + cfg.w_c_edits * c_edits)

        frozen = (self.D, self.Dz, self.C)
        for net in frozen:
            net.requires_grad_(False)
        with ctx.autocast():
            g_adv = wgan_g_loss(D(fakes))
            gz_adv = nonsaturating_g_loss(Dz(latent.code))
            copies = len(fakes) // n
            g_au = au_loss(C(fakes), target.repeat(copies, 1))
            phi, logits = self.features(torch.cat([real, fakes, rec]))
        phi_real, phi_fakes, phi_rec = phi.split([n, len(fakes), n])
        logits_real, logits_fakes, _ = logits.split([n, len(fakes), n])
        phi_real, logits_real = phi_real.detach(), logits_real.detach()
        g_id = identity_loss(logits_fakes, logits_real.repeat(copies, 1))
        g_per = F.mse_loss(phi_fakes, phi_real.repeat(copies, 1, 1, 1)) + F.mse_loss(phi_rec, phi_real)
        g_l1 = (rec.float() - real).abs().mean()
        g_ssim = 1 - ms_ssim(rec.float(), real)
        g_mask = torch.zeros(()) if mask is None else attention_regularizer(mask, cfg.w_mask, cfg.w_mask_tv)
        g_loss = (
            g_adv + gz_adv + cfg.w_au * g_au + cfg.w_id * g_id + cfg.w_per * g_per + cfg.w_rec * (g_l1 + g_ssim)
            + g_mask
        )
        ctx.optimize("G", g_loss)
        for key in ("E", "G"):
            self.update_ema(key, step, cfg.ema_decay)
        for net in frozen:
            net.requires_grad_(True)
        mask_mean = torch.zeros(()) if mask is None else mask.float().mean()
        return {
            "d_adv": d_adv.detach(), "gp": penalty.detach(), "dz": dz_loss.detach(), "c_au": c_real.detach(),
            "c_edits": c_edits.detach(), "g_adv": g_adv.detach(), "gz_adv": gz_adv.detach(), "g_au": g_au.detach(),
            "g_id": g_id.detach(), "g_per": g_per.detach(), "rec_l1": g_l1.detach(),
            "rec_msssim": (1 - g_ssim).detach(), "mask_mean": mask_mean.detach(),
        }  # fmt: skip

    def sample(self, n: int) -> Tensor:
        """Rows of [input, reconstruction, G's face for the next face's AUs, (gated G) the input with that
        change, that next face], from the weight averages."""
        images, aus = (t[: max(2, n // 5)] for t in self.preview)
        latent = self.E_ema(images)
        other = images.roll(1, 0), aus.roll(1, 0)
        rec, edited = self.G_ema(latent, aus).face, self.G_ema(latent, other[1])
        rows = [images, rec, edited.face]
        if edited.mask is not None:
            rows.append(apply_change(images, expression_change(edited, rec)))
        return torch.stack([*rows, other[0]], dim=1).flatten(0, 1)


WEIGHTS = (
    "w_au", "w_id", "w_per", "w_rec", "w_gp", "interpolated_targets", "w_mask", "w_mask_tv", "ema_decay", "w_c_edits"
)  # fmt: skip
INTEGERS = ("c_warmup",)


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
    group.add_argument("--no-gate", dest="gated", action="store_false", help="the paper's G: no mask, no change head")
    group.add_argument(
        "--skips", type=int, nargs="+", default=[], metavar="SIZE",
        help="sizes at which E's feature maps feed G (e.g. 16 32; default: none, the paper's G)",
    )  # fmt: skip
    group.add_argument("--init", help="shipped checkpoint to start E and G from (e.g. eggan_plain)")
    for weight in WEIGHTS:
        group.add_argument(f"--{weight.replace('_', '-')}", type=float, default=getattr(defaults, weight))
    for count in INTEGERS:
        group.add_argument(f"--{count.replace('_', '-')}", type=int, default=getattr(defaults, count))
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
        d_layers=blocks, gated=args.gated, skip_resolutions=tuple(args.skips),
    )
    weights = {w: getattr(args, w) for w in (*WEIGHTS, *INTEGERS)}
    total = args.decay_steps or args.steps
    config = replace(
        EGGANTrainConfig(), model=model, lr=args.lr, lr_c=args.lr_c, total_steps=total, init=args.init, **weights
    )
    return replace(config, perceptual_network=args.judge) if args.judge else config


def build(args: argparse.Namespace, device: torch.device) -> tuple[EGGANRecipe, TrainData]:
    """The recipe and its annotated CelebA train faces for ``python -m facegan.train eggan``."""
    config = config_from_args(args)
    resolution = config.model.resolution
    dataset = CelebAAUDataset(args.data, "train", resolution, flip=True, limit=args.limit, annotations=args.annotations)
    preview = val_faces(args.data, resolution, 8, args.annotations)[:2]
    info = {"dir": str(dataset.root), "split": "train", "counts": {"images": len(dataset)}}
    init = load_shipped(args.init, NAME)[0] if args.init else None
    return EGGANRecipe(config, device, load_judge(args.judge), preview, init), TrainData(dataset, info)
