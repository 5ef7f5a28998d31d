"""The ``hf`` teacher: a local transformers checkpoint, batched ``read.lm.generate`` with the KV cache."""

from __future__ import annotations

import logging

from read.teachers import Teacher, TeacherConfig

log = logging.getLogger(__name__)


class HFTeacher(Teacher):
    """Loads ``cfg.path`` (and ``cfg.tokenizer_dir``) once; greedy or seeded sampling."""

    def __init__(self, cfg: TeacherConfig, *, model=None, tokenizer=None):
        from read.students.checkpoint import load_causal_lm, load_tokenizer

        self.cfg = cfg
        self.model = model if model is not None else load_causal_lm(cfg.path, dtype=cfg.dtype, device=cfg.device)
        self.tokenizer = tokenizer if tokenizer is not None else load_tokenizer(cfg.tokenizer_dir)

    def _generate(self, texts, *, max_new_tokens, temperature, seed, top_k):
        return self._generate_within(texts, None, max_new_tokens=max_new_tokens, temperature=temperature, seed=seed,
                                     top_k=top_k)

    def _generate_within(self, texts, max_total_tokens, *, max_new_tokens, temperature, seed, top_k):
        """One ``read.lm.generate`` call; with a budget it stops the batch that reaches it."""
        from read.lm import generate

        return generate(self.model, self.tokenizer, texts, max_new_tokens=max_new_tokens,
                        max_total_tokens=max_total_tokens, temperature=temperature, top_p=self.cfg.top_p, seed=seed,
                        batch_size=self.cfg.batch_size, top_k_logprobs=top_k, add_bos=self.prompt_format.add_bos)
