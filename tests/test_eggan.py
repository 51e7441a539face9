"""EGGAN model, losses, recipe (steps, resume, export), pipeline and eval, on tiny untrained nets."""

from __future__ import annotations

import dataclasses
import json
import math
import sys

import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torchvision.transforms.functional import gaussian_blur

from facegan.errors import CheckpointMissingError
from facegan.models.judge import AttributeJudge, JudgeConfig
from facegan.faces import AU_NUMBERS
from facegan.models.eggan import (
    AUClassifier,
    EGGANConfig,
    Encoder,
    Expression,
    Generator,
    ImageCritic,
    Latent,
    LatentDiscriminator,
    apply_change,
    expression_change,
    intensity_classes,
    interpolate_aus,
)
from facegan.paths import REPO_ROOT
from facegan.faces.aus import EXPRESSION_PRESETS, preset_aus
from facegan.pipelines import DETAIL_BLUR_SIGMA, AUEditor, tensor_to_image
from facegan.train.checkpoint import export_checkpoint, latest_checkpoint, load_checkpoint
from facegan.train.eggan import au_loss, c_exp_losses, draw_targets, load_init
from facegan.train.judge_terms import IDENTITY_ATTRIBUTES, JudgeFeatures, identity_loss
from tests.faces_helpers import celeba_rgb

TINY = EGGANConfig(
    resolution=64, latent_dim=16, encoder_channels=(4, 8, 8, 8, 8), g_channels=(16, 8, 8, 8, 8), d_width=4,
    d_layers=5, c_channels=(4, 8, 8, 8, 8), latent_d_widths=(16, 8),
)  # fmt: skip
TINY_JUDGE = JudgeConfig(width=4, stages=2)


def tiny_checkpoint(directory, config: EGGANConfig = TINY, name: str = "eggan"):
    torch.manual_seed(0)
    record = {"config": {"model": dataclasses.asdict(config)}, "steps": 0}
    return export_checkpoint(name, {"E": Encoder(config), "G": Generator(config)}, record, directory)


def tiny_judge(directory):
    torch.manual_seed(0)
    record = {"config": {"model": dataclasses.asdict(TINY_JUDGE)}, "steps": 0}
    return export_checkpoint("attr_judge", {"judge": AttributeJudge(TINY_JUDGE)}, record, directory)


def test_up_residual_block_doubles_resolution_and_keeps_a_shortcut():
    from facegan.nn import UpResidualBlock

    narrowing, same = UpResidualBlock(8, 4), UpResidualBlock(4, 4)
    assert narrowing(torch.randn(2, 8, 5, 5)).shape == (2, 4, 10, 10)
    assert isinstance(narrowing.shortcut, torch.nn.Conv2d) and isinstance(same.shortcut, torch.nn.Identity)
    torch.nn.init.zeros_(same.body[1].conv.weight)  # F(x) = 0: the block is PReLU(upsampled x)
    torch.nn.init.zeros_(same.body[1].norm.bias)
    x = torch.rand(1, 4, 3, 3)
    assert torch.allclose(same(x), torch.nn.functional.interpolate(x, scale_factor=2, mode="nearest"))


def test_paper_architecture_shapes_at_128():
    config = EGGANConfig()
    image = torch.randn(2, 3, 128, 128)
    latent = Encoder(config)(image)
    assert latent.code.shape == (2, config.latent_dim) and latent.skips == ()
    assert [m.out_channels for m in Encoder(config).convs.modules() if isinstance(m, torch.nn.Conv2d)] == [
        16, 32, 64, 128, 256,
    ]  # fmt: skip
    out, mask = Generator(config)(latent, torch.rand(2, 17) * 5)
    assert out.shape == image.shape and out.abs().max() <= 1
    assert mask.shape == (2, 1, 128, 128) and 0 <= mask.min() and mask.max() <= 1
    assert Generator(dataclasses.replace(config, gated=False))(latent, torch.rand(2, 17)).mask is None
    assert len(Generator(config).blocks) == 6
    assert ImageCritic(config)(out).shape == (2,)
    assert AUClassifier(config)(out).shape == (2, 17, 6)
    widths = [m.out_features for m in LatentDiscriminator(config).net if isinstance(m, torch.nn.Linear)]
    assert widths == [256, 128, 64, 32, 16, 1]
    with pytest.raises(ValueError, match="up-sampling blocks"):
        EGGANConfig(resolution=64)


