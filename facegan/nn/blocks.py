"""Small building blocks shared by every generator and discriminator in the project.

Each block is an ``nn.Sequential`` (or a thin module around one) so state-dict keys stay short and
stable: ``conv.weight``, ``norm.weight``, ``act.weight``.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Literal, TypeVar

from torch import Tensor, nn
from torch.nn.utils.parametrizations import spectral_norm

Norm = Literal["none", "batch", "instance", "layer"]
Act = Literal["none", "relu", "lrelu", "prelu", "tanh"]
M = TypeVar("M", bound=nn.Module)


def sn(module: M, enabled: bool = True) -> M:
    """Spectral normalisation (Miyato et al. 2018): divide the weight by its top singular value.

    Bounds each layer's Lipschitz constant by 1, the cheap constraint most modern discriminators use.
    ``enabled=False`` returns the module untouched so callers can make it a config switch.
    """
    return spectral_norm(module) if enabled else module


def make_norm(norm: Norm, channels: int) -> nn.Module | None:
    """Normalisation layer by name; ``layer`` is GroupNorm with one group (per-sample, as WGAN-GP wants).

    ``instance`` is GroupNorm with a group per channel: the same normalisation and parameters as
    ``InstanceNorm2d(affine=True)``, 3-10x faster on CPU (an AU slider move: 26 to 16 ms).
    """
    if norm == "none":
        return None
    if norm == "batch":
        return nn.BatchNorm2d(channels)
    if norm == "instance":
        return nn.GroupNorm(channels, channels)
    if norm == "layer":
        return nn.GroupNorm(1, channels)
    raise ValueError(f"unknown norm {norm!r}")


def make_act(act: Act, channels: int, slope: float = 0.2) -> nn.Module | None:
    """Activation by name; LeakyReLU uses DCGAN's slope 0.2 unless told otherwise."""
    if act == "none":
        return None
    if act == "relu":
        return nn.ReLU(inplace=True)
    if act == "lrelu":
        return nn.LeakyReLU(slope, inplace=True)
    if act == "prelu":
        return nn.PReLU(channels)
    if act == "tanh":
        return nn.Tanh()
    raise ValueError(f"unknown activation {act!r}")


def _named_layers(**layers: nn.Module | None) -> OrderedDict[str, nn.Module]:
    """Keep the given layers in order, dropping the absent ones (norm="none", act="none")."""
    return OrderedDict((name, layer) for name, layer in layers.items() if layer is not None)


class ConvNormAct(nn.Sequential):
    """Conv (or transposed conv) -> optional norm -> optional activation: the unit of every net here.

    The conv has no bias when a norm follows, since the norm's shift would cancel it.
    """

    def __init__(
        self,
        in_ch: int,
        out_ch: int,
        kernel_size: int = 3,
        stride: int = 1,
        padding: int | None = None,
        norm: Norm = "none",
        act: Act = "relu",
        *,
        transpose: bool = False,
        spectral: bool = False,
        slope: float = 0.2,
    ) -> None:
        conv_cls = nn.ConvTranspose2d if transpose else nn.Conv2d
        pad = (kernel_size - 1) // 2 if padding is None else padding
        conv = conv_cls(in_ch, out_ch, kernel_size, stride, pad, bias=norm == "none")
        super().__init__(
            _named_layers(conv=sn(conv, spectral), norm=make_norm(norm, out_ch), act=make_act(act, out_ch, slope))
        )


