"""Helpers the steps share: reading run files, building policies, teachers and models."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from read.capabilities import to_vector
from read.io import read_json
from read.item_scores import LoadedModel

Cfg = Mapping[str, Any] | None


def r_tau(path) -> np.ndarray:
    return to_vector(read_json(path)["r"], f"{path}: r")


def ll_profile(profile_path) -> np.ndarray:
    """The log-likelihood profile s (what the bandit sees), CAPABILITIES order."""
    from read.reward import profile_vector

    return profile_vector(read_json(profile_path)["ll"], f"{profile_path}: ll")


def make_policy(method: str, *, reward: Cfg, bandit: Cfg, seed: int):
    from read.policies import make_policy as make

    return make(method, reward=dict(reward) if reward else None, bandit=dict(bandit) if bandit else None, seed=seed)


def load_ledger(path):
    from read.budget import Ledger

    return Ledger.from_json(read_json(path), str(path))


def with_threads(student, threads: int | None):
    """The student config on this job's threads (its ``threads:``), where given."""
    from dataclasses import replace

    return replace(student, threads=threads) if threads else student


@dataclass(frozen=True)
class ModelSettings:
    """How a model is loaded for scoring: its prompt format setting, device and dtype."""

    chat_template: str = "auto"
    device: str = "cpu"
    dtype: str = "float32"

    @classmethod
    def of(cls, section) -> ModelSettings:
        """From a ``models.teacher`` / ``models.student`` mapping or config (rule params)."""
        get = section.get if isinstance(section, Mapping) else lambda k: getattr(section, k)
        return cls(get("chat_template"), get("device"), get("dtype"))

    def to_dict(self) -> dict:
        return {"chat_template": self.chat_template, "device": self.device, "dtype": self.dtype}


def load_model(base_dir: str | os.PathLike, ckpt_dir: str | os.PathLike | None, tokenizer_dir,
               settings: ModelSettings = ModelSettings()) -> LoadedModel:
    """A student (base, full checkpoint, or base + LoRA adapter) or the teacher, for scoring."""
    from read.prompting import PromptFormat
    from read.students.checkpoint import load_student

    model, tok = load_student(base_dir, ckpt_dir, tokenizer_dir=tokenizer_dir, device=settings.device,
                              dtype=settings.dtype)
    return LoadedModel(model, tok, PromptFormat.for_tokenizer(tok, settings.chat_template))
