"""The webcam mirror: offsets, the bounded tracker pool, per-frame edits, the benchmark's camera model."""

from __future__ import annotations

import dataclasses
import sys

import numpy as np
import pytest
import torch

from facegan.faces.aus import AU_NUMBERS
from facegan.mirror import MIRROR_OFFSETS, StreamPool, WebcamMirror, offset_vector, offsets_summary
from facegan.paths import REPO_ROOT
from facegan.pipelines import AUEditor
from tests.test_eggan import tiny_checkpoint

sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
import webcam_mirror  # noqa: E402


@pytest.fixture(scope="module")
def clip() -> list[np.ndarray]:
    return webcam_mirror.synthetic_clip(6)


@pytest.fixture
def mirror(tmp_path) -> WebcamMirror:
    tiny_checkpoint(tmp_path)
    return WebcamMirror(AUEditor(directory=tmp_path), StreamPool(2))


def test_offsets_are_au_changes_scaled_by_strength():
    smile = offset_vector("+smile", 0.5)
    assert smile.shape == (17,) and smile[AU_NUMBERS.index(12)] == 1.5 and smile[AU_NUMBERS.index(6)] == 1.0
    assert np.count_nonzero(smile) == 2 and not offset_vector("+smile", 0).any()
    assert "+smile: AU6 +2, AU12 +3" in offsets_summary() and len(MIRROR_OFFSETS) >= 4
    with pytest.raises(ValueError, match="unknown mirror offset"):
        offset_vector("+yawn")


def test_the_pool_keeps_one_stream_per_visitor_and_drops_the_oldest():
    pool = StreamPool(2)
    first = pool.get("a")
    assert pool.get("a") is first and len(pool) == 1
    pool.get("b")
    pool.get("a")  # "a" is now the most recent: "b" goes first
    pool.get("c")
    assert len(pool) == 2 and pool.get("a") is first


def test_each_frame_gets_the_offset_on_the_face_only(mirror, clip):
    smile = offset_vector("+smile")
    outputs = [mirror.frame(frame, smile) for frame in clip]
    for frame, out in zip(clip, outputs, strict=True):
        assert out.shape == frame.shape and not np.array_equal(out, frame)
        np.testing.assert_array_equal(out[:40], frame[:40])  # the background above the face
    same = mirror.frame(clip[0], np.zeros(17, np.float32))
    assert np.abs(same.astype(int) - clip[0]).max() <= 2  # no offset: the frame itself (up to rounding)
    blank = np.full((480, 640, 3), 128, np.uint8)
    assert mirror.frame(blank, smile) is blank  # no face: shown as it came


def test_the_tracker_follows_the_same_face_only(clip):
    from facegan.faces import detect_faces
    from facegan.faces.landmarker import follow_face

    (face,) = detect_faces(clip[0])
    assert follow_face(clip[1], face) is not None  # a few pixels on: the same face
    x0, y0, x1, y1 = face.box
    width = x1 - x0
    elsewhere = dataclasses.replace(face, box=(x0 + 1.2 * width, y0, x1 + 1.2 * width, y1))
    assert follow_face(clip[1], elsewhere) is None  # the face in its window does not overlap: not followed


def test_the_per_frame_path_equals_encoding_then_editing(mirror, clip):
    from facegan.faces import prepare_face

    editor = mirror.editor
    prepared = prepare_face(clip[0])
    change = offset_vector("+surprise")
    fast = editor.edit_measured(editor.measure(prepared), change)
    face = editor.encode_prepared(prepared)
    slow = editor.edit(face, np.clip(face.aus + change, 0, 5))
    assert np.abs(fast.photo.astype(int) - slow.photo).max() <= 1


def test_the_pipelined_path_returns_each_frames_mirror_one_frame_late(mirror, clip, monkeypatch):
    changes = [offset_vector(name) for name in ("+smile", "+surprise", "+frown", "+sad")]
    expected = [mirror.frame(frame, change, "serial") for frame, change in zip(clip, changes)]
    answers = [mirror.next_frame(frame, change, "piped") for frame, change in zip(clip, changes)]
    assert answers[0] is clip[0]  # nothing rendered yet: the first frame comes back as it is
    for answer, wanted in zip(answers[1:], expected[:3], strict=True):  # each with its own frame's offset
        np.testing.assert_array_equal(answer, wanted)
    blank = np.full((480, 640, 3), 128, np.uint8)
    mirror.next_frame(blank, changes[0], "piped")
    assert mirror.next_frame(clip[0], changes[0], "piped") is blank  # no face: shown as it came
    monkeypatch.setattr(WebcamMirror, "STALE_S", 0.0)  # as if the camera had been off for a while
    assert mirror.next_frame(clip[1], changes[0], "piped") is clip[1]  # an old stream's frame is not shown


def test_a_live_camera_drops_frames_instead_of_falling_behind(clip):
    import time

    def slow(frame: np.ndarray) -> np.ndarray:
        time.sleep(0.11)
        return frame

    late = webcam_mirror.live_replay(slow, clip, seconds=1.5, camera_fps=30, send_every_s=1 / 30)
    assert 4 <= late["shown_fps"] <= 7.6  # the browser's next look after 110 ms: at most every 4th frame
    assert late["dropped_share"] > 0.7 and late["latency_ms_last_quarter_max"] < 400  # no backlog
    fast = webcam_mirror.live_replay(lambda f: f, clip, seconds=1.0, camera_fps=30, send_every_s=1 / 30)
    assert fast["shown_fps"] >= 15 and fast["dropped_share"] < 0.5


def test_benchmark_smoke(tmp_path, monkeypatch):
    import common

    monkeypatch.setattr(common, "RESULTS_DIR", tmp_path / "results")
    tiny_checkpoint(tmp_path)
    monkeypatch.setenv("FACEGAN_CHECKPOINTS", str(tmp_path))
    threads = torch.get_num_threads()
    try:
        result = webcam_mirror.main(["--frames", "3", "--warmup", "1", "--seconds", "0.5", "--threads", "1"])
    finally:
        torch.set_num_threads(threads)
    assert result["frames_with_the_face_edited"] == 3 and result["processing_fps"] > 0
    assert result["live"]["frames_shown"] > 0 and result["live_without_pipelining"]["frames_shown"] > 0
    assert (tmp_path / "results" / "webcam_mirror.json").is_file()
