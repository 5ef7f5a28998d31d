"""Loading and saving causal-LM checkpoints: full models, LoRA adapters, merging, tokenizer identity.

A student checkpoint directory is either a full model (``config.json`` + weights, plus
its tokenizer) or a peft LoRA adapter (``adapter_config.json`` + adapter weights only),
which needs the base model it was trained from. Everything is loaded from local paths
only, and every write goes through :func:`read.io.atomic_path`.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from read.errors import bad_input
from read.io import atomic_path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

DTYPES = ("float32", "bfloat16", "float16", "auto")


def is_adapter(path: str | os.PathLike) -> bool:
    """True if ``path`` is a peft adapter directory (has ``adapter_config.json``)."""
    return (Path(path) / "adapter_config.json").is_file()


def load_tokenizer(path: str | os.PathLike):
    """``AutoTokenizer`` from a local directory, or a ReadError naming it."""
    from transformers import AutoTokenizer

    path = Path(path)
    if not (path / "tokenizer.json").is_file() and not (path / "tokenizer_config.json").is_file():
        raise bad_input(str(path), "no tokenizer here (tokenizer.json / tokenizer_config.json missing)",
                        "point the tokenizer path at a save_pretrained tokenizer directory")
    tok = AutoTokenizer.from_pretrained(str(path))
    if tok.eos_token_id is None:
        raise bad_input(str(path), "tokenizer has no EOS token", "use a tokenizer with an eos_token")
    return tok


def load_causal_lm(path: str | os.PathLike, *, dtype: str = "float32", device: str = "cpu"):
    """``AutoModelForCausalLM`` from a local full checkpoint (eval mode), or a ReadError naming it."""
    import torch
    from transformers import AutoModelForCausalLM

    path = Path(path)
    if dtype not in DTYPES:
        raise bad_input("dtype", f"unknown dtype {dtype!r}", f"choose from {list(DTYPES)}")
    if not path.is_dir():
        raise bad_input(str(path), "model checkpoint not found", "check the path or rerun the rule that makes it")
    if is_adapter(path):
        raise bad_input(str(path), "this is a LoRA adapter, not a full model", "load it with its base model (load_student)")
    if not (path / "config.json").is_file() or not (any(path.glob("*.safetensors")) or any(path.glob("*.bin"))):
        raise bad_input(str(path), "not a model checkpoint (needs config.json and weights)",
                        "point to a save_pretrained directory")
    kw = {} if dtype == "auto" else {"dtype": getattr(torch, dtype)}
    try:
        model = AutoModelForCausalLM.from_pretrained(str(path), **kw)
    except (OSError, ValueError, KeyError) as err:
        raise bad_input(str(path), f"cannot load checkpoint ({type(err).__name__}: {str(err).splitlines()[0][:200]})",
                        "delete it and rerun the rule that makes it") from None
    model.to(device)
    model.eval()
    return model


def load_student(base_dir: str | os.PathLike, ckpt_dir: str | os.PathLike | None = None, *,
                 tokenizer_dir: str | os.PathLike | None = None, trainable: bool = False,
                 dtype: str = "float32", device: str = "cpu"):
    """(model, tokenizer) for a student: the base, a full checkpoint, or base + LoRA adapter.

    ``ckpt_dir`` None -> the base model. A LoRA adapter is applied on ``base_dir`` (its
    stored base path is ignored: adapters are portable between machines). The tokenizer
    comes from ``tokenizer_dir``, else the checkpoint (full models carry one), else the base.
    """
    if ckpt_dir is not None and is_adapter(ckpt_dir):
        from peft import PeftModel  # ~1.5 s of imports: only when there is an adapter

        model = load_causal_lm(base_dir, dtype=dtype, device=device)
        model = PeftModel.from_pretrained(model, str(ckpt_dir), is_trainable=trainable)
    else:
        model = load_causal_lm(ckpt_dir if ckpt_dir is not None else base_dir, dtype=dtype, device=device)
    if tokenizer_dir is None:
        has_tok = ckpt_dir is not None and (Path(ckpt_dir) / "tokenizer.json").is_file()
        tokenizer_dir = ckpt_dir if has_tok else base_dir
    return model, load_tokenizer(tokenizer_dir)


def save_checkpoint(model, out_dir: str | os.PathLike, tokenizer=None) -> Path:
    """``save_pretrained`` atomically; a peft model writes only its adapter (no tokenizer then)."""
    with atomic_path(out_dir) as tmp:
        model.save_pretrained(tmp)
        if tokenizer is not None and not hasattr(model, "peft_config"):
            tokenizer.save_pretrained(tmp)
    return Path(out_dir)


def merge(base_dir: str | os.PathLike, adapter_dir: str | os.PathLike, out_dir: str | os.PathLike, *,
          tokenizer_dir: str | os.PathLike | None = None) -> Path:
    """Fold a LoRA adapter into its base and save a plain full checkpoint (+ tokenizer) at ``out_dir``."""
    if not is_adapter(adapter_dir):
        raise bad_input(str(adapter_dir), "not a LoRA adapter (no adapter_config.json)", "pass the adapter directory")
    model, tok = load_student(base_dir, adapter_dir, tokenizer_dir=tokenizer_dir)
    return save_checkpoint(model.merge_and_unload(), out_dir, tok)


def tokenizer_fingerprint(tokenizer_or_path) -> str:
    """sha256 over what fixes token ids: vocab/merges model, normaliser, pre-tokenizer, added tokens, specials.

    Two tokenizers with the same fingerprint map every text to the same ids, so teacher
    top-k ids can be read as student ids (logit KD). Padding/truncation settings are ignored.
    """
    tok = load_tokenizer(tokenizer_or_path) if isinstance(tokenizer_or_path, (str, os.PathLike)) else tokenizer_or_path
    backend = getattr(tok, "backend_tokenizer", None)
    if backend is not None:
        spec = json.loads(backend.to_str())
        core = {k: spec.get(k) for k in ("model", "normalizer", "pre_tokenizer", "added_tokens")}
    else:  # slow tokenizer: the vocabulary is the best we have
        core = {"vocab": sorted(tok.get_vocab().items())}
    core["special"] = [tok.bos_token_id, tok.eos_token_id, tok.pad_token_id]
    return hashlib.sha256(json.dumps(core, sort_keys=True).encode("utf-8")).hexdigest()
