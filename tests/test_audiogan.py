"""Audio-to-scene model, recipe step, distance augmentation and pipeline (tiny untrained nets)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from facegan.audio.data import GAN_SCENES, SCENE_OF_SOUND, SOUND_CLASSES, read_clip_index, scene_to_draw, sounds_root
from facegan.audio.examples import EXAMPLE_SOUNDS
from facegan.audio.features import SoundFeaturizer
from facegan.audio.io import WINDOW
from facegan.audio.synth import sea_waves
from facegan.errors import CheckpointMissingError, InvalidAudioError
from facegan.eval.audiogan_metrics import example_sounds, gradient_energy, zoom_estimate
from facegan.eval.scene_judge import inception_score
from facegan.models.audiogan import Discriminator, Generator, pick_recognisable
from facegan.pipelines import SoundToScene, tensor_to_image
from facegan.models.audiogan import zoom, zoom_for_level
from facegan.train.audiogan import VARIANTS, AudioGANRecipe, AudioGANTrainConfig, PairDataset
from facegan.train.loop import Trainer, TrainData, TrainOptions
from tests.audio_helpers import TINY_FEATURES, lively, tiny_audiogan_checkpoint, tiny_model


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_every_rung_has_the_right_shapes(variant: str) -> None:
    v = VARIANTS[variant]
    config = tiny_model(spectral=v.spectral, conditioning=v.conditioning, aux_classifier=v.aux_classifier)
    s, z = torch.randn(3, config.cond_dim), torch.randn(3, config.z_dim)
    image = Generator(config)(s, z)
    assert image.shape == (3, 3, 64, 64) and image.abs().max() <= 1
    score, logits = Discriminator(config)(image, s)
    assert score.shape == (3,)
    assert (logits.shape == (3, config.num_scenes)) if v.aux_classifier else logits is None


def test_the_sound_vector_changes_the_image() -> None:
    G = lively(Generator(tiny_model())).eval()
    z = torch.randn(1, 10)
    assert (G(torch.zeros(1, TINY_FEATURES.dim), z) - G(torch.ones(1, TINY_FEATURES.dim), z)).abs().mean() > 1e-4


def test_zoom_enlarges_by_its_factor() -> None:
    ramp = torch.linspace(-1, 1, 64).expand(1, 3, 64, 64).clone()
    assert torch.allclose(zoom(ramp, torch.ones(1)), ramp, atol=1e-5)
    zoomed = zoom(ramp, torch.tensor([2.0]))
    slope = (zoomed[0, 0, 0, 40] - zoomed[0, 0, 0, 24]) / 16
    assert float(slope) == pytest.approx(float(ramp[0, 0, 0, 1] - ramp[0, 0, 0, 0]) / 2, rel=0.02)
    textured = torch.rand(4, 3, 64, 64) * 2 - 1
    assert zoom_estimate(textured, zoom(textured, torch.full((4,), 2.0))) > 1.5
    assert gradient_energy(textured).shape == (4,)


def test_louder_than_typical_means_closer_within_bounds() -> None:
    factors = zoom_for_level(torch.tensor([-40.0, -6.0206, 0.0, 6.0206, 40.0]), 0.5)
    assert factors.tolist() == pytest.approx([0.5, 2**-0.5, 1.0, 2**0.5, 2.0], rel=1e-4)
    assert float(zoom_for_level(torch.tensor([-40.0]), 0.5, min_zoom=0.75)) == pytest.approx(0.75)


def test_inception_score_bounds() -> None:
    confident = np.eye(6)[np.arange(600) % 6]
    assert inception_score(confident)[0] == pytest.approx(6.0, abs=0.3)  # folds are not exactly balanced
    assert inception_score(np.full((600, 6), 1 / 6))[0] == pytest.approx(1.0)


def test_residual_generator_with_camera_zooms_in_as_the_level_rises() -> None:
    torch.manual_seed(0)
    G = lively(Generator(tiny_model(generator="residual", camera_zoom=True, zoom_slope=0.4))).eval()
    s = torch.randn(1, TINY_FEATURES.dim).repeat(5, 1)
    s[:, -1] = torch.tensor([-3.0, -1.0, 0.0, 1.0, 3.0])
    with torch.no_grad():
        factors = G.camera.factors(s)
    assert torch.all(factors.diff() > 0) and float(factors.min()) >= 0.5 and float(factors.max()) <= 2.0
    assert float(G.camera.slope) == pytest.approx(0.4) and not list(G.camera.parameters())  # a fixed layer
    with torch.no_grad():
        images = G(s, torch.zeros(5, 10))
        scene = G.net(torch.cat([s, torch.zeros(5, 10)], dim=1))
    assert images.shape == (5, 3, 64, 64) and images.abs().max() <= 1
    assert torch.allclose(images, zoom(scene, factors), atol=1e-6)


def test_camera_reads_each_kind_of_sound_s_typical_level() -> None:
    torch.manual_seed(0)
    camera = Generator(tiny_model(camera_zoom=True, zoom_slope=0.5)).camera
    s = torch.randn(200, TINY_FEATURES.dim)
    typical = 0.8 * s[:, 0] - 0.3
    camera.fit_reference(s, typical)
    s[:, -1] = typical  # every clip exactly as loud as its kind usually is: no zoom
    with torch.no_grad():
        assert torch.allclose(camera.factors(s), torch.ones(200), atol=0.02)


@pytest.mark.parametrize(("variant", "options"), [
    ("cgan", {}),
    ("full", {}),
    ("full", {"diffaugment": ("colour", "translation", "cutout"), "ema_decay": 0.9, "camera": True}),
])  # fmt: skip
def test_recipe_trains_a_few_steps(tmp_path, variant: str, options: dict) -> None:
    torch.manual_seed(0)
    v = VARIANTS[variant]
    camera = {"generator": "residual", "camera_zoom": True, "zoom_slope": 0.3} if options.pop("camera", False) else {}
    model = tiny_model(spectral=v.spectral, conditioning=v.conditioning, aux_classifier=v.aux_classifier, **camera)
    config = AudioGANTrainConfig(model=model, features=TINY_FEATURES, variant=variant, loss=v.loss, **options)
    table = torch.randn(16, 3, TINY_FEATURES.dim)
    images = torch.randint(0, 256, (20, 3, 64, 64), dtype=torch.uint8)
    dataset = PairDataset(
        table, [i % 5 for i in range(16)], images, torch.arange(20) % 5, (-6.0, 0.0, 6.0), torch.randn(16), 0.25, 0.5
    )
    recipe = AudioGANRecipe(config, SoundFeaturizer(TINY_FEATURES), table[:4, 1], torch.device("cpu"))
    options = TrainOptions(steps=3, batch_size=4, run_dir=tmp_path, num_workers=0, progress=False, ckpt_every_s=1e9)
    before = [p.clone() for p in recipe.G.parameters()]
    metrics = Trainer(recipe, TrainData(dataset, {}), options).fit()
    assert all(np.isfinite(value) for value in metrics.values())
    assert any(not torch.equal(a, b) for a, b in zip(before, recipe.G.parameters()))
    assert set(recipe.inference_modules()) == {"G", "features", "D"}  # D's scene head picks the clearest z
    exported = recipe.inference_modules()["G"]
    if config.ema_decay > 0:
        assert exported is recipe.nets["G_ema"] and any(
            not torch.equal(a, b) for a, b in zip(exported.parameters(), recipe.G.parameters())
        )


@pytest.fixture
def tiny_pipeline(tmp_path, monkeypatch) -> SoundToScene:
    monkeypatch.setenv("FACEGAN_CHECKPOINTS", str(tmp_path))
    tiny_audiogan_checkpoint(tmp_path)
    return SoundToScene()


def test_pipeline_generates_seeded_scenes_at_any_volume(tiny_pipeline: SoundToScene) -> None:
    prepared = tiny_pipeline.prepare((16_000, sea_waves()))
    assert len(prepared.window) == WINDOW
    a, b = tiny_pipeline.generate(prepared, 1.0, seeds=[0, 1])
    assert a.shape == (64, 64, 3) and a.dtype == np.uint8 and not np.array_equal(a, b)
    np.testing.assert_array_equal(a, tiny_pipeline.generate(prepared, 1.0, seeds=[0])[0])
    assert not np.array_equal(a, tiny_pipeline.generate(prepared, 3.0, seeds=[0])[0])
    assert sum(tiny_pipeline.classify(prepared).values()) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="between 0.5x and 3x"):
        tiny_pipeline.generate(prepared, 5.0)


def test_the_scene_to_draw_skips_a_sound_without_a_scene() -> None:
    probabilities = torch.zeros(2, len(SOUND_CLASSES))
    probabilities[0, SOUND_CLASSES.index("rain")] = 0.9
    probabilities[1, SOUND_CLASSES.index("dog_bark")] = 0.8  # dog_bark has no scene: the next class decides
    probabilities[1, SOUND_CLASSES.index("sea_waves")] = 0.15
    assert scene_to_draw(probabilities).tolist() == [GAN_SCENES.index("forest"), GAN_SCENES.index("sea")]


def test_pick_recognisable_keeps_the_candidate_the_scene_head_rates_highest() -> None:
    torch.manual_seed(0)
    config = tiny_model()
    generator, critic = lively(Generator(config)).eval(), Discriminator(config).eval()
    s, candidates = torch.randn(3, config.cond_dim), torch.randn(3, 6, config.z_dim)
    scene = torch.tensor([0, 2, 4])
    with torch.inference_mode():
        picked = pick_recognisable(generator, critic, s, scene, candidates)
        for row in range(3):
            images = generator(s[row].expand(6, -1), candidates[row])
            log_p = critic(images, s[row].expand(6, -1))[1].log_softmax(1)[:, scene[row]]
            assert torch.equal(picked[row], candidates[row, log_p.argmax()])
    with pytest.raises(ValueError, match="scene head"):
        pick_recognisable(generator, Discriminator(tiny_model(aux_classifier=False)), s, scene, candidates)


def test_the_pick_is_made_at_unit_gain_so_volume_moves_only_the_camera(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("FACEGAN_CHECKPOINTS", str(tmp_path))
    tiny_audiogan_checkpoint(tmp_path)
    model = SoundToScene()
    assert model.best_of == SoundToScene.BEST_OF and model.critic is not None
    prepared = model.prepare((16_000, sea_waves()))
    row = model.volume_row(prepared, seed=5)
    for gain, image in zip(SoundToScene.VOLUME_ROW, row, strict=True):
        np.testing.assert_array_equal(image, model.generate(prepared, gain, seeds=[5])[0])
    picked = _picked_by_hand(model, *model._inputs(prepared, 1.0), model._seeded_candidates([5])[0])
    with torch.inference_mode():
        expected = model.generator(model.features(*model._inputs(prepared, 3.0)), picked[None])
    np.testing.assert_array_equal(row[-1], tensor_to_image(expected[0]))


@torch.inference_mode()
def _picked_by_hand(model: SoundToScene, logmel: torch.Tensor, logspec: torch.Tensor, candidates: torch.Tensor):
    """The z a sound at unit gain [1, ...] should get from its candidates [K, z_dim], computed apart
    from ``pick_noise``: the candidate whose image D's scene head rates highest for the heard scene."""
    s = model.features(logmel, logspec)
    scene = scene_to_draw(model.features.encoder.probabilities(logmel))
    z = model.truncation * candidates
    log_p = model.critic(model.generator(s.expand(len(z), -1), z), s.expand(len(z), -1))[1].log_softmax(1)
    return z[log_p[:, scene[0]].argmax()]


