"""Audio-to-scene recipe (seed 004): class-level sound/scene pairs, Eq. 1-2, and the volume augmentation.

Pairing: a training clip is paired with a random training photo of its scene class (``SCENE_OF_SOUND``),
redrawn every time, like the paper's classifier-cleaned pairs. ``--variant`` picks a rung of Table 4
(``VARIANTS``) and ``--features`` a row of Table 2.

Volume ("louder means closer", the distance augmentation): each pair is played at a random gain
(-6 to +10 dB on a 1 dB grid, 0 dB a quarter of the time), and its photo is zoomed about the centre
by how loud the clip then is compared with a typical clip of its sound class: a clip r dB above its
class's median level is shown zoomed by 10^(0.5 r / 20), clamped to [0.5, 2] (reflection-padded when
zooming out). Sound pressure falls as 1/distance, so a source r dB louder than usual is that much
closer and looks larger; the square root keeps the zoom within what 64 px photos can still show.
Gain and zoom move together, and because the zoom depends on the clip's loudness (which G sees in the
level component of s), not on a hidden gain, G can learn it. The sound vectors of every clip at every
grid gain are computed once before training (``feature_table``), so a step costs only G and D.

One step = one D update then one G update (the paper used five G updates per D update; on one CPU core
the budget went to more steps instead), Adam with the two-time-scale rates of SN-GAN practice
(D 4e-4, G 1e-4, betas 0 and 0.9) for every rung. With a 10-d z beside a 257-d s, G learns to ignore z
(every seed gave the same scene in a first run), so every rung also adds the mode-seeking term of
Mao et al. (2019): G minimises 1 / (|G(s, z1) - G(s, z2)| / |z1 - z2|).

Options added after the ladder (``--generator residual --camera-zoom --diffaugment ... --ema-decay``):
D sees real and generated photos through the same differentiable augmentation (8k photos are few),
inference uses an exponential moving average of G's weights, and G can draw through a fixed camera
that applies the distance augmentation's zoom itself (``CameraZoom``; its typical levels are fitted
here, from the training clips, before the first step).
"""

from __future__ import annotations

import argparse
import hashlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor
from torch.utils.data import Dataset
from tqdm import tqdm

from facegan.audio.data import GAN_SCENES, SCENE_OF_SOUND, ClipCache, clip_cache, sounds_root
from facegan.audio.encoder import load_sound_encoder
from facegan.audio.features import FEATURE_KINDS, FeaturizerConfig, SoundFeaturizer, level_db
from facegan.data.scenes import SCENE_CLASSES, load_scenes, scenes_root, to_unit
from facegan.losses import GAN_LOSSES
from facegan.models.audiogan import (
    GAINS_DB, ZOOM_RANGE, AudioGANConfig, Discriminator, Generator, zoom, zoom_for_level,
)  # fmt: skip
from facegan.paths import cache_dir
from facegan.train.diffaugment import POLICIES, diff_augment
from facegan.train.loop import StepContext, TrainData
from facegan.train.recipe import RecipeBase, linear_decay

NAME = "audiogan"
UNIT_GAIN = GAINS_DB.index(0.0)


@dataclass(frozen=True)
class Variant:
    loss: str
    spectral: bool
    conditioning: str
    aux_classifier: bool


# Table 4's ladder, each rung adding one technique to the one above.
VARIANTS = {
    "cgan": Variant("nonsaturating", False, "concat", False),
    "sn": Variant("nonsaturating", True, "concat", False),
    "hinge": Variant("hinge", True, "concat", False),
    "projection": Variant("hinge", True, "projection", False),
    "full": Variant("hinge", True, "projection", True),
}


@dataclass
class AudioGANTrainConfig:
    model: AudioGANConfig = field(default_factory=AudioGANConfig)
    features: FeaturizerConfig = field(default_factory=FeaturizerConfig)
    variant: str = "full"
    loss: str = "hinge"
    lr_g: float = 1e-4
    lr_d: float = 4e-4
    betas: tuple[float, float] = (0.0, 0.9)
    aux_weight: float = 1.0
    diversity_weight: float = 1.0
    zoom_exponent: float = 0.5
    min_zoom: float = ZOOM_RANGE[0]  # how far a quiet clip's photo is zoomed out at most (reflected borders)
    reference_level_db: dict[str, float] = field(default_factory=dict)  # median level per sound class
    unit_gain_prob: float = 0.25
    gains_db: tuple[float, ...] = GAINS_DB
    lr_decay_steps: int = 0
    encoder_checkpoint: str = "sound_classifier"
    diffaugment: tuple[str, ...] = ()  # DiffAugment policies applied to everything D sees
    ema_decay: float = 0.0  # weight average of G for inference (0: none, the ladder's checkpoints)


