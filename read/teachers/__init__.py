"""Teachers: one interface, three backends; text, exact generated token ids and optional top-k logprobs.

``make_teacher(cfg).generate(prompts, signal=..., ...)`` takes *raw* prompts; the backend
renders each in the teacher's :class:`read.prompting.PromptFormat` (its tokenizer's chat
template when it has one, else the raw ``Q: ...\nA:`` form; ``cot`` for signal "cot") and
returns one ``read.lm.Generation`` per prompt, in order:

- ``text``: the response (EOS removed), ``token_ids``: the generated ids (EOS included if
  reached), ``n_tokens = len(token_ids)`` (the teacher-generation cost), ``finished``;
- ``topk``: per generated token the top-k ``(id, logprob)`` (descending), only for
  signal "logit" (``top_k`` >= 1), else None.

Backends (``TeacherConfig.backend``):

- ``hf``: transformers on a local checkpoint, via ``read.lm.generate`` (embedded default);
- ``vllm``: offline ``vllm.LLM`` engine on GPUs (``pip install .[gpu]``);
- ``openai``: any OpenAI-compatible ``/v1/completions`` server (``vllm serve``, SGLang,
  TGI, or ``python -m read.teachers.serve`` for a local checkpoint).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from read.config import from_mapping
from read.errors import bad_input
from read.prompting import CHAT_TEMPLATE_MODES, RAW, PromptFormat
from read.signals import get_signal

if TYPE_CHECKING:
    from read.lm import Generation

BACKENDS = {
    "hf": "read.teachers.hf:HFTeacher",
    "vllm": "read.teachers.vllm_engine:VLLMTeacher",
    "openai": "read.teachers.openai_api:OpenAITeacher",
}


@dataclass(frozen=True)
class TeacherConfig:
    """`teacher:` section.

    backend: one of BACKENDS. path: local checkpoint directory (hf, vllm; for openai the
        optional local copy whose tokenizer renders prompts). served_model: the model name
        the server serves (openai). tokenizer: local tokenizer directory (None = ``path``;
        openai needs one for a chat template, and where the server returns no token ids).
    chat_template: "auto" renders prompts through the tokenizer's chat template when it has
        one; "none" always uses the raw ``Q: ...\nA:`` format.
    batch_size: prompts per forward batch (hf) or per HTTP request (openai).
    device, dtype: hf placement ("cpu"/"cuda", "float32"/"bfloat16"/"float16"/"auto").
    tensor_parallel_size, gpu_memory_utilization, max_model_len: vllm engine settings.
    top_p: nucleus sampling when temperature > 0.
    base_url: OpenAI-compatible root, e.g. "http://localhost:8000/v1". api_key_env: name of the
        environment variable holding the API key (never the key itself; unset = no key).
    timeout_s, max_retries, backoff_s: per-request timeout; retries on connection errors,
        HTTP 429 and 5xx with exponential backoff (backoff_s · 2^attempt).
    wait_s: seconds the openai client waits for the server before its first request (its
        health endpoint, and ``base_url_file`` when set); 0 = no wait.
    base_url_file: a file the server job writes its ``http://host:port/v1`` root into
        (tools/serve_teacher.sh); read instead of ``base_url`` when set.
    concurrency: parallel HTTP requests (openai). token_ids: "auto" asks the server for ids
        (vLLM ``return_token_ids`` / ``return_tokens_as_token_ids``) and falls back to the
        local tokenizer; "retokenize" never sends those vendor fields.
    """

    backend: str = "hf"
    path: str | None = None
    served_model: str | None = None
    tokenizer: str | None = None
    chat_template: str = "auto"
    batch_size: int = 64
    device: str = "cpu"
    dtype: str = "float32"
    tensor_parallel_size: int = 1
    gpu_memory_utilization: float = 0.9
    max_model_len: int | None = None
    top_p: float = 1.0
    base_url: str = "http://localhost:8000/v1"
    api_key_env: str = "OPENAI_API_KEY"
    timeout_s: float = 600.0
    max_retries: int = 5
    backoff_s: float = 1.0
    concurrency: int = 4
    token_ids: str = "auto"
    wait_s: float = 0.0
    base_url_file: str | None = None

    def __post_init__(self):
        w = "models.teacher"
        if self.backend not in BACKENDS:
            raise bad_input(f"{w}.backend", f"unknown backend {self.backend!r}", f"choose from {sorted(BACKENDS)}")
        if self.backend == "openai" and not self.served_model:
            raise bad_input(f"{w}.served_model", "empty", "name the model the server serves (vllm serve --served-model-name)")
        if self.backend != "openai" and not self.path:
            raise bad_input(f"{w}.path", "empty", "set a local checkpoint directory")
        if self.chat_template not in CHAT_TEMPLATE_MODES:
            raise bad_input(f"{w}.chat_template", f"unknown value {self.chat_template!r}",
                            f"choose from {list(CHAT_TEMPLATE_MODES)}")
        if self.batch_size < 1 or self.tensor_parallel_size < 1 or self.concurrency < 1:
            raise bad_input(w, "batch_size, tensor_parallel_size and concurrency must be >= 1", "fix them")
        if not 0 < self.gpu_memory_utilization <= 1 or not 0 < self.top_p <= 1:
            raise bad_input(w, "gpu_memory_utilization and top_p must be in (0, 1]", "fix them")
        if self.timeout_s <= 0 or self.max_retries < 0 or self.backoff_s < 0 or self.wait_s < 0:
            raise bad_input(w, "need timeout_s > 0, max_retries >= 0, backoff_s >= 0, wait_s >= 0", "fix them")
        if self.token_ids not in ("auto", "retokenize"):
            raise bad_input(f"{w}.token_ids", f"unknown value {self.token_ids!r}", "choose 'auto' or 'retokenize'")

    @property
    def tokenizer_dir(self) -> str | None:
        return self.tokenizer or self.path

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], where: str = "teacher") -> TeacherConfig:
        """Build from a config mapping; unknown keys are an error listing the valid ones."""
        return from_mapping(cls, d, where)

    def to_dict(self) -> dict:
        """Every field as plain values (rule params; ``from_dict`` rebuilds the config)."""
        return asdict(self)


def check_request(signal: str, max_new_tokens: int, temperature: float, top_k: int) -> int:
    """Validate generate() arguments; returns the number of logprobs to ask for (0 unless
    the signal records top-k, :mod:`read.signals`)."""
    sig = get_signal(signal, "teacher.generate")
    if max_new_tokens < 1 or temperature < 0 or top_k < 0:
        raise bad_input("teacher.generate", "need max_new_tokens >= 1, temperature >= 0, top_k >= 0", "fix the arguments")
    if sig.topk and top_k < 1:
        raise bad_input("teacher.generate", f"signal {signal!r} needs top_k >= 1 logprobs per token", "set top_k, e.g. 8")
    return top_k if sig.topk else 0


class Teacher:
    """Base class: render prompts for the signal, then the backend's ``_generate`` on model text.

    Backends set ``cfg`` and, where they hold one, ``tokenizer``; ``prompt_format`` follows
    from the two. ``_generate`` gets model text and encodes it with ``add_bos`` =
    ``self.prompt_format.add_bos``.
    """

    cfg: TeacherConfig
    tokenizer: Any = None

    @property
    def prompt_format(self) -> PromptFormat:
        if self.tokenizer is None:
            return RAW
        return PromptFormat.for_tokenizer(self.tokenizer, self.cfg.chat_template)

    def _model_request(self, prompts: Sequence[str], signal: str, max_new_tokens: int, temperature: float,
                       top_k: int) -> tuple[list[str], int]:
        """The model texts for raw ``prompts`` under ``signal``, and the logprobs to ask for (checked)."""
        k = check_request(signal, max_new_tokens, temperature, top_k)
        fmt = self.prompt_format
        return [fmt.prompt(p, cot=get_signal(signal).rationale) for p in prompts], k

    def generate(self, prompts: Sequence[str], *, signal: str = "resp", max_new_tokens: int = 256,
                 temperature: float = 0.0, seed: int = 0, top_k: int = 0) -> list[Generation]:
        """One Generation per raw prompt, in order. temperature 0 = greedy; ``seed`` fixes sampling."""
        texts, k = self._model_request(prompts, signal, max_new_tokens, temperature, top_k)
        if not texts:
            return []
        return self._generate(texts, max_new_tokens=max_new_tokens, temperature=temperature, seed=seed, top_k=k)

    def generate_within(self, prompts: Sequence[str], max_total_tokens: int, *, signal: str = "resp",
                        max_new_tokens: int = 256, temperature: float = 0.0, seed: int = 0,
                        top_k: int = 0) -> list[Generation]:
        """Generations for a prefix of ``prompts``, in order, using at most ``max_total_tokens``."""
        texts, k = self._model_request(prompts, signal, max_new_tokens, temperature, top_k)
        return self._generate_within(texts, int(max_total_tokens), max_new_tokens=max_new_tokens,
                                     temperature=temperature, seed=seed, top_k=k)

    def _generate_within(self, texts: list[str], max_total_tokens: int, *, max_new_tokens: int, temperature: float,
                         seed: int, top_k: int) -> list[Generation]:
        """Every backend: chunks of floor(left / max_new_tokens) prompts, so no chunk can pass
        the budget whatever the answers' lengths. Backends that can stop mid-batch override
        this to fill the budget in fewer, larger calls (``hf``)."""
        out: list[Generation] = []
        left, n = max_total_tokens, 0
        while len(out) < len(texts):
            size = min(left // max_new_tokens, len(texts) - len(out))
            if size < 1:
                break
            gens = self._generate(texts[len(out) : len(out) + size], max_new_tokens=max_new_tokens,
                                  temperature=temperature, seed=seed + n, top_k=top_k)
            out += gens
            left -= sum(g.n_tokens for g in gens)
            n += 1
        return out

    def _generate(self, texts: list[str], *, max_new_tokens: int, temperature: float, seed: int,
                  top_k: int) -> list[Generation]:
        raise NotImplementedError

    def close(self) -> None:
        """Release the model/engine/connection (no-op where nothing is held)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def make_teacher(cfg: TeacherConfig) -> Teacher:
    """The backend named by ``cfg.backend`` (imported lazily: torch/vllm only when used)."""
    if cfg.backend not in BACKENDS:
        raise bad_input("teacher.backend", f"unknown backend {cfg.backend!r}", f"choose from {sorted(BACKENDS)}")
    module, name = BACKENDS[cfg.backend].split(":")
    return getattr(importlib.import_module(module), name)(cfg)


__all__ = ["BACKENDS", "Teacher", "TeacherConfig", "check_request", "make_teacher"]