def test_generator_follows_the_au_condition():
    G = Generator(TINY).eval()
    latent = Latent(torch.randn(1, TINY.latent_dim))
    neutral, smile = G(latent, torch.zeros(1, 17)).face, G(latent, torch.full((1, 17), 5.0)).face
    assert (neutral - smile).abs().mean() > 1e-4
    halfway = interpolate_aus(torch.zeros(1, 17), torch.full((1, 17), 4.0), 0.25)
    assert torch.allclose(halfway, torch.ones(1, 17))


def test_the_masked_change_leaves_the_face_where_the_mask_is_zero():
    face, rec = torch.full((1, 3, 4, 4), 0.5), torch.zeros(1, 3, 4, 4)
    mask = torch.zeros(1, 1, 4, 4)
    mask[..., :2, :] = 1
    change = expression_change(Expression(face, mask), rec)
    assert torch.equal(change[..., :2, :], torch.full((1, 3, 2, 4), 0.5)) and not change[..., 2:, :].any()
    assert torch.equal(expression_change(Expression(face, None), rec), face)  # ungated: the whole change
    photo = torch.full((1, 3, 8, 8), 0.8)
    edited = apply_change(photo, change)  # upsampled to the photo; clamped to [-1, 1]
    assert edited.shape == photo.shape and edited.max() == 1 and torch.equal(edited[..., 5:, :], photo[..., 5:, :])


def test_a_gated_generator_starts_from_an_ungated_checkpoint():
    plain = dataclasses.replace(TINY, gated=False)
    torch.manual_seed(1)
    E, G = Encoder(plain), Generator(plain)
    state = {"E": E.state_dict(), "G": G.state_dict()}
    gated_E, gated_G = Encoder(TINY), Generator(TINY)
    load_init(gated_E, gated_G, state)
    assert torch.equal(gated_G.to_rgb.conv.weight, G.to_rgb.conv.weight)
    assert torch.equal(gated_E.fc.weight, E.fc.weight)
    with pytest.raises(ValueError, match="does not fit G"):
        load_init(Encoder(plain), Generator(plain), {"E": state["E"], "G": gated_G.state_dict()})


SKIPS = dataclasses.replace(TINY, skip_resolutions=(16, 32))


def test_skips_carry_encoder_maps_at_their_sizes_and_start_as_the_g_without_them():
    torch.manual_seed(1)
    E, G = Encoder(TINY), Generator(TINY)
    skip_E, skip_G = Encoder(SKIPS), Generator(SKIPS)
    load_init(skip_E, skip_G, {"E": E.state_dict(), "G": G.state_dict()})
    image, aus = torch.rand(2, 3, 64, 64) * 2 - 1, torch.rand(2, 17) * 5
    latent = skip_E(image)
    assert [tuple(t.shape) for t in latent.skips] == [(2, 8, 16, 16), (2, 4, 32, 32)]
    assert torch.equal(latent.code, E(image).code)
    assert torch.equal(skip_G(latent, aus).face, G(E(image), aus).face)  # zero-initialised projections
    torch.nn.init.normal_(skip_G.skips["32"].weight)
    changed = skip_G(latent, aus).face
    assert (changed - G(E(image), aus).face).abs().mean() > 1e-3
    other = latent._replace(skips=(latent.skips[0], torch.zeros_like(latent.skips[1])))
    assert not torch.allclose(skip_G(other, aus).face, changed)  # the 32 px map reaches the face
    with pytest.raises(ValueError, match="skip resolutions"):
        dataclasses.replace(TINY, skip_resolutions=(64,))  # E's largest map is 32 px at 64 px


