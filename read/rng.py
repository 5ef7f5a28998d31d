"""Seeded random streams: one independent stream per (seed, purpose), never global state."""

from __future__ import annotations

import zlib

import numpy as np


def stream_words(seed: int, *keys: str | int) -> list[int]:
    """Entropy words for ``SeedSequence``: the seed plus a stable CRC of each key."""
    return [int(seed), *(zlib.crc32(str(k).encode()) for k in keys)]


def rng_for(seed: int, *keys: str | int) -> np.random.Generator:
    """A generator for one purpose, e.g. ``rng_for(seed, "templates", k)``.

    Adding a new draw for one purpose never shifts the numbers another purpose sees.
    """
    return np.random.default_rng(np.random.SeedSequence(stream_words(seed, *keys)))


def torch_seed_for(seed: int, *keys: str | int) -> int:
    """A 63-bit integer seed for ``torch.Generator().manual_seed`` derived the same way."""
    return int(np.random.SeedSequence(stream_words(seed, *keys)).generate_state(2, dtype=np.uint64)[0] >> 1)
