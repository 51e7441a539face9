"""GAN objectives from the lecture, their regularisers, and (MS-)SSIM.

Every adversarial loss is a pair of small functions over discriminator outputs: raw logits for the
probabilistic objectives (minimax, non-saturating), unbounded scores for LSGAN, WGAN and hinge. The
D-side function takes outputs on real and fake samples, the G-side function only those on fakes, so a
training step reads ``d_loss(D(x), D(G(z).detach()))`` then ``g_loss(D(G(z)))``. Losses are computed in
float32 so they stay accurate under mixed-precision autocast.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Literal, NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

Reduction = Literal["mean", "none"]
DataRange = float | tuple[float, float]


class GanLoss(NamedTuple):
    """A (discriminator loss, generator loss) pair; unpacks as ``d_loss, g_loss = GAN_LOSSES[name]``."""

    d: Callable[[Tensor, Tensor], Tensor]
    g: Callable[[Tensor], Tensor]


def minimax_d_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """-E[log D(x)] - E[log(1 - D(G(z)))], the negated value V(D, G) of Goodfellow et al. (2014).

    Written with softplus on logits: log D = -softplus(-l) and log(1 - D) = -softplus(l), which never
    takes the log of a saturated sigmoid.
    """
    return F.softplus(-real_logits.float()).mean() + F.softplus(fake_logits.float()).mean()


def minimax_g_loss(fake_logits: Tensor) -> Tensor:
    """E[log(1 - D(G(z)))], the original objective G minimises; its gradient vanishes when D wins."""
    return -F.softplus(fake_logits.float()).mean()


def nonsaturating_g_loss(fake_logits: Tensor) -> Tensor:
    """-E[log D(G(z))]: same fixed point as minimax but strong gradients exactly when D rejects fakes."""
    return F.softplus(-fake_logits.float()).mean()


def lsgan_d_loss(real_scores: Tensor, fake_scores: Tensor) -> Tensor:
    """Least-squares GAN (Mao et al. 2017) with targets real=1, fake=0: penalises distance, not sign."""
    return 0.5 * (real_scores.float() - 1).pow(2).mean() + 0.5 * fake_scores.float().pow(2).mean()


def lsgan_g_loss(fake_scores: Tensor) -> Tensor:
    """LSGAN generator side: pull fake scores to the real target 1."""
    return 0.5 * (fake_scores.float() - 1).pow(2).mean()


def wgan_d_loss(real_scores: Tensor, fake_scores: Tensor) -> Tensor:
    """Negated Wasserstein-1 estimate E[f(G(z))] - E[f(x)]; needs a Lipschitz critic (clip or penalty)."""
    return fake_scores.float().mean() - real_scores.float().mean()


def wgan_g_loss(fake_scores: Tensor) -> Tensor:
    """-E[f(G(z))]: move fakes up the critic; shared by WGAN, WGAN-GP and hinge (Lim & Ye 2017)."""
    return -fake_scores.float().mean()


def hinge_d_loss(real_scores: Tensor, fake_scores: Tensor) -> Tensor:
    """E[max(0, 1 - D(x))] + E[max(0, 1 + D(G(z)))]: stops pushing once a sample is past its margin."""
    return F.relu(1 - real_scores.float()).mean() + F.relu(1 + fake_scores.float()).mean()


def clip_weights(module: nn.Module, c: float = 0.01) -> None:
    """Clamp every parameter to [-c, c] after each critic step: WGAN's crude Lipschitz constraint."""
    with torch.no_grad():
        for param in module.parameters():
            param.clamp_(-c, c)


