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


@pytest.fixture(scope="session")
def make_adder(tmp_path_factory):
    """Builds a tiny 2-layer Llama (hidden 32) trained on ``a plus b`` questions in the raw
    format, so it answers and emits EOS: ``make_adder(n=..., steps=...) -> checkpoint dir``."""

    def make(*, n: int, steps: int, max_position: int = 128, extra_texts: tuple[str, ...] = ()):
        from read import lm
        from read.embedded.models import ModelSpec, build_model
        from read.embedded.tokenizer import load_tokenizer, train_tokenizer
        from read.prompting import render_prompt

        pairs = [(a, b) for a in range(n) for b in range(n)]
        prompts = [render_prompt(f"What is {a} plus {b}?") for a, b in pairs]
        root = tmp_path_factory.mktemp("adder")
        tok = load_tokenizer(train_tokenizer([p + f" {a + b}" for p, (a, b) in zip(prompts, pairs)]
                                             + list(extra_texts), 300, root / "model"))
        model = build_model(ModelSpec(layers=2, hidden=32, heads=2, max_position=max_position), len(tok), seed=0)
        enc = lm.encode_pairs(tok, prompts, [f" {a + b}" for a, b in pairs], 64)
        lm.train(model, enc, lm.TrainConfig(lr=1e-2, batch_size=32, max_steps=steps, warmup_steps=5), seed=0,
                 pad_id=tok.pad_token_id, progress=False)
        model.save_pretrained(root / "model")
        return root / "model"

    return make