class SubPixelUp(nn.Sequential):
    """Conv to ``out_ch * scale^2`` channels, PixelShuffle, norm, act (Shi et al. 2016).

    Upsamples without the checkerboard artefacts of strided transposed convolutions.
    """

    def __init__(
        self,
        in_ch: int,
        out_ch: int,
        scale: int = 2,
        kernel_size: int = 3,
        norm: Norm = "none",
        act: Act = "relu",
        *,
        spectral: bool = False,
    ) -> None:
        conv = sn(nn.Conv2d(in_ch, out_ch * scale**2, kernel_size, 1, kernel_size // 2), spectral)
        super().__init__(
            _named_layers(
                conv=conv, shuffle=nn.PixelShuffle(scale), norm=make_norm(norm, out_ch), act=make_act(act, out_ch)
            )
        )


class ResidualBlock(nn.Module):
    """x + F(x) with F = ConvNormAct -> ConvNormAct(no act): identity-preserving edits (StarGAN style)."""

    def __init__(self, channels: int, norm: Norm = "instance", act: Act = "relu", *, spectral: bool = False) -> None:
        super().__init__()
        self.body = nn.Sequential(
            ConvNormAct(channels, channels, 3, norm=norm, act=act, spectral=spectral),
            ConvNormAct(channels, channels, 3, norm=norm, act="none", spectral=spectral),
        )

    def forward(self, x: Tensor) -> Tensor:
        return x + self.body(x)


class UpResidualBlock(nn.Module):
    """Nearest 2x upsampling, then x + F(x) with F = two 3x3 ConvNormActs (EGGAN's generator unit).

    A 1x1 conv on the shortcut matches channels when they change, so each block can both double the
    resolution and narrow the features while keeping an identity path for gradients.
    """

    def __init__(self, in_ch: int, out_ch: int, norm: Norm = "instance", act: Act = "prelu") -> None:
        super().__init__()
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.body = nn.Sequential(
            ConvNormAct(in_ch, out_ch, 3, norm=norm, act=act),
            ConvNormAct(out_ch, out_ch, 3, norm=norm, act="none"),
        )
        self.shortcut = nn.Conv2d(in_ch, out_ch, 1, bias=False) if in_ch != out_ch else nn.Identity()
        self.act = make_act(act, out_ch) or nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        x = self.up(x)
        return self.act(self.shortcut(x) + self.body(x))


class Projection(nn.Module):
    """Conditional term <embed(y), phi(x)> of a projection discriminator (Miyato & Koyama 2018).

    Add it to the unconditional logit. ``y`` is a class index tensor when ``discrete`` (nn.Embedding),
    otherwise a real vector such as attributes or an audio embedding (bias-free linear map). 4-D
    features are sum-pooled over space first.
    """

    def __init__(self, cond_dim: int, feat_dim: int, *, discrete: bool = False, spectral: bool = True) -> None:
        super().__init__()
        embed = nn.Embedding(cond_dim, feat_dim) if discrete else nn.Linear(cond_dim, feat_dim, bias=False)
        self.embed = sn(embed, spectral)

    def forward(self, features: Tensor, cond: Tensor) -> Tensor:
        pooled = features.sum(dim=(2, 3)) if features.dim() == 4 else features
        return (self.embed(cond) * pooled).sum(dim=1, keepdim=True)


def attention_mask_head(channels: int, kernel_size: int = 3) -> nn.Sequential:
    """Features -> a one-channel mask in [0, 1]: where a generator's change is let through."""
    return nn.Sequential(nn.Conv2d(channels, 1, kernel_size, 1, kernel_size // 2), nn.Sigmoid())


class AttentionColourHead(nn.Module):
    """Predicts a change instead of a whole image: an attention mask A in [0, 1] and a colour map C in
    [-1, 1] (GANimation, Pumarola et al. 2018), composed as ``A * C + (1 - A) * x``.

    Where A is 0 the input pixel passes through untouched, which is what lets an edit be applied to a
    photo at its own resolution: only A and C need upsampling, never the face itself.
    """

    def __init__(self, channels: int, kernel_size: int = 7) -> None:
        super().__init__()
        self.mask = attention_mask_head(channels, kernel_size)
        self.colour = ConvNormAct(channels, 3, kernel_size, act="tanh")

    def forward(self, features: Tensor) -> tuple[Tensor, Tensor]:
        return self.mask(features), self.colour(features)


def compose(image: Tensor, mask: Tensor, colour: Tensor) -> Tensor:
    """``A * C + (1 - A) * x``: the input where the mask is 0, the colour map where it is 1."""
    return image + mask * (colour - image)
