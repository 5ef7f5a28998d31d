"""Shared fixtures."""

from __future__ import annotations

import os

import pytest

# Tests never reach a model hub: every model and tokenizer is built locally.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")


@pytest.fixture(scope="module")
def one_torch_thread():
    """Tiny models on a shared 2-core box: one torch thread is ~10x faster than two contended ones."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
