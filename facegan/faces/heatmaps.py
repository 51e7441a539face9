"""Landmark heatmaps: the side conditional image of the attribute-transfer GAN (seed 000)."""

from __future__ import annotations

import numpy as np
import torch


def landmark_heatmaps(
    points: np.ndarray | torch.Tensor,
    size: int,
    sigma: float = 2.0,
    source_size: int | None = None,
    per_landmark: bool = True,
) -> torch.Tensor:
    """2D Gaussians (peak 1) at the landmarks, rendered at ``size`` x ``size``.

    ``points`` is (N, 2) or (B, N, 2) in pixel coordinates of a ``source_size`` crop (default: ``size``),
    so landmarks measured at 128 px render directly at 64 px. ``sigma`` is in output pixels. With
    ``per_landmark`` the result has one channel per landmark, else one map (their maximum).
    Returns float32 (N|1, H, W) or (B, N|1, H, W).
    """
    pts = torch.as_tensor(points, dtype=torch.float32)
    batched = pts.ndim == 3
    if not batched:
        pts = pts[None]
    if sigma <= 0:
        raise ValueError("sigma must be positive")
    scale = size / (source_size or size)
    pts = (pts + 0.5) * scale - 0.5
    grid = torch.arange(size, dtype=torch.float32, device=pts.device)
    gx = torch.exp(-((grid[None, None, :] - pts[..., 0:1]) ** 2) / (2 * sigma**2))
    gy = torch.exp(-((grid[None, None, :] - pts[..., 1:2]) ** 2) / (2 * sigma**2))
    maps = gy[..., :, None] * gx[..., None, :]
    if not per_landmark:
        maps = maps.amax(dim=1, keepdim=True)
    return maps if batched else maps[0]


def heatmap_to_image(maps: torch.Tensor) -> np.ndarray:
    """Collapse (N|1, H, W) heatmaps into an HxW uint8 picture for display."""
    collapsed = maps.amax(dim=0) if maps.ndim == 3 else maps
    return (collapsed.clamp(0, 1) * 255).round().to(torch.uint8).cpu().numpy()
