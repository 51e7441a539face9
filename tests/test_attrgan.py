"""Attribute-transfer model, recipe and pipeline (tiny untrained nets; real CelebA faces)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from facegan.data.celeba_landmarks import CelebAHeatmapDataset
from facegan.models.attrgan import STARGAN_ATTRIBUTES, AttrGANConfig, Discriminator, Generator, toggle_attribute
from facegan.pipelines import AttributeTransfer
from facegan.train.checkpoint import export_checkpoint
from tests.faces_helpers import celeba_rgb, eval_tools_into

TINY = AttrGANConfig(g_width=8, d_width=8, g_encoder_blocks=1, g_decoder_blocks=1)


def tiny_checkpoint(directory, config: AttrGANConfig = TINY, name: str = "attrgan"):
    torch.manual_seed(0)
    record = {"config": {"model": dataclasses.asdict(config)}, "steps": 0}
    return export_checkpoint(name, {"G": Generator(config)}, record, directory)


@pytest.mark.parametrize("use_heatmap", [True, False])
def test_generator_and_discriminator_shapes(use_heatmap):
    config = dataclasses.replace(TINY, use_heatmap=use_heatmap)
    G, D = Generator(config), Discriminator(config)
    image, heatmap = torch.randn(2, 3, 64, 64), torch.rand(2, 1, 64, 64)
    out = G(image.clamp(-1, 1), heatmap if use_heatmap else None, torch.rand(2, 7))
    assert out.image.shape == image.shape and out.image.abs().max() <= 1
    assert out.mask.shape == (2, 1, 64, 64) and 0 <= out.mask.min() and out.mask.max() <= 1
    assert torch.allclose(out.image, out.mask * out.colour + (1 - out.mask) * image.clamp(-1, 1), atol=1e-6)
    assert (out.heatmap.shape == heatmap.shape) if use_heatmap else out.heatmap is None
    patch, logits = D(out.image)
    assert patch.shape == (2, 1, 2, 2) and logits.shape == (2, 7)


def test_target_attributes_change_the_output():
    G = Generator(TINY).eval()
    image, heatmap = torch.randn(1, 3, 64, 64), torch.rand(1, 1, 64, 64)
    a = G(image, heatmap, torch.zeros(1, 7)).image
    b = G(image, heatmap, torch.ones(1, 7)).image
    assert (a - b).abs().mean() > 1e-4


def test_toggling_a_hair_colour_keeps_the_group_exclusive():
    source = torch.tensor([[1.0, 0, 0, 1, 0, 0, 0]])  # black hair, male
    blond = toggle_attribute(source, STARGAN_ATTRIBUTES.index("Blond_Hair"), STARGAN_ATTRIBUTES)
    assert blond[0, :3].tolist() == [0, 1, 0] and blond[0, 3] == 1
    no_black = toggle_attribute(source, 0, STARGAN_ATTRIBUTES)
    assert no_black[0, :3].tolist() == [0, 0, 0]


def test_heatmap_dataset_pairs_faces_with_their_landmarks(celeba_annotations):
    data = CelebAHeatmapDataset(split="val", resolution=64, attributes=STARGAN_ATTRIBUTES, limit=4)
    image, attributes, heatmap = data[0]
    assert image.shape == (3, 64, 64) and attributes.shape == (7,) and heatmap.shape == (1, 64, 64)
    assert heatmap.max() > 0.9
    flipped = CelebAHeatmapDataset(split="val", resolution=64, attributes=STARGAN_ATTRIBUTES, limit=4, flip=True)
    torch.manual_seed(0)
    samples = [flipped[0] for _ in range(8)]
    mirrored = [s for s in samples if not torch.equal(s[0], image)]
    assert mirrored, "flip never happened in 8 draws"
    assert torch.allclose(mirrored[0][0], image.flip(-1))
    assert torch.allclose(mirrored[0][2], heatmap.flip(-1), atol=0.02)  # landmarks mirror with the image


def test_pipeline_edits_a_photo_and_pastes_it_back(tmp_path):
    tiny_checkpoint(tmp_path)
    pipeline = AttributeTransfer(directory=tmp_path)
    photo = np.full((300, 260, 3), 90, np.uint8)
    photo[60:188, 70:198] = celeba_rgb()
    prepared = pipeline.prepare(photo)
    edit = pipeline.edit(prepared, {"Blond_Hair": True, "Smiling": True})
    assert edit.output.shape == (128, 128, 3) and edit.photo.shape == photo.shape  # the crop's own resolution
    assert edit.mask.shape == (128, 128) and edit.mask.dtype == np.uint8
    assert edit.heatmap.shape == (64, 64) and edit.side_output.shape == (64, 64)
    assert np.abs(edit.photo.astype(int) - photo).sum() > 0
    assert np.array_equal(edit.photo[:20], photo[:20])  # far from the face: untouched
    with pytest.raises(ValueError, match="at most one hair colour"):
        pipeline.edit(prepared, {"Blond_Hair": True, "Black_Hair": True})


@pytest.mark.parametrize("objective", [["--gan-loss", "hinge", "--guide", "none"], ["--gan-loss", "wgan-gp"]])
def test_recipe_trains_a_few_steps(tmp_path, objective, celeba_annotations):
    from facegan.train.__main__ import main

    args = ["attrgan", "--steps", "4", "--batch-size", "4", "--limit", "8", "--g-width", "8", "--d-width", "8",
            "--n-critic", "2", "--run-dir", str(tmp_path / "run"), "--num-workers", "0", "--no-progress",
            "--samples", "8", "--image-every", "4", *objective]
    assert main(args) == 0
    assert (tmp_path / "run" / "checkpoints" / "step_00000004.safetensors").is_file()


def test_eval_command_prints_every_figure(tmp_path, monkeypatch, capsys, celeba_annotations):
    import json

    from facegan.eval.__main__ import main

    eval_tools_into(tmp_path)
    tiny_checkpoint(tmp_path, name="attrgan")
    tiny_checkpoint(tmp_path, dataclasses.replace(TINY, use_heatmap=False), name="attrgan_noheatmap")
    monkeypatch.setenv("FACEGAN_CHECKPOINTS", str(tmp_path))
    out = tmp_path / "eval.json"
    main(["attrgan", "--limit", "4", "--batch-size", "4", "--out", str(out)])
    printed = capsys.readouterr().out
    result = json.loads(out.read_text())
    rows = result["rows"]
    assert [r["use_heatmap"] for r in rows] == [True, False]
    for row in rows:
        assert row["images"] == 4 and 0 <= row["mean_success"] <= 1 and 0 <= row["mean_preservation"] <= 1
        low, high = row["mean_success_ci95"]
        assert low <= row["mean_success"] <= high and row["min_success"] <= row["mean_success"]
        assert 0 <= row["mean_no_edit_rate"] <= 1 and row["frechet_real_floor"] >= 0
        assert -1 <= row["identity_cosine_mean"] <= 1 and 0 <= row["identity_verification_rate"] <= 1
        assert row["reconstruction_psnr_db"] > 0 and set(row["attributes"]) == set(STARGAN_ATTRIBUTES)
        for name, figures in row["attributes"].items():
            lacking = figures["edits_scored"]
            assert (lacking <= 4) if name.endswith("_Hair") else (lacking == 4)  # hair: only faces lacking it
    assert set(result["paired_difference"]) == {"a", "b", "success", "verified"}
    untouched = result["full_resolution"]["attrgan"]
    assert untouched["outside_crop_mean_abs_change"] == 0  # beyond the face's crop no pixel moves
    assert "success (no-edit) / preservation" in printed and "PSNR" in printed


def test_hair_edits_switch_a_colour_on_and_are_scored_only_where_it_is_lacking():
    from facegan.eval.attrgan_metrics import edit_target

    source = torch.tensor([[1.0, 0, 0, 1, 0, 0, 0], [0, 1, 0, 0, 1, 0, 0]])  # black-haired man, blond young
    blond, scored = edit_target(source, STARGAN_ATTRIBUTES.index("Blond_Hair"), STARGAN_ATTRIBUTES)
    assert blond[:, :3].tolist() == [[0, 1, 0], [0, 1, 0]] and scored.tolist() == [True, False]
    male, scored = edit_target(source, STARGAN_ATTRIBUTES.index("Male"), STARGAN_ATTRIBUTES)
    assert male[:, 3].tolist() == [0, 1] and scored.all()


def test_pixels_the_attention_leaves_alone_stay_the_photos_own(tmp_path):
    """With the attention shut, the edit returns the photo bit for bit at its full resolution."""
    torch.manual_seed(0)
    generator = Generator(TINY)
    torch.nn.init.constant_(generator.decoder.edit_head.mask[0].bias, -40.0)  # sigmoid(-40) ~ 4e-18
    torch.nn.init.zeros_(generator.decoder.edit_head.mask[0].weight)
    export_checkpoint("attrgan", {"G": generator}, {"config": {"model": dataclasses.asdict(TINY)}, "steps": 0}, tmp_path)
    pipeline = AttributeTransfer(directory=tmp_path)
    photo = np.full((700, 640, 3), 90, np.uint8)
    photo[100:484, 120:504] = np.kron(celeba_rgb(), np.ones((3, 3, 1), np.uint8))  # a 384 px face
    edit = pipeline.edit(pipeline.prepare(photo), {"Blond_Hair": True, "Eyeglasses": True})
    assert np.array_equal(edit.photo, photo) and edit.mask.max() == 0


def test_recipe_resumes_exactly_with_the_weight_average(tmp_path, celeba_annotations):
    """4 steps straight == 2 steps + --resume to 4: G, D and G's EMA bit for bit (lazy R1 included)."""
    from facegan.train.__main__ import main

    args = ["attrgan", "--batch-size", "4", "--limit", "8", "--g-width", "8", "--d-width", "8", "--num-workers",
            "0", "--no-progress", "--guide", "none", "--device", "cpu"]
    assert main([*args, "--steps", "4", "--run-dir", str(tmp_path / "straight")]) == 0
    assert main([*args, "--steps", "2", "--run-dir", str(tmp_path / "split")]) == 0
    torch.manual_seed(999)
    assert main([*args, "--steps", "4", "--run-dir", str(tmp_path / "split"), "--resume"]) == 0
    from facegan.train.checkpoint import latest_checkpoint, load_checkpoint

    straight = load_checkpoint(latest_checkpoint(tmp_path / "straight"))[0]
    resumed = load_checkpoint(latest_checkpoint(tmp_path / "split"))[0]
    assert set(straight) == {"G", "D", "G_ema"}
    for module, weights in straight.items():
        for key, value in weights.items():
            assert torch.equal(value, resumed[module][key]), f"{module}.{key} differs after resume"


def test_sample_sheet_command(tmp_path, monkeypatch, celeba_annotations):
    from PIL import Image

    from facegan.sheets import PHOTO_CELL, main

    tiny_checkpoint(tmp_path)
    monkeypatch.setenv("FACEGAN_CHECKPOINTS", str(tmp_path))
    out = main(["attrgan", "--faces", "2", "--out", str(tmp_path / "sheet.jpg")])
    with Image.open(out) as sheet:
        assert sheet.width == 8 * PHOTO_CELL and sheet.height > 2 * PHOTO_CELL + 2 * 128


def test_the_guide_sees_only_what_survives_a_low_pass():
    from facegan.train.attrgan import low_pass

    torch.manual_seed(0)
    smooth = torch.linspace(-1, 1, 64).expand(1, 3, 64, 64)
    lattice = torch.zeros(1, 3, 64, 64)
    lattice[..., ::4, ::4] = 1.0  # the dot pattern an unfiltered guide was fooled by
    assert (low_pass(smooth, noise=0.0) - smooth).abs().mean() < 0.02
    assert low_pass(lattice, noise=0.0).std() < 0.25 * lattice.std()
