"""The shared recipe pieces: accessors and the linear LR decay that follows ``--steps`` on resume."""

from __future__ import annotations

import pytest
import torch

from facegan.train.recipe import RecipeBase, linear_decay


def _optimizer(lr: float = 1.0) -> torch.optim.Optimizer:
    return torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr)


def _lrs(scheduler: torch.optim.lr_scheduler.LRScheduler, steps: int) -> list[float]:
    lrs = []
    for _ in range(steps):
        lrs.append(scheduler.optimizer.param_groups[0]["lr"])
        scheduler.optimizer.step()
        scheduler.step()
    return lrs


def test_constant_then_linear_to_zero() -> None:
    lrs = _lrs(linear_decay(_optimizer(), total_steps=10, start_fraction=0.5), 12)
    assert lrs[:6] == [1.0] * 6
    assert lrs[6:11] == pytest.approx([0.8, 0.6, 0.4, 0.2, 0.0])
    assert lrs[11] == 0.0


def test_resuming_with_more_steps_continues_the_decay_to_the_new_end() -> None:
    finished = linear_decay(_optimizer(), total_steps=10, start_fraction=0.5)
    _lrs(finished, 10)
    extended = linear_decay(_optimizer(), total_steps=20, start_fraction=0.5)
    extended.load_state_dict(finished.state_dict())
    lrs = _lrs(extended, 11)[1:]  # the first value is the optimizer's stale lr before a step
    assert lrs == pytest.approx([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.0])


def test_recipe_base_hands_out_what_the_subclass_built() -> None:
    class Tiny(RecipeBase):
        name = "tiny"
        exported = ("net",)

        def __init__(self) -> None:
            super().__init__()
            self.nets = {"net": torch.nn.Linear(1, 1)}
            self.opts = {"net": torch.optim.SGD(self.nets["net"].parameters(), lr=0.1)}

    recipe = Tiny()
    assert list(recipe.modules()) == ["net"] and list(recipe.optimizers()) == ["net"]
    assert recipe.schedulers() == {} and list(recipe.inference_modules()) == ["net"]


def test_classifier_recipe_learns_a_separable_problem() -> None:
    from facegan.train.loop import StepContext
    from facegan.train.recipe import ClassifierRecipe

    torch.manual_seed(0)
    inputs = torch.randn(64, 2)
    labels = (inputs[:, 0] > 0).long()
    net = torch.nn.Linear(2, 2)
    recipe = ClassifierRecipe("net", net, torch.optim.Adam(net.parameters(), lr=0.1), lr_decay_steps=50)
    scaler = torch.amp.GradScaler("cpu", enabled=False)
    ctx = StepContext(torch.device("cpu"), recipe.modules(), recipe.optimizers(), {"net": scaler}, None)
    first = recipe.train_step((inputs, labels), 0, ctx)
    for step in range(1, 50):
        last = recipe.train_step((inputs, labels), step, ctx)
        recipe.schedulers()["net"].step()
    assert list(recipe.inference_modules()) == ["net"]
    assert last["loss"] < first["loss"] / 2 and last["accuracy"] > 0.95


def test_weight_average_tracks_the_net_and_is_what_ships() -> None:
    class Averaged(RecipeBase):
        name = "averaged"
        exported = ("net",)

        def __init__(self) -> None:
            super().__init__()
            self.nets = {"net": torch.nn.Linear(1, 1, bias=False)}
            self.add_ema("net")

    recipe = Averaged()
    live, average = recipe.nets["net"], recipe.nets["net_ema"]
    assert not any(p.requires_grad for p in average.parameters())
    start = average.weight.item()
    with torch.no_grad():
        live.weight.fill_(start + 1.0)
    recipe.update_ema("net", step=0, decay=0.999)  # warm-up: decay (1 + 0) / (10 + 0) = 0.1
    assert average.weight.item() == pytest.approx(start + 0.9)
    recipe.update_ema("net", step=10_000, decay=0.5)
    assert average.weight.item() == pytest.approx(start + 0.95)
    assert recipe.inference_modules() == {"net": average}
