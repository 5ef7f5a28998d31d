"""Teacher signals: what the teacher writes for a prompt, and what is kept of it.

=============  ============================  =======================================
signal         the teacher writes            kept beside the text
=============  ============================  =======================================
``resp``       the answer                    nothing
``cot``        a rationale, then the answer  nothing
``logit``      the answer                    its top-k logprobs at every answer token
``cot_logit``  a rationale, then the answer  its top-k logprobs at every token
=============  ============================  =======================================

A signal with top-k needs ``generation.top_k >= 1``; the student's ``kd`` loss needs one.
"""

from __future__ import annotations

from dataclasses import dataclass

from read.errors import bad_input


@dataclass(frozen=True)
class Signal:
    """One teacher signal.

    Attributes:
        name: its config spelling (``generation.signal``).
        rationale: the prompt asks for a rationale before the answer.
        topk: the teacher's top-k logprobs are recorded for every response token.
    """

    name: str
    rationale: bool
    topk: bool


SIGNALS: dict[str, Signal] = {
    s.name: s
    for s in (
        Signal("resp", rationale=False, topk=False),
        Signal("cot", rationale=True, topk=False),
        Signal("logit", rationale=False, topk=True),
        Signal("cot_logit", rationale=True, topk=True),
    )
}


def get_signal(name: str, where: str = "signal") -> Signal:
    """The :class:`Signal` called ``name``; an unknown name is one error listing the valid ones."""
    if name not in SIGNALS:
        raise bad_input(where, f"unknown signal {name!r}", f"choose from {list(SIGNALS)}")
    return SIGNALS[name]


def records_topk(name: str) -> bool:
    """Whether batches made with signal ``name`` carry the teacher's top-k (a sidecar file)."""
    return get_signal(name).topk


__all__ = ["SIGNALS", "Signal", "get_signal", "records_topk"]
