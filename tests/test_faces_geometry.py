"""Alignment, paste-back, heatmaps and AU estimates on real CelebA crops."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from facegan.faces import (
    AU_NUMBERS,
    align_face,
    detect_face,
    detect_faces,
    estimate_aus,
    face_region_mask,
    feathered_square_mask,
    landmark_heatmaps,
    paste_back,
    prepare_face,
    template_points,
)
from facegan.faces.align import estimate_similarity, transform_points
from facegan.faces.aus import calibration
from facegan.faces.ibug68 import HORIZONTAL_FLIP
from tests.faces_helpers import SAMPLE_NAMES, celeba_dir, celeba_rgb, place_on_canvas


def test_similarity_fit_recovers_a_known_transform():
    rng = np.random.default_rng(1)
    src = rng.uniform(0, 100, (20, 2))
    angle, scale = np.deg2rad(25), 1.7
    truth = np.array([[scale * np.cos(angle), -scale * np.sin(angle), 12.0],
                      [scale * np.sin(angle), scale * np.cos(angle), -7.0]])
    fitted = estimate_similarity(src, transform_points(truth, src))
    assert np.allclose(fitted, truth, atol=1e-9)


def test_template_matches_the_celeba_framing():
    points = template_points(128)
    assert points.shape == (68, 2)
    eyes = points[36:48].mean(0)
    assert 55 < eyes[0] < 73 and 50 < eyes[1] < 75  # eyes near the centre, as in the crops
    assert np.allclose(template_points(64), (points + 0.5) / 2 - 0.5)


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_aligning_a_celeba_crop_is_nearly_the_identity(name):
    crop = celeba_rgb(name)
    aligned = align_face(crop, detect_face(crop).points68)
    assert np.abs(aligned.matrix[:, :2] - np.eye(2)).max() < 0.08
    assert np.abs(aligned.matrix[:, 2]).max() < 5


def test_alignment_undoes_rotation_scale_and_shift():
    crop = celeba_rgb()
    canvas, _ = place_on_canvas(crop, 700, (420, 300), 2.5, angle=25)
    prepared = prepare_face(canvas)
    reference = align_face(crop, detect_face(crop).points68)
    recovered = prepared.aligned
    assert np.linalg.norm(recovered.points68 - reference.points68, axis=1).mean() < 2.0
    diff = np.abs(recovered.crop.astype(float) - reference.crop.astype(float))[16:112, 16:112]
    assert diff.mean() < 12


def test_paste_back_of_the_unedited_crop_keeps_the_photo():
    crop = celeba_rgb()
    canvas, _ = place_on_canvas(crop, 600, (300, 280), 2.0, angle=-15)
    prepared = prepare_face(canvas)
    restored = prepared.paste(prepared.aligned.crop)
    assert restored.shape == canvas.shape
    assert np.abs(restored.astype(float) - canvas.astype(float)).mean() < 3


def test_paste_back_changes_only_the_face_region_and_accepts_other_sizes():
    crop = celeba_rgb()
    canvas, _ = place_on_canvas(crop, 600, (300, 280), 2.0)
    prepared = prepare_face(canvas)
    red = np.zeros((64, 64, 3), np.uint8)
    red[..., 0] = 255
    pasted = paste_back(canvas, red, prepared.aligned)
    changed = np.abs(pasted.astype(int) - canvas.astype(int)).sum(-1) > 30
    ys, xs = np.nonzero(changed)
    assert changed.mean() > 0.05
    assert xs.min() > 100 and xs.max() < 500 and ys.min() > 80 and ys.max() < 480
    assert pasted[280, 300, 0] > 240 and pasted[280, 300, 1] < 20  # face centre fully replaced
    assert np.array_equal(pasted[:40], canvas[:40])  # far from the face, untouched


def test_paste_back_at_the_photo_border():
    crop = celeba_rgb()
    canvas, _ = place_on_canvas(crop, 300, (40, 150), 1.6)
    prepared = prepare_face(canvas)
    result = prepared.paste(np.full((128, 128, 3), 200, np.uint8))
    assert result.shape == canvas.shape


def test_masks_are_feathered():
    square = feathered_square_mask(128)
    assert square[64, 64] == pytest.approx(1.0)
    assert square[0, 64] < 0.1 and 0.0 <= square.min() and square.max() <= 1.0
    face = face_region_mask(template_points(128), 128)
    assert face[70, 64] > 0.95  # nose
    assert face[5, 5] < 0.01  # corner: background
    assert 0.0 < face[64, 18] < 1.0 or face[64, 12] < 0.5  # soft edge near the cheek


def test_heatmaps_peak_at_landmarks_and_scale_with_resolution():
    points = np.array([[10.0, 20.0], [100.0, 64.0]])
    maps = landmark_heatmaps(points, 128, sigma=2.0)
    assert maps.shape == (2, 128, 128)
    assert maps[0, 20, 10] == pytest.approx(1.0) and maps[1, 64, 100] == pytest.approx(1.0)
    assert maps[0, 20, 12] == pytest.approx(np.exp(-0.5), rel=1e-5)  # one sigma away
    single = landmark_heatmaps(points, 64, sigma=1.0, source_size=128, per_landmark=False)
    assert single.shape == (1, 64, 64)
    peak = np.unravel_index(int(single[0, :, :32].argmax()), (64, 32))
    assert peak == (10, 5)  # (20, 10) at 128 px -> about (9.75, 4.75) at 64 px
    batch = landmark_heatmaps(torch.tensor(np.stack([points, points])), 32, sigma=1.5, source_size=128)
    assert batch.shape == (2, 2, 32, 32)
    with pytest.raises(ValueError):
        landmark_heatmaps(points, 32, sigma=0)


def test_flip_permutation_matches_mirrored_detection():
    crop = celeba_rgb()
    points = detect_face(crop).points68
    mirrored = detect_face(np.ascontiguousarray(crop[:, ::-1])).points68
    mirrored[:, 0] = 127 - mirrored[:, 0]
    assert np.linalg.norm(mirrored[HORIZONTAL_FLIP] - points, axis=1).mean() < 2.0


def _celeba_names_with(attribute: str, value: int, count: int) -> list[str]:
    lines = (celeba_dir().parent / "list_attr_celeba.txt").read_text().splitlines()
    column = lines[1].split().index(attribute) + 1
    return [l.split()[0] for l in lines[2:] if int(l.split()[column]) == value][:count]


def test_action_units_are_in_range_and_follow_the_smile():
    assert len(AU_NUMBERS) == 17
    au12 = AU_NUMBERS.index(12)
    means = {}
    for value in (1, -1):
        found = [detect_faces(celeba_rgb(n)) for n in _celeba_names_with("Smiling", value, 12)]
        faces = [f[0] for f in found if f]
        assert len(faces) >= 10
        aus = np.stack([estimate_aus(f.blendshapes, f.points68) for f in faces])
        assert aus.min() >= 0 and aus.max() <= 5
        means[value] = aus[:, au12].mean()
    assert means[1] > means[-1] + 1.0  # CelebA's Smiling label agrees with AU12
    points = faces[0].points68
    half = calibration()[au12] / 2  # half the calibration score is intensity 2.5
    assert estimate_aus({"mouthSmileLeft": half, "mouthSmileRight": half}, points)[au12] == pytest.approx(2.5)
    assert estimate_aus({"mouthSmileLeft": 1.0, "mouthSmileRight": 1.0}, points)[au12] == 5.0
    assert estimate_aus({}, points)[au12] == 0.0


def test_each_ibug_point_is_the_mean_of_its_mesh_vertices() -> None:
    from facegan.faces.ibug68 import MESH_TO_IBUG68, mesh_to_ibug68

    mesh = np.random.default_rng(0).random((478, 2))
    points = mesh_to_ibug68(mesh)
    assert points.shape == (68, 2)
    for point, ids in zip(points, MESH_TO_IBUG68, strict=True):
        assert np.allclose(point, mesh[list(ids)].mean(axis=0))


@pytest.mark.parametrize(("shape", "tolerance"), [((512, 512), 0.004), ((300, 420), 0.015)])
def test_wide_blur_matches_the_full_size_blur(shape, tolerance):
    from facegan.faces.align import wide_blur

    mask = np.zeros(shape, np.float32)
    cv2.ellipse(mask, (shape[1] // 2, shape[0] // 2), (shape[1] // 3, shape[0] // 3), 0, 0, 360, 1.0, -1)
    sigma = 0.06 * max(shape)
    fast, full = wide_blur(mask, sigma), cv2.GaussianBlur(mask, (0, 0), sigma)
    assert fast.shape == shape
    assert np.abs(fast - full).max() < tolerance