def reference_levels(levels: Tensor, labels: list[str]) -> dict[str, float]:
    """Median level (dB, unit gain) of each sound class's clips: where "typical distance" is."""
    names = np.array(labels)
    return {name: float(levels[torch.from_numpy(names == name)].median()) for name in sorted(set(labels))}


def load_featurizer(kind: str, encoder_checkpoint: str = "sound_classifier") -> SoundFeaturizer:
    """A featurizer of ``kind`` holding the trained sound classifier (unfitted standardisation)."""
    encoder = load_sound_encoder(encoder_checkpoint)
    featurizer = SoundFeaturizer(FeaturizerConfig(kind, encoder.config))
    featurizer.encoder.load_state_dict(encoder.state_dict())
    return featurizer.eval()


@torch.inference_mode()
def feature_table(
    featurizer: SoundFeaturizer, cache: ClipCache, rows: np.ndarray, gains_db: tuple[float, ...]
) -> Tensor:
    """Sound vectors [len(rows), len(gains), dim] of the clips at each gain, cached on disk by content."""
    digest = hashlib.sha256()
    for key, value in sorted(featurizer.state_dict().items()):
        digest.update(key.encode() + value.cpu().numpy().tobytes())
    digest.update(rows.tobytes() + np.asarray(gains_db).tobytes() + cache.logmel[rows[:8]].tobytes())
    path = cache_dir() / "audio" / f"table_{featurizer.config.kind}_{digest.hexdigest()[:12]}.pt"
    if path.is_file():
        return torch.load(path, weights_only=True)
    logmel, logspec = torch.from_numpy(cache.logmel[rows]), torch.from_numpy(cache.logspec[rows])
    table = torch.stack([
        torch.cat([featurizer(logmel[i : i + 64] + db, logspec[i : i + 64] + db) for i in range(0, len(rows), 64)])
        for db in tqdm(gains_db, desc=f"{featurizer.config.kind} features", unit="gain")
    ], dim=1)  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(table, path)
    return table


class PairDataset(Dataset):
    """(s at a random gain, the photo's zoom, a random photo of the clip's scene, the scene index in GAN_SCENES).

    ``relative_db`` is each clip's level at unit gain minus its class's reference level.
    """

    def __init__(
        self, table: Tensor, scenes: list[int], images: Tensor, image_labels: Tensor, gains_db: tuple[float, ...],
        relative_db: Tensor, unit_gain_prob: float, zoom_exponent: float, min_zoom: float = ZOOM_RANGE[0],
    ) -> None:  # fmt: skip
        self.table = table
        self.relative_db = relative_db
        self.zoom_exponent = zoom_exponent
        self.min_zoom = min_zoom
        self.scenes = torch.tensor(scenes)
        self.images = images
        self.by_scene = [torch.nonzero(image_labels == k).flatten() for k in range(len(GAN_SCENES))]
        self.gains = torch.tensor(gains_db)
        self.unit_gain = gains_db.index(0.0)
        self.unit_gain_prob = unit_gain_prob

    def __len__(self) -> int:
        return len(self.table)

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        g = self.unit_gain if torch.rand(()) < self.unit_gain_prob else int(torch.randint(len(self.gains), ()))
        scene = int(self.scenes[index])
        pool = self.by_scene[scene]
        image = to_unit(self.images[pool[torch.randint(len(pool), ())]])
        if torch.rand(()) < 0.5:
            image = image.flip(-1)
        factor = zoom_for_level(self.relative_db[index] + self.gains[g], self.zoom_exponent, self.min_zoom)
        return self.table[index, g], factor, image, self.scenes[index]