def gradient_penalty(
    critic: Callable[..., Tensor],
    real: Tensor,
    fake: Tensor,
    *cond: Tensor,
    target: float = 1.0,
    generator: torch.Generator | None = None,
) -> Tensor:
    """WGAN-GP term E[(||grad_x f(x_hat)|| - target)^2] on random interpolates of real and fake.

    Gulrajani et al. (2017) enforce the 1-Lipschitz constraint softly where it matters: on lines between
    the two distributions. ``cond`` is passed to the critic unchanged (conditional critics); the graph is
    kept so the penalty trains the critic. Call it outside fp16 autocast: input gradients of a
    half-precision forward underflow without the loss scaler.
    """
    real = real.detach()
    alpha = torch.rand((real.shape[0],) + (1,) * (real.dim() - 1), device=real.device, generator=generator)
    mixed = (alpha * real + (1 - alpha) * fake.detach().to(real.dtype)).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(mixed, *cond).float().sum(), mixed, create_graph=True)
    return (grad.flatten(1).norm(dim=1) - target).pow(2).mean()


def r1_penalty(d_out: Tensor, real: Tensor) -> Tensor:
    """E[||grad_x D(x)||^2] on real data (Mescheder et al. 2018); the caller scales it by gamma / 2.

    ``real`` must have had ``requires_grad_(True)`` before ``d_out = D(real)``. Penalising only real
    data keeps D flat around the data manifold, which makes simultaneous GAN training converge locally.
    """
    (grad,) = torch.autograd.grad(d_out.float().sum(), real, create_graph=True, allow_unused=True)
    if grad is None:  # D ignores its input entirely: its gradient is zero
        return d_out.new_zeros((), dtype=torch.float32)
    return grad.float().flatten(1).pow(2).sum(dim=1).mean()


def total_variation(x: Tensor) -> Tensor:
    """Mean absolute difference between neighbouring pixels: small for smooth maps."""
    return (x[..., 1:, :] - x[..., :-1, :]).abs().mean() + (x[..., :, 1:] - x[..., :, :-1]).abs().mean()


def attention_regularizer(mask: Tensor, w_sparse: float, w_smooth: float) -> Tensor:
    """GANimation's mask terms: L1 keeps the attention on few pixels (an edit touches only what it must),
    total variation keeps it smooth (no speckle when it is upsampled onto a photo)."""
    mask = mask.float()
    return w_sparse * mask.mean() + w_smooth * total_variation(mask)


GAN_LOSSES: dict[str, GanLoss] = {
    "minimax": GanLoss(minimax_d_loss, minimax_g_loss),
    "nonsaturating": GanLoss(minimax_d_loss, nonsaturating_g_loss),
    "lsgan": GanLoss(lsgan_d_loss, lsgan_g_loss),
    "wgan": GanLoss(wgan_d_loss, wgan_g_loss),
    "wgan-gp": GanLoss(wgan_d_loss, wgan_g_loss),
    "hinge": GanLoss(hinge_d_loss, wgan_g_loss),
}

# Wang, Simoncelli & Bovik (2003), Table/eq. 7: relative importance of scales 1 (finest) .. 5.
MS_SSIM_WEIGHTS: tuple[float, ...] = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)


def _gaussian_window(size: int, sigma: float, device: torch.device) -> Tensor:
    coords = torch.arange(size, dtype=torch.float32, device=device) - (size - 1) / 2
    window = torch.exp(-coords.pow(2) / (2 * sigma**2))
    return window / window.sum()


def _blur(x: Tensor, window: Tensor) -> Tensor:
    """Separable 'valid' Gaussian filter per channel, as in the reference SSIM implementation."""
    channels = x.shape[1]
    x = F.conv2d(x, window.view(1, 1, 1, -1).expand(channels, 1, 1, -1), groups=channels)
    return F.conv2d(x, window.view(1, 1, -1, 1).expand(channels, 1, -1, 1), groups=channels)


def _ssim_terms(x: Tensor, y: Tensor, window: Tensor) -> tuple[Tensor, Tensor]:
    """Per-image SSIM and contrast-structure term (averaged over pixels and channels) of [0, 1] images."""
    c1, c2 = 0.01**2, 0.03**2
    mu_x, mu_y = _blur(x, window), _blur(y, window)
    var_x = _blur(x * x, window) - mu_x.pow(2)
    var_y = _blur(y * y, window) - mu_y.pow(2)
    cov = _blur(x * y, window) - mu_x * mu_y
    cs = (2 * cov + c2) / (var_x + var_y + c2)
    luminance = (2 * mu_x * mu_y + c1) / (mu_x.pow(2) + mu_y.pow(2) + c1)
    return (luminance * cs).flatten(1).mean(dim=1), cs.flatten(1).mean(dim=1)


