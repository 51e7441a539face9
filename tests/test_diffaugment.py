"""DiffAugment: every policy keeps the batch's shape, is differentiable, and does what it says."""

from __future__ import annotations

import pytest
import torch

from facegan.eval.realism import frechet_distance, realism
from facegan.train.diffaugment import POLICIES, colour, cutout, diff_augment, translation


@pytest.mark.parametrize("policy", sorted(POLICIES))
def test_each_policy_keeps_the_shape_and_passes_gradients(policy: str) -> None:
    torch.manual_seed(0)
    images = (torch.rand(4, 3, 16, 16) * 2 - 1).requires_grad_()
    out = diff_augment(images, [policy])
    assert out.shape == images.shape
    out.square().sum().backward()
    assert images.grad is not None and float(images.grad.abs().sum()) > 0


def test_translation_shifts_whole_pixels_and_cutout_zeroes_a_square() -> None:
    torch.manual_seed(1)
    images = torch.arange(64.0).view(1, 1, 8, 8).repeat(16, 3, 1, 1) + 1
    shifted = translation(images, ratio=0.25)
    kept = shifted[shifted != 0]
    assert torch.all(kept == kept.round()) and set(kept.tolist()) <= set(images.flatten().tolist())
    holes = (cutout(images, ratio=0.5) == 0).float().mean(dim=(1, 2, 3))
    assert float(holes.max()) <= 0.25 + 1e-6 and float(holes.min()) > 0


def test_colour_changes_every_image_differently_and_no_policy_is_identity() -> None:
    torch.manual_seed(2)
    images = torch.rand(4, 3, 8, 8) * 2 - 1
    changed = colour(images)
    assert not torch.allclose(changed[0] - images[0], changed[1] - images[1])
    assert torch.equal(diff_augment(images, ()), images)


def test_realism_floor_is_small_and_a_shifted_set_is_far() -> None:
    rng = torch.Generator().manual_seed(0)
    real = torch.randn(400, 4, generator=rng).numpy()
    assert frechet_distance(real, real) == pytest.approx(0.0, abs=1e-6)
    scores = realism({"real": real, "shifted": real + 3.0})
    assert scores["real_floor"] < 0.5 < 30 < scores["shifted"]
