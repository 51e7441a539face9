"""Shapes and invariants of the shared building blocks."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from facegan.nn import ConvNormAct, Projection, ResidualBlock, SubPixelUp, make_norm, sn


@pytest.mark.parametrize("norm", ["none", "batch", "instance", "layer"])
@pytest.mark.parametrize("act", ["none", "relu", "lrelu", "prelu", "tanh"])
def test_conv_norm_act_shapes(norm: str, act: str) -> None:
    block = ConvNormAct(3, 8, 4, 2, 1, norm=norm, act=act)
    assert block(torch.randn(2, 3, 16, 16)).shape == (2, 8, 8, 8)
    assert ("norm" in dict(block.named_children())) == (norm != "none")
    assert (block.conv.bias is None) == (norm != "none")


def test_instance_norm_is_per_sample_per_channel_with_its_affine_parameters() -> None:
    norm = make_norm("instance", 4)
    with torch.no_grad():
        norm.weight.copy_(torch.tensor([1.0, 2.0, 0.5, -1.0]))
        norm.bias.copy_(torch.tensor([0.0, 1.0, -1.0, 3.0]))
    x = torch.randn(3, 4, 8, 8) * 5 + 2
    expected = nn.functional.instance_norm(x, weight=norm.weight, bias=norm.bias)
    torch.testing.assert_close(norm(x), expected)
    torch.testing.assert_close(norm(x.to(memory_format=torch.channels_last)), expected)
    norm.load_state_dict(nn.InstanceNorm2d(4, affine=True).state_dict())  # checkpoints trained before load


def test_transposed_conv_doubles_resolution() -> None:
    block = ConvNormAct(8, 4, 4, 2, 1, norm="batch", transpose=True)
    assert block(torch.randn(2, 8, 8, 8)).shape == (2, 4, 16, 16)


def test_unknown_names_fail() -> None:
    with pytest.raises(ValueError, match="unknown norm"):
        ConvNormAct(3, 8, norm="group")
    with pytest.raises(ValueError, match="unknown activation"):
        ConvNormAct(3, 8, act="gelu")


def test_residual_block_keeps_shape_and_starts_near_identity_path() -> None:
    block = ResidualBlock(8)
    x = torch.randn(2, 8, 16, 16)
    assert block(x).shape == x.shape
    nn.init.zeros_(block.body[1].norm.weight)
    nn.init.zeros_(block.body[1].norm.bias)
    assert torch.equal(block(x), x)


@pytest.mark.parametrize("scale", [2, 4])
def test_subpixel_up(scale: int) -> None:
    up = SubPixelUp(8, 3, scale=scale, norm="instance", act="prelu")
    assert up(torch.randn(2, 8, 8, 8)).shape == (2, 3, 8 * scale, 8 * scale)


@pytest.mark.parametrize(
    "module, x",
    [
        (nn.Conv2d(8, 16, 3), torch.randn(2, 8, 8, 8)),
        (nn.ConvTranspose2d(16, 8, 4), torch.randn(2, 16, 8, 8)),
        (nn.Linear(32, 10), torch.randn(2, 32)),
    ],
    ids=["conv", "convT", "linear"],
)
def test_spectral_norm_top_singular_value_is_one(module: nn.Module, x: torch.Tensor) -> None:
    torch.manual_seed(0)
    nn.init.normal_(module.weight, std=3.0)
    wrapped = sn(module)
    for _ in range(10):  # one power iteration per training-mode forward
        wrapped(x)
    dim = 1 if isinstance(module, nn.ConvTranspose2d) else 0  # torch normalises convT over out channels
    matrix = wrapped.weight.detach().movedim(dim, 0).flatten(1)
    assert torch.linalg.matrix_norm(matrix, ord=2).item() == pytest.approx(1.0, abs=5e-3)


def test_sn_disabled_is_identity() -> None:
    conv = nn.Conv2d(3, 3, 3)
    assert sn(conv, enabled=False) is conv


def test_projection_inner_product() -> None:
    proj = Projection(5, 8, spectral=False)
    features = torch.randn(2, 8, 4, 4)
    cond = torch.randn(2, 5)
    expected = (proj.embed(cond) * features.sum(dim=(2, 3))).sum(dim=1, keepdim=True)
    assert torch.allclose(proj(features, cond), expected)
    assert Projection(10, 8, discrete=True)(torch.randn(3, 8), torch.tensor([0, 4, 9])).shape == (3, 1)


def test_attention_colour_head_composes_a_change_over_the_input() -> None:
    from facegan.nn import AttentionColourHead, compose

    head = AttentionColourHead(8)
    mask, colour = head(torch.randn(2, 8, 16, 16))
    assert mask.shape == (2, 1, 16, 16) and colour.shape == (2, 3, 16, 16)
    assert 0 <= mask.min() and mask.max() <= 1 and colour.abs().max() <= 1
    image = torch.rand(2, 3, 16, 16) * 2 - 1
    assert torch.equal(compose(image, torch.zeros_like(mask), colour), image)
    assert torch.allclose(compose(image, torch.ones_like(mask), colour), colour)
