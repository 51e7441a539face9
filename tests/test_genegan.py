"""GeneGAN model, recipe, pipeline, eval command and latency benchmark (tiny untrained nets)."""

from __future__ import annotations

import dataclasses
import json
import math
import sys

import numpy as np
import pytest
import safetensors.torch
import torch

from facegan.errors import CheckpointMissingError
from facegan.models.genegan import Discriminator, GeneGANConfig, Generator, bilinear_objects
from facegan.paths import REPO_ROOT, UI_EXAMPLES_DIR
from facegan.pipelines import GeneGAN, genegan_attributes, genegan_checkpoint_name
from facegan.train.checkpoint import export_checkpoint
from tests.faces_helpers import celeba_dir, eval_tools_into

TINY = GeneGANConfig(width=8, d_width=8, object_channels=4)
PHOTOS = [str(UI_EXAMPLES_DIR / name) for name in ("astronaut.jpg", "grace_hopper.jpg")]


def tiny_checkpoint(directory, attribute: str = "Smiling"):
    torch.manual_seed(0)
    config = dataclasses.replace(TINY, attribute=attribute)
    record = {"config": {"model": dataclasses.asdict(config)}, "steps": 0}
    return export_checkpoint(genegan_checkpoint_name(attribute), {"G": Generator(config)}, record, directory)


@pytest.fixture(scope="module")
def faces():
    """The two example photos, detected and aligned once for every pipeline test."""
    return [GeneGAN.prepare(photo) for photo in PHOTOS]


def test_encoder_splits_channels_and_decoder_inverts_shapes():
    G, D = Generator(TINY), Discriminator(TINY)
    image = torch.rand(3, 3, 64, 64) * 2 - 1
    background, obj = G.encode(image)
    assert background.shape == (3, 28, 8, 8) and obj.shape == (3, 4, 8, 8)
    out = G.decode(background, obj, image)
    assert out.shape == image.shape and out.abs().max() <= 1
    kids = G(image, image.flip(0))
    assert all(t.shape == image.shape for t in (kids.au, kids.be, kids.ae, kids.bu))
    object_logit, null_logit = D(out)
    assert object_logit.shape == null_logit.shape == (3,)
    with pytest.raises(ValueError, match="object_channels"):
        GeneGANConfig(width=8, object_channels=32)


def test_children_decode_epsilon_as_zero_onto_their_parents():
    G = Generator(TINY).eval()
    au, be = torch.rand(2, 3, 64, 64) * 2 - 1, torch.rand(2, 3, 64, 64) * 2 - 1
    with torch.no_grad():
        kids = G(au, be)
        a, u = G.encode(au)
        b, epsilon = G.encode(be)
        assert torch.allclose(kids.ae, G.decode(a, None, au), atol=1e-6)
        assert torch.allclose(kids.ae, G.decode(a, torch.zeros_like(u), au), atol=1e-6)
        assert torch.allclose(kids.be, G.decode(b, None, be), atol=1e-6)  # B-epsilon' ignores the encoded epsilon
        assert not torch.allclose(kids.be, G.decode(b, epsilon, be), atol=1e-4)
        assert torch.allclose(kids.bu, G.decode(b, u, be), atol=1e-6)
        assert torch.allclose(kids.au, G.decode(a, u, au), atol=1e-6)
        assert torch.equal(kids.epsilon, epsilon) and kids.masks.shape == (8, 1, 64, 64)


def test_outside_the_object_region_a_child_is_its_parent():
    """Where the mask is 0 the child is the parent pixel for pixel, whatever the colour map says."""
    G = Generator(TINY).eval()
    torch.nn.init.constant_(G.decoder.head.mask[0].weight, 0.0)
    torch.nn.init.constant_(G.decoder.head.mask[0].bias, -1e4)  # sigmoid -> exactly 0
    au, be = torch.rand(2, 3, 64, 64) * 2 - 1, torch.rand(2, 3, 64, 64) * 2 - 1
    with torch.no_grad():
        kids = G(au, be)
    assert torch.equal(kids.bu, be) and torch.equal(kids.ae, au) and torch.equal(kids.au, au)


def test_bilinear_grid_has_the_references_at_its_corners():
    corners = torch.randn(4, 5, 2, 2)
    grid = bilinear_objects(corners, 3).reshape(3, 3, 5, 2, 2)
    for (row, col), index in {(0, 0): 0, (0, 2): 1, (2, 0): 2, (2, 2): 3}.items():
        assert torch.allclose(grid[row, col], corners[index])
    assert torch.allclose(grid[1, 1], corners.mean(0), atol=1e-6)
    assert torch.allclose(grid[0, 1], (corners[0] + corners[1]) / 2, atol=1e-6)
    with pytest.raises(ValueError):
        bilinear_objects(corners[:3], 3)


