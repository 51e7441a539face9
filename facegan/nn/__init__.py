"""Shared building blocks: conv-norm-act, residual (plain and up-sampling), sub-pixel upsampling,
spectral norm, projection."""

from facegan.nn.blocks import (
    ConvNormAct,
    Projection,
    ResidualBlock,
    SubPixelUp,
    UpResidualBlock,
    make_act,
    make_norm,
    sn,
)

__all__ = [
    "ConvNormAct", "Projection", "ResidualBlock", "SubPixelUp", "UpResidualBlock", "make_act", "make_norm", "sn",
]
