"""The identity model (dlib ResNet descriptor) on real CelebA crops: same person close, others far."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from facegan.data.celeba import celeba_root, read_identities, split_files
from facegan.eval.identity import THRESHOLD, IdentityModel
from facegan.paths import data_dir

pytest.importorskip("dlib", reason="dlib is missing: pip install dlib-bin face_recognition_models")
pytestmark = pytest.mark.skipif(
    not (data_dir() / "celeba" / "images").is_dir(),
    reason=f"CelebA not found under {data_dir()}/celeba (set FACEGAN_DATA or pass the shared data)",
)
PAIRS = 8


@pytest.fixture(scope="module")
def model() -> IdentityModel:
    return IdentityModel()


@pytest.fixture(scope="module")
def pairs() -> list[tuple[str, str]]:
    """The first two val photos of the first PAIRS val identities (by id) that have two or more."""
    root = celeba_root()
    identities = read_identities(root)
    by_identity: dict[int, list[str]] = {}
    for name in split_files(root, "val"):
        by_identity.setdefault(identities[name], []).append(name)
    found = [(files[0], files[1]) for _, files in sorted(by_identity.items()) if len(files) >= 2]
    return found[:PAIRS]


def _crop(name: str, size: int) -> np.ndarray:
    with Image.open(celeba_root() / "images" / name) as image:
        return np.asarray(image.convert("RGB").resize((size, size), Image.Resampling.BICUBIC))


@pytest.mark.parametrize("size", [64, 128])
def test_same_image_same_descriptor(model: IdentityModel, pairs: list[tuple[str, str]], size: int) -> None:
    crops = np.stack([_crop(pairs[0][0], size)] * 2)  # an [N, H, W, 3] array works like a list
    a, b = model.embed(crops)
    assert a.shape == (128,)
    assert model.distance(a, b) < 1e-5 and model.cosine(a, b) > 0.99999
    assert model.verify(a, b)


@pytest.mark.parametrize("size", [64, 128])
def test_same_identity_closer_than_different(model: IdentityModel, pairs: list[tuple[str, str]], size: int) -> None:
    first = model.embed([_crop(a, size) for a, _ in pairs])
    second = model.embed([_crop(b, size) for _, b in pairs])
    distances = model.distance(first[:, None], second[None])  # [i, j]: identity i vs identity j
    same = np.diag(distances)
    different = distances[~np.eye(len(pairs), dtype=bool)].reshape(len(pairs), -1)
    assert (same < different.mean(axis=1)).all(), distances.round(2)
    assert np.median(same) < THRESHOLD < np.median(different), distances.round(2)
    assert same.max() < np.median(different)


def test_small_and_large_crops_agree(model: IdentityModel, pairs: list[tuple[str, str]]) -> None:
    """A 64 px generator output is upsampled to 150 px: its descriptor stays near the 128 px one."""
    small, large = model.embed([_crop(pairs[0][0], 64), _crop(pairs[0][0], 128)])
    assert model.distance(small, large) < 0.5 * THRESHOLD  # 0.25 here: detail lost at 64 px, same person


def test_rejects_non_rgb_uint8(model: IdentityModel) -> None:
    with pytest.raises(ValueError, match="uint8"):
        model.embed([np.zeros((64, 64, 3), np.float32)])
    assert model.embed([]).shape == (0, 128)