def test_parent_pairs_have_and_lack_the_attribute():
    from facegan.data.celeba import CelebADataset
    from facegan.data.attribute_pairs import ParentPairs

    celeba_dir()
    faces = CelebADataset(split="val", resolution=64, attributes=["Smiling"], limit=40)
    pairs = ParentPairs(faces)
    assert len(pairs) == len(pairs.with_object) and all(faces.labels[i, 0] == 1 for i in pairs.with_object)
    assert all(faces.labels[i, 0] == 0 for i in pairs.without_object)
    au, be = pairs[0]
    assert au.shape == be.shape == (3, 64, 64)
    with pytest.raises(ValueError, match="with and"):
        ParentPairs(CelebADataset(split="val", resolution=64, attributes=["Smiling"], limit=1))


def test_matched_parent_pairs_share_the_matched_attributes():
    from facegan.data.celeba import CelebADataset
    from facegan.data.attribute_pairs import ParentPairs

    celeba_dir()
    faces = CelebADataset(split="val", resolution=64, attributes=["Smiling", "Male"], limit=60)
    pairs = ParentPairs(faces)
    for index in range(len(pairs)):
        face = pairs.with_object[index]
        group = pairs.partners[(float(faces.labels[face, 1]),)]
        assert all(faces.labels[i, 0] == 0 and faces.labels[i, 1] == faces.labels[face, 1] for i in group)
        torch.manual_seed(index)
        au, be = pairs[index]
        torch.manual_seed(index)
        partner = group[int(torch.randint(len(group), ()))]  # the same draw: the partner comes from the group
        assert torch.equal(au, faces[face][0]) and torch.equal(be, faces[partner][0])
    men = [i for i in pairs.with_object if faces.labels[i, 1] == 1]
    women = [i for i in pairs.with_object if faces.labels[i, 1] == 0]
    assert men and women, "the first 60 val faces should hold smiling men and women"


def test_matching_fails_clearly_when_no_partner_shares_the_values():
    from facegan.data.celeba import CelebADataset
    from facegan.data.attribute_pairs import ParentPairs

    celeba_dir()
    faces = CelebADataset(split="val", resolution=64, attributes=["Mustache", "Male"], limit=200)
    faces.labels[:, 1] = (faces.labels[:, 0] > 0).float()  # every face with a mustache a man, every other a woman
    with pytest.raises(ValueError, match="no face without Mustache has the values"):
        ParentPairs(faces)


def test_recipe_trains_through_the_trainer_and_exports(tmp_path, monkeypatch):
    from facegan.train.__main__ import main

    celeba_dir()
    monkeypatch.setenv("FACEGAN_CHECKPOINTS", str(tmp_path / "ckpt"))
    run = tmp_path / "run"
    args = ["genegan", "--attribute", "Smiling", "--steps", "3", "--batch-size", "4", "--limit", "40",
            "--width", "8", "--d-width", "8", "--object-channels", "4", "--run-dir", str(run), "--num-workers", "0",
            "--no-progress", "--log-every", "1", "--samples", "12", "--image-every", "3", "--export", "genegan_smiling"]
    assert main(args) == 0
    record = json.loads((run / "checkpoints" / "step_00000003.json").read_text())
    assert record["config"]["w_parallelogram"] > 0 and record["config"]["model"]["width"] == 8
    assert set(record["metrics"]) == {
        "d_obj", "d_null", "g_obj", "g_null", "rec", "null", "parallelogram", "mask_bu", "mask_ae", "identity"
    }
    assert record["metrics"]["identity"] == 0  # off by default: the paper's objective
    assert record["config"]["match"] == [] and record["data"]["matched"] == []
    assert record["config"]["w_mask"] > 0 and record["images_per_s"] > 0
    assert all(math.isfinite(v) for v in record["metrics"].values())
    assert genegan_attributes(tmp_path / "ckpt") == ["Smiling"]
    run_weights = safetensors.torch.load_file(run / "checkpoints" / "step_00000003.safetensors")
    exported = safetensors.torch.load_file(tmp_path / "ckpt" / "genegan_smiling.safetensors")
    weight = next(key for key in exported if key.endswith("head.colour.conv.weight"))
    assert torch.equal(exported[weight], run_weights[weight.replace("G.", "G_ema.", 1)])  # the average ships
    assert not torch.equal(exported[weight], run_weights[weight])
    assert GeneGAN("Smiling", tmp_path / "ckpt").config.object_channels == 4


