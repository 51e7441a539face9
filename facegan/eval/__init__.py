"""Evaluation: the independent judges (attribute classifier, identity embedding) and metric commands.

``COMMANDS`` maps a command name to its module; each provides ``add_args(parser)`` (its own CLI
options) and ``run(args) -> dict`` (the figures, which ``python -m facegan.eval`` prints and writes to
``benchmarks/results/eval_<command>.json``). Modules are imported only when chosen, so adding a
metric is one line here plus its module.
"""

from __future__ import annotations

from types import ModuleType

from facegan.registry import load_registered

COMMANDS: dict[str, str] = {
    "attrgan": "facegan.eval.attrgan_metrics",
    "audiogan": "facegan.eval.audiogan_metrics",
    "eggan": "facegan.eval.eggan_metrics",
    "genegan": "facegan.eval.genegan_metrics",
    "judge": "facegan.eval.judge_accuracy",
    "scene_judge": "facegan.eval.scene_judge",
    "sound_classifier": "facegan.eval.sound_classifier_metrics",
}


def load_command(name: str) -> ModuleType:
    """The evaluation module registered under ``name``."""
    return load_registered(COMMANDS, name, "command")
