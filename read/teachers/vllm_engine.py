"""The ``vllm`` teacher: an offline ``vllm.LLM`` engine (tensor parallel on GPUs).

Prompts are rendered in the teacher's prompt format and tokenized here with
``read.lm.encode_prompts`` (BOS for the raw format; a chat template writes its own) and passed as token ids, so the engine conditions on exactly what the hf backend
and the student see. Output ids include EOS when reached (vLLM's convention too).
vLLM is an optional dependency (``pip install .[gpu]``); it is imported only here.
"""

from __future__ import annotations

from read.errors import bad_input
from read.teachers import Teacher, TeacherConfig


def import_vllm():
    """``import vllm`` or a ReadError that says how to get it."""
    try:
        import vllm
    except ImportError as err:
        raise bad_input("teacher.backend", f"'vllm' needs the vllm package, which is not importable ({err})",
                        "install the gpu extra on a CUDA machine (tools/setup.sh gpu), or use backend 'hf'/'openai'") from None
    return vllm


def engine_kwargs(cfg: TeacherConfig) -> dict:
    """Keyword arguments for ``vllm.LLM`` from the teacher config."""
    kw = {"model": cfg.path, "tokenizer": cfg.tokenizer_dir, "tensor_parallel_size": cfg.tensor_parallel_size,
          "dtype": cfg.dtype, "gpu_memory_utilization": cfg.gpu_memory_utilization, "seed": 0}
    if cfg.max_model_len is not None:
        kw["max_model_len"] = cfg.max_model_len
    return kw


def sampling_kwargs(*, max_new_tokens: int, temperature: float, top_p: float, seed: int, top_k: int) -> dict:
    """Keyword arguments for ``vllm.SamplingParams``: greedy at temperature 0, ``logprobs=k`` for top-k."""
    kw = {"max_tokens": max_new_tokens, "temperature": temperature, "top_p": top_p if temperature > 0 else 1.0,
          "seed": seed, "skip_special_tokens": True}
    if top_k > 0:
        kw["logprobs"] = top_k
    return kw


def to_topk(position_logprobs, k: int) -> list[tuple[int, float]]:
    """One position's ``{token_id: Logprob}`` -> the k best ``(id, logprob)``, descending.

    vLLM adds the sampled token to the dict when it is outside the top k, so the dict may
    hold k + 1 entries; sorting and cutting keeps exactly the top k.
    """
    pairs = [(int(t), float(getattr(lp, "logprob", lp))) for t, lp in position_logprobs.items()]
    return sorted(pairs, key=lambda p: (-p[1], p[0]))[:k]


class VLLMTeacher(Teacher):
    """Offline engine; one ``LLM.generate`` call per ``generate`` (vLLM batches internally)."""

    def __init__(self, cfg: TeacherConfig):
        from read.students.checkpoint import load_tokenizer

        vllm = import_vllm()
        self.cfg = cfg
        self.tokenizer = load_tokenizer(cfg.tokenizer_dir)
        self.llm = vllm.LLM(**engine_kwargs(cfg))
        self._sampling = vllm.SamplingParams

    def _generate(self, texts, *, max_new_tokens, temperature, seed, top_k):
        from read.lm import Generation, encode_prompts

        params = self._sampling(**sampling_kwargs(max_new_tokens=max_new_tokens, temperature=temperature,
                                                  top_p=self.cfg.top_p, seed=seed, top_k=top_k))
        prompts = [{"prompt_token_ids": ids} for ids in encode_prompts(self.tokenizer, texts, add_bos=self.prompt_format.add_bos)]
        outs = self.llm.generate(prompts, params, use_tqdm=False)
        gens = []
        for out in outs:
            o = out.outputs[0]
            ids = tuple(int(t) for t in o.token_ids)
            topk = [to_topk(pos, top_k) for pos in o.logprobs] if top_k > 0 else None
            gens.append(Generation(o.text, ids, len(ids), topk, o.finish_reason == "stop"))
        return gens

    def close(self) -> None:
        self.llm = None
