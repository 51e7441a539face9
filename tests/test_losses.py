"""Properties of the GAN objectives, their regularisers and (MS-)SSIM that follow from the definitions."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from facegan.losses import (
    GAN_LOSSES,
    clip_weights,
    gradient_penalty,
    hinge_d_loss,
    lsgan_d_loss,
    lsgan_g_loss,
    minimax_d_loss,
    minimax_g_loss,
    ms_ssim,
    nonsaturating_g_loss,
    r1_penalty,
    ssim,
)


def test_registry_names_and_pairs() -> None:
    assert set(GAN_LOSSES) == {"minimax", "nonsaturating", "lsgan", "wgan", "wgan-gp", "hinge"}
    real, fake = torch.randn(8), torch.randn(8)
    for d_loss, g_loss in GAN_LOSSES.values():
        assert d_loss(real, fake).shape == () and g_loss(fake).shape == ()


def test_minimax_at_d_one_half_is_two_log_two() -> None:
    """D = 1/2 everywhere (logit 0) is the optimum for p_g = p_data: V(D, G) = -2 log 2."""
    half = torch.zeros(16)
    assert minimax_d_loss(half, half).item() == pytest.approx(2 * math.log(2))
    assert minimax_g_loss(half).item() == pytest.approx(-math.log(2))


def test_nonsaturating_gradient_larger_when_d_rejects_fakes() -> None:
    """Early in training D(G(z)) ~ 0: log(1 - D) is flat there, -log D is steep."""
    grads = []
    for g_loss in (minimax_g_loss, nonsaturating_g_loss):
        logits = torch.full((4,), -6.0, requires_grad=True)  # D(G(z)) ~ 0.0025
        g_loss(logits).backward()
        grads.append(logits.grad.abs().sum().item())
    assert grads[1] > 100 * grads[0]


def test_lsgan_zero_at_targets() -> None:
    ones, zeros = torch.ones(8), torch.zeros(8)
    assert lsgan_d_loss(ones, zeros).item() == 0.0
    assert lsgan_g_loss(ones).item() == 0.0
    assert lsgan_d_loss(zeros, ones).item() == pytest.approx(1.0)


def test_hinge_zero_beyond_margins() -> None:
    assert hinge_d_loss(torch.tensor([1.0, 3.0]), torch.tensor([-1.0, -5.0])).item() == 0.0
    assert hinge_d_loss(torch.tensor([0.5]), torch.tensor([-1.0])).item() == pytest.approx(0.5)


def test_wgan_losses_are_score_differences() -> None:
    d_loss, g_loss = GAN_LOSSES["wgan"]
    assert d_loss(torch.tensor([3.0]), torch.tensor([1.0])).item() == -2.0
    assert g_loss(torch.tensor([1.0, 3.0])).item() == -2.0


class _LinearCritic(nn.Module):
    """f(x) = <w, x> (+ <v, y> when conditioned): gradient w.r.t. x is w everywhere."""

    def __init__(self, norm: float) -> None:
        super().__init__()
        w = torch.randn(3 * 4 * 4, generator=torch.Generator().manual_seed(0))
        self.w = nn.Parameter(w / w.norm() * norm)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        out = x.flatten(1) @ self.w
        return out if y is None else out + y.sum(dim=1)


@pytest.mark.parametrize("norm, expected", [(1.0, 0.0), (2.0, 1.0), (0.5, 0.25)])
def test_gradient_penalty_of_linear_critic(norm: float, expected: float) -> None:
    critic = _LinearCritic(norm)
    real, fake = torch.randn(6, 3, 4, 4), torch.randn(6, 3, 4, 4)
    assert gradient_penalty(critic, real, fake).item() == pytest.approx(expected, abs=1e-5)
    conditioned = gradient_penalty(critic, real, fake, torch.randn(6, 5))
    assert conditioned.item() == pytest.approx(expected, abs=1e-5)


def test_gradient_penalty_trains_the_critic() -> None:
    critic = _LinearCritic(2.0)
    gradient_penalty(critic, torch.randn(4, 3, 4, 4), torch.randn(4, 3, 4, 4)).backward()
    assert critic.w.grad is not None and critic.w.grad.abs().sum() > 0


def test_clip_weights_bounds_every_parameter() -> None:
    net = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.Linear(4, 2))
    for p in net.parameters():
        nn.init.normal_(p, std=5.0)
    clip_weights(net, 0.01)
    assert all(p.abs().max() <= 0.01 for p in net.parameters())


def test_r1_penalty() -> None:
    real = torch.randn(4, 3, 8, 8, requires_grad=True)
    bias = nn.Parameter(torch.tensor(2.0))
    assert r1_penalty(bias.expand(4), real).item() == 0.0  # D ignores its input
    assert r1_penalty(torch.ones(4) + 0 * real.sum(), real).item() == 0.0
    # D(x) = sum(x): gradient is all ones, squared norm = number of pixels.
    assert r1_penalty(real.flatten(1).sum(1), real).item() == pytest.approx(3 * 8 * 8)


def _smooth_images(n: int, size: int, seed: int = 0) -> torch.Tensor:
    """Natural-ish images in [-1, 1]: upsampled noise has structure at several scales."""
    g = torch.Generator().manual_seed(seed)
    coarse = torch.rand(n, 3, size // 8, size // 8, generator=g)
    fine = F.interpolate(coarse, size=(size, size), mode="bilinear", align_corners=False)
    return (fine + 0.1 * torch.rand(n, 3, size, size, generator=g)).clamp(0, 1) * 2 - 1


@pytest.mark.parametrize("size", [64, 128])
def test_ms_ssim_identity_noise_and_symmetry(size: int) -> None:
    x = _smooth_images(2, size)
    noise = torch.randn(x.shape, generator=torch.Generator().manual_seed(1))
    assert ms_ssim(x, x).item() == pytest.approx(1.0, abs=1e-5)
    scores = [ms_ssim(x, (x + s * noise).clamp(-1, 1)).item() for s in (0.05, 0.2, 0.5)]
    assert 1.0 > scores[0] > scores[1] > scores[2] > 0.0
    y = (x + 0.2 * noise).clamp(-1, 1)
    assert ms_ssim(x, y).item() == pytest.approx(ms_ssim(y, x).item(), abs=1e-6)
    assert ms_ssim(x, y, reduction="none").shape == (2,)


def test_ms_ssim_data_range_only_rescales() -> None:
    """The same pictures score the same in [-1, 1], [0, 1] and byte scales."""
    x = _smooth_images(1, 64)
    y = _smooth_images(1, 64, seed=2)
    reference = ms_ssim(x, y).item()
    assert ms_ssim((x + 1) / 2, (y + 1) / 2, data_range=1.0).item() == pytest.approx(reference, abs=1e-5)
    assert ms_ssim((x + 1) * 127.5, (y + 1) * 127.5, data_range=255).item() == pytest.approx(reference, abs=1e-5)


def test_ssim_identity_and_small_input_error() -> None:
    x = _smooth_images(2, 32)
    assert ssim(x, x).item() == pytest.approx(1.0, abs=1e-5)
    assert ssim(x, -x).item() < 0.0
    with pytest.raises(ValueError, match="smaller than"):
        ms_ssim(torch.zeros(1, 3, 8, 8), torch.zeros(1, 3, 8, 8))


def test_attention_regularizer_prefers_sparse_smooth_masks() -> None:
    from facegan.losses import attention_regularizer, total_variation

    empty = torch.zeros(1, 1, 8, 8)
    blob = torch.zeros(1, 1, 8, 8)
    blob[..., 2:6, 2:6] = 1
    speckle = (torch.arange(64).reshape(1, 1, 8, 8) % 2).float()
    assert attention_regularizer(empty, 1.0, 1.0) == 0
    assert total_variation(blob) < total_variation(speckle)
    assert attention_regularizer(blob, 1.0, 0.0) == pytest.approx(16 / 64)
    assert attention_regularizer(blob, 0.0, 1.0) < attention_regularizer(speckle, 0.0, 1.0)
