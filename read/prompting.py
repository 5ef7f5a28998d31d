"""How a (prompt, answer) pair becomes model text; one place for every model and signal.

A training or generation sequence is ``render_prompt(prompt)`` followed by the response
``render_response(answer, rationale)`` and the tokenizer's EOS. Prompt and response are
tokenized separately and concatenated, so the response token count is exact and the
prompt tokens can be masked out of the loss.

Responses have the shape ``[rationale => ]answer``. The Resp signal carries only the
scratch a nested item needs (its inner result); the CoT signal asks for a rationale on
every item. Exact match always compares :func:`final_answer`.
"""

from __future__ import annotations

import re

ANSWER_SEP = "=>"
COT_CUE = "Explain."


def render_prompt(prompt: str, *, cot: bool = False) -> str:
    cue = f"\n{COT_CUE}" if cot else ""
    return f"Q: {prompt}{cue}\nA:"


def render_response(answer: str, rationale: str | None = None) -> str:
    return f" {rationale} {ANSWER_SEP} {answer}" if rationale else f" {answer}"


def final_answer(text: str) -> str:
    """The part after the last ``=>`` (the whole text if there is none), stripped."""
    return text.rsplit(ANSWER_SEP, 1)[-1].strip()


def normalise(text: str) -> str:
    """Case-, space- and trailing-punctuation-insensitive form used by exact match."""
    return re.sub(r"\s+", " ", text.strip().lower()).rstrip(" .")


def exact_match(prediction: str, reference: str) -> bool:
    return normalise(final_answer(prediction)) == normalise(final_answer(reference))
