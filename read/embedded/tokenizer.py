"""The embedded world's tokenizer: a small byte-level BPE trained at setup, no downloads.

Digits are split individually before BPE (feasibility.md §2), so every number is one
token per digit and arithmetic/copying stays learnable for tiny models. The byte-level
alphabet is always in the vocabulary, so any unicode text encodes and decodes exactly.
Special tokens: ``<pad>`` (id 0), ``<s>`` (BOS, 1), ``</s>`` (EOS, 2). No post-processor:
:mod:`read.lm` adds BOS/EOS itself so token counts are exact.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from read.errors import bad_input
from read.io import atomic_path

SPECIAL_TOKENS = ("<pad>", "<s>", "</s>")


def train_tokenizer(corpus_texts: Iterable[str], vocab_size: int, out_dir: str | os.PathLike) -> Path:
    """Train a BPE tokenizer on ``corpus_texts`` and save it (atomically) to ``out_dir``.

    Deterministic for the same texts in the same order. Reload with
    ``AutoTokenizer.from_pretrained(out_dir)`` or :func:`load_tokenizer`.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    texts = list(corpus_texts)
    if not texts:
        raise bad_input("train_tokenizer", "empty corpus", "pass some training texts")
    if vocab_size < 256 + len(SPECIAL_TOKENS):
        raise bad_input("train_tokenizer", f"vocab_size {vocab_size} < 259 (bytes + specials)", "use e.g. 1024")
    tk = Tokenizer(models.BPE(unk_token=None))
    tk.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Digits(individual_digits=True), pre_tokenizers.ByteLevel(add_prefix_space=False)]
    )
    tk.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tk.train_from_iterator(texts, trainer=trainer, length=len(texts))
    fast = PreTrainedTokenizerFast(tokenizer_object=tk, pad_token="<pad>", bos_token="<s>", eos_token="</s>")
    with atomic_path(out_dir) as tmp:
        fast.save_pretrained(tmp)
    return Path(out_dir)


def train_world_tokenizer(out_dir: str | os.PathLike, vocab_size: int = 1024, n_per_capability: int = 2000,
                          seed: int = 0) -> Path:
    """The embedded default: BPE on ``world_corpus`` (pretrain-split items, plain and CoT)."""
    from read.embedded import world_corpus

    return train_tokenizer(world_corpus(n_per_capability, seed), vocab_size, out_dir)


def load_tokenizer(path: str | os.PathLike):
    """``AutoTokenizer.from_pretrained(path)`` with a clear error when the directory is not a tokenizer."""
    from transformers import AutoTokenizer

    path = Path(path)
    if not (path / "tokenizer.json").is_file() and not (path / "tokenizer_config.json").is_file():
        raise bad_input(str(path), "not a tokenizer directory (no tokenizer.json)", "run the tokenizer setup rule or fix the path")
    return AutoTokenizer.from_pretrained(str(path))