def test_a_latent_expands_and_slices_code_and_skips_together():
    latent = Latent(torch.randn(1, 4), (torch.randn(1, 2, 8, 8),))
    wide = latent.expand(3)
    assert wide.batch == 3 and wide.skips[0].shape == (3, 2, 8, 8) and torch.equal(wide.code[2], latent.code[0])
    assert wide.map(lambda t: t[:2]).batch == 2 and wide.map(lambda t: t[:2]).skips[0].shape[0] == 2


def test_au_loss_is_eq3_cross_entropy_over_rounded_levels():
    aus = torch.tensor([[0.2, 1.6, 4.9, 5.0]])
    assert intensity_classes(aus).tolist() == [[0, 2, 5, 5]]
    perfect = torch.full((1, 4, 6), -30.0)
    perfect[0, [0, 1, 2, 3], [0, 2, 5, 5]] = 30.0
    assert au_loss(perfect, aus) < 1e-6
    uniform = torch.zeros(1, 4, 6)
    assert au_loss(uniform, aus) == pytest.approx(math.log(6))


def test_c_exp_learns_edits_as_the_annotator_reads_them(monkeypatch):
    """Edits are labelled by the annotator, not by their target AUs; edits without a face are left out."""
    import facegan.train.eggan as recipe

    measured = np.full((3, 17), np.nan, np.float32)
    measured[[0, 2]] = 4.0
    monkeypatch.setattr(recipe, "measure_aus", lambda images: (measured, ~np.isnan(measured[:, 0])))
    seen = []

    def reads_level_4(images):
        seen.append(len(images))
        assert not images.requires_grad  # C_exp's update must not reach G through the edits
        logits = torch.full((len(images), 17, 6), -30.0)
        logits[..., 4] = 30.0
        return logits

    real, edits = torch.zeros(2, 3, 8, 8), torch.zeros(3, 3, 8, 8, requires_grad=True)
    on_real, on_edits = c_exp_losses(reads_level_4, real, torch.zeros(2, 17), edits)
    assert seen == [2, 2] and on_edits < 1e-6 and on_real > 10
    assert c_exp_losses(reads_level_4, real, torch.zeros(2, 17), None)[1] == 0


def test_identity_loss_is_zero_on_agreement_and_positive_otherwise():
    logits = torch.randn(3, len(IDENTITY_ATTRIBUTES))
    assert identity_loss(logits, logits).abs() < 1e-6
    assert identity_loss(-logits, logits) > 0.1
    assert "Smiling" not in IDENTITY_ATTRIBUTES and "Male" in IDENTITY_ATTRIBUTES


def test_judge_features_give_layer3_maps_and_gradients():
    features = JudgeFeatures(AttributeJudge(TINY_JUDGE))
    images = torch.randn(2, 3, 64, 64, requires_grad=True)
    phi, logits = features(images)
    assert phi.shape == (2, TINY_JUDGE.width, 32, 32) and logits.shape == (2, len(IDENTITY_ATTRIBUTES))
    phi.sum().backward()
    assert images.grad is not None and images.grad.abs().sum() > 0
    assert not any(p.requires_grad for p in features.judge.parameters())


def test_targets_are_other_faces_or_points_on_the_way():
    torch.manual_seed(0)
    aus = torch.arange(8, dtype=torch.float32)[:, None].expand(8, 17).contiguous()
    exact = draw_targets(aus, interpolated=0.0)
    assert sorted(exact[:, 0].tolist()) == aus[:, 0].tolist()  # a permutation of the batch's AUs
    mixed = draw_targets(aus, interpolated=1.0)
    assert (mixed >= 0).all() and (mixed <= 7).all()


def test_presets_are_facs_vectors():
    happy = preset_aus("happy")
    assert happy.shape == (17,) and happy[AU_NUMBERS.index(12)] > 0 and happy[AU_NUMBERS.index(4)] == 0
    assert set(EXPRESSION_PRESETS) == {"happy", "sad", "surprise", "anger", "disgust", "fear", "contempt"}
    assert all(0 <= v <= 5 for p in EXPRESSION_PRESETS.values() for v in p.values())
    with pytest.raises(ValueError, match="unknown expression preset"):
        preset_aus("bored")


