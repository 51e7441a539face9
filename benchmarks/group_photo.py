"""The group-photo example and what editing every face in it costs on this CPU.

    python benchmarks/group_photo.py [--runs 10] [--write-example]

``--write-example`` (re)builds ``facegan/ui/examples/group.jpg``: the two public-domain example
portraits (NASA's astronaut photo and Grace Hopper's US Navy portrait) side by side on one canvas, a
group photo whose every pixel is public domain. Then, on that photo: detecting and aligning every
face, and the attribute tab's "All faces" edit (each face from its own estimated attributes, all
changes added to the one photo), against the edit of one face.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
from PIL import Image

from common import percentiles, record_result, timed  # noqa: E402  (puts the repo on sys.path)

from facegan.faces import prepare_all_faces  # noqa: E402
from facegan.paths import UI_EXAMPLES_DIR  # noqa: E402
from facegan.pipelines import AttributeTransfer  # noqa: E402

GROUP = UI_EXAMPLES_DIR / "group.jpg"
PORTRAITS = ("astronaut.jpg", "grace_hopper.jpg")
TARGETS = {"Blond_Hair": True, "Smiling": True}


def write_group_photo() -> None:
    """The portraits side by side, bottom-aligned on a grey wall, as one JPEG."""
    portraits = [Image.open(UI_EXAMPLES_DIR / name).convert("RGB") for name in PORTRAITS]
    height = max(p.height for p in portraits)
    canvas = Image.new("RGB", (sum(p.width for p in portraits), height), (128, 128, 128))
    x = 0
    for portrait in portraits:
        canvas.paste(portrait, (x, height - portrait.height))
        x += portrait.width
    canvas.save(GROUP, quality=90)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--write-example", action="store_true", help="rebuild facegan/ui/examples/group.jpg")
    parser.add_argument("--checkpoint", default="attrgan")
    args = parser.parse_args(argv)
    if args.write_example:
        write_group_photo()
    pipeline = AttributeTransfer(args.checkpoint)
    faces = prepare_all_faces(GROUP)
    photo = np.asarray(Image.open(GROUP))
    result = {
        "photo": f"{photo.shape[1]}x{photo.shape[0]}",
        "faces_found": len(faces),
        "detect_and_align_all": percentiles(timed(lambda: prepare_all_faces(GROUP), args.runs, warmup=1)),
        "edit_one_face": percentiles(timed(lambda: pipeline.edit(faces[0], TARGETS), args.runs, warmup=1)),
        "edit_all_faces": percentiles(timed(lambda: pipeline.edit_all(faces, TARGETS), args.runs, warmup=1)),
        "runs": args.runs,
    }
    record_result("group_photo", result, sys.argv[1:] if argv is None else argv)
    return result


if __name__ == "__main__":
    main()