class AudioGANRecipe(RecipeBase):
    name = NAME
    exported = ("G", "features", "D")  # D's scene head picks the clearest of several z (``pick_recognisable``)

    def __init__(
        self, config: AudioGANTrainConfig, featurizer: SoundFeaturizer, samples: Tensor, device: torch.device,
        typical_levels: tuple[Tensor, Tensor] | None = None,
    ) -> None:  # fmt: skip
        """``typical_levels``: (s of the training clips at unit gain, their class's reference level in s's
        standardised units), which G's camera reads the typical level of each kind of sound from."""
        super().__init__()
        self.config = config
        self.device = device
        self.G = Generator(config.model)
        if self.G.camera is not None and typical_levels is not None:
            self.G.camera.fit_reference(*typical_levels)
        self.G.to(device)
        self.D = Discriminator(config.model).to(device)
        self.loss = GAN_LOSSES[config.loss]
        self.samples = samples
        self.nets = {"G": self.G, "D": self.D, "features": featurizer.to(device)}
        self.opts = {
            "G": torch.optim.Adam(self.G.parameters(), lr=config.lr_g, betas=config.betas),
            "D": torch.optim.Adam(self.D.parameters(), lr=config.lr_d, betas=config.betas),
        }
        if config.lr_decay_steps > 0:
            self.scheds = {name: linear_decay(opt, config.lr_decay_steps) for name, opt in self.opts.items()}
        self.G_inference = self.add_ema("G") if config.ema_decay > 0 else self.G

    def _noise(self, n: int) -> Tensor:
        return torch.randn(n, self.config.model.z_dim, device=self.device)

    def _aux(self, logits: Tensor | None, labels: Tensor) -> Tensor:
        if logits is None:
            return torch.zeros((), device=self.device)
        return self.config.aux_weight * F.cross_entropy(logits.float(), labels)

    def train_step(self, batch: tuple[Tensor, ...], step: int, ctx: StepContext) -> dict[str, Tensor]:
        """Eq. 2 for D (GAN loss + aux log-likelihood of real photos), then Eq. 1 (+ mode seeking) for G."""
        s, factors, real, labels = batch
        real = zoom(real, factors)
        G, D = ctx.nets["G"], ctx.nets["D"]
        policy = self.config.diffaugment
        with torch.no_grad(), ctx.autocast():
            fake = self.G(s, self._noise(len(s)))
        with ctx.autocast():
            real_score, real_logits = D(diff_augment(real, policy), s)
            fake_score, _ = D(diff_augment(fake, policy), s)
        adversarial = self.loss.d(real_score, fake_score)
        aux_real = self._aux(real_logits, labels)
        ctx.optimize("D", adversarial + aux_real)
        self.D.requires_grad_(False)
        z = self._noise(2 * len(s))
        with ctx.autocast():
            fakes = G(s.repeat(2, 1), z)
            score, logits = self.D(diff_augment(fakes, policy), s.repeat(2, 1))
        g_adversarial = self.loss.g(score)
        aux_fake = self._aux(logits, labels.repeat(2))
        first, second = fakes.float().chunk(2)
        z1, z2 = z.chunk(2)
        spread = ((first - second).abs().mean(dim=(1, 2, 3)) / (z1 - z2).abs().mean(dim=1)).mean()
        mode_seeking = 1 / (spread + 1e-5)
        ctx.optimize("G", g_adversarial + aux_fake + self.config.diversity_weight * mode_seeking)
        self.D.requires_grad_(True)
        if self.config.ema_decay > 0:
            self.update_ema("G", step, self.config.ema_decay)
        return {
            "d_loss": adversarial.detach(), "g_loss": g_adversarial.detach(),
            "d_real": real_score.detach().float().mean(), "d_fake": fake_score.detach().float().mean(),
            "aux_real": aux_real.detach(), "aux_fake": aux_fake.detach(), "spread": spread.detach(),
        }  # fmt: skip

    def sample(self, n: int) -> Tensor:
        """Fixed clips (one per row of 8) with fixed noise, so grids show progress rather than new draws."""
        s = self.samples[torch.arange(n) % len(self.samples)].to(self.device)
        z = torch.randn(n, self.config.model.z_dim, generator=torch.Generator().manual_seed(0)).to(self.device)
        return self.G_inference(s, z)


