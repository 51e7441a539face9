"""The attribute judge: shapes, a short real training run through the shared loop, loading, accuracy."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from facegan.data.celeba import CelebADataset, read_attributes
from facegan.errors import CheckpointMissingError
from facegan.models.judge import ATTRIBUTE_NAMES, AttributeJudge, JudgeConfig, load_judge
from facegan.eval.judge_accuracy import predict, train_majority
from facegan.paths import CHECKPOINT_DIR, data_dir
from facegan.train import load_recipe
from facegan.train.__main__ import parse_args
from facegan.train.loop import Trainer, TrainOptions, seed_everything

needs_celeba = pytest.mark.skipif(
    not (data_dir() / "celeba" / "images").is_dir(),
    reason=f"CelebA not found under {data_dir()}/celeba (set FACEGAN_DATA or pass the shared data)",
)
SHIPPED = CHECKPOINT_DIR / "attr_judge.safetensors"


@pytest.mark.parametrize("size", [64, 128])
def test_forward_shapes_any_square_size(size: int) -> None:
    judge = AttributeJudge(JudgeConfig(width=8)).eval()
    images = torch.rand(3, 3, size, size) * 2 - 1
    with torch.no_grad():
        assert judge(images).shape == (3, len(ATTRIBUTE_NAMES))
        probabilities = judge.probabilities(images, ["Smiling", "Male"])
    assert probabilities.shape == (3, 2) and ((probabilities > 0) & (probabilities < 1)).all()
    with pytest.raises(KeyError, match="Smiley"):
        judge.probabilities(images, ["Smiley"])


def test_compact_enough_to_ship() -> None:
    assert sum(p.numel() for p in AttributeJudge().parameters()) <= 1_000_000


@needs_celeba
def test_attribute_names_match_the_annotation_file() -> None:
    assert tuple(read_attributes(data_dir() / "celeba").names) == ATTRIBUTE_NAMES


def _bce(judge: torch.nn.Module, dataset: CelebADataset) -> float:
    images, labels = map(torch.stack, zip(*(dataset[i] for i in range(len(dataset))), strict=True))
    with torch.no_grad():
        return F.binary_cross_entropy_with_logits(judge(images), labels).item()


@needs_celeba
def test_twenty_training_steps_lower_the_loss_and_export_loads(tmp_path: Path) -> None:
    """20 steps on 64 real train faces through the Trainer, then the exported file via load_judge."""
    args = parse_args(["judge", "--limit", "64", "--width", "8", "--batch-size", "16", "--device", "cpu"])
    seed_everything(0)
    recipe, data = load_recipe("judge").build(args, torch.device("cpu"))
    assert list(recipe.inference_modules()) == ["judge"] and recipe.sample(4).shape == (4, 3, 64, 64)
    before = _bce(recipe.judge.eval(), data.dataset)
    recipe.judge.train()
    options = TrainOptions(steps=20, batch_size=16, run_dir=tmp_path / "run", num_workers=0, progress=False)
    trainer = Trainer(recipe, data, options)
    trainer.fit()
    after = _bce(recipe.judge.eval(), data.dataset)
    assert after < before - 0.05, (before, after)  # 0.70 -> 0.60 here

    loaded = load_judge(trainer.export("judge_test", tmp_path / "ship"))
    assert not loaded.training
    images = data.dataset[0][0][None]
    with torch.no_grad():
        assert torch.equal(loaded(images), recipe.judge(images))


@needs_celeba
def test_balanced_weighs_each_attributes_positives_by_its_rarity() -> None:
    """``--balanced``: positives weigh train negatives/positives, so a rare attribute's misses cost as much
    in total as its false alarms; the weights are recorded with the recipe's config."""
    args = parse_args(["judge", "--limit", "64", "--width", "8", "--balanced", "--device", "cpu"])
    recipe, data = load_recipe("judge").build(args, torch.device("cpu"))
    positives = data.dataset.labels.sum(0)
    j = ATTRIBUTE_NAMES.index("Eyeglasses")
    assert positives[j] > 0
    assert recipe.config.pos_weight[j] == pytest.approx((64 - positives[j]) / positives[j], rel=1e-3)
    logits, labels = torch.zeros(2, 40), torch.zeros(2, 40)
    labels[0, j] = 1.0
    loss, _ = recipe.loss(logits, labels)
    plain = F.binary_cross_entropy_with_logits(logits, labels)
    extra = (recipe.config.pos_weight[j] - 1) * F.softplus(torch.tensor(0.0)) / 80  # one positive of 80 terms
    assert loss.item() == pytest.approx(plain.item() + extra.item(), rel=1e-5)


def test_missing_checkpoint_names_the_train_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FACEGAN_CHECKPOINTS", str(tmp_path))
    with pytest.raises(CheckpointMissingError, match="python -m facegan.train judge"):
        load_judge()


@needs_celeba
@pytest.mark.skipif(not SHIPPED.is_file(), reason=f"{SHIPPED} not trained yet")
def test_shipped_judge_beats_majority_baseline() -> None:
    judge = load_judge(SHIPPED)
    dataset = CelebADataset(split="val", resolution=64, attributes=ATTRIBUTE_NAMES, limit=64)
    predictions, labels = predict(judge, dataset, batch_size=64, num_workers=0)
    majority = train_majority(dataset)
    for name in ("Smiling", "Male"):
        j = ATTRIBUTE_NAMES.index(name)
        accuracy = (predictions[:, j] == labels[:, j]).float().mean().item()
        baseline = (labels[:, j] == majority[j]).float().mean().item()
        assert accuracy > baseline + 0.15, (name, accuracy, baseline)
