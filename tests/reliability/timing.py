"""When the sandbox answered each request: the request log, with a wall-clock time per entry."""

from __future__ import annotations

import time


class TimedLog(list):
    """A drop-in for `Sandbox.requests` that notes when each request was answered."""

    def __init__(self) -> None:
        super().__init__()
        self.times: list[float] = []

    def append(self, entry) -> None:
        self.times.append(time.time())
        super().append(entry)

    def clear(self) -> None:
        self.times.clear()
        super().clear()

    def timed(self) -> list[tuple[float, object]]:
        return list(zip(self.times, self))
