"""A method is an allocation policy, optionally with its own teacher signal and loss.

    <policy>[+<signal>-<objective>]      e.g.  read, uniform, onehot:math+cot-kd

The policy (:mod:`read.policies`) decides w_k. Without a suffix a method uses the config's
``generation`` and ``models.student`` as they are. A suffix names one of the paper's
teacher-signal baselines (§3a) and overrides only the keys below, so every signal is a
method of one grid and each run's params say what it used:

============  ====================  =========  ====================================
suffix        generation.signal      loss       KD weight α, temperature T
============  ====================  =========  ====================================
``resp-sft``  resp (answer)          sft        –
``cot-sft``   cot (rationale first)  sft        –
``resp-kd``   logit (answer + top-k) kd         the config's kd_alpha, kd_temperature
``cot-kd``    cot_logit              kd         the config's kd_alpha, kd_temperature
``logit-kd``  logit                  kd         α = 1, T = 1: token distributions only
============  ====================  =========  ====================================

``kd`` is α · T² · KL(teacher top-k ‖ student) + (1 − α) · CE (read.lm.losses). Resp-KD
and CoT-KD distil the text and its token distributions together; Logit-KD matches the
distributions alone, as the released code's ``logit`` strategy (KL, T = 1, no CE term).
The paper does not define Logit-SFT (paper.md §3a), and every reading of it here equals
one of the rows above, so it is refused rather than guessed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from read.errors import bad_input
from read.signals import get_signal

SIGNAL_SEPARATOR = "+"
# suffix -> (generation overrides, models.student overrides)
TEACHER_SIGNALS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "resp-sft": ({"signal": "resp"}, {"loss": "sft"}),
    "cot-sft": ({"signal": "cot"}, {"loss": "sft"}),
    "resp-kd": ({"signal": "logit"}, {"loss": "kd"}),
    "cot-kd": ({"signal": "cot_logit"}, {"loss": "kd"}),
    "logit-kd": ({"signal": "logit"}, {"loss": "kd", "kd_alpha": 1.0, "kd_temperature": 1.0}),
}
UNDEFINED_SIGNALS = {"logit-sft": "the paper does not say how Logit-SFT differs from Logit-KD (paper.md §3a)"}


def split_method(name: str) -> tuple[str, str | None]:
    """``(policy, signal suffix or None)`` of a method name; an unknown suffix is one error."""
    policy, sep, suffix = name.partition(SIGNAL_SEPARATOR)
    if not sep:
        return name, None
    if suffix in UNDEFINED_SIGNALS:
        raise bad_input(f"method {name!r}", f"teacher signal {suffix!r} is not provided: {UNDEFINED_SIGNALS[suffix]}",
                        f"use one of {sorted(TEACHER_SIGNALS)}")
    if suffix not in TEACHER_SIGNALS or not policy:
        raise bad_input(f"method {name!r}", f"expected <policy>+<signal>, with a signal from {sorted(TEACHER_SIGNALS)}",
                        "fix the name in `methods:`")
    return policy, suffix


def policy_of(name: str) -> str:
    """The allocation policy a method runs (``onehot:math+cot-kd`` -> ``onehot:math``)."""
    return split_method(name)[0]


def method_generation(name: str, generation: Mapping[str, Any]) -> dict[str, Any]:
    """``generation:`` as method ``name`` uses it (rule params of ``generate``)."""
    _, suffix = split_method(name)
    out = {**generation, **(TEACHER_SIGNALS[suffix][0] if suffix else {})}
    if get_signal(out["signal"], "generation.signal").topk and int(out.get("top_k", 0)) < 1:
        raise bad_input(f"method {name!r}", f"signal {out['signal']!r} records the teacher's top-k, but "
                        f"generation.top_k is {out.get('top_k', 0)}", "set generation.top_k, e.g. 8")
    return out


def method_student(name: str, student: Mapping[str, Any]) -> dict[str, Any]:
    """``models.student`` as method ``name`` trains it (rule params of ``train``)."""
    _, suffix = split_method(name)
    return {**student, **(TEACHER_SIGNALS[suffix][1] if suffix else {})}


__all__ = ["SIGNAL_SEPARATOR", "TEACHER_SIGNALS", "method_generation", "method_student", "policy_of", "split_method"]
