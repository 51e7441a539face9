"""``python -m facegan.eval scene_judge``: each judge's val accuracy, overall and per scene."""

from __future__ import annotations

import argparse
import json

import torch

from facegan.data.scenes import SCENE_CLASSES
from facegan.eval import scene_judge
from facegan.eval.__main__ import main


class Brightness(torch.nn.Module):
    """A stand-in judge: bright photos are buildings (class 0), dark ones forest (class 1)."""

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        bright = images.mean(dim=(1, 2, 3))
        logits = torch.full((len(images), len(SCENE_CLASSES)), -10.0)
        logits[:, 0], logits[:, 1] = bright, -bright
        return logits


def test_scene_judge_command_reports_each_judges_accuracy_per_scene(tmp_path, monkeypatch):
    images = torch.cat([torch.full((3, 3, 4, 4), 250), torch.full((1, 3, 4, 4), 5), torch.full((2, 3, 4, 4), 5)])
    labels = torch.tensor([0, 0, 0, 0, 1, 2])  # one bright photo missed (dark), one forest right, one glacier wrong
    monkeypatch.setattr(scene_judge, "load_scenes", lambda data, split: (images.to(torch.uint8), labels))
    monkeypatch.setattr(scene_judge, "load_scene_judge", lambda name: Brightness())
    out = tmp_path / "judges.json"
    assert main(["scene_judge", "--checkpoints", "first", "second", "--out", str(out)]) == 0
    result = json.loads(out.read_text())["checkpoints"]
    assert set(result) == {"first", "second"}
    first = result["first"]
    assert first["val_images"] == 6 and first["accuracy"] == round(4 / 6, 4)
    assert first["per_class"]["buildings"] == 0.75 and first["per_class"]["forest"] == 1.0
    assert first["per_class"]["glacier"] == 0.0


def test_scene_judge_command_defaults_to_the_evals_judge():
    parser = argparse.ArgumentParser()
    scene_judge.add_args(parser)
    assert parser.parse_args([]).checkpoints == ["scene_judge"]