def test_one_candidate_draws_as_before_and_a_rung_without_critic_cannot_pick(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("FACEGAN_CHECKPOINTS", str(tmp_path))
    tiny_audiogan_checkpoint(tmp_path)
    tiny_audiogan_checkpoint(tmp_path, "rung", with_critic=False)
    single, rung = SoundToScene(best_of=1), SoundToScene("rung")
    assert rung.best_of == 1 and rung.critic is None
    prepared = single.prepare((16_000, sea_waves()))
    z = single.truncation * torch.randn(single.config.z_dim, generator=torch.Generator().manual_seed(7))
    with torch.inference_mode():
        expected = single.generator(single.features(*single._inputs(prepared, 2.0)), z[None])
    np.testing.assert_array_equal(single.generate(prepared, 2.0, seeds=[7])[0], tensor_to_image(expected[0]))
    with pytest.raises(ValueError, match="no discriminator scene head"):
        SoundToScene("rung", best_of=4)
    with pytest.raises(ValueError, match="at least 1"):
        SoundToScene(best_of=0)


def test_eval_reports_what_the_classifier_makes_of_each_shipped_example(tiny_pipeline: SoundToScene) -> None:
    rows = example_sounds(tiny_pipeline)
    assert [r["file"] for r in rows] == [sound.file for sound in EXAMPLE_SOUNDS]
    for r in rows:
        assert r["predicted"] in SOUND_CLASSES and 0 < r["probability"] <= 1
        assert r["recognised"] == (r["predicted"] == r["label"])


def test_example_sounds_cover_every_scene_and_are_held_out_recordings() -> None:
    clips = {clip.path: clip for clip in read_clip_index()}
    assert {SCENE_OF_SOUND[sound.label] for sound in EXAMPLE_SOUNDS} == set(GAN_SCENES)
    for sound in EXAMPLE_SOUNDS:
        clip = clips[sound.source_clip]
        assert clip.held_out and clip.label == sound.label and str(sound.freesound_id) in sound.source_clip
        assert sound.path.read_bytes() == (sounds_root() / sound.source_clip).read_bytes()
        assert sound.licence == {"ESC-10": "CC BY 3.0", "UrbanSound8K": "CC BY-NC 3.0"}[clip.source]


def test_shipped_model_recognises_every_example_sound() -> None:
    """The issue's bar: every shipped example is classified correctly by the shipped model."""
    rows = example_sounds(SoundToScene())
    assert [r["file"] for r in rows if not r["recognised"]] == []


def test_pipeline_as_the_studies_use_it(tiny_pipeline: SoundToScene, tmp_path) -> None:
    import soundfile as sf

    sf.write(tmp_path / "clip.flac", sea_waves(), 16_000)
    torch.manual_seed(3)
    first = tiny_pipeline(tmp_path / "clip.flac")
    torch.manual_seed(3)
    np.testing.assert_array_equal(first, tiny_pipeline(tmp_path / "clip.flac"))
    torch.manual_seed(3)
    candidates = torch.randn(tiny_pipeline.best_of, tiny_pipeline.config.z_dim)
    inputs = tiny_pipeline._inputs(tiny_pipeline.prepare(tmp_path / "clip.flac"), 1.0)
    picked = _picked_by_hand(tiny_pipeline, *inputs, candidates)
    with torch.inference_mode():
        expected = tiny_pipeline.generator(tiny_pipeline.features(*inputs), picked[None])
    np.testing.assert_array_equal(first, tensor_to_image(expected[0]))
    with pytest.raises(InvalidAudioError, match="silent"):
        tiny_pipeline((16_000, np.zeros(16_000, np.float32)))


def test_missing_checkpoint_names_the_training_command(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("FACEGAN_CHECKPOINTS", str(tmp_path))
    with pytest.raises(CheckpointMissingError, match="python -m facegan.train audiogan"):
        SoundToScene()


def test_classifier_weights_favour_rare_classes_and_scene_split_is_stable() -> None:
    from facegan.data.scenes import split_of
    from facegan.train.sound_classifier import inverse_frequency_weights

    weights = inverse_frequency_weights(torch.tensor([0, 0, 0, 1]), 2)
    assert weights[1] == pytest.approx(3 * weights[0]) and np.mean(weights) == pytest.approx(1.0)
    names = [f"sea/{i}.jpg" for i in range(2000)]
    assert [split_of(n) for n in names] == [split_of(n) for n in names]
    assert 0.07 < np.mean([split_of(n) == "val" for n in names]) < 0.13


@pytest.mark.parametrize("pool", ["mean", "frequency"])
def test_sound_classifier_recipe_steps(tmp_path, pool: str) -> None:
    from facegan.audio.encoder import EncoderConfig
    from facegan.train.sound_classifier import SoundClassifierRecipe, SoundClassifierTrainConfig

    torch.manual_seed(0)
    model = EncoderConfig(width=4, embed_dim=8, pool=pool)
    config = SoundClassifierTrainConfig(model=model, class_weights=[1.0] * 12)
    recipe = SoundClassifierRecipe(config, torch.device("cpu"))
    data = torch.utils.data.TensorDataset(torch.randn(8, 64, 201) * 10 - 60, torch.arange(8) % 12)
    options = TrainOptions(steps=2, batch_size=4, run_dir=tmp_path, num_workers=0, progress=False, ckpt_every_s=1e9)
    metrics = Trainer(recipe, TrainData(data, {}), options).fit()
    assert np.isfinite(metrics["loss"])
    assert recipe.encoder.embed(torch.zeros(3, 64, 150)).shape == (3, 8)  # any clip length


def test_distilling_a_teacher_learns_its_embedding_and_exports_only_the_encoder(tmp_path) -> None:
    from facegan.audio.encoder import EncoderConfig
    from facegan.train.sound_classifier import SoundClassifierRecipe, SoundClassifierTrainConfig

    torch.manual_seed(0)
    config = SoundClassifierTrainConfig(
        model=EncoderConfig(width=4, embed_dim=8), class_weights=[1.0] * 12, teacher_dim=5, teacher_weight=1.0, lr=1e-2
    )  # fmt: skip
    recipe = SoundClassifierRecipe(config, torch.device("cpu"))
    clips = torch.randn(8, 64, 64) * 10 - 60
    data = torch.utils.data.TensorDataset(clips, torch.arange(8) % 12, torch.randn(8, 5))
    options = TrainOptions(steps=100, batch_size=8, run_dir=tmp_path, num_workers=0, progress=False, ckpt_every_s=1e9)
    with torch.no_grad():
        before = torch.nn.functional.mse_loss(recipe.teacher_head(recipe.encoder.embed(clips)), data.tensors[2])
    metrics = Trainer(recipe, TrainData(data, {}), options).fit()
    assert metrics["distillation"] < 0.5 * float(before)  # it fits the teacher's rows
    assert list(recipe.inference_modules()) == ["encoder"]


def test_the_teacher_table_must_have_a_row_per_clip(tmp_path) -> None:
    from facegan.audio.data import ClipCache, ClipInfo
    from facegan.train.sound_classifier import ClipDataset, standardised_teacher

    labels = ["siren", "rain"] * 2
    clips = [ClipInfo(f"us8k-{i}-0-0-0.ogg", label, "UrbanSound8K", "1") for i, label in enumerate(labels)]
    cache = ClipCache(clips, np.full((4, 64, 20), -50.0, np.float32), np.zeros((4, 257), np.float32))
    np.save(tmp_path / "short.npy", np.zeros((3, 7)))
    with pytest.raises(ValueError, match="one embedding per clip"):
        standardised_teacher(tmp_path / "short.npy", cache, np.arange(4))
    np.save(tmp_path / "table.npy", np.arange(28.0).reshape(4, 7))
    teacher = standardised_teacher(tmp_path / "table.npy", cache, np.array([0, 2, 3]))
    assert teacher.shape == (3, 7) and torch.allclose(teacher.mean(dim=0), torch.zeros(7), atol=1e-6)
    item = ClipDataset(cache, np.array([0, 2, 3]), teacher=teacher)[1]
    assert len(item) == 3 and torch.equal(item[2], teacher[1])


def test_frequency_pooling_keeps_where_a_band_sits_and_names_bad_choices() -> None:
    from facegan.audio.encoder import EncoderConfig, SoundEncoder

    torch.manual_seed(0)
    low, high = torch.full((2, 64, 96), -80.0), torch.full((2, 64, 96), -80.0)
    low[:, 4:12], high[:, 44:52] = 0.0, 0.0  # one loud band, low or high in the spectrum
    encoders = {pool: SoundEncoder(EncoderConfig(width=4, pool=pool)).eval() for pool in ("mean", "frequency")}
    for encoder in encoders.values():  # the features see only the band's position, not its shape
        encoder.features = torch.nn.Identity()
        encoder.embedding = torch.nn.Flatten()
    with torch.no_grad():
        assert torch.allclose(encoders["mean"].embed(low), encoders["mean"].embed(high))
        assert not torch.allclose(encoders["frequency"].embed(low), encoders["frequency"].embed(high))
    with pytest.raises(ValueError, match="unknown pooling 'max'"):
        SoundEncoder(EncoderConfig(pool="max"))


def test_sample_sheet_has_a_row_per_scene_and_the_volume_rows(tmp_path, monkeypatch) -> None:
    from PIL import Image

    from facegan.sheets import HEADER, SCENE_CELL, VOLUME_SOUNDS, main

    sounds_root()
    monkeypatch.setenv("FACEGAN_CHECKPOINTS", str(tmp_path))
    tiny_audiogan_checkpoint(tmp_path)
    out = main(["audiogan", "--out", str(tmp_path / "sheet.jpg")])
    with Image.open(out) as sheet:
        assert sheet.width == 6 * SCENE_CELL
        assert sheet.height == 2 * HEADER + (len(GAN_SCENES) + len(VOLUME_SOUNDS)) * SCENE_CELL


def test_eval_measures_the_camera_realism_and_the_sound_against_the_noise(tmp_path, monkeypatch) -> None:
    from facegan.audio.data import clip_cache
    from facegan.eval.audiogan_metrics import (
        generate, real_photo_distances, realism_rows, sound_versus_noise, volume_effect,
    )  # fmt: skip
    from facegan.models.judge import AttributeJudge, JudgeConfig

    sounds_root()
    monkeypatch.setenv("FACEGAN_CHECKPOINTS", str(tmp_path))
    tiny_audiogan_checkpoint(tmp_path, "camera", camera_zoom=True, zoom_slope=0.05)  # s is in dB here
    model = SoundToScene("camera")
    cache = clip_cache()
    rows = cache.select(held_out=True, with_scene=True)[:24]
    scenes = torch.arange(len(rows)) % len(GAN_SCENES)
    judge = AttributeJudge(JudgeConfig(width=4, num_attributes=6)).eval()
    volume = volume_effect(model, judge, cache, rows, scenes, None)
    assert volume["camera_zoom_vs_1x"][1] == 1.0 and volume["camera_zoom_vs_1x"][-1] > 1.0
    assert 0 < volume["camera_share_of_trained_at_top_gain"] <= 1.5
    distances = sound_versus_noise(model, cache, rows, scenes, seeds=3)
    assert distances.pop("seeds") == 3
    assert set(distances) == {"other_scene_same_seed", "same_clip_other_seed"} and min(distances.values()) > 0
    real = real_photo_distances(None, pairs=2000)
    assert 0 < real["same_scene"] < real["other_scene"]  # photos of one scene look more alike
    frechet = realism_rows({"camera": generate(model, cache, rows, 1)}, judge, scenes, None)
    assert set(frechet) == {"camera", "real_floor"} and all(np.isfinite(v) for v in frechet.values())


def test_eval_picks_each_images_z_as_the_app_does(tmp_path, monkeypatch) -> None:
    from facegan.audio.data import clip_cache
    from facegan.eval.audiogan_metrics import _noise, generate, sound_versus_noise

    sounds_root()
    monkeypatch.setenv("FACEGAN_CHECKPOINTS", str(tmp_path))
    tiny_audiogan_checkpoint(tmp_path)
    cache = clip_cache()
    rows = cache.select(held_out=True, with_scene=True)[:5]
    single, picking = SoundToScene(best_of=1), SoundToScene(best_of=3)
    drawn = single.truncation * torch.randn(10, single.config.z_dim, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(_noise(single, cache, rows, 2), drawn)  # one candidate: the draw made before picking
    picked = _noise(picking, cache, rows, 2)
    candidates = torch.randn(10, 3, single.config.z_dim, generator=torch.Generator().manual_seed(0))
    logmel, logspec = torch.from_numpy(cache.logmel[rows]), torch.from_numpy(cache.logspec[rows])
    for k in range(10):  # image k is clip k // 2's sample k % 2
        clip = slice(k // 2, k // 2 + 1)
        torch.testing.assert_close(picked[k], _picked_by_hand(picking, logmel[clip], logspec[clip], candidates[k]))
    images = generate(picking, cache, rows, 2)
    with torch.inference_mode():
        expected = picking.generator(picking.features(logmel, logspec).repeat_interleave(2, dim=0), picked)
    torch.testing.assert_close(images, expected.float())

    calls = []
    original = SoundToScene.pick_noise
    monkeypatch.setattr(SoundToScene, "pick_noise", lambda self, *a: calls.append(a[-1].shape) or original(self, *a))
    sound_versus_noise(picking, cache, rows, torch.arange(5) % 2, seeds=3)
    assert calls == [(5, 3, single.config.z_dim)] * 3  # each seed's candidates, picked per clip


def test_class_match_is_read_per_scene_and_where_the_encoder_heard_the_scene() -> None:
    from facegan.data.scenes import SCENE_CLASSES
    from facegan.eval.audiogan_metrics import _per_scene_table, _table, scene_scores

    targets = torch.tensor([0, 0, 1, 1])
    probabilities = torch.eye(6)[[0, 1, 1, 2]]  # hits: yes, no, yes, no
    heard = torch.tensor([False, True, True, False])  # G missed the one scene-0 clip it was told right
    scores = scene_scores(probabilities, targets, splits=1, heard=heard)
    assert scores["class_match_per_scene"] == {SCENE_CLASSES[0]: 0.5, SCENE_CLASSES[1]: 0.5}
    assert scores["balanced_class_match"] == 0.5
    assert scores["balanced_class_match_heard_right"] == 0.5  # scene 0: 0 of 1, scene 1: 1 of 1
    assert "balanced_class_match_heard_right" not in scene_scores(probabilities, targets, splits=1)
    nothing_heard = scene_scores(probabilities, targets, splits=1, heard=torch.zeros(4, dtype=torch.bool))
    assert "balanced_class_match_heard_right" not in nothing_heard
    row = {"row": "model", **scores}
    assert _table("Model", [row]).splitlines()[-1].endswith("| 50.0% | 50.0% | 50.0% |")
    header = f"| Class match by scene | {SCENE_CLASSES[0]} | {SCENE_CLASSES[1]} |"
    assert _per_scene_table([row]).splitlines()[0] == header


def test_heard_scenes_maps_the_encoders_sound_class_to_its_scene(tmp_path, monkeypatch) -> None:
    from facegan.audio.data import clip_cache
    from facegan.data.scenes import SCENE_CLASSES
    from facegan.eval.audiogan_metrics import heard_scenes

    sounds_root()
    monkeypatch.setenv("FACEGAN_CHECKPOINTS", str(tmp_path))
    tiny_audiogan_checkpoint(tmp_path)
    model = SoundToScene("audiogan")
    cache = clip_cache()
    rows = cache.select(held_out=True)[:16]
    scenes = heard_scenes(model, cache, rows)
    classes = model.features.encoder.probabilities(torch.from_numpy(cache.logmel[rows])).argmax(1).tolist()
    expected = [SCENE_CLASSES.index(SCENE_OF_SOUND[SOUND_CLASSES[k]]) if SOUND_CLASSES[k] in SCENE_OF_SOUND else -1
                for k in classes]  # fmt: skip
    assert scenes.tolist() == expected