def test_identity_term_reads_the_judge_on_the_attributes_a_swap_keeps(tmp_path):
    from facegan.train.__main__ import main
    from facegan.train.genegan import kept_attributes

    celeba_dir()
    run = tmp_path / "run"
    args = ["genegan", "--attribute", "Blond_Hair", "--steps", "2", "--batch-size", "4", "--limit", "40",
            "--width", "8", "--d-width", "8", "--object-channels", "4", "--run-dir", str(run), "--num-workers", "0",
            "--no-progress", "--w-identity", "10", "--judge", str(REPO_ROOT / "checkpoints" / "attr_judge.safetensors"),
            "--match", "Male"]
    assert main(args) == 0
    record = json.loads((run / "checkpoints" / "step_00000002.json").read_text())
    assert record["config"]["w_identity"] == 10 and record["metrics"]["identity"] > 0
    assert record["config"]["match"] == ["Male"] and record["data"]["matched"] == ["Male"]
    kept = kept_attributes("Blond_Hair")
    assert "Male" in kept and "Mustache" in kept and not {"Blond_Hair", "Black_Hair", "Gray_Hair"} & set(kept)
    assert "No_Beard" not in kept_attributes("Mustache") and "Blond_Hair" in kept_attributes("Mustache")
    assert "Arched_Eyebrows" not in kept_attributes("Eyeglasses") and "Male" in kept_attributes("Eyeglasses")


def test_rmsprop_option_is_the_papers():
    from facegan.train.genegan import GeneGANRecipe, GeneGANTrainConfig

    config = GeneGANTrainConfig(model=TINY, optimizer="rmsprop", lr=5e-5)
    preview = (torch.zeros(1, 3, 64, 64), torch.zeros(1, 3, 64, 64))
    optimizer = GeneGANRecipe(config, torch.device("cpu"), preview).optimizers()["G"]
    assert isinstance(optimizer, torch.optim.RMSprop) and optimizer.defaults["momentum"] == 0
    assert set(GeneGANRecipe(config, torch.device("cpu"), preview).optimizers()) == {"G", "D"}  # not the EMA
    with pytest.raises(ValueError, match="unknown loss"):
        GeneGANRecipe(dataclasses.replace(config, loss="wgan"), torch.device("cpu"), preview)


def test_pipeline_swaps_removes_transplants_and_grids(tmp_path, faces):
    tiny_checkpoint(tmp_path)
    model = GeneGAN("Smiling", tmp_path)
    a, b = faces
    to_b, to_a = model.swap(a, b)
    assert to_b.output.shape == a.aligned.crop.shape and to_b.photo.shape == a.photo.shape
    assert to_a.photo.shape == b.photo.shape and not np.array_equal(to_b.output, to_a.output)
    removed = model.remove(a)
    assert removed.photo.shape == a.photo.shape
    assert np.array_equal(removed.photo[-40:], a.photo[-40:])  # far from the face: untouched
    zero = model.transplant(a, b, 0.0)
    assert np.array_equal(zero.output, model.remove(b).output)  # strength 0 is removal
    assert not np.array_equal(model.transplant(a, b, 1.5).output, zero.output)
    cell = GeneGAN.GRID_CELL
    for n in (2, 5, 8):
        assert model.grid(a, [a, b, b, a], n).shape == (cell * n, cell * n, 3)
    grid = model.grid(b, [a, a, a, a], 3)
    assert np.array_equal(grid[:cell, :cell], grid[-cell:, -cell:])  # identical references: identical corners
    with pytest.raises(ValueError, match="grid size"):
        model.grid(a, [a, b, b, a], 9)
    with pytest.raises(ValueError, match="4 reference"):
        model.grid(a, [a, b, b], 3)
    with pytest.raises(ValueError, match="strength"):
        model.transplant(a, b, -1)
    with pytest.raises(CheckpointMissingError):
        GeneGAN("Eyeglasses", tmp_path)


def test_edits_keep_the_photos_own_pixels_where_the_mask_is_zero(tmp_path, faces):
    """With an all-zero mask every operation returns the photo and the crop unchanged, at full resolution."""
    tiny_checkpoint(tmp_path)
    model = GeneGAN("Smiling", tmp_path)
    head = model.generator.decoder.head.mask[0]
    torch.nn.init.constant_(head.weight, 0.0)
    torch.nn.init.constant_(head.bias, -1e4)
    a, b = faces
    for child, face in ((model.transplant(b, a), a), (model.remove(b), b), (model.swap(a, b)[0], a)):
        assert np.array_equal(child.photo, face.photo) and np.array_equal(child.output, face.aligned.crop)


