"""Teacher top-k logprobs beside a batch, sparse and binary: ``batch.topk.npz``.

Logit KD needs, for every response token of every row, the teacher's k best token ids and
their logprobs. As JSON lists that is ~20 characters per (id, logprob) pair; here it is one
``.npz`` (numpy's zip of arrays, no pickle) next to ``batch.jsonl``:

- ``offsets`` int64 (rows + 1): row i's tokens are ``offsets[i]:offsets[i + 1]`` (0 for
  rows without top-k);
- ``ids`` int32 (tokens, k) and ``logprobs`` float16 (tokens, k).

That is k × 6 bytes per token plus 8 bytes per row (48 bytes a token at k = 8). float16
keeps logprobs to about three significant digits, well inside what a softmax over k
teacher logits needs. Rows in ``batch.jsonl`` then hold ``"topk": null``; :func:`attach`
puts the lists back when a batch is read, so a bad sidecar is an error naming the file.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from read.errors import bad_input
from read.io import atomic_path

SUFFIX = ".topk.npz"


def sidecar_path(batch_path: str | os.PathLike) -> Path:
    """``.../batch.jsonl`` -> ``.../batch.topk.npz``."""
    path = Path(batch_path)
    return path.with_name(path.name.removesuffix(".jsonl") + SUFFIX)


def split(rows: Sequence[dict]) -> tuple[list[dict], dict[str, np.ndarray] | None]:
    """(rows with ``topk`` set to None, the arrays) — None when no row has top-k."""
    if all(r.get("topk") is None for r in rows):
        return list(rows), None
    ks = {len(step) for r in rows if r.get("topk") for step in r["topk"]}
    if len(ks) != 1:
        raise bad_input("teacher top-k", f"rows hold top-k lists of sizes {sorted(ks)}", "generate with one top_k")
    (k,) = ks
    counts = [len(r["topk"] or ()) for r in rows]
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    flat = [pair for r in rows for step in (r["topk"] or ()) for pair in step]
    pairs = np.asarray(flat, dtype=np.float64).reshape(-1, k, 2)
    arrays = {"offsets": offsets, "ids": pairs[..., 0].astype(np.int32), "logprobs": pairs[..., 1].astype(np.float16)}
    return [{**r, "topk": None} for r in rows], arrays


def empty(n_rows: int) -> dict[str, np.ndarray]:
    """The sidecar of ``n_rows`` rows without top-k."""
    return {"offsets": np.zeros(n_rows + 1, dtype=np.int64), "ids": np.zeros((0, 0), dtype=np.int32),
            "logprobs": np.zeros((0, 0), dtype=np.float16)}


def save(path: str | os.PathLike, arrays: dict[str, np.ndarray]) -> int:
    """Write the sidecar atomically; returns its size in bytes."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)
    return Path(path).stat().st_size


def attach(rows: list[tuple[str, dict]], path: str | os.PathLike) -> list[tuple[str, dict]]:
    """Rows with their top-k lists from the sidecar at ``path`` (rows in file order)."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            offsets, ids, lps = data["offsets"], data["ids"], data["logprobs"].astype(np.float64)
    except (OSError, KeyError, ValueError) as err:
        raise bad_input(str(path), f"not a top-k sidecar ({type(err).__name__}: {err})", "regenerate the batch") from None
    if len(offsets) != len(rows) + 1 or offsets[-1] != len(ids) or ids.shape != lps.shape:
        raise bad_input(str(path), f"holds {len(offsets) - 1} rows and {len(ids)} tokens, the batch {len(rows)} rows",
                        "regenerate the batch (the sidecar belongs to another one)")
    out = []
    for i, (where, row) in enumerate(rows):
        a, b = int(offsets[i]), int(offsets[i + 1])
        topk: Any = [[[int(t), float(lp)] for t, lp in zip(ids[j], lps[j])] for j in range(a, b)] if b > a else None
        out.append((where, {**row, "topk": topk}))
    return out
