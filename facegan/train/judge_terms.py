"""Training terms read from the frozen attribute judge: phi_3 features and identity-attribute logits.

EGGAN's identity and perceptual terms (Eq. 4-5) and GeneGAN's identity term use them: CelebA has too
few images per identity to train an identity classifier, so "the same person" is read as the judge's
agreement on the attributes an edit must not change (sex, age, skin, nose, lips, brows, ...).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from facegan.models.judge import ATTRIBUTE_NAMES, AttributeJudge

EXPRESSION_ATTRIBUTES = ("Smiling", "Mouth_Slightly_Open", "Narrow_Eyes", "High_Cheekbones", "Attractive", "Blurry")
"""Judge attributes an expression edit may change (or that say nothing about who it is)."""
IDENTITY_ATTRIBUTES = tuple(name for name in ATTRIBUTE_NAMES if name not in EXPRESSION_ATTRIBUTES)
PERCEPTUAL_LAYER = 3
"""phi_3: the judge's first three conv layers (Eq. 5 uses VGG19's third)."""


class JudgeFeatures:
    """The frozen attribute judge as a feature extractor: phi_3 maps and the logits of ``attributes``."""

    def __init__(self, judge: AttributeJudge, attributes: Sequence[str] = IDENTITY_ATTRIBUTES) -> None:
        self.judge = judge.eval().requires_grad_(False)
        self.columns = [ATTRIBUTE_NAMES.index(name) for name in attributes]

    def __call__(self, images: Tensor) -> tuple[Tensor, Tensor]:
        """(phi_3 features, attribute logits) of faces in [-1, 1]; gradients flow to the images."""
        size = self.judge.config.resolution
        x = F.interpolate(images, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
        phi = x
        for index, layer in enumerate(self.judge.features):
            x = layer(x)
            if index == PERCEPTUAL_LAYER - 1:
                phi = x
        logits = self.judge.head(F.adaptive_avg_pool2d(x, 1))
        return phi.float(), logits[:, self.columns].float()


def identity_loss(fake_logits: Tensor, real_logits: Tensor) -> Tensor:
    """KL(p_real || p_fake) over the identity attributes, mean per attribute (0 when they agree)."""
    p = torch.sigmoid(real_logits)
    return F.binary_cross_entropy_with_logits(fake_logits, p) - F.binary_cross_entropy_with_logits(real_logits, p)
