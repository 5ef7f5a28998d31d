"""Tiny Llama models for the embedded world: a spec, a seeded builder, save and load.

A :class:`ModelSpec` is the whole architecture; ``build_model(spec, vocab_size, seed)``
gives the same initial weights for the same seed. Checkpoints are plain Hugging Face
directories (``config.json`` + ``model.safetensors``), written atomically.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path

from read.config import from_mapping
from read.errors import bad_input
from read.io import atomic_path
from read.rng import torch_seed_for


@dataclass(frozen=True)
class ModelSpec:
    """Architecture of a tiny ``LlamaForCausalLM``.

    layers: transformer blocks. hidden: model width (divisible by heads). heads: attention
    heads. kv_heads: key/value heads (None = heads; must divide heads). intermediate: MLP
    width (None = 4·hidden, as in the feasibility runs). max_position: longest sequence
    (RoPE, no learned positions, so this only bounds use). tie_embeddings: share input and
    output embeddings (saves vocab·hidden params; helps tiny models). rope_theta: RoPE base.
    """

    layers: int = 2
    hidden: int = 128
    heads: int = 4
    kv_heads: int | None = None
    intermediate: int | None = None
    max_position: int = 512
    tie_embeddings: bool = True
    rope_theta: float = 10000.0

    def __post_init__(self):
        where = "ModelSpec"
        for name in ("layers", "hidden", "heads", "max_position"):
            if getattr(self, name) < 1:
                raise bad_input(f"{where}.{name}", f"must be >= 1, got {getattr(self, name)!r}", "use a positive integer")
        if self.hidden % self.heads:
            raise bad_input(f"{where}.hidden", f"{self.hidden} is not divisible by heads={self.heads}", "pick hidden = heads * head_dim")
        if self.kv_heads is not None and (self.kv_heads < 1 or self.heads % self.kv_heads):
            raise bad_input(f"{where}.kv_heads", f"{self.kv_heads} must divide heads={self.heads}", "use a divisor of heads")
        if self.intermediate is not None and self.intermediate < 1:
            raise bad_input(f"{where}.intermediate", f"must be >= 1, got {self.intermediate!r}", "use e.g. 4 * hidden")

    @classmethod
    def from_dict(cls, d: dict, where: str = "model spec") -> ModelSpec:
        return from_mapping(cls, d, where)

    def to_dict(self) -> dict:
        return asdict(self)


def llama_config(spec: ModelSpec, vocab_size: int, *, pad_id: int = 0, bos_id: int = 1, eos_id: int = 2):
    from transformers import LlamaConfig

    return LlamaConfig(
        vocab_size=vocab_size,
        hidden_size=spec.hidden,
        intermediate_size=spec.intermediate or 4 * spec.hidden,
        num_hidden_layers=spec.layers,
        num_attention_heads=spec.heads,
        num_key_value_heads=spec.kv_heads or spec.heads,
        max_position_embeddings=spec.max_position,
        tie_word_embeddings=spec.tie_embeddings,
        rope_theta=spec.rope_theta,
        pad_token_id=pad_id,
        bos_token_id=bos_id,
        eos_token_id=eos_id,
    )


def build_model(spec: ModelSpec, vocab_size: int, seed: int, *, pad_id: int = 0, bos_id: int = 1, eos_id: int = 2):
    """A freshly initialised ``LlamaForCausalLM``; identical weights for the same (spec, vocab, seed)."""
    import torch
    from transformers import LlamaForCausalLM

    torch.manual_seed(torch_seed_for(seed, "init"))
    model = LlamaForCausalLM(llama_config(spec, vocab_size, pad_id=pad_id, bos_id=bos_id, eos_id=eos_id))
    model.eval()
    return model


def n_params(model) -> int:
    """Distinct parameters (tied embeddings counted once)."""
    return sum(p.numel() for p in model.parameters())


def save_model(model, out_dir: str | os.PathLike) -> Path:
    """``save_pretrained`` into ``out_dir`` atomically (a killed job leaves no half checkpoint)."""
    with atomic_path(out_dir) as tmp:
        model.save_pretrained(tmp)
    return Path(out_dir)


def load_model(path: str | os.PathLike):
    """Load a causal-LM checkpoint directory (eval mode), or raise ReadError naming the path."""
    from transformers import AutoModelForCausalLM

    path = Path(path)
    if not path.is_dir():
        raise bad_input(str(path), "model checkpoint not found", "check the path or rerun the rule that trains it")
    has_weights = any(path.glob("*.safetensors")) or any(path.glob("*.bin"))
    if not (path / "config.json").is_file() or not has_weights:
        raise bad_input(str(path), "not a model checkpoint (needs config.json and weights)", "point to a save_pretrained directory")
    try:
        model = AutoModelForCausalLM.from_pretrained(str(path))
    except (OSError, ValueError, KeyError) as err:
        raise bad_input(str(path), f"cannot load checkpoint ({type(err).__name__}: {str(err).splitlines()[0][:200]})",
                        "delete it and rerun the rule that makes it") from None
    model.eval()
    return model
