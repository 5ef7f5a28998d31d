"""How a (prompt, answer) pair becomes model text; one place for every model and signal.

A training or generation sequence is the rendered prompt followed by the response and
the tokenizer's EOS. Prompt and response are tokenized separately and concatenated, so
the response token count is exact and the prompt tokens can be masked out of the loss.

Two formats (:class:`PromptFormat`):

- raw: ``Q: <prompt>\\nA:`` with BOS prepended at encoding, and the response ``" <answer>"``.
  The embedded world's tokenizer has no chat template, so its models speak this format.
- chat: the tokenizer's own chat template, ``apply_chat_template([user turn],
  add_generation_prompt=True)``; the response is the assistant turn's content. The
  template writes its own special tokens (BOS included where it wants one), so nothing is
  prepended at encoding, as ``apply_chat_template(tokenize=True)`` does.

Responses have the shape ``[rationale => ]answer``. The Resp signal carries only the
scratch a nested item needs (its inner result); the CoT signal asks for a rationale on
every item. Exact match always compares :func:`final_answer`.
"""

from __future__ import annotations

import re
from typing import Any

from read.errors import bad_input

ANSWER_SEP = "=>"
COT_CUE = "Explain."
CHAT_TEMPLATE_MODES = ("auto", "none")


def render_prompt(prompt: str, *, cot: bool = False) -> str:
    """The raw format's prompt text (the chat format wraps :func:`user_content` instead)."""
    return f"Q: {user_content(prompt, cot=cot)}\nA:"


def user_content(prompt: str, *, cot: bool = False) -> str:
    """The user's message: the prompt, plus the CoT cue on its own line for signal "cot"."""
    return f"{prompt}\n{COT_CUE}" if cot else prompt


def render_response(answer: str, rationale: str | None = None) -> str:
    return f" {rationale} {ANSWER_SEP} {answer}" if rationale else f" {answer}"


class PromptFormat:
    """How one model (through its tokenizer) reads prompts and writes responses.

    ``PromptFormat()`` is the raw format; ``PromptFormat(tokenizer)`` renders through the
    tokenizer's chat template. Build one with :meth:`for_tokenizer`.
    """

    def __init__(self, tokenizer: Any = None):
        self.tokenizer = tokenizer

    @classmethod
    def for_tokenizer(cls, tokenizer: Any, chat_template: str = "auto") -> PromptFormat:
        """``auto``: chat if the tokenizer has a chat template, else raw; ``none``: always raw."""
        if chat_template not in CHAT_TEMPLATE_MODES:
            raise bad_input("chat_template", f"unknown value {chat_template!r}", f"choose from {list(CHAT_TEMPLATE_MODES)}")
        if chat_template == "none" or not getattr(tokenizer, "chat_template", None):
            return RAW
        return cls(tokenizer)

    @property
    def chat(self) -> bool:
        return self.tokenizer is not None

    @property
    def add_bos(self) -> bool:
        """Whether encoding prepends BOS: the raw format does; a chat template writes its own."""
        return not self.chat

    def prompt(self, prompt: str, *, cot: bool = False) -> str:
        """The model text the response follows."""
        if not self.chat:
            return render_prompt(prompt, cot=cot)
        messages = [{"role": "user", "content": user_content(prompt, cot=cot)}]
        return self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)

    def response(self, text: str) -> str:
        """A gold response as this format writes it: raw keeps the space after ``A:``, chat
        content starts at its first character."""
        return text.lstrip() if self.chat else text

    def __eq__(self, other) -> bool:
        return isinstance(other, PromptFormat) and self.tokenizer is other.tokenizer

    def __hash__(self) -> int:
        return id(self.tokenizer)

    def __repr__(self) -> str:
        return "PromptFormat(chat)" if self.chat else "PromptFormat(raw)"


RAW = PromptFormat()


def final_answer(text: str) -> str:
    """The part after the last ``=>`` (the whole text if there is none), stripped."""
    return text.rsplit(ANSWER_SEP, 1)[-1].strip()


def normalise(text: str) -> str:
    """Case-, space- and trailing-punctuation-insensitive form used by exact match."""
    return re.sub(r"\s+", " ", text.strip().lower()).rstrip(" .")


def exact_match(prediction: str, reference: str) -> bool:
    return normalise(final_answer(prediction)) == normalise(final_answer(reference))
