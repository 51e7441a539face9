"""Shared building blocks: conv-norm-act, residual (plain and up-sampling), sub-pixel upsampling,
spectral norm, projection, the attention/colour head of edit generators."""

from facegan.nn.blocks import (
    AttentionColourHead,
    attention_mask_head,
    ConvNormAct,
    Projection,
    ResidualBlock,
    SubPixelUp,
    UpResidualBlock,
    compose,
    make_act,
    make_norm,
    sn,
)

__all__ = [
    "AttentionColourHead", "attention_mask_head", "ConvNormAct", "Projection", "ResidualBlock", "SubPixelUp",
    "UpResidualBlock", "compose",
    "make_act", "make_norm", "sn",
]
