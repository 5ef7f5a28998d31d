"""The binary top-k sidecar of a logit-KD batch: round trip, size, and errors that name the file."""

from __future__ import annotations

import json

import numpy as np
import pytest

from read import topk_store
from read.batches import write_batch
from read.errors import ReadError
from read.students.train import load_rows


def rows(k: int = 8, lengths=(3, 5, 1)):
    rng = np.random.default_rng(0)
    out = []
    for n in lengths:
        steps = [[[int(t), float(lp)] for t, lp in zip(rng.integers(0, 2048, k), np.sort(-rng.random(k) * 10)[::-1])]
                 for _ in range(n)]
        out.append({"capability": "math", "template": "t", "difficulty": "easy", "prompt": "p", "response": "r",
                    "prompt_tokens": 4, "response_tokens": n, "topk": steps})
    return out


def test_a_batch_round_trips_through_its_sidecar_at_float16_precision(tmp_path):
    path = tmp_path / "batch.jsonl"
    manifest = write_batch(path, rows(), {"signal": "logit"})
    assert all(json.loads(line)["topk"] is None for line in path.read_text().splitlines())
    back = [r for _, r in load_rows(path)]
    for a, b in zip(rows(), back):
        ids_a, lp_a = np.array(a["topk"])[..., 0], np.array(a["topk"])[..., 1]
        ids_b, lp_b = np.array(b["topk"])[..., 0], np.array(b["topk"])[..., 1]
        assert np.array_equal(ids_a, ids_b)
        np.testing.assert_allclose(lp_b, lp_a, rtol=1e-3, atol=1e-3)  # float16
    assert manifest["topk_sidecar"]["tokens"] == 9 and manifest["topk_sidecar"]["k"] == 8


def test_a_sidecar_costs_k_times_six_bytes_a_token(tmp_path):
    big = rows(lengths=[10] * 200)
    side = write_batch(tmp_path / "batch.jsonl", big, {"signal": "logit"})["topk_sidecar"]
    json_per_token = len(json.dumps([r["topk"] for r in big])) / 2000
    assert side["tokens"] == 2000 and 8 * 6 <= side["bytes_per_token"] <= 8 * 6 + 2  # + offsets and zip headers
    assert json_per_token > 3 * side["bytes_per_token"], json_per_token


def test_a_sidecar_from_another_batch_is_an_error_naming_it(tmp_path):
    path = tmp_path / "batch.jsonl"
    write_batch(path, rows(), {"signal": "logit"})
    other = tmp_path / "other.jsonl"
    write_batch(other, rows()[:2], {"signal": "logit"})
    topk_store.sidecar_path(other).replace(topk_store.sidecar_path(path))
    with pytest.raises(ReadError, match=r"batch.topk.npz: holds 2 rows and 8 tokens, the batch 3 rows"):
        load_rows(path)


def test_a_resp_batch_writes_no_sidecar(tmp_path):
    path = tmp_path / "batch.jsonl"
    plain = [{**r, "topk": None} for r in rows()]
    assert "topk_sidecar" not in write_batch(path, plain, {"signal": "resp"})
    assert not topk_store.sidecar_path(path).exists() and [r for _, r in load_rows(path)] == plain