def add_args(parser: argparse.ArgumentParser) -> None:
    d, m = AudioGANTrainConfig(), AudioGANConfig()
    group = parser.add_argument_group("audiogan")
    group.add_argument("--variant", choices=sorted(VARIANTS), default=d.variant, help="rung of the Table 4 ladder")
    group.add_argument("--features", choices=FEATURE_KINDS, default=d.features.kind, help="feature type (Table 2)")
    group.add_argument("--encoder", default=d.encoder_checkpoint, help="sound-classifier checkpoint (learned encoder)")
    group.add_argument("--g-width", type=int, default=m.g_width)
    group.add_argument("--d-width", type=int, default=m.d_width)
    group.add_argument("--lr-g", type=float, default=d.lr_g)
    group.add_argument("--lr-d", type=float, default=d.lr_d)
    group.add_argument("--aux-weight", type=float, default=d.aux_weight)
    group.add_argument("--diversity-weight", type=float, default=d.diversity_weight, help="mode-seeking term")
    group.add_argument("--zoom-exponent", type=float, default=d.zoom_exponent, help="zoom exponent (0: off)")
    group.add_argument("--min-zoom", type=float, default=d.min_zoom, help="zoom-out limit for quiet clips")
    group.add_argument("--lr-decay-steps", type=int, default=d.lr_decay_steps)
    group.add_argument("--generator", choices=("dcgan", "residual"), default=m.generator)
    group.add_argument(
        "--camera-zoom", action="store_true", help="G zooms its scene by the sound's level (the augmentation's law)"
    )
    group.add_argument(
        "--diffaugment", nargs="*", choices=sorted(POLICIES), default=list(d.diffaugment), help="for D's inputs"
    )
    group.add_argument("--ema-decay", type=float, default=d.ema_decay, help="G's weight average (0: none)")


def _sample_rows(scenes: list[int], per_scene: int = 8) -> list[int]:
    """Indices of the first clips of each scene, grouped, for the sample grid."""
    return [i for k in range(len(GAN_SCENES)) for i in [j for j, s in enumerate(scenes) if s == k][:per_scene]]


def build(args: argparse.Namespace, device: torch.device) -> tuple[AudioGANRecipe, TrainData]:
    """Sound vectors of the training clips, photos of their scenes, and the chosen rung/feature type."""
    variant = VARIANTS[args.variant]
    cache = clip_cache(args.data)
    rows = cache.select(held_out=False, with_scene=True)
    scenes = [GAN_SCENES.index(SCENE_OF_SOUND[cache.clips[i].label]) for i in rows]
    featurizer = load_featurizer(args.features, args.encoder)
    featurizer.fit(torch.from_numpy(cache.logmel[rows]), torch.from_numpy(cache.logspec[rows]))
    table = feature_table(featurizer, cache, rows, GAINS_DB)
    labels_of_rows = [cache.clips[i].label for i in rows]
    levels = level_db(torch.from_numpy(cache.logmel[rows]))
    references = reference_levels(levels, labels_of_rows)
    relative_db = levels - torch.tensor([references[label] for label in labels_of_rows])
    images, labels = load_scenes(args.data, "train")
    keep = torch.isin(labels, torch.tensor([SCENE_CLASSES.index(s) for s in GAN_SCENES]))
    gan_labels = torch.tensor([GAN_SCENES.index(SCENE_CLASSES[k]) for k in labels[keep].tolist()])
    model = AudioGANConfig(
        cond_dim=featurizer.config.dim, num_scenes=len(GAN_SCENES), g_width=args.g_width, d_width=args.d_width,
        spectral=variant.spectral, conditioning=variant.conditioning, aux_classifier=variant.aux_classifier,
        generator=args.generator, camera_zoom=args.camera_zoom,
        zoom_slope=float(args.zoom_exponent * np.log(10) / 20 * featurizer.std[-1]), min_zoom=args.min_zoom,
    )  # fmt: skip
    config = AudioGANTrainConfig(
        model=model, features=featurizer.config, variant=args.variant, loss=variant.loss, lr_g=args.lr_g,
        lr_d=args.lr_d, aux_weight=args.aux_weight, diversity_weight=args.diversity_weight,
        zoom_exponent=args.zoom_exponent, min_zoom=args.min_zoom, reference_level_db=references,
        lr_decay_steps=args.lr_decay_steps, encoder_checkpoint=args.encoder,
        diffaugment=tuple(args.diffaugment), ema_decay=args.ema_decay,
    )  # fmt: skip
    dataset = PairDataset(
        table, scenes, images[keep], gan_labels, GAINS_DB, relative_db, config.unit_gain_prob, config.zoom_exponent,
        config.min_zoom,
    )
    samples = table[_sample_rows(scenes), UNIT_GAIN]
    info: dict[str, Any] = {
        "dir": [str(sounds_root(args.data)), str(scenes_root(args.data))],
        "split": "sound training folds x scene train split, paired by class",
        "counts": {"clips": len(rows), "photos": int(keep.sum())},
    }
    typical = (torch.tensor([references[label] for label in labels_of_rows]) - featurizer.mean[-1]) / featurizer.std[-1]
    recipe = AudioGANRecipe(config, featurizer, samples, device, (table[:, UNIT_GAIN], typical))
    return recipe, TrainData(dataset, info)