def _train_args(tmp_path, run, steps, *extra):
    return ["eggan", "--steps", str(steps), "--batch-size", "4", "--limit", "8", "--resolution", "64",
            "--latent-dim", "16", "--g-channels", "16", "8", "8", "8", "8", "--d-width", "4",
            "--judge", str(tmp_path / "judge" / "attr_judge.safetensors"), "--run-dir", str(run),
            "--num-workers", "0", "--no-progress", "--device", "cpu", "--seed", "5", "--decay-steps", "4",
            *extra]  # fmt: skip


@pytest.fixture
def trainable(tmp_path, celeba_annotations):
    tiny_judge(tmp_path / "judge")
    return tmp_path


def test_recipe_trains_samples_and_exports(trainable, monkeypatch):
    from facegan.train.__main__ import main

    tmp_path = trainable
    monkeypatch.setenv("FACEGAN_CHECKPOINTS", str(tmp_path / "ckpt"))
    run = tmp_path / "run"
    assert main(_train_args(tmp_path, run, 2, "--log-every", "1", "--samples", "8", "--image-every", "2",
                            "--w-c-edits", "0.5", "--export", "eggan")) == 0  # fmt: skip
    record = json.loads((run / "checkpoints" / "step_00000002.json").read_text())
    assert record["config"]["w_au"] == 100 and record["config"]["w_id"] == 60 and record["config"]["w_gp"] == 20
    assert record["config"]["w_c_edits"] == 0.5
    assert record["config"]["model"]["resolution"] == 64 and record["data"]["counts"]["images"] == 8
    metrics = record["metrics"]
    logged = {"d_adv", "gp", "dz", "c_au", "c_edits", "g_au", "g_id", "g_per", "rec_l1", "rec_msssim", "mask_mean"}
    assert logged <= set(metrics)
    assert 0 < metrics["mask_mean"] < 1 and record["config"]["w_mask"] == 10
    assert all(math.isfinite(v) for v in metrics.values())
    shipped = json.loads((tmp_path / "ckpt" / "eggan.json").read_text())
    assert shipped["modules"] == ["E", "G"]
    assert AUEditor(directory=tmp_path / "ckpt").config.g_channels == (16, 8, 8, 8, 8)


def test_a_gated_run_starts_from_an_exported_ungated_one(trainable, monkeypatch):
    from facegan.train.__main__ import main

    tmp_path = trainable
    monkeypatch.setenv("FACEGAN_CHECKPOINTS", str(tmp_path / "ckpt"))
    assert main(_train_args(tmp_path, tmp_path / "plain", 1, "--no-gate", "--export", "eggan_plain")) == 0
    plain = json.loads((tmp_path / "ckpt" / "eggan_plain.json").read_text())
    assert plain["config"]["model"]["gated"] is False
    args = _train_args(tmp_path, tmp_path / "gated", 1, "--init", "eggan_plain", "--c-warmup", "1", "--w-c-edits", "1",
                       "--export", "eggan")  # fmt: skip
    assert main(args) == 0
    gated = json.loads((tmp_path / "ckpt" / "eggan.json").read_text())
    assert gated["config"]["model"]["gated"] is True and gated["config"]["init"] == "eggan_plain"
    assert gated["metrics"].keys() == {"c_au", "c_edits"}  # the warm-up step trained C_exp alone
    plain_g, gated_g = (AUEditor(name, tmp_path / "ckpt").generator for name in ("eggan_plain", "eggan"))
    assert plain_g.to_mask is None and torch.equal(plain_g.to_rgb.conv.weight, gated_g.to_rgb.conv.weight)


def test_resume_reproduces_uninterrupted_run(trainable):
    """4 steps straight == 2 steps + --resume to 4, bitwise, for all five networks."""
    from facegan.train.__main__ import main

    tmp_path = trainable
    assert main(_train_args(tmp_path, tmp_path / "straight", 4)) == 0
    assert main(_train_args(tmp_path, tmp_path / "split", 2)) == 0
    torch.manual_seed(999)  # disturb the global RNG: resume must restore it
    assert main(_train_args(tmp_path, tmp_path / "split", 4, "--resume")) == 0
    straight = load_checkpoint(latest_checkpoint(tmp_path / "straight"))[0]
    resumed = load_checkpoint(latest_checkpoint(tmp_path / "split"))[0]
    assert straight.keys() == resumed.keys() == {"E", "G", "D", "Dz", "C", "E_ema", "G_ema"}
    for module, weights in straight.items():
        for key, value in weights.items():
            assert torch.equal(value, resumed[module][key]), f"{module}.{key} differs after resume"