def _check_pair(x: Tensor, y: Tensor, win_size: int) -> None:
    if x.shape != y.shape or x.dim() != 4:
        raise ValueError(f"expected two NCHW tensors of equal shape, got {tuple(x.shape)} and {tuple(y.shape)}")
    if min(x.shape[-2:]) < win_size:
        raise ValueError(f"images of {tuple(x.shape[-2:])} are smaller than the {win_size}px SSIM window")


def _to_unit_range(x: Tensor, data_range: DataRange) -> Tensor:
    """Map pixels to [0, 1]: SSIM's luminance term assumes non-negative intensities starting at 0."""
    low, high = (0.0, data_range) if isinstance(data_range, int | float) else data_range
    return (x.float() - low) / (high - low)


def _reduce(values: Tensor, reduction: Reduction) -> Tensor:
    return values.mean() if reduction == "mean" else values


def ssim(
    x: Tensor,
    y: Tensor,
    data_range: DataRange = (-1.0, 1.0),
    win_size: int = 11,
    sigma: float = 1.5,
    reduction: Reduction = "mean",
) -> Tensor:
    """Structural similarity (Wang et al. 2004) with an 11x11, sigma 1.5 Gaussian window.

    ``data_range`` is the pixel scale: ``(low, high)``, default the project's (-1, 1), or a number L
    meaning [0, L] (1.0 for [0, 1] images, 255 for bytes). Returns the batch mean, or one value per
    image with ``reduction="none"``.
    """
    _check_pair(x, y, win_size)
    window = _gaussian_window(win_size, sigma, x.device)
    value, _ = _ssim_terms(_to_unit_range(x, data_range), _to_unit_range(y, data_range), window)
    return _reduce(value, reduction)


def ms_ssim(
    x: Tensor,
    y: Tensor,
    data_range: DataRange = (-1.0, 1.0),
    weights: Sequence[float] = MS_SSIM_WEIGHTS,
    win_size: int = 11,
    sigma: float = 1.5,
    reduction: Reduction = "mean",
) -> Tensor:
    """Multi-scale SSIM (Wang, Simoncelli & Bovik 2003): contrast-structure at every scale, luminance
    at the coarsest, combined as prod_j cs_j^w_j * l_M^w_M.

    Five scales need sides of at least 176 px; smaller images (64x64 CelebA crops, 128x128) use only
    the finest scales whose side still fits the window, with the leading weights renormalised to sum
    to 1, so 64x64 uses 3 scales and 128x128 uses 4. Negative cs values (anti-correlated patches) are
    clamped to 0 before the fractional powers, which would otherwise be NaN. ``data_range`` and the
    return value are as in ``ssim``.
    """
    _check_pair(x, y, win_size)
    levels = min(len(weights), 1 + math.floor(math.log2(min(x.shape[-2:]) / win_size)))
    w = torch.tensor(weights[:levels], dtype=torch.float32, device=x.device)
    w = w / w.sum()
    window = _gaussian_window(win_size, sigma, x.device)
    x, y = _to_unit_range(x, data_range), _to_unit_range(y, data_range)
    factors = []
    for level in range(levels):
        value, cs = _ssim_terms(x, y, window)
        if level == levels - 1:
            factors.append(F.relu(value))
        else:
            factors.append(F.relu(cs))
            x = F.avg_pool2d(x, kernel_size=2, ceil_mode=True)
            y = F.avg_pool2d(y, kernel_size=2, ceil_mode=True)
    return _reduce(torch.stack(factors, dim=1).pow(w).prod(dim=1), reduction)
