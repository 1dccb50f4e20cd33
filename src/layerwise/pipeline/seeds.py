"""Named random streams: every seed in the study is derived from the configured seed and
a path of names, never from a bare stream number.

`seed_for(cfg.seed, "greedy.supervised", "insert", k)` hashes each name (CRC-32) and mixes
the words with NumPy's `SeedSequence`, so two streams with different names are
independent, adding a stream moves no other one, and a seed derived from a seed
(`seed_for(member_seed, "order")`) is a stream of its own. Every seed fits in 32 bits
(what scikit-learn and NumPy accept).
"""

from __future__ import annotations

import zlib

import numpy as np


def seed_for(base: int, *names: str | int) -> int:
    """The 32-bit seed of the stream called `names` under the seed `base` (>= 0)."""
    words = [int(base)] + [zlib.crc32(str(name).encode()) for name in names]
    return int(np.random.SeedSequence(words).generate_state(1)[0])
