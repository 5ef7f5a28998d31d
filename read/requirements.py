"""The task requirement vector r_τ ∈ Δ_K (paper §1.1).

r_τ comes from the task card's ``requirement:`` mapping (capability -> weight), normalised
onto the simplex, or is uniform (the ``no_identifier`` view). The learned identifier g_φ
(encoder -> 2-layer MLP -> softmax, trained on intervention data) is :mod:`read.identifier`.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from read.capabilities import K, to_vector
from read.errors import bad_input


def requirement_from_card(card_requirement: Mapping[str, float], where: str) -> np.ndarray:
    """r_τ from a task card: weights in CAPABILITIES order, scaled to sum to 1.

    Args:
        card_requirement: capability -> weight >= 0 (missing capabilities weigh 0).
        where: names the card in errors, e.g. ``"config/task_cards.yaml: tasks.math_code.requirement"``.

    Raises:
        ReadError: not a mapping, unknown capability, negative/non-finite weight, or all zero.
    """
    if not isinstance(card_requirement, Mapping):
        raise bad_input(
            where,
            f"requirement must be a mapping capability -> weight, got {type(card_requirement).__name__}",
            "write e.g. {math: 0.7, code: 0.3}",
        )
    return to_vector(card_requirement, where, normalise=True)


def uniform_requirement() -> np.ndarray:
    """r = 1/K everywhere: the "no identifier" view of a task."""
    return np.full(K, 1.0 / K, dtype=np.float64)
