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


def test_the_app_and_the_pipelines_do_not_import_training() -> None:
    for statement in ("import app", "import facegan.pipelines", "import facegan.eval.judge"):
        training = sorted(m for m in _loaded_modules(statement) if m.startswith("facegan.train"))
        assert training == [], f"{statement} imports {training}"


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
