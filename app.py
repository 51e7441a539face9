"""Entry point: ``python app.py`` serves FaceGAN Studio; Hugging Face Spaces and tests import ``demo``.

Address precedence is ``--host/--port`` flags, then ``GRADIO_SERVER_NAME/GRADIO_SERVER_PORT`` (set by
Spaces), then 127.0.0.1:7860.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping, Sequence

# Must precede the first gradio import: gradio reads it at import and Blocks creation time.
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"

import torch  # noqa: E402

from facegan.cores import usable_cores  # noqa: E402
from facegan.memory import limit_malloc_arenas, start_memory_trimmer  # noqa: E402
from facegan.ui import THEME, build_app  # noqa: E402

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7860
# What one visitor may cost a shared server: uploads above 20 MB are refused by Gradio before they
# are stored (a 4096 px photo or a minute of audio is far smaller), and per-session state is kept
# for at most 1,000 sessions rather than Gradio's 10,000.
SERVING_LIMITS = {"max_file_size": "20mb", "state_session_capacity": 1000}

# At most 64 requests wait; beyond that a visitor is told the queue is full instead of waiting
# minutes. Everyone in the queue sees their place in it ("queue: 3/12") on the output they wait for.
# Gradio's concurrency limit is per event, and different events run side by side, each request on one
# torch thread (``main``). With two requests of every kind allowed, 8 visitors on 2 cores ran up to 8
# threads that slowed each other down (8.6 requests/s, p95 of single edits 1.1-1.3 s); with each kind
# limited to half the cores, requests of one kind wait their turn while the other kinds keep the cores
# busy (10.1 requests/s, every single edit's p95 under 0.85 s; benchmarks/serve_load.py, docs/serving.md).
CORES = usable_cores()
QUEUE_LIMITS = {"max_size": 64, "default_concurrency_limit": max(1, CORES // 2)}
TORCH_THREADS_PER_REQUEST = 1

demo = build_app().queue(**QUEUE_LIMITS)


def resolve_address(
    argv: Sequence[str] | None = None, env: Mapping[str, str] = os.environ
) -> tuple[str, int]:
    """Host and port to serve on: flags win over environment, environment over defaults."""
    parser = argparse.ArgumentParser(description="Serve the FaceGAN Studio web app.")
    parser.add_argument("--host", help=f"address to bind; env GRADIO_SERVER_NAME, default {DEFAULT_HOST}")
    parser.add_argument("--port", type=int, help=f"port; env GRADIO_SERVER_PORT, default {DEFAULT_PORT}")
    args = parser.parse_args(argv)
    host = args.host or env.get("GRADIO_SERVER_NAME") or DEFAULT_HOST
    if args.port is not None:
        return host, args.port
    env_port = env.get("GRADIO_SERVER_PORT") or str(DEFAULT_PORT)
    if not env_port.isdigit():
        parser.error(f"GRADIO_SERVER_PORT must be a port number, got {env_port!r}")
    return host, int(env_port)


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the address and serve until interrupted: one torch thread per request, the server's memory
    bounded (``facegan.memory``)."""
    host, port = resolve_address(argv)
    torch.set_num_threads(TORCH_THREADS_PER_REQUEST)
    limit_malloc_arenas()
    start_memory_trimmer()
    demo.launch(server_name=host, server_port=port, share=False, theme=THEME, **SERVING_LIMITS)


if __name__ == "__main__":
    main()
