"""``python app.py`` as a child process on a free local port.

Browser tests and the study benchmarks need the real server (its HTTP API and its crash behaviour),
not an in-process Blocks object; this is the one place that starts, waits for and stops it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

from facegan.paths import REPO_ROOT

STARTUP_TIMEOUT_S = 180.0


def free_port() -> int:
    """A port the OS just reported free (a tiny race with other processes, acceptable here)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def answers(url: str) -> bool:
    """Whether ``url`` returns HTTP 200 yet."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


@dataclass
class AppProcess:
    """``python app.py`` on 127.0.0.1, with ``env`` added to this process's environment.

    As a context manager it serves for the duration of the ``with`` block.
    """

    log: Path
    env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def start(self, timeout_s: float = STARTUP_TIMEOUT_S) -> float:
        """Start and wait until it serves; returns the seconds that took. Can start again after ``kill``."""
        env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", **self.env}
        started = time.monotonic()
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "app.py", "--host", "127.0.0.1", "--port", str(self.port)],
                cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            )
        while not answers(self.url):
            if self.process.poll() is not None or time.monotonic() - started > timeout_s:
                self.stop()
                output = self.log.read_text(errors="replace")[-4000:]
                raise RuntimeError(f"app.py did not start serving {self.url}; the end of its output:\n{output}")
            time.sleep(0.25)
        return time.monotonic() - started

    def cpu_s(self) -> float:
        """CPU seconds the app process has used so far (user + system, from /proc; Linux only)."""
        assert self.process is not None
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def kill(self) -> None:
        """SIGKILL: no shutdown handler, no flush, as in a crash or an OOM kill."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
