"""The demo studies: ready on a fresh start, so a visitor of the Space can take part at once.

``examples/demo.json`` compares the shipped attribute-transfer generator with its no-heatmap
ablation on the app's public-domain example photos; ``examples/demo_sounds.json`` asks which
generated scene matches one of the app's example recordings. Neither needs a dataset, and
everything they show may be redistributed. They are studies like any other, flagged ``demo``:
their votes are their own, and an admin reset moves them to a closed archive study
(``StudyStore.archive``) rather than deleting them. Set ``FACEGAN_DEMO_STUDY=0`` to leave them out.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
from pathlib import Path

from facegan.errors import CheckpointMissingError, UserError
from facegan.studies.definition import EXAMPLES_DIR, load_definition
from facegan.studies.session import Sessions
from facegan.studies.stimuli import MANIFEST, generate_stimuli

DEMO_DEFINITIONS = (EXAMPLES_DIR / "demo.json", EXAMPLES_DIR / "demo_sounds.json")
DEMO_ENV = "FACEGAN_DEMO_STUDY"
log = logging.getLogger(__name__)
_lock = threading.Lock()


def demo_enabled() -> bool:
    return os.environ.get(DEMO_ENV, "1").strip().lower() not in {"0", "false", "no", "off"}


def ensure_demo(sessions: Sessions, path: Path = DEMO_DEFINITIONS[0]) -> str:
    """Create a demo study and generate its stimuli unless they are ready; returns its id.

    Idempotent and safe to call from several threads (the first does the work).
    """
    definition = load_definition(path)
    with _lock:
        record = sessions.store.study(definition.study_id) or sessions.store.create_study(definition)
        if sessions.stimuli_status(record) != "ready":
            if sessions.store.votes(record.study_id):
                raise UserError("the demo study has votes for other stimuli; reset it from the admin view")
            generate_stimuli(record.definition, sessions.study_dir(record.study_id), force=True)
    return definition.study_id


def prepare_demo_in_background(sessions: Sessions) -> threading.Thread | None:
    """Prepare every demo study in a daemon thread (about 25 s of CPU); None when demos are off."""
    if not demo_enabled():
        return None

    def work() -> None:
        for path in DEMO_DEFINITIONS:
            try:
                ensure_demo(sessions, path)
            except (CheckpointMissingError, UserError, OSError) as exc:
                log.warning("the demo study %s is not available: %s", path.stem, exc)

    thread = threading.Thread(target=work, name="demo-study", daemon=True)
    thread.start()
    return thread


def reset_demo(sessions: Sessions, study_id: str) -> str:
    """Archive the demo's participants and votes under a new closed study; returns the archive's id.

    The archive gets a copy of the manifest so its results can still be analysed.
    """
    record = sessions.store.require_study(study_id)
    if not record.definition.demo:
        raise UserError(f"{study_id!r} is a real study; only the demo study can be reset")
    with _lock:
        archived = sessions.store.archive(study_id)
        manifest = sessions.study_dir(study_id) / MANIFEST
        if manifest.is_file():
            sessions.study_dir(archived).mkdir(parents=True, exist_ok=True)
            shutil.copy2(manifest, sessions.study_dir(archived) / MANIFEST)
    return archived
