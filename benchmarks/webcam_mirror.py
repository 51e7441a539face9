"""Webcam mirror throughput: ``python benchmarks/webcam_mirror.py [--frames 90] [--seconds 6] [--threads 1]``.

Replays a generated 640x480 clip (an example photo moving and turning in front of a plain background,
made here, so the repository holds no video) through ``WebcamMirror`` with the "+smile" offset, on
``--threads`` torch threads (default 1, as ``app.py`` serves every request). Reports:

- processing: ms per frame computed on its own (``frame``; p50, p95) and the frames per second that gives;
- live, in real time for ``--seconds``: a camera at ``--camera-fps`` behind the tab's webcam, which looks
  every ``MIRROR_FRAME_S`` and sends the newest frame only when none is pending (``live_replay``). Once
  through the tab's pipelined path (``next_frame``: the answer is the previous frame's mirror) and once
  through ``frame`` (each answer its own frame) for comparison: the frames shown per second, the share
  dropped, and the latency from a frame's capture to its mirror on screen (p50, max); a latency that does
  not grow with time is one that never builds up. The browser's own encoding and the HTTP round trip
  are not included.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
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


def live_replay(
    show: Callable[[np.ndarray], np.ndarray], clip: list[np.ndarray], seconds: float, camera_fps: float,
    send_every_s: float, lag: int = 0,
) -> dict[str, Any]:
    """The browser in real time: the camera delivers ``clip`` (looped) at ``camera_fps``; the browser looks
    every ``send_every_s`` and, when no frame of its own is pending, sends the newest one to ``show``.
    ``lag``: how many requests back the frame is whose mirror ``show`` returns (1 for the pipelined path)."""
    start = time.perf_counter()
    captured: list[float] = []
    latencies: list[float] = []
    now = 0.0
    while now < seconds:
        index = int(now * camera_fps)
        captured.append(index / camera_fps)
        show(clip[index % len(clip)])
        now = time.perf_counter() - start
        if len(captured) > lag:
            latencies.append(now - captured[-1 - lag])
        now = np.ceil(now / send_every_s) * send_every_s  # the browser's next look
        time.sleep(max(0.0, now - (time.perf_counter() - start)))
    shown = len(latencies)
    offered = int(seconds * camera_fps)
    return {
        "camera_fps": camera_fps,
        "send_every_ms": round(send_every_s * 1000, 1),
        "seconds": round(now, 2),
        "frames_shown": shown,
        "shown_fps": round(shown / now, 1),
        "dropped_share": round(max(0.0, 1 - shown / offered), 3),
        "latency_ms_p50": round(float(np.median(latencies)) * 1000, 1),
        "latency_ms_max": round(float(np.max(latencies)) * 1000, 1),
        "latency_ms_last_quarter_max": round(float(np.max(latencies[-max(1, shown // 4) :])) * 1000, 1),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=90)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--camera-fps", type=float, default=30.0)
    parser.add_argument("--seconds", type=float, default=6.0, help="length of each real-time replay")
    parser.add_argument("--checkpoint", default="eggan")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (app.py serves on 1)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

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
        "live": live_replay(
            lambda frame: mirror.next_frame(frame, change, "live"), clip, args.seconds, args.camera_fps,
            MIRROR_FRAME_S, lag=1,
        ),
        "live_without_pipelining": live_replay(
            lambda frame: mirror.frame(frame, change, "serial"), clip, args.seconds, args.camera_fps, MIRROR_FRAME_S
        ),
    }
    record_result("webcam_mirror", result, argv if argv is not None else sys.argv[1:])
    return result


if __name__ == "__main__":
    main()