def test_eval_command_prints_every_figure(tmp_path, monkeypatch, capsys):
    from facegan.eval.__main__ import main

    celeba_dir()
    eval_tools_into(tmp_path)
    tiny_checkpoint(tmp_path, "Smiling")
    tiny_checkpoint(tmp_path, "Eyeglasses")
    monkeypatch.setenv("FACEGAN_CHECKPOINTS", str(tmp_path))
    out = tmp_path / "eval.json"
    main(["genegan", "--limit", "4", "--batch-size", "4", "--out", str(out)])
    printed = capsys.readouterr().out
    rows = json.loads(out.read_text())["rows"]
    assert [r["attribute"] for r in rows] == ["Eyeglasses", "Smiling"]
    for row in rows:
        assert row["pairs"] == 4 and 0 <= row["transplant_success"] <= 1 and 0 <= row["removal_success"] <= 1
        assert all(0 <= row[key] <= 1 for key in ("transplant_baseline", "removal_baseline", "swap_success_a"))
        assert set(row["frechet"]) == {"transplant", "removal", "real_floor"}
        assert all(-1 <= c <= 1 for c in row["identity_cosine"].values())
        assert all(0 <= row["sex_kept"][key] <= 1 for key in ("b_bu", "a_ae"))
        by_sex, men_share = row["by_sex_of_b"], row["by_sex_of_b"]["men_share"]
        assert 0 <= men_share <= 1 and (by_sex["men"]["transplant_success"] is None) == (men_share == 0)
        overall = {
            "transplant_success": row["transplant_success"], "identity_verified_b_bu": row["identity_verified"]["b_bu"]
        }
        for key in overall:
            weights = (("men", men_share), ("women", 1 - men_share))
            parts = [(by_sex[sex][key], weight) for sex, weight in weights if weight]
            assert sum(share * weight for share, weight in parts) == pytest.approx(overall[key], abs=1e-3)
        assert row["reconstruction_l1"]["au"] > 0 and row["parallelogram_l1"] > 0
        subspace = row["subspace"]
        assert len(subspace["mean_probability"]) == len(subspace["alphas"]) and 0 <= subspace["increasing_steps"] <= 1
    assert "transplant ok (baseline)" in printed and "swap: A lacks it" in printed and "Spearman" in printed
    assert "B men / women: transplant ok, verified" in printed and "sex kept B-Bu / A-Ae" in printed

    other = tmp_path / "other_judge.safetensors"  # --judge scores with other weights; the default is gone
    for suffix in (".safetensors", ".json"):
        (tmp_path / f"attr_judge{suffix}").rename(other.with_suffix(suffix))
    main(["genegan", "--attributes", "Smiling", "--limit", "4", "--judge", str(other), "--out", str(out)])
    result = json.loads(out.read_text())
    assert result["judge"] == str(other) and result["rows"][0]["pairs"] == 4


def test_latency_benchmark_smoke(tmp_path, monkeypatch):
    sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
    import common
    import genegan_latency

    monkeypatch.setattr(common, "RESULTS_DIR", tmp_path / "results")
    tiny_checkpoint(tmp_path)
    monkeypatch.setenv("FACEGAN_CHECKPOINTS", str(tmp_path))
    threads = torch.get_num_threads()
    try:
        result = genegan_latency.main(["--runs", "1", "--size", "3", "--threads", "1"])
    finally:
        torch.set_num_threads(threads)
    # One run each: only that both were timed (an ordering of single timings is noise under load).
    assert result["grid"]["p50_ms"] > 0 and result["photos_to_grid"]["p50_ms"] > 0 and result["threads"] == 1
    assert result["grid_size"] == 3 and (tmp_path / "results" / "genegan_latency.json").is_file()


def test_crossbreeds_of_crops_match_the_training_diagram_at_64px(tmp_path):
    tiny_checkpoint(tmp_path)
    model = GeneGAN("Smiling", tmp_path)
    au, be = torch.rand(2, 3, 64, 64) * 2 - 1, torch.rand(2, 3, 64, 64) * 2 - 1
    kids = model.crossbreed_crops(au, be)
    with torch.no_grad():
        diagram = model.generator(au, be)
    assert torch.allclose(kids.a_removed, diagram.ae.clamp(-1, 1), atol=1e-5)
    assert torch.allclose(kids.b_with_a, diagram.bu.clamp(-1, 1), atol=1e-5)
    assert torch.allclose(kids.b_removed, diagram.be.clamp(-1, 1), atol=1e-5)  # B has no object: Be' is B removed
    assert model.crossbreed_crops(au.repeat(1, 1, 2, 2), be.repeat(1, 1, 2, 2)).a_with_b.shape == (2, 3, 128, 128)


def test_sample_sheet_command_has_a_block_per_attribute(tmp_path, monkeypatch):
    from PIL import Image

    from facegan.sheets import GENEGAN_LABELS, VAL_CELL, main

    celeba_dir()
    tiny_checkpoint(tmp_path, "Smiling")
    tiny_checkpoint(tmp_path, "Bangs")
    monkeypatch.setenv("FACEGAN_CHECKPOINTS", str(tmp_path))
    out = main(["genegan", "--faces", "2", "--out", str(tmp_path / "sheet.jpg")])
    with Image.open(out) as sheet:
        assert sheet.width == len(GENEGAN_LABELS) * VAL_CELL and sheet.height > 2 * 3 * VAL_CELL
