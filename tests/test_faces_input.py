"""Bad and unusual inputs to the face pipeline: each gives a usable image or a typed, readable error."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from facegan.errors import FaceIndexError, InvalidImageError, ModelFileMissingError, NoFaceError
from facegan.faces import MAX_SIDE, detect_face, detect_faces, load_image, prepare_face
from facegan.faces import landmarker
from tests.faces_helpers import celeba_path, celeba_rgb, place_on_canvas


def _png_bytes(image: Image.Image, **kwargs) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", **kwargs)
    return buffer.getvalue()


def test_not_an_image_is_a_clear_error(tmp_path):
    path = tmp_path / "notes.jpg"
    path.write_text("this is not a photo")
    with pytest.raises(InvalidImageError, match="could not be read as an image"):
        load_image(path)


def test_missing_file_and_empty_inputs(tmp_path):
    with pytest.raises(InvalidImageError, match="does not exist"):
        load_image(tmp_path / "nope.png")
    with pytest.raises(InvalidImageError):
        load_image(b"")
    with pytest.raises(InvalidImageError, match="No image"):
        load_image(None)
    with pytest.raises(InvalidImageError):
        load_image(np.zeros((0, 0, 3), np.uint8))


def test_tiny_image_is_rejected():
    with pytest.raises(InvalidImageError, match="at least"):
        load_image(np.zeros((10, 300, 3), np.uint8))


def test_truncated_jpeg_is_a_clear_error():
    data = celeba_path().read_bytes()
    with pytest.raises(InvalidImageError):
        load_image(data[: len(data) // 3])


def test_modes_are_flattened_to_rgb():
    rgb = celeba_rgb()
    grey = Image.fromarray(rgb).convert("L")
    rgba = Image.fromarray(rgb).convert("RGBA")
    rgba.putalpha(Image.new("L", rgba.size, 128))
    palette = Image.fromarray(rgb).convert("P")
    sixteen = Image.fromarray((np.asarray(grey).astype(np.uint16) * 257))
    for image in (grey, rgba, palette, sixteen):
        loaded = load_image(_png_bytes(image))
        assert loaded.dtype == np.uint8 and loaded.shape == (128, 128, 3)
    # 16-bit data keeps its full range instead of being clipped to white
    assert abs(load_image(_png_bytes(sixteen)).mean() - np.asarray(grey).mean()) < 1.0
    # transparency is composited on white
    half_transparent = load_image(_png_bytes(rgba)).astype(float).mean()
    assert half_transparent > rgb.astype(float).mean()
    float_array = load_image(rgb.astype(np.float32) / 255.0)
    assert np.abs(float_array.astype(int) - rgb).max() <= 1


def test_huge_images_are_downscaled_to_the_cap():
    big = np.zeros((MAX_SIDE * 2, 64, 3), np.uint8)
    assert max(load_image(big).shape[:2]) == MAX_SIDE


def test_exif_orientation_is_applied(tmp_path):
    rotated = Image.fromarray(celeba_rgb()).rotate(90, expand=True)  # face lying on its side
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to view": undoes the CCW rotation above
    path = tmp_path / "sideways.jpg"
    rotated.save(path, exif=exif.tobytes())
    upright = load_image(path)
    assert np.abs(upright.astype(int) - celeba_rgb().astype(int)).mean() < 6
    face = detect_face(upright)
    eye_r, eye_l = face.points68[36:42].mean(0), face.points68[42:48].mean(0)
    assert abs(eye_r[1] - eye_l[1]) < 5  # eyes level once upright


def test_no_face_is_a_typed_error_with_a_plain_message():
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 255, (256, 256, 3), dtype=np.uint8)
    assert detect_faces(noise) == []
    with pytest.raises(NoFaceError, match="No face was found"):
        prepare_face(noise)


def test_several_faces_largest_first_and_index_selectable():
    big_face, small_face = celeba_rgb("000040.jpg"), celeba_rgb("000057.jpg")
    canvas, _ = place_on_canvas(big_face, 640, (200, 320), 2.0)
    canvas, _ = place_on_canvas(small_face, 640, (500, 320), 1.0, canvas=canvas)
    faces = detect_faces(canvas)
    assert len(faces) == 2
    assert faces[0].area > faces[1].area
    assert prepare_face(canvas).face.points68[:, 0].mean() < 320  # default = largest (left)
    assert prepare_face(canvas, face_index=1).face.points68[:, 0].mean() > 320
    with pytest.raises(FaceIndexError, match="has 2 faces"):
        prepare_face(canvas, face_index=5)


def test_landmarker_model_lookup_errors(monkeypatch, tmp_path):
    monkeypatch.setenv("FACEGAN_FACE_LANDMARKER", str(tmp_path / "missing.task"))
    with pytest.raises(ModelFileMissingError, match="FACEGAN_FACE_LANDMARKER"):
        landmarker.find_landmarker_model()
    monkeypatch.delenv("FACEGAN_FACE_LANDMARKER")
    monkeypatch.setenv("FACEGAN_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(landmarker, "SHARED_DIR", tmp_path / "no-shared")
    with pytest.raises(ModelFileMissingError, match="storage.googleapis.com"):
        landmarker.find_landmarker_model(allow_download=False)


def test_landmarker_model_found_in_shared(monkeypatch, tmp_path):
    monkeypatch.delenv("FACEGAN_FACE_LANDMARKER", raising=False)
    monkeypatch.setenv("FACEGAN_CACHE", str(tmp_path / "empty-cache"))
    path = landmarker.find_landmarker_model(allow_download=False)
    assert path.name == "face_landmarker.task" and path.is_file()


def test_face_alignment_backend_without_weights_says_what_to_do(monkeypatch, tmp_path):
    import torch.hub

    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    assert not landmarker.FaceAlignmentBackend.available()
    with pytest.raises(ModelFileMissingError, match="face-alignment"):
        landmarker.FaceAlignmentBackend()


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_a_decompression_bomb_is_refused_from_its_header(tmp_path):
    """A 12000x12000 palette PNG is ~140 kB on disk; it must be refused fast, without decoding it."""
    import time
    import tracemalloc

    bomb = tmp_path / "bomb.png"
    Image.new("P", (12000, 12000)).save(bomb, optimize=True)
    assert bomb.stat().st_size < 1_000_000
    tracemalloc.start()
    start = time.perf_counter()
    with pytest.raises(InvalidImageError, match="12000x12000 pixels"):
        load_image(bomb)
    elapsed = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert elapsed < 0.5 and peak < 50_000_000


def test_every_face_of_a_group_photo_is_found_and_numbered_as_face_index_counts():
    from facegan.faces import prepare_all_faces, prepare_face
    from facegan.paths import UI_EXAMPLES_DIR

    group = UI_EXAMPLES_DIR / "group.jpg"
    faces = prepare_all_faces(group)
    assert len(faces) == 2 and faces[0].face.area >= faces[1].face.area
    centres = [np.asarray(face.face.points68).mean(axis=0)[0] for face in faces]
    assert sorted(c < 512 for c in centres) == [False, True]  # one face in each half
    for index, face in enumerate(faces):  # the same face under the same number (landmarks within 5 px)
        centre = np.asarray(prepare_face(group, index).face.points68).mean(axis=0)
        assert np.linalg.norm(centre - np.asarray(face.face.points68).mean(axis=0)) < 5
    with pytest.raises(FaceIndexError, match="has 2 faces"):
        prepare_face(group, 2)


def test_empty_file_names_the_problem(tmp_path):
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    with pytest.raises(InvalidImageError, match="is empty"):
        load_image(empty)


def test_detections_side_by_side_borrow_their_own_landmarker_and_agree():
    from concurrent.futures import ThreadPoolExecutor

    from facegan.faces.landmarker import MediaPipeBackend

    from facegan.paths import UI_EXAMPLES_DIR

    backend = MediaPipeBackend(instances=2)
    photo = load_image(UI_EXAMPLES_DIR / "grace_hopper.jpg")
    alone = backend.detect(photo)
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(backend.detect, [photo] * 8))
    assert backend.made <= 2  # never more landmarkers than asked for, however many threads
    for faces in together:
        assert len(faces) == len(alone) == 1
        np.testing.assert_allclose(faces[0].points68, alone[0].points68)
    backend.close()


def test_the_group_search_scans_tiles_with_the_detector_alone(monkeypatch):
    """A photo with one large face: the tiles' detector passes find nothing new, so the landmarker
    runs once (the whole-photo pass), and face 0 is the same face as in the default search."""
    from facegan.faces.landmarker import get_backend
    from facegan.paths import UI_EXAMPLES_DIR

    photo = load_image(UI_EXAMPLES_DIR / "grace_hopper.jpg")
    backend = get_backend()
    default = detect_faces(photo)
    calls = {"detect": 0, "detect_boxes": 0}

    def counted(name: str):
        method = getattr(backend, name)

        def call(rgb):
            calls[name] += 1
            return method(rgb)

        return call

    for name in calls:
        monkeypatch.setattr(backend, name, counted(name))
    group = detect_faces(photo, every_face=True)
    assert calls == {"detect": 1, "detect_boxes": 9}
    assert len(group) == len(default) == 1
    np.testing.assert_allclose(group[0].points68, default[0].points68)
    (box,) = backend.detect_boxes(photo)
    x0, y0, x1, y1 = group[0].box  # the detector's box lies on the landmarks' face
    assert x0 < (box[0] + box[2]) / 2 < x1 and y0 < (box[1] + box[3]) / 2 < y1


def test_a_face_the_landmarker_misses_in_its_window_is_landmarked_in_a_tile_that_saw_it(monkeypatch):
    """The landmarker can miss a large face the detector saw (an edited photo did): the tiles' pass then
    looks in the tiles where the detector found it, as the search did before it scanned boxes. A
    neighbour landmarked in the window is not taken for it."""
    from facegan.faces import landmarker

    target, neighbour = (300.0, 300.0, 420.0, 420.0), (470.0, 300.0, 590.0, 420.0)

    def face_at(x: float, y: float) -> landmarker.Face:
        return landmarker.Face(points68=np.tile([[x + 60, y + 60]], (68, 1)), box=(x, y, x + 120, y + 120))

    class TileOnlyBackend:
        name = "tile-only"

        def detect_boxes(self, rgb):  # the detector sees the target in the tile that starts at its corner
            return [(0.0, 0.0, 120.0, 120.0)] if rgb[0, 0, 0] else []

        def detect(self, rgb):  # the neighbour (a green pixel) is always landmarked, the target only in its tile
            faces = [face_at(float(x), float(y)) for y, x in np.argwhere(rgb[..., 1] == 255)]
            return faces + ([face_at(0.0, 0.0)] if rgb.shape[:2] == (400, 400) and rgb[0, 0, 0] else [])

    photo = np.zeros((800, 800, 3), np.uint8)
    photo[300, 300, 0] = 255  # marks the tile (and only the tile) whose corner is the target's
    photo[300, 470, 1] = 255
    monkeypatch.setitem(landmarker._BACKENDS, "tile-only", TileOnlyBackend())
    monkeypatch.setattr(landmarker, "_tile_starts", lambda length, tile: [0, 300, length - tile])
    faces = landmarker.detect_faces(photo, "tile-only", every_face=True)
    assert sorted(face.box for face in faces) == [target, neighbour]


def test_faces_of_an_edited_photo_keep_the_original_numbers():
    """Stacked edits find the faces again on each result: each keeps its number by where it is, not by
    its size rank, and a face no longer detected keeps its landmarks from before."""
    from facegan.faces import prepare_all_faces, prepare_faces_numbered_as

    big_face, small_face = celeba_rgb("000040.jpg"), celeba_rgb("000057.jpg")
    canvas, _ = place_on_canvas(big_face, 640, (200, 320), 2.0)
    canvas, _ = place_on_canvas(small_face, 640, (500, 320), 1.0, canvas=canvas)
    numbered = prepare_all_faces(canvas)
    swapped = [numbered[1], numbered[0]]  # as if an edit had made face 1 the larger
    again = prepare_faces_numbered_as(canvas, swapped)
    assert [f.face.box for f in again] == [f.face.box for f in swapped]
    gone = canvas.copy()
    gone[:, 420:] = 110  # the small face is painted over
    after = prepare_faces_numbered_as(gone, numbered)
    assert after[1].face is numbered[1].face and after[1].photo is not numbered[1].photo
    assert after[0].aligned.size == numbered[0].aligned.size


def test_a_landmarker_file_without_its_face_detector_is_a_clear_error(tmp_path):
    from facegan.errors import ModelFileMissingError
    from facegan.faces.landmarker import MediaPipeBackend

    not_a_bundle = tmp_path / "face_landmarker.task"
    not_a_bundle.write_bytes(b"not a zip archive")
    with pytest.raises(ModelFileMissingError, match="face_detector.tflite"):
        MediaPipeBackend(model_path=not_a_bundle)