@pytest.fixture
def face_photo():
    photo = np.full((300, 260, 3), 90, np.uint8)
    photo[60:188, 70:198] = celeba_rgb()
    return photo


def test_pipeline_encodes_once_edits_interpolates_and_pastes_back(tmp_path, face_photo):
    tiny_checkpoint(tmp_path)
    editor = AUEditor(directory=tmp_path)
    face = editor.encode(face_photo)
    assert face.latent.code.shape == (1, TINY.latent_dim) and face.aus.shape == (17,)
    assert (0 <= face.aus).all() and (face.aus <= 5).all()
    edit = editor.edit(face, preset_aus("surprise"))
    assert edit.output.shape == (128, 128, 3) and edit.photo.shape == face_photo.shape  # the photo's own 128 px
    assert np.array_equal(edit.photo[:20], face_photo[:20])  # far from the face: untouched
    assert not np.array_equal(edit.output, editor.edit(face, preset_aus("sad")).output)
    frames = editor.interpolate(face, preset_aus("happy"), 4)
    assert len(frames) == 4  # alpha = 0 is the face's own AUs (batched: equal up to float rounding)
    assert np.abs(frames[0].astype(int) - editor.edit(face, face.aus).output).max() <= 1
    last = editor.edit(face, preset_aus("happy")).output.astype(int)
    assert np.abs(frames[-1] - last).max() <= 1  # alpha = 1 is the target, up to float rounding
    with pytest.raises(ValueError, match="17 AU intensities"):
        editor.edit(face, [1.0, 2.0])
    generated = editor.interpolate(face, preset_aus("happy"), 4, keep_detail=False)
    assert not np.array_equal(generated[-1], frames[-1])


def test_keeping_detail_adds_only_the_generators_change_to_the_photo(tmp_path, face_photo):
    tiny_checkpoint(tmp_path)
    editor = AUEditor(directory=tmp_path)
    face = editor.encode(face_photo)
    own = editor.edit(face, face.aus).output  # no change asked: the aligned photo itself
    np.testing.assert_array_equal(own, tensor_to_image(face.sharp_crop))
    assert not np.array_equal(own, editor.edit(face, face.aus, keep_detail=False).output)
    smile = preset_aus("happy")
    edited = editor.render(face.latent, smile)
    change = edited.mask * (edited.face - face.reconstruction)
    expected = tensor_to_image(face.sharp_crop + F.interpolate(change, size=own.shape[:2], mode="bilinear"))
    assert np.abs(editor.edit(face, smile).output.astype(int) - expected).max() <= 1


def test_an_ungated_generators_change_is_blurred_before_it_is_added(tmp_path, face_photo):
    tiny_checkpoint(tmp_path, dataclasses.replace(TINY, gated=False))
    editor = AUEditor(directory=tmp_path)
    face = editor.encode(face_photo)
    smile = preset_aus("happy")
    change = editor.render(face.latent, smile).face - face.reconstruction
    change = gaussian_blur(change, kernel_size=5, sigma=DETAIL_BLUR_SIGMA)
    size = face.sharp_crop.shape[-2:]
    expected = tensor_to_image(face.sharp_crop + F.interpolate(change, size=size, mode="bilinear"))
    assert np.abs(editor.edit(face, smile).output.astype(int) - expected).max() <= 1


