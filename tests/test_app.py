"""Fast checks of the UI structure and app.py's address handling, without starting a server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import gradio as gr
import pytest

import app
from facegan.ui import build_app
from facegan.ui.common import find_checkpoint

TAB_LABELS = ["Attribute transfer", "AU editing", "GeneGAN", "Sound to scene", "Pairwise comparison"]
MISSING = "has not been trained yet"


def _walk(block: gr.blocks.Block) -> Iterator[gr.blocks.Block]:
    """Every block under ``block`` in layout order (depth first)."""
    for child in getattr(block, "children", []):
        yield child
        yield from _walk(child)


def _tab_texts(demo: gr.Blocks) -> dict[str, str]:
    """Each tab's label mapped to all its Markdown text joined."""
    return {
        tab.label: "\n".join(md.value for md in _walk(tab) if isinstance(md, gr.Markdown))
        for tab in _walk(demo)
        if isinstance(tab, gr.Tab)
    }


@pytest.fixture
def empty_checkpoints(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("FACEGAN_CHECKPOINTS", str(tmp_path))
    return tmp_path


def test_build_app_has_five_tabs_in_order() -> None:
    demo = build_app()
    assert isinstance(demo, gr.Blocks)
    assert demo.title == "FaceGAN Studio"
    assert list(_tab_texts(demo)) == TAB_LABELS


def test_missing_checkpoints_show_notices(empty_checkpoints: Path) -> None:
    texts = _tab_texts(build_app())
    for label, name in [
        ("Attribute transfer", "attrgan.safetensors"),
        ("AU editing", "eggan.safetensors"),
        ("GeneGAN", "genegan_*.safetensors"),
        ("Sound to scene", "audiogan.safetensors"),
    ]:
        assert MISSING in texts[label] and name in texts[label], label
    assert "No study has been defined yet" in texts["Pairwise comparison"]


def test_find_checkpoint_matches_any_genegan_attribute(empty_checkpoints: Path) -> None:
    assert find_checkpoint("genegan_*.safetensors") is None
    (empty_checkpoints / "genegan_eyeglasses.safetensors").touch()
    assert find_checkpoint("genegan_*.safetensors") == empty_checkpoints / "genegan_eyeglasses.safetensors"


def test_importing_app_exposes_demo_without_launching() -> None:
    assert isinstance(app.demo, gr.Blocks)
    assert not app.demo.is_running


@pytest.mark.parametrize(
    ("argv", "env", "expected"),
    [
        ([], {}, ("127.0.0.1", 7860)),
        ([], {"GRADIO_SERVER_NAME": "0.0.0.0", "GRADIO_SERVER_PORT": "7861"}, ("0.0.0.0", 7861)),
        (
            ["--host", "localhost", "--port", "9000"],
            {"GRADIO_SERVER_NAME": "0.0.0.0", "GRADIO_SERVER_PORT": "7861"},
            ("localhost", 9000),
        ),
        (["--port", "9000"], {"GRADIO_SERVER_NAME": "0.0.0.0"}, ("0.0.0.0", 9000)),
    ],
)
def test_resolve_address_flags_over_env_over_defaults(
    argv: list[str], env: dict[str, str], expected: tuple[str, int]
) -> None:
    assert app.resolve_address(argv, env) == expected


def test_resolve_address_rejects_bad_env_port() -> None:
    with pytest.raises(SystemExit):
        app.resolve_address([], {"GRADIO_SERVER_PORT": "http"})


def test_au_edit_api_names_its_parameters_after_the_aus() -> None:
    from facegan.faces.aus import EDITABLE_AU_NUMBERS

    info = build_app().get_api_info()["named_endpoints"]["/au_edit"]["parameters"]
    assert [p["parameter_name"] for p in info] == ["photo", "keep_detail", *(f"au{n}" for n in EDITABLE_AU_NUMBERS)]


def test_per_visitor_images_and_histories_expire() -> None:
    """States that hold photos, encodings or histories are dropped after a while without a change; only
    small ones (chosen AU targets, the study trial on screen) live as long as the session."""
    from facegan.ui.common import EDIT_STATE_TTL_S

    states = [block for block in app.demo.blocks.values() if isinstance(block, gr.State)]
    expiring = [state for state in states if state.time_to_live == EDIT_STATE_TTL_S]
    assert len(expiring) == 7  # attribute: last edit, history; AU: face, group, history; GeneGAN: last result, history
    assert len(states) - len(expiring) == 3  # AU targets (two) and the study's trial on screen
