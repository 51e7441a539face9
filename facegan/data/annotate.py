"""Annotate the shared CelebA once: 68 landmarks and 52 blendshapes (hence 17 AUs) per image.

    python -m facegan.data.annotate [--data DIR] [--out FILE] [--limit N | --per-split N]

The result is a compressed ``.npz`` in the user cache (``$FACEGAN_ANNOTATIONS`` or
``~/.cache/facegan/annotations/celeba.npz``). It is saved every few hundred images, and a rerun picks
up the images not yet annotated, so an interrupted run loses almost nothing.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from facegan.data.celeba import SPLITS, split_files
from facegan.errors import UserError
from facegan.faces import detect_faces, load_image
from facegan.faces.aus import intensities, raw_au_scores
from facegan.paths import cache_dir, data_dir

SAVE_EVERY = 500
NUM_BLENDSHAPES = 52


@dataclass
class CelebAAnnotations:
    """Per-image arrays, aligned with ``names``; rows where ``found`` is False hold zeros.

    Only raw measurements are stored; AU intensities are derived on load, so a new AU calibration
    never needs a new annotation run.
    """

    names: np.ndarray
    found: np.ndarray
    points68: np.ndarray
    blendshapes: np.ndarray
    blendshape_names: np.ndarray

    def aus(self) -> np.ndarray:
        """(N, 17) AU intensities in ``AU_NUMBERS`` order (zeros where no face was found)."""
        raw = raw_au_scores(self.blendshapes, list(self.blendshape_names), self.points68)
        return intensities(raw) * self.found[:, None]

    def index(self) -> dict[str, int]:
        return {str(name): row for row, name in enumerate(self.names)}

    def save(self, path: Path) -> None:
        """Atomic write, so a run killed mid-save leaves the previous file intact."""
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".npz", delete=False) as handle:
            np.savez_compressed(handle, **self.__dict__)
        os.replace(handle.name, path)

    @classmethod
    def load(cls, path: Path) -> "CelebAAnnotations":
        with np.load(path, allow_pickle=False) as arrays:
            return cls(**{key: arrays[key] for key in cls.__dataclass_fields__})

    @classmethod
    def empty(cls) -> "CelebAAnnotations":
        return cls(
            names=np.zeros(0, dtype="<U16"),
            found=np.zeros(0, dtype=bool),
            points68=np.zeros((0, 68, 2), np.float32),
            blendshapes=np.zeros((0, NUM_BLENDSHAPES), np.float32),
            blendshape_names=np.zeros(0, dtype="<U24"),
        )


def default_annotation_path() -> Path:
    env = os.environ.get("FACEGAN_ANNOTATIONS")
    return Path(env).expanduser() if env else cache_dir() / "annotations" / "celeba.npz"


def load_annotations(path: str | os.PathLike | None = None) -> CelebAAnnotations:
    """The cached annotations, or a message saying which command creates them."""
    target = Path(path) if path else default_annotation_path()
    if not target.is_file():
        raise UserError(
            f"No CelebA annotations at {target}. Create them once with "
            "`python -m facegan.data.annotate` (about 3 minutes on 2 CPU cores)."
        )
    return CelebAAnnotations.load(target)


def annotate(root: Path, out: Path, limit: int | None = None, per_split: int | None = None) -> CelebAAnnotations:
    """Annotate every image in ``root/celeba/images`` not yet in ``out``; return the full table.

    ``limit`` keeps the first N images by name; ``per_split`` the first N of each split, which is what a
    small cache for tests needs (every split's first faces, as the datasets' ``limit`` takes them).
    """
    image_dir = root / "celeba" / "images"
    if not image_dir.is_dir():
        raise UserError(f"No CelebA images under {image_dir}; pass --data pointing at the data root.")
    if per_split is not None:
        names = sorted(name for split in SPLITS for name in split_files(root / "celeba", split)[:per_split])
    else:
        names = sorted(p.name for p in image_dir.glob("*.jpg"))[:limit]
    table = CelebAAnnotations.load(out) if out.is_file() else CelebAAnnotations.empty()
    done = set(table.index())
    todo = [name for name in names if name not in done]
    rows: dict[str, list] = {key: [] for key in ("names", "found", "points68", "blendshapes")}
    shape_names = list(table.blendshape_names)

    def flush() -> None:
        nonlocal table
        if not rows["names"]:
            return
        table = CelebAAnnotations(
            names=np.concatenate([table.names, np.asarray(rows["names"], dtype="<U16")]),
            found=np.concatenate([table.found, np.asarray(rows["found"], dtype=bool)]),
            points68=np.concatenate([table.points68, np.asarray(rows["points68"], np.float32)]),
            blendshapes=np.concatenate([table.blendshapes, np.asarray(rows["blendshapes"], np.float32)]),
            blendshape_names=np.asarray(shape_names, dtype="<U24"),
        )
        table.save(out)
        for values in rows.values():
            values.clear()

    for count, name in enumerate(tqdm(todo, desc="annotate", unit="img", initial=0), start=1):
        faces = detect_faces(load_image(image_dir / name))
        rows["names"].append(name)
        rows["found"].append(bool(faces))
        if faces:
            face = faces[0]
            if not shape_names:
                shape_names = list(face.blendshapes)
            rows["points68"].append(face.points68)
            rows["blendshapes"].append([face.blendshapes.get(key, 0.0) for key in shape_names])
        else:
            rows["points68"].append(np.zeros((68, 2)))
            rows["blendshapes"].append(np.zeros(NUM_BLENDSHAPES))
        if count % SAVE_EVERY == 0:
            flush()
    flush()
    return table


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="dataset root (default: $FACEGAN_DATA or ../shared/data)")
    parser.add_argument("--out", type=Path, default=None, help="output .npz (default: user cache)")
    only = parser.add_mutually_exclusive_group()
    only.add_argument("--limit", type=int, default=None, help="only the first N images")
    only.add_argument("--per-split", type=int, default=None, help="only the first N images of each split (tests)")
    args = parser.parse_args(argv)
    out = args.out or default_annotation_path()
    table = annotate(data_dir(args.data), out, args.limit, args.per_split)
    print(f"{len(table.names)} images annotated ({int(table.found.sum())} with a face) -> {out}")


if __name__ == "__main__":
    main()
