"""Webcam mirror throughput: ``python benchmarks/webcam_mirror.py [--frames 90] [--camera-fps 30]``.

Replays a generated 640x480 clip (an example photo moving and turning in front of a plain background,
made here, so the repository holds no video) frame by frame through ``WebcamMirror`` with the "+smile"
offset, in the app's own thread setting (PyTorch's default: all cores). Reports:

- processing: ms per frame (p50, p95) and the frames per second that gives;
- a live camera at ``--camera-fps`` behind the tab's webcam, which looks every ``MIRROR_FRAME_S`` and
  sends the newest frame only when none is pending (``live_camera``): the frames shown per second, the
  share dropped, and the latency from a frame's capture to its mirror (p50, max); a latency that does
  not grow with time is one that never builds up.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

import cv2
import numpy as np
import torch
from common import percentiles, record_result

from facegan.faces import load_image
from facegan.mirror import MIRROR_FRAME_S, WebcamMirror, offset_vector
from facegan.paths import UI_EXAMPLES_DIR
from facegan.pipelines import AUEditor

FRAME_SIZE = (640, 480)


def synthetic_clip(frames: int, size: tuple[int, int] = FRAME_SIZE, photo: str = "astronaut.jpg") -> list[np.ndarray]:
    """``frames`` RGB frames: the photo's face (a 300 px square) drifting and turning a few degrees."""
    width, height = size
    face = cv2.resize(load_image(UI_EXAMPLES_DIR / photo), (300, 300), interpolation=cv2.INTER_AREA)
    clip = []
    for index in range(frames):
        phase = 2 * np.pi * index / max(frames, 1)
        centre = (width / 2 + 40 * np.sin(phase), height / 2 + 15 * np.sin(2 * phase))
        matrix = cv2.getRotationMatrix2D((150, 150), 6 * np.sin(phase), 1.0)
        matrix[:, 2] += np.array(centre) - 150
        clip.append(cv2.warpAffine(face, matrix, size, borderMode=cv2.BORDER_CONSTANT, borderValue=(70, 80, 90)))
    return clip


def live_camera(process_ms: list[float], camera_fps: float, send_every_ms: float) -> dict[str, Any]:
    """What a visitor sees: the camera delivers a frame every 1/camera_fps s, and the browser (Gradio's
    webcam) looks every ``send_every_ms`` and sends the newest frame only when no frame of its own is
    pending; ``process_ms`` are measured per-frame costs, used in turn. Latency: from the camera's frame
    to its mirror. The browser's own encoding and the local HTTP round trip are not included."""
    camera_ms = 1000 / camera_fps
    duration = len(process_ms) * max(float(np.mean(process_ms)), send_every_ms)
    tick, busy_until, shown, latencies = 0.0, 0.0, 0, []
    while tick < duration:
        if tick >= busy_until:
            captured = np.floor(tick / camera_ms) * camera_ms  # the newest frame the camera has delivered
            busy_until = tick + process_ms[shown % len(process_ms)]
            latencies.append(busy_until - captured)
            shown += 1
        tick += send_every_ms
    offered = int(duration // camera_ms) + 1
    return {
        "camera_fps": camera_fps,
        "send_every_ms": round(send_every_ms, 1),
        "seconds": round(duration / 1000, 2),
        "frames_shown": shown,
        "shown_fps": round(shown / (duration / 1000), 1),
        "dropped_share": round(max(0.0, 1 - shown / offered), 3),
        "latency_ms_p50": round(float(np.median(latencies)), 1),
        "latency_ms_max": round(float(np.max(latencies)), 1),
        "latency_ms_last_quarter_max": round(float(np.max(latencies[-max(1, len(latencies) // 4) :])), 1),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=90)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--camera-fps", type=float, default=30.0)
    parser.add_argument("--checkpoint", default="eggan")
    args = parser.parse_args(argv)

    mirror = WebcamMirror(AUEditor(args.checkpoint))
    change = offset_vector("+smile")
    clip = synthetic_clip(args.frames + args.warmup)
    times, faces = [], 0
    for index, frame in enumerate(clip):
        start = time.perf_counter()
        out = mirror.frame(frame, change)
        elapsed = (time.perf_counter() - start) * 1000
        if index >= args.warmup:
            times.append(elapsed)
            faces += not np.array_equal(out, frame)
    processing = percentiles(times)
    result = {
        "frame_size": list(FRAME_SIZE),
        "torch_threads": torch.get_num_threads(),
        "frames": args.frames,
        "frames_with_the_face_edited": faces,
        "processing_ms": processing,
        "processing_fps": round(1000 / processing["p50_ms"], 1),
        "live": live_camera(times, args.camera_fps, 1000 * MIRROR_FRAME_S),
    }
    record_result("webcam_mirror", result, argv if argv is not None else sys.argv[1:])
    return result


if __name__ == "__main__":
    main()
