"""Serving load: N clients call the five image and sound endpoints for T seconds; latency, throughput, memory.

    python benchmarks/serve_load.py [--clients 8] [--seconds 60] [--warmup 2]

Starts ``python app.py`` (one torch thread per request, the app's own queue settings) and runs
``--clients`` threads, each with its own ``gradio_client``, calling the endpoints in turn with the
app's example photos and sounds: ``/attribute_transfer``, ``/au_edit``, ``/genegan_swap``,
``/genegan_grid`` (3x3) and ``/sound_to_scene``. Reports p50/p95 per endpoint, requests per second,
errors, the CPU time of the server and of the clients (they share the machine: on a Space the visitors'
browsers are elsewhere), and the server's RSS after warm-up, at the end and after ``--idle`` seconds without requests
(``/proc``, Linux).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

from common import percentiles, record_result  # noqa: E402  (puts the repo on sys.path)

from facegan.app_process import AppProcess  # noqa: E402
from facegan.audio.examples import EXAMPLE_SOUNDS  # noqa: E402
from facegan.faces.aus import EDITABLE_AU_NUMBERS  # noqa: E402
from facegan.paths import UI_EXAMPLES_DIR  # noqa: E402

ASTRONAUT, HOPPER = str(UI_EXAMPLES_DIR / "astronaut.jpg"), str(UI_EXAMPLES_DIR / "grace_hopper.jpg")


def calls() -> list[tuple[str, tuple]]:
    """(endpoint, arguments) of one round through the five endpoints."""
    from gradio_client import handle_file

    smile = [3.0 if number == 12 else 0.0 for number in EDITABLE_AU_NUMBERS]  # AU12, lip corner puller
    return [
        ("/attribute_transfer", (handle_file(ASTRONAUT), "Blond", ["Smiling"], 0)),
        ("/au_edit", (handle_file(HOPPER), True, *smile)),
        ("/genegan_swap", ("Smiling", handle_file(ASTRONAUT), handle_file(HOPPER))),
        ("/genegan_grid", ("Smiling", *[handle_file(p) for p in (ASTRONAUT, HOPPER, HOPPER, ASTRONAUT, HOPPER)], 3)),
        ("/sound_to_scene", (handle_file(str(EXAMPLE_SOUNDS[0].path)), 1.0, 0)),
    ]


def rss_mb(pid: int) -> float:
    """Resident memory of the app process in MB."""
    line = next(line for line in Path(f"/proc/{pid}/status").read_text().splitlines() if line.startswith("VmRSS:"))
    return round(int(line.split()[1]) / 1024, 1)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (``/proc/PID/stat``, Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def client_loop(url: str, stop: float, offset: int, latencies: dict, errors: list, lock: threading.Lock) -> None:
    from gradio_client import Client

    client = Client(url, verbose=False)
    round_ = calls()
    k = offset
    while time.perf_counter() < stop:
        endpoint, args = round_[k % len(round_)]
        k += 1
        start = time.perf_counter()
        try:
            client.predict(*args, api_name=endpoint)
        except Exception as exc:  # noqa: BLE001 - every failure counts, whatever it is
            with lock:
                errors.append(f"{endpoint}: {type(exc).__name__}: {str(exc)[:200]}")
            continue
        with lock:
            latencies[endpoint].append(1000 * (time.perf_counter() - start))


def run(url: str, pid: int, clients: int, seconds: float, warmup_rounds: int, idle_s: float = 0.0) -> dict:
    from gradio_client import Client

    warm = Client(url, verbose=False)
    for _ in range(warmup_rounds):
        for endpoint, args in calls():
            warm.predict(*args, api_name=endpoint)
    rss_warm = rss_mb(pid)
    latencies: dict[str, list[float]] = defaultdict(list)
    errors: list[str] = []
    lock = threading.Lock()
    stop = time.perf_counter() + seconds
    threads = [
        threading.Thread(target=client_loop, args=(url, stop, k, latencies, errors, lock)) for k in range(clients)
    ]
    started = time.perf_counter()
    server_cpu, clients_cpu = cpu_seconds(pid), time.process_time()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    server_cpu, clients_cpu = cpu_seconds(pid) - server_cpu, time.process_time() - clients_cpu
    done = sum(len(v) for v in latencies.values())
    rss_end = rss_mb(pid)
    time.sleep(idle_s)
    rss_idle = rss_mb(pid)
    return {
        "clients": clients, "seconds": round(wall, 1), "requests": done, "errors": len(errors),
        "error_samples": errors[:5], "requests_per_s": round(done / wall, 2),
        "per_endpoint": {name: {"requests": len(v), **percentiles(v)} for name, v in sorted(latencies.items())},
        "cpu_s": {"server": round(server_cpu, 1), "clients": round(clients_cpu, 1)},
        "server_cpu_ms_per_request": round(1000 * server_cpu / max(done, 1), 1),
        "rss_mb": {"after_warmup": rss_warm, "end": rss_end,
                   "growth_per_1000_requests": round(1000 * (rss_end - rss_warm) / max(done, 1), 1),
                   "idle_s": idle_s, "after_idle": rss_idle, "after_idle_above_warm": round(rss_idle - rss_warm, 1)},
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--warmup", type=int, default=2, help="rounds through every endpoint before measuring")
    parser.add_argument("--idle", type=float, default=0.0, help="seconds to wait after the load before the last RSS")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="facegan-serve-load-"))
    env = {"FACEGAN_STUDIES": str(root), "FACEGAN_DEMO_STUDY": "0", "OMP_NUM_THREADS": "1"}
    with AppProcess(root / "app.log", env) as app:
        figures = run(app.url, app.process.pid, args.clients, args.seconds, args.warmup, args.idle)
    record_result("serve_load", figures, sys.argv[1:])


if __name__ == "__main__":
    main()
