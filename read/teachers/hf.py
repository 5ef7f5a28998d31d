"""The ``hf`` teacher: a local transformers checkpoint, batched ``read.lm.generate`` with the KV cache."""

from __future__ import annotations

import logging

from read.teachers import Teacher, TeacherConfig

log = logging.getLogger(__name__)


class HFTeacher(Teacher):
    """Loads ``cfg.model`` (and ``cfg.tokenizer_dir``) once; greedy or seeded sampling."""

    def __init__(self, cfg: TeacherConfig, *, model=None, tokenizer=None):
        from read.students.checkpoint import load_causal_lm, load_tokenizer

        self.cfg = cfg
        self.model = model if model is not None else load_causal_lm(cfg.model, dtype=cfg.dtype, device=cfg.device)
        self.tokenizer = tokenizer if tokenizer is not None else load_tokenizer(cfg.tokenizer_dir)

    def _generate(self, texts, *, max_new_tokens, temperature, seed, top_k):
        from read.lm import generate

        return generate(self.model, self.tokenizer, texts, max_new_tokens=max_new_tokens, temperature=temperature,
                        top_p=self.cfg.top_p, seed=seed, batch_size=self.cfg.batch_size, top_k_logprobs=top_k)

    def generate_within(self, prompts, max_total_tokens, *, signal="resp", max_new_tokens=256, temperature=0.0, seed=0,
                        top_k=0):
        """Budgeted generation that stops the batch reaching the budget (``read.lm.generate_within``)."""
        from read.lm import generate_within
        from read.prompting import render_prompt
        from read.teachers import check_request

        k = check_request(signal, max_new_tokens, temperature, top_k)
        texts = [render_prompt(p, cot=signal == "cot") for p in prompts]
        return generate_within(self.model, self.tokenizer, texts, max_total_tokens, max_new_tokens=max_new_tokens,
                               temperature=temperature, top_p=self.cfg.top_p, seed=seed, batch_size=self.cfg.batch_size,
                               top_k_logprobs=k)