def test_detail_is_kept_at_the_photos_own_resolution(tmp_path):
    tiny_checkpoint(tmp_path)
    editor = AUEditor(directory=tmp_path)
    big = cv2.resize(celeba_rgb(), (384, 384), interpolation=cv2.INTER_CUBIC)  # the face spans ~380 px
    face = editor.encode(big)
    assert 320 <= face.sharp_crop.shape[-1] <= 448 and face.sharp_crop.shape[-1] % 16 == 0
    sharp, generated = editor.edit(face, preset_aus("happy")), editor.edit(face, preset_aus("happy"), False)
    assert sharp.output.shape[0] == face.sharp_crop.shape[-1] and generated.output.shape == (64, 64, 3)
    assert sharp.photo.shape == generated.photo.shape == big.shape
    small = editor.encode(celeba_rgb())  # a 128 px photo: nothing to gain above the template size
    assert small.sharp_crop.shape[-1] == 128
    with pytest.raises(ValueError, match="frames"):
        editor.interpolate(face, preset_aus("happy"), 1)
    with pytest.raises(CheckpointMissingError, match="python -m facegan.train eggan"):
        AUEditor("missing", tmp_path)


def test_eval_metrics_on_known_values():
    from facegan.eval.eggan_metrics import au_table, derangement, interpolation_scores

    order = derangement(50, seed=1)
    assert sorted(order.tolist()) == list(range(50)) and not (order == np.arange(50)).any()
    rng = np.random.default_rng(0)
    target = rng.uniform(0, 5, (40, 17)).astype(np.float32)
    target[:, AU_NUMBERS.index(9)] = 0
    perfect = au_table(target, target)
    assert perfect["mse_avg"] == 0 and perfect["pcc"]["12"] == pytest.approx(1.0)
    assert perfect["pcc"]["9"] is None and perfect["pcc_undefined"] == [9]
    noisy = au_table(target, target + rng.normal(0, 1, target.shape))
    assert 0.5 < noisy["mse_avg"] < 1.5 and noisy["pcc_avg"] < 1
    source = np.zeros((2, 17), np.float32)
    goal = np.full((2, 17), 4.0, np.float32)
    alphas = np.array([0, 0.25, 0.5, 0.75, 1.0])
    rising = source[:, None, :] + alphas[None, :, None] * (goal - source)[:, None, :]
    scores = interpolation_scores(source, goal, rising)
    assert scores["monotonicity_spearman"] == pytest.approx(1.0) and scores["steps_toward_target"] == 1.0
    assert scores["mean_abs_distance_to_target"][0] == 4 and scores["mean_abs_distance_to_target"][-1] == 0
    falling = interpolation_scores(source, goal, rising[:, ::-1])
    assert falling["monotonicity_spearman"] == pytest.approx(-1.0) and falling["steps_toward_target"] == 0


def test_eval_command_prints_table1_with_the_baseline(trainable, monkeypatch, capsys):
    pytest.importorskip("dlib")
    from facegan.eval.__main__ import main

    tmp_path = trainable
    tiny_checkpoint(tmp_path)
    monkeypatch.setenv("FACEGAN_CHECKPOINTS", str(tmp_path))
    out = tmp_path / "eval.json"
    judge = str(tmp_path / "judge" / "attr_judge.safetensors")
    main(["eggan", "--limit", "6", "--interp-limit", "3", "--batch-size", "4", "--judge", judge, "--out", str(out)])
    printed = capsys.readouterr().out
    result = json.loads(out.read_text())
    modes = {"eggan", "eggan_detail"}
    assert result["sources"] == 6 and set(result["table1"]) == modes | {"output_equals_input"}
    baseline = result["table1"]["output_equals_input"]
    assert set(baseline["mse"]) == {str(n) for n in AU_NUMBERS} and baseline["mse_avg"] > 0
    assert result["reconstruction"]["psnr"] > 0
    assert all(0 <= result["identity_verified"][mode] <= 1 for mode in modes)
    assert all(len(result["interpolation"][mode]["mean_abs_distance_to_target"]) == 5 for mode in modes)
    for row in ("| MSE | output = input |", "| MSE | EGGAN, generated face |", "| PCC | EGGAN, photo detail kept |"):
        assert row in printed
    assert "monotonicity" in printed
    assert all(result["chroma_change_outside_features"][mode] >= 0 for mode in modes)
    assert set(result["chroma_ripple_added_inside_features"]) == modes and "chroma ripple added inside" in printed
    assert set(result["frechet"]) == modes | {"real_floor"} and "| real vs real (floor) |" in printed


