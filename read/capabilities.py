"""The eight capabilities, their order, and requirement/allocation vectors over them."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from read.errors import bad_input

CAPABILITIES: tuple[str, ...] = (
    "general_knowledge",
    "steerability",
    "reasoning",
    "math",
    "code",
    "tool_use",
    "long_context",
    "multilingual",
)
K = len(CAPABILITIES)
SHORT = {
    "general_knowledge": "Gen",
    "steerability": "Steer",
    "reasoning": "Reas",
    "math": "Math",
    "code": "Code",
    "tool_use": "Tool",
    "long_context": "LCU",
    "multilingual": "Multi",
}
INDEX = {c: i for i, c in enumerate(CAPABILITIES)}


def check_capability(name: str, where: str) -> str:
    if name not in INDEX:
        raise bad_input(where, f"unknown capability {name!r}", f"use one of {list(CAPABILITIES)}")
    return name


def to_vector(weights: Mapping[str, float], where: str, *, normalise: bool = True) -> np.ndarray:
    """Mapping capability -> weight as a length-K float64 vector in CAPABILITIES order.

    Unknown names and negative or non-finite weights are errors; missing names are 0.
    With ``normalise`` the vector is scaled onto the simplex (it must not be all zero).
    """
    vec = np.zeros(K, dtype=np.float64)
    for name, value in weights.items():
        check_capability(name, where)
        if not isinstance(value, (int, float)) or not np.isfinite(value) or value < 0:
            raise bad_input(f"{where}.{name}", f"weight must be a finite number >= 0, got {value!r}", "fix the value")
        vec[INDEX[name]] = float(value)
    if normalise:
        total = vec.sum()
        if total <= 0:
            raise bad_input(where, "all weights are zero", "give at least one capability a positive weight")
        vec /= total
    return vec


def to_mapping(vec: np.ndarray) -> dict[str, float]:
    """Inverse of :func:`to_vector`: a plain dict in CAPABILITIES order (JSON friendly)."""
    return {c: float(v) for c, v in zip(CAPABILITIES, np.asarray(vec, dtype=np.float64))}
