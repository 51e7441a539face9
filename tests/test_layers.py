"""Inference never imports training: the app and the pipelines load without ``facegan.train``."""

from __future__ import annotations

import os
import subprocess
import sys

from facegan.paths import REPO_ROOT


def _loaded_modules(statement: str) -> set[str]:
    code = f"import sys; {statement}; print('\\n'.join(sorted(sys.modules)))"
    env = {**os.environ, "FACEGAN_DEMO_STUDY": "0"}
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                         check=True, timeout=300)  # fmt: skip
    return set(out.stdout.split())


INFERENCE_PACKAGES = ("pipelines", "ui", "eval", "models", "faces", "audio", "studies")


def test_no_inference_module_imports_training() -> None:
    """Every module under the inference packages, and the app, load without ``facegan.train``."""
    modules = [
        ".".join(path.relative_to(REPO_ROOT).with_suffix("").parts)
        for package in INFERENCE_PACKAGES
        for path in sorted((REPO_ROOT / "facegan").glob(f"{package}/**/*.py" if package != "pipelines" else "pipelines.py"))
        if path.name != "__main__.py"
    ]  # fmt: skip
    statement = "import app; " + "; ".join(f"import {module}" for module in modules)
    training = sorted(m for m in _loaded_modules(statement) if m.startswith("facegan.train"))
    assert len(modules) > 40 and training == [], training


def test_training_does_not_import_the_evaluation() -> None:
    """Recipes take the judge network from ``models`` and the splits from ``data``, never from ``eval``:
    the measuring code stays downstream of what it measures."""
    recipes = sorted(p.stem for p in (REPO_ROOT / "facegan" / "train").glob("*.py") if p.stem != "__main__")
    statement = "; ".join(f"import facegan.train.{name}" for name in recipes)
    evaluation = sorted(m for m in _loaded_modules(statement) if m.startswith("facegan.eval"))
    assert len(recipes) > 8 and evaluation == [], evaluation


def test_faces_do_not_import_the_dataset_code() -> None:
    data = sorted(m for m in _loaded_modules("import facegan.faces") if m.startswith("facegan.data"))
    assert data == []


def test_one_loader_names_the_train_command_and_restores_tuples(tmp_path) -> None:
    import pytest

    from facegan.checkpoints import config_from_record, load_shipped, train_command
    from facegan.errors import CheckpointMissingError
    from facegan.models.attrgan import AttrGANConfig

    assert train_command("genegan", "genegan_smiling", "--attribute", "Smiling") == (
        "python -m facegan.train genegan --attribute Smiling --export genegan_smiling"
    )
    with pytest.raises(CheckpointMissingError, match="python -m facegan.train attrgan --export missing"):
        load_shipped("missing", "attrgan", tmp_path)
    config = config_from_record(AttrGANConfig, {"attributes": ["Male", "Smiling"]})
    assert config.attributes == ("Male", "Smiling")
