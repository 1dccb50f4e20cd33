"""Threads: how many replica groups a fit trains side by side (`default_threads`,
`fit_threads`), how replicas are split into groups (`replica_groups`), and independent
tasks run one per core (`side_by_side`).

XLA runs a small model's whole program on one core, so a second group of replicas (or a
second independent training) on a second core nearly halves the wall time. Replicas
never interact, so none of this changes what a replica computes.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

_local = threading.local()


def default_threads() -> int:
    """Replica groups `fit` trains side by side: the `fit_threads` setting of this thread,
    else $LAYERWISE_THREADS (a whole number >= 1, else ValueError), else the usable cores.
    """
    if getattr(_local, "threads", None):
        return _local.threads
    value = os.environ.get("LAYERWISE_THREADS", "").strip()
    if value:
        if not value.isdigit() or int(value) < 1:
            raise ValueError(f"LAYERWISE_THREADS = {value!r} (allowed: a whole number >= 1)")
        return int(value)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


@contextmanager
def fit_threads(n: int):
    """Within the block, `fit` on this thread spreads replicas over `n` threads by default
    (1 when the caller already runs independent fits side by side, one per core)."""
    before = getattr(_local, "threads", None)
    _local.threads = n
    try:
        yield
    finally:
        _local.threads = before


def side_by_side(tasks: Sequence[Callable[[], object]], workers: int | None = None) -> list:
    """Run independent tasks (trainings) at once, one per core; returns their results in
    task order. workers: at most this many at once (default `default_threads()`).

    Each task's fits use one thread, so the cores are not oversubscribed: independent
    programs side by side beat splitting each one's replicas (no per-step overhead
    paid twice, and one task's XLA compile overlaps another's training). Put the
    longest tasks first: they start first.
    """
    workers = min(workers or default_threads(), len(tasks))
    if workers <= 1:
        return [task() for task in tasks]

    def run(task):
        with fit_threads(1):
            return task()

    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(run, tasks))


def replica_groups(n_replicas: int, threads: int) -> list[slice]:
    """Equal contiguous groups of replicas, as many as divide R without exceeding `threads`:
    a list of slices over the replica axis, in order, covering 0..R.

    Equal sizes mean one compiled program serves every group.
    """
    k = max(1, min(threads, n_replicas))
    while n_replicas % k:
        k -= 1
    size = n_replicas // k
    return [slice(i * size, (i + 1) * size) for i in range(k)]


def in_threads(tasks: Sequence[Callable[[], object]]) -> list:
    """Run tasks each on a thread of its own (a single task on the calling thread);
    returns their results in task order."""
    if len(tasks) == 1:
        return [tasks[0]()]
    with ThreadPoolExecutor(len(tasks)) as pool:
        futures = [pool.submit(task) for task in tasks]
        return [f.result() for f in futures]
