"""Progress lines, the one way a stage tells a person how far it is: k of n pieces done
(epochs, rounds, fits), elapsed and estimated remaining time, at most one line every few
seconds (LAYERWISE_PROGRESS_SECONDS, default 5; 0 prints every piece) and always the last
one (n/n). Nothing is reported per training step.

    bar = Progress("greedy rounds", n, show=progress)
    bar.advance()                          # after each finished piece
    model.fit(..., on_epoch=bar.on_epoch)  # or let a fit advance it once per epoch
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable

from layerwise.pipeline.errors import UserError

PROGRESS_ENV = "LAYERWISE_PROGRESS_SECONDS"  # the least seconds between two lines


def progress_seconds(default: float = 5.0) -> float:
    """The least seconds between two progress lines: LAYERWISE_PROGRESS_SECONDS, else
    `default`; 0 prints a line for every piece. A value that is not a finite number >= 0
    is refused in one line (the stage runner asks before any work)."""
    raw = os.environ.get(PROGRESS_ENV, "").strip()
    if not raw:
        return default
    try:
        seconds = float(raw)
    except ValueError:
        seconds = float("nan")
    if not 0 <= seconds < float("inf"):
        raise UserError(f"{PROGRESS_ENV} = {raw!r} is not a number of seconds (allowed: >= 0)")
    return seconds


class Progress:
    """k of `total` done, printed as `  label: k/n  Xs elapsed, ~Ys left`.

    show=False makes every call a no-op (tests, quiet runs); `every`: the least number
    of seconds between two lines, the last line excepted (by default
    LAYERWISE_PROGRESS_SECONDS, else 5). Safe to advance from the
    threads of side-by-side trainings.
    """

    def __init__(self, label: str, total: int, *, show: bool = True, every: float | None = None):
        self.label, self.total, self.show = label, total, show
        self.every = progress_seconds() if every is None else every
        self.start = self.last = time.monotonic()
        self.done = 0
        self._lock = threading.Lock()

    def advance(self, count: int = 1) -> None:
        """`count` more pieces done; a line when `every` seconds have passed since the
        last one, or when all are done."""
        if not self.show:
            return
        with self._lock:
            self.done += count
            now = time.monotonic()
            if now - self.last < self.every and self.done < self.total:
                return
            self.last = now
            elapsed = now - self.start
            left = elapsed / self.done * (self.total - self.done) if self.done else float("nan")
            print(
                f"  {self.label}: {self.done}/{self.total}  {elapsed:.0f}s elapsed, "
                f"~{left:.0f}s left",
                flush=True,
            )

    @property
    def on_epoch(self) -> Callable[[int], None] | None:
        """The hook `ReplicaMLP.fit(on_epoch=...)` takes: one piece per finished epoch (the
        fit passes the epoch's index, which is not needed). None when not shown, so that
        the fit runs its epochs in as few compiled calls as it can."""
        if not self.show:
            return None
        return lambda epoch: self.advance()
