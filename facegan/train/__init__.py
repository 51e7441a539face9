"""Training: one loop (``loop``), checkpoint files (``checkpoint``) and one recipe module per model.

``RECIPES`` maps a model name to the module that defines it; each such module provides
``add_args(parser)`` (its own CLI options) and ``build(args, device) -> (recipe, TrainData)``.
Modules are imported only when chosen, so adding a model is one line here plus its module.
"""

from __future__ import annotations

import importlib
from types import ModuleType

RECIPES: dict[str, str] = {
    "attrgan": "facegan.train.attrgan",
    "dcgan": "facegan.train.dcgan",
    "genegan": "facegan.train.genegan",
    "judge": "facegan.train.judge",
}


def load_recipe(name: str) -> ModuleType:
    """The recipe module registered under ``name``."""
    if name not in RECIPES:
        raise KeyError(f"unknown model {name!r}; choose from {sorted(RECIPES)}")
    return importlib.import_module(RECIPES[name])
