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


TINY_EXAMPLE = {"teacher_steps": 30, "student_steps": 10, "items": 24, "vocab_size": 400, "n_prompts": 60,
                "n_dev": 12, "n_test": 16, "n_eval": 12,
                "teacher_spec": {"layers": 1, "hidden": 32, "heads": 2},
                "student_spec": {"layers": 1, "hidden": 16, "heads": 2}}


@pytest.fixture(scope="session")
def tiny_example(tmp_path_factory):
    """The general-path example's inputs (read.embedded.example) at test size: real chat
    checkpoints with a Jinja template, a JSONL task, prompt, template and eval files."""
    from read.embedded.example import build

    return build(tmp_path_factory.mktemp("example") / "example", **TINY_EXAMPLE)
