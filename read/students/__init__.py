"""Students: loading (full or base + LoRA adapter), token-budgeted training per interval, merging.

- :func:`train_on_batch`: one interval, SFT or top-k KD, exact trained-token count, atomic checkpoint.
- :func:`batch_row`: the batch row for an item and its teacher Generation (student-token counts).
- :func:`load_student`, :func:`merge`, :func:`tokenizer_fingerprint`: checkpoints and tokenizer identity.

Heavy libraries (torch, transformers, peft) are imported inside the functions.
"""

from read.students.checkpoint import (
    is_adapter,
    load_causal_lm,
    load_student,
    load_tokenizer,
    merge,
    save_checkpoint,
    tokenizer_fingerprint,
)
from read.students.train import (
    BATCH_KEYS,
    StudentConfig,
    TrainReport,
    batch_row,
    encode_rows,
    load_rows,
    train_on_batch,
)

__all__ = [
    "BATCH_KEYS", "StudentConfig", "TrainReport", "batch_row", "encode_rows", "is_adapter", "load_causal_lm", "load_rows",
    "load_student", "load_tokenizer", "merge", "save_checkpoint", "tokenizer_fingerprint", "train_on_batch",
]
