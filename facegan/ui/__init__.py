"""The Gradio user interface: one module per tab, composed by ``build_app``."""

from __future__ import annotations

import gradio as gr

from facegan.ui import atomic_cache, attribute_transfer, au_editing, genegan, pairwise, sound_to_scene

TITLE = "FaceGAN Studio"

# System fonts: the bold "Source Sans Pro" file bundled with Gradio 6.31 lacks most glyphs, so headings
# rendered in a mix of fonts.
THEME = gr.themes.Default(font=("ui-sans-serif", "system-ui", "sans-serif"))

# (label, builder) in display order; labels are part of the UI contract that tests check.
TABS = (
    ("Attribute transfer", attribute_transfer.build_tab),
    ("AU editing", au_editing.build_tab),
    ("GeneGAN", genegan.build_tab),
    ("Sound to scene", sound_to_scene.build_tab),
    ("Pairwise comparison", pairwise.build_tab),
)
STUDY_TAB = "Pairwise comparison"
CACHE_CLEANUP = (600, 3600)
"""(how often, maximum age) in seconds for Gradio's cached uploads and outputs."""


def _tab_for_link(request: gr.Request) -> gr.Tabs:
    """A study link (``?study=...``) opens the study tab: participants, often on phones where the
    tab bar folds into a menu, should land on their study, not on the first tab."""
    return gr.Tabs(selected=STUDY_TAB) if request.query_params.get("study") else gr.Tabs()


def build_app() -> gr.Blocks:
    """Build (not launch) the app, so app.py, Spaces and tests share one definition."""
    atomic_cache.install()
    # Uploaded and generated files live in Gradio's cache; every 10 minutes those older than an hour go.
    with gr.Blocks(title=TITLE, analytics_enabled=False, delete_cache=CACHE_CLEANUP) as demo:
        gr.Markdown(f"# {TITLE}")
        with gr.Tabs() as tabs:
            for label, build_tab in TABS:
                with gr.Tab(label, id=label):
                    build_tab()
        demo.load(_tab_for_link, None, tabs, api_visibility="private", show_progress="hidden")
    return demo
