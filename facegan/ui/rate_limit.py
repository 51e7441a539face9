"""A brake on guessing: after a few failures in a short window, further attempts wait.

The admin password is the only secret a public Space holds; without a brake a client tried 38
guesses a second. One limiter for the whole server (Gradio hands handlers no reliable client
identity behind a proxy): under attack, the admin waits a minute too, which is the safe side.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

from facegan.errors import UserError


class FailureLimiter:
    """At most ``max_failures`` failed attempts per ``window_s`` seconds; then every attempt is refused
    until the oldest failure leaves the window."""

    def __init__(self, max_failures: int = 5, window_s: float = 60.0, clock: Callable[[], float] = time.monotonic):
        self.max_failures = max_failures
        self.window_s = window_s
        self.clock = clock
        self._failures: deque[float] = deque()
        self._lock = threading.Lock()

    def check(self) -> None:
        """Raise a ``UserError`` saying how long to wait while too many recent attempts failed."""
        with self._lock:
            now = self.clock()
            while self._failures and now - self._failures[0] >= self.window_s:
                self._failures.popleft()
            if len(self._failures) >= self.max_failures:
                wait = self.window_s - (now - self._failures[0])
                raise UserError(f"too many wrong passwords; try again in {max(1, round(wait))} s")

    def failed(self) -> None:
        with self._lock:
            self._failures.append(self.clock())
