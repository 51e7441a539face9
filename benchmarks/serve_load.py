"""Serving load: N clients call the five image and sound endpoints for T seconds; latency, throughput, memory.

    python benchmarks/serve_load.py [--clients 8] [--seconds 60] [--warmup 2] [--warmup-seconds 0] [--idle 0]

Starts ``python app.py`` (one torch thread per request, the app's own queue settings) and runs
``--clients`` threads, each calling the endpoints in turn over Gradio's HTTP API (``HttpClient``: every
call uploads its files, waits for the result and downloads the result image, as an API user does) with
the app's example photos and sounds: ``/attribute_transfer``, ``/au_edit``, ``/genegan_swap``,
``/genegan_grid`` (3x3) and ``/sound_to_scene``. Reports p50/p95 per endpoint, requests per second,
errors, the CPU time of the server and of the clients (they share the machine: on a Space the visitors'
browsers are elsewhere), and the server's RSS (``/proc``, Linux): after warm-up, once a second under load
(growth is the slope of RSS against requests served), at the end and after ``--idle`` seconds without
requests. ``--warmup-seconds`` first runs the full load unmeasured, so the working set of requests side
by side is in place before growth is measured.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any, NamedTuple

import httpx
import numpy as np
from common import percentiles, record_result  # noqa: E402  (puts the repo on sys.path)

from facegan.app_process import AppProcess  # noqa: E402
from facegan.audio.examples import EXAMPLE_SOUNDS  # noqa: E402
from facegan.faces.aus import EDITABLE_AU_NUMBERS  # noqa: E402
from facegan.paths import UI_EXAMPLES_DIR  # noqa: E402

ASTRONAUT, HOPPER = str(UI_EXAMPLES_DIR / "astronaut.jpg"), str(UI_EXAMPLES_DIR / "grace_hopper.jpg")


class Upload(NamedTuple):
    """A file argument, uploaded anew for every call as a file of its own: Gradio names an upload by the
    hash of its bytes and the app caches its work per uploaded file, so a JPEG gets 16 random bytes after
    its end (decoders ignore them), as if every call sent a new photo."""

    path: str


def calls() -> list[tuple[str, tuple]]:
    """(endpoint, arguments) of one round through the five endpoints."""
    smile = [3.0 if number == 12 else 0.0 for number in EDITABLE_AU_NUMBERS]  # AU12, lip corner puller
    faces = [Upload(p) for p in (ASTRONAUT, HOPPER, HOPPER, ASTRONAUT, HOPPER)]
    return [
        ("/attribute_transfer", (Upload(ASTRONAUT), "Blond", ["Smiling"], 0, False)),
        ("/au_edit", (Upload(HOPPER), True, *smile)),
        ("/genegan_swap", ("Smiling", Upload(ASTRONAUT), Upload(HOPPER))),
        ("/genegan_grid", ("Smiling", *faces, 3)),
        ("/sound_to_scene", (Upload(str(EXAMPLE_SOUNDS[0].path)), 1.0, 0)),
    ]


class HttpClient:
    """Gradio's HTTP API with little CPU of its own: the clients share the server's two cores here, and
    ``gradio_client`` took about 290 ms of CPU per request, twice what the server spent on it."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self.http = httpx.Client(timeout=300)
        self.session = uuid.uuid4().hex  # one session per client, as a browser tab or gradio_client has

    def _file(self, upload: Upload) -> dict[str, Any]:
        path = Path(upload.path)
        data = path.read_bytes() + (os.urandom(16) if path.suffix.lower() in (".jpg", ".jpeg") else b"")
        response = self.http.post(f"{self.url}/gradio_api/upload", files={"files": (path.name, data)})
        response.raise_for_status()
        return {"path": response.json()[0], "meta": {"_type": "gradio.FileData"}}

    def predict(self, endpoint: str, args: tuple) -> list[Any]:
        """Call ``endpoint`` and download every file it returns; raise on an error event."""
        data = [self._file(arg) if isinstance(arg, Upload) else arg for arg in args]
        response = self.http.post(f"{self.url}/gradio_api/call{endpoint}", json={"data": data, "session_hash": self.session})
        response.raise_for_status()
        stream = self.http.get(f"{self.url}/gradio_api/call{endpoint}/{response.json()['event_id']}").text
        event, payload = "", "null"
        for line in stream.splitlines():
            if line.startswith("event:"):
                event = line.removeprefix("event:").strip()
            elif line.startswith("data:"):
                payload = line.removeprefix("data:").strip()
        if event != "complete":
            raise RuntimeError(f"{event or 'no event'}: {payload[:200]}")
        outputs = json.loads(payload)
        for output in outputs:
            if isinstance(output, dict) and output.get("url"):
                self.http.get(output["url"]).raise_for_status()
        return outputs


