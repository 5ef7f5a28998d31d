"""The task requirement vector r_τ ∈ Δ_K (paper §1.1).

Today r_τ comes from the task card's ``requirement:`` mapping (capability -> weight),
normalised onto the simplex. The paper's learned identifier g_φ (encoder -> 2-layer MLP
-> softmax, trained once on intervention data) is specified by
:class:`RequirementIdentifier` but not implemented.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol, runtime_checkable

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


@runtime_checkable
class RequirementIdentifier(Protocol):
    """Interface of the learned identifier r_τ = g_φ(D_spec_τ) (paper §1.1). NOT implemented.

    An implementation maps a task card's text (description, I/O format, evaluation
    target, a few non-test exemplars) to a requirement vector:

        predict(card_text) -> r, shape (K,), r >= 0, Σ r = 1, CAPABILITIES order.

    Paper architecture: small Transformer encoder -> 2-layer MLP -> softmax. It is trained
    once, shared by all tasks, on profiling interventions m (sparse Dirichlet w^(m),
    short distillation from S0) with
        min_φ Σ_{τ,m} (ΔU^(m) − g_φ(D_spec)ᵀ Δs^(m))² + λ_ent · H(g_φ(D_spec)),
    where ΔU^(m) = U(S^(m)) − U(S0) (a DIFFERENCE; the seed code logged absolute U, §6.10)
    and Δs^(m) = s(S^(m)) − s(S0). The records written for the bandit warm start
    (fields ``delta_s``, ``delta_u``) are exactly this training data. Its cost is not
    charged to B.
    """

    def predict(self, card_text: str) -> np.ndarray:
        raise NotImplementedError(
            "the learned requirement identifier g_phi is not implemented; give the task card an explicit "
            "`requirement:` mapping and use read.requirements.requirement_from_card"
        )