def test_chroma_change_counts_only_colour_outside_the_features():
    from facegan.eval.eggan_metrics import chroma_change_outside
    from facegan.faces.align import feature_region_mask

    points = np.array(json.loads((REPO_ROOT / "facegan/faces/celeba_template.json").read_text())["points68"])
    regions = feature_region_mask(points, 128)[None]
    assert regions[0, 64, 64] and not regions[0, 5, 5] and not regions[0, 120, 64]  # nose yes; corner, chin no
    before = torch.zeros(1, 3, 128, 128)
    brighter = before + 0.5  # grey to lighter grey: luma only
    assert chroma_change_outside(before, brighter, regions)[0] == pytest.approx(0, abs=1e-4)
    redder = before.clone()
    redder[:, 0] += 2 * 10 / 255  # +10 of 255 in red everywhere
    expected = (0.168736 + 0.5) * 10 / 2  # mean of |dCb| and |dCr|
    assert chroma_change_outside(before, redder, regions)[0] == pytest.approx(expected, rel=1e-3)
    inside_only = before.clone()
    inside_only[:, 0][torch.from_numpy(regions)] += 0.5
    assert chroma_change_outside(before, inside_only, regions)[0] == pytest.approx(0, abs=1e-4)


def test_chroma_ripple_sees_stripes_inside_the_features_and_not_smooth_colour():
    from facegan.eval.eggan_metrics import chroma_ripple_added_inside
    from facegan.faces.align import feature_region_mask

    points = np.array(json.loads((REPO_ROOT / "facegan/faces/celeba_template.json").read_text())["points68"])
    regions = feature_region_mask(points, 128)[None]
    before = torch.zeros(1, 3, 128, 128)
    smooth = before.clone()
    smooth[:, 0] += torch.linspace(0, 0.5, 128)[:, None]  # a gentle red gradient: no ripple
    assert chroma_ripple_added_inside(before, smooth, regions)[0] == pytest.approx(0, abs=0.05)
    striped = before.clone()
    striped[:, 0, ::2] += 0.2  # red on every other row
    expected = 2 * (0.5 + 0.168736) * 0.2 * 127.5 / 2  # |Laplacian| of a +-a row pattern is 2a; mean of Cb, Cr
    assert chroma_ripple_added_inside(before, striped, regions)[0] == pytest.approx(expected, rel=1e-3)
    outside_only = before.clone()
    outside_only[:, 0, ::2][:, ~torch.from_numpy(regions[0])[::2]] += 0.2
    assert chroma_ripple_added_inside(before, outside_only, regions)[0] < chroma_ripple_added_inside(
        before, striped, regions
    )[0] / 4
    assert chroma_ripple_added_inside(striped, striped, regions)[0] == 0


def test_sample_sheet_shows_both_modes(tmp_path, monkeypatch, celeba_annotations):
    from PIL import Image

    from facegan.sheets import HEADER, PHOTO_CELL, main

    tiny_checkpoint(tmp_path)
    monkeypatch.setenv("FACEGAN_CHECKPOINTS", str(tmp_path))
    out = main(["eggan", "--faces", "2", "--out", str(tmp_path / "sheet.jpg")])
    with Image.open(out) as sheet:  # 2 photos and 2 val faces (64 px), each in both modes, 8 columns
        assert sheet.size == (8 * PHOTO_CELL, 4 * HEADER + 2 * 2 * PHOTO_CELL + 2 * 2 * 64)


def test_latency_benchmark_smoke(tmp_path, monkeypatch):
    sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
    import common
    import eggan_latency

    monkeypatch.setattr(common, "RESULTS_DIR", tmp_path / "results")
    tiny_checkpoint(tmp_path)
    monkeypatch.setenv("FACEGAN_CHECKPOINTS", str(tmp_path))
    result = eggan_latency.main(["--runs", "2", "--warmup", "1"])
    assert 0 < result["render"]["p50_ms"] <= result["render"]["p95_ms"]
    assert result["resolution"] == 64 and (tmp_path / "results" / "eggan_latency.json").is_file()