def rss_mb(pid: int) -> float:
    """Resident memory of the app process in MB."""
    line = next(line for line in Path(f"/proc/{pid}/status").read_text().splitlines() if line.startswith("VmRSS:"))
    return round(int(line.split()[1]) / 1024, 1)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (``/proc/PID/stat``, Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def client_loop(url: str, stop: float, offset: int, latencies: dict, errors: list, lock: threading.Lock) -> None:
    client = HttpClient(url)
    round_ = calls()
    k = offset
    while time.perf_counter() < stop:
        endpoint, args = round_[k % len(round_)]
        k += 1
        start = time.perf_counter()
        try:
            client.predict(endpoint, args)
        except Exception as exc:  # noqa: BLE001 - every failure counts, whatever it is
            with lock:
                errors.append(f"{endpoint}: {type(exc).__name__}: {str(exc)[:200]}")
            continue
        with lock:
            latencies[endpoint].append(1000 * (time.perf_counter() - start))


class Load(NamedTuple):
    latencies: dict[str, list[float]]
    errors: list[str]
    wall_s: float
    rss_samples: list[tuple[int, float]]
    """(requests completed so far, server RSS in MB), once a second."""


def load(url: str, pid: int, clients: int, seconds: float) -> Load:
    """``clients`` threads calling the endpoints in turn for ``seconds``, sampling the server's RSS."""
    latencies: dict[str, list[float]] = defaultdict(list)
    errors: list[str] = []
    samples: list[tuple[int, float]] = []
    lock = threading.Lock()
    stop = time.perf_counter() + seconds
    threads = [
        threading.Thread(target=client_loop, args=(url, stop, k, latencies, errors, lock)) for k in range(clients)
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    while time.perf_counter() < stop:
        with lock:
            done = sum(len(v) for v in latencies.values())
        samples.append((done, rss_mb(pid)))
        time.sleep(min(1.0, max(0.0, stop - time.perf_counter())))
    for thread in threads:
        thread.join()
    return Load(latencies, errors, time.perf_counter() - started, samples)


def growth_per_1000(samples: list[tuple[int, float]]) -> float:
    """Least-squares slope of RSS against requests completed, in MB per 1,000 requests: one late sample
    (a request's buffers, the trimmer's last pass) does not decide it the way an end-minus-start does."""
    requests = np.array([n for n, _ in samples], dtype=float)
    rss = np.array([m for _, m in samples])
    if len(samples) < 3 or np.ptp(requests) == 0:
        return float("nan")
    return round(1000 * float(np.polyfit(requests, rss, 1)[0]), 1)


def run(
    url: str, pid: int, clients: int, seconds: float, warmup_rounds: int, warmup_s: float = 0.0, idle_s: float = 0.0
) -> dict:
    warm = HttpClient(url)
    for _ in range(warmup_rounds):
        for endpoint, args in calls():
            warm.predict(endpoint, args)
    warmup_errors = load(url, pid, clients, warmup_s).errors if warmup_s > 0 else []
    rss_warm = rss_mb(pid)
    server_cpu, clients_cpu = cpu_seconds(pid), time.process_time()
    measured = load(url, pid, clients, seconds)
    server_cpu, clients_cpu = cpu_seconds(pid) - server_cpu, time.process_time() - clients_cpu
    latencies, errors, wall = measured.latencies, warmup_errors + measured.errors, measured.wall_s
    done = sum(len(v) for v in latencies.values())
    rss_end = rss_mb(pid)
    print(f"load done ({done} requests); idle for {idle_s:g} s", file=sys.stderr, flush=True)
    time.sleep(idle_s)
    rss_idle = rss_mb(pid)
    every = max(1, len(measured.rss_samples) // 30)
    return {
        "clients": clients, "seconds": round(wall, 1), "warmup_s_under_load": warmup_s, "requests": done,
        "errors": len(errors), "error_samples": errors[:5], "requests_per_s": round(done / wall, 2),
        "per_endpoint": {name: {"requests": len(v), **percentiles(v)} for name, v in sorted(latencies.items())},
        "cpu_s": {"server": round(server_cpu, 1), "clients": round(clients_cpu, 1)},
        "server_cpu_ms_per_request": round(1000 * server_cpu / max(done, 1), 1),
        "rss_mb": {"after_warmup": rss_warm, "end": rss_end,
                   "growth_per_1000_requests": growth_per_1000(measured.rss_samples),
                   "end_minus_warm_per_1000_requests": round(1000 * (rss_end - rss_warm) / max(done, 1), 1),
                   "samples_requests_rss": measured.rss_samples[::every],
                   "idle_s": idle_s, "after_idle": rss_idle, "after_idle_above_warm": round(rss_idle - rss_warm, 1)},
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--warmup", type=int, default=2, help="rounds through every endpoint before measuring")
    parser.add_argument(
        "--warmup-seconds", type=float, default=0.0, help="then this long under the full load, not measured"
    )
    parser.add_argument("--idle", type=float, default=0.0, help="seconds to wait after the load before the last RSS")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="facegan-serve-load-"))
    env = {"FACEGAN_STUDIES": str(root), "FACEGAN_DEMO_STUDY": "0", "OMP_NUM_THREADS": "1"}
    with AppProcess(root / "app.log", env) as app:
        figures = run(app.url, app.process.pid, args.clients, args.seconds, args.warmup, args.warmup_seconds, args.idle)
    record_result("serve_load", figures, sys.argv[1:])


if __name__ == "__main__":
    main()
