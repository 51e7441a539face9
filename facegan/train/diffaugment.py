"""Differentiable augmentation (DiffAugment, Zhao et al. 2020) for GANs trained on a few thousand photos.

D sees every image, real or generated, through the same random colour shift, translation and cutout,
and G's gradient passes through them. D can then no longer memorise the training photos, which is
what makes it overfit and G's images collapse on small datasets, yet G is not taught to draw the
augmentations, because they are applied to its output only on the way into D.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor


def _uniform(images: Tensor, low: float, high: float) -> Tensor:
    """One draw per image, broadcastable over [B, C, H, W]."""
    return torch.empty(len(images), 1, 1, 1, device=images.device).uniform_(low, high)


def colour(images: Tensor) -> Tensor:
    """Random brightness (±0.5), saturation (0–2x) and contrast (0.5–1.5x) for images in [-1, 1]."""
    images = images + _uniform(images, -0.5, 0.5)
    grey = images.mean(dim=1, keepdim=True)
    images = grey + (images - grey) * _uniform(images, 0.0, 2.0)
    mean = images.mean(dim=(1, 2, 3), keepdim=True)
    return mean + (images - mean) * _uniform(images, 0.5, 1.5)


def translation(images: Tensor, ratio: float = 0.125) -> Tensor:
    """Shift by up to ``ratio`` of the size in each direction, whole pixels, zeros coming in."""
    n, _, h, w = images.shape
    shift = torch.randint(-int(h * ratio), int(h * ratio) + 1, (n, 2), device=images.device).float()
    theta = torch.zeros(n, 2, 3, device=images.device)
    theta[:, 0, 0] = theta[:, 1, 1] = 1.0
    theta[:, 0, 2] = 2 * shift[:, 0] / w
    theta[:, 1, 2] = 2 * shift[:, 1] / h
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    return F.grid_sample(images, grid, mode="nearest", padding_mode="zeros", align_corners=False)


def cutout(images: Tensor, ratio: float = 0.5) -> Tensor:
    """Zero one square of ``ratio`` of the size at a random place (it may reach past the border)."""
    n, _, h, w = images.shape
    size_y, size_x = int(h * ratio), int(w * ratio)
    top = torch.randint(-size_y // 2, h - size_y // 2 + 1, (n, 1, 1), device=images.device)
    left = torch.randint(-size_x // 2, w - size_x // 2 + 1, (n, 1, 1), device=images.device)
    rows = torch.arange(h, device=images.device)[None, :, None]
    cols = torch.arange(w, device=images.device)[None, None, :]
    inside = (rows >= top) & (rows < top + size_y) & (cols >= left) & (cols < left + size_x)
    return images * (~inside)[:, None].to(images.dtype)


POLICIES: dict[str, Callable[[Tensor], Tensor]] = {"colour": colour, "translation": translation, "cutout": cutout}


def diff_augment(images: Tensor, policy: Sequence[str]) -> Tensor:
    """Apply the named augmentations in order, each with fresh draws per image."""
    for name in policy:
        images = POLICIES[name](images)
    return images
