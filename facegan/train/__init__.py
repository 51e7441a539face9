"""Training: one loop (``loop``), checkpoint files (``checkpoint``) and one recipe module per model.

``RECIPES`` maps a model name to the module that defines it; each such module provides
``add_args(parser)`` (its own CLI options) and ``build(args, device) -> (recipe, TrainData)``.
Modules are imported only when chosen, so adding a model is one line here plus its module.
"""

from __future__ import annotations

from types import ModuleType

from facegan.registry import load_registered

RECIPES: dict[str, str] = {
    "attrgan": "facegan.train.attrgan",
    "audiogan": "facegan.train.audiogan",
    "dcgan": "facegan.train.dcgan",
    "eggan": "facegan.train.eggan",
    "genegan": "facegan.train.genegan",
    "judge": "facegan.train.judge",
    "scene_judge": "facegan.train.scene_judge",
    "sound_classifier": "facegan.train.sound_classifier",
}


def load_recipe(name: str) -> ModuleType:
    """The recipe module registered under ``name``."""
    return load_registered(RECIPES, name, "model")
