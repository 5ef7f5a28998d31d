"""The learned requirement identifier g_φ: task card text -> r_τ (paper §1.1).

    r_τ = g_φ(D_τ) = softmax(W₂ · act(W₁ · e(D_τ) + b₁) + b₂),  e = a frozen text encoder,

trained once, offline, on the profiling interventions m of the training tasks:

    min_φ  Σ_{τ,m} (ΔU_τ^(m) − g_φ(D_τ)ᵀ Δs^(m))²  +  λ_ent · Σ_τ H(g_φ(D_τ)),

where Δs^(m) = s(S^(m)) − s(S0) is the intervention's probe-profile change (nats per
capability), ΔU_τ^(m) = U_τ(S^(m)) − U_τ(S0) its dev-task gain, and H the entropy (so
λ_ent > 0 favours peaked requirements). The squared error is averaged over
interventions; a seeded share of each task's interventions is held out as validation.

Card text (:func:`card_text`) is one documented rendering of a card; the encoder is any
local HF model, mean-pooled over the text's tokens (the embedded default uses the world's
own teacher). The trained identifier is ``g_phi.safetensors`` plus ``card.json``
(encoder, dimensions, λ_ent, losses, tasks, interventions).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from read.capabilities import K
from read.errors import bad_input
from read.io import atomic_path, read_json
from read.rng import rng_for, torch_seed_for

WEIGHTS, CARD = "g_phi.safetensors", "card.json"


def card_text(card) -> str:
    """The text g_φ reads: description, input/output formats, evaluation target, exemplars.

    ``card`` is a :class:`read.tasks.TaskCard`. The rendering is fixed (one line per part,
    in this order) so the same card always gives the same text; a card with no
    description and no formats is an error.
    """
    if not (card.description or card.formats):
        raise bad_input(f"task {card.name}", "the card has no text for the identifier (description, formats)",
                        "write a description of the task")
    lines = [f"Task: {card.description}".strip()]
    lines += [f"Format: {f}" for f in card.formats]
    lines.append(f"Evaluation: {card.eval}")
    lines += [f"Example: {e['prompt']} -> {e['answer']}" for e in card.exemplars]
    return "\n".join(lines)


def embed(texts: Sequence[str], encoder_dir: str | os.PathLike, tokenizer_dir: str | os.PathLike | None = None,
          *, device: str = "cpu") -> np.ndarray:
    """Mean-pooled last hidden states of a frozen local encoder, (len(texts), d) float64."""
    import torch
    from transformers import AutoModel

    from read.students.checkpoint import load_tokenizer

    path = Path(encoder_dir)
    if not (path / "config.json").is_file():
        raise bad_input("identifier.encoder", f"{str(path)!r} is not a model directory (no config.json)",
                        "point it at a local HF encoder or causal LM")
    tok = load_tokenizer(tokenizer_dir or encoder_dir)
    model = AutoModel.from_pretrained(str(path)).to(device).eval()
    out = []
    with torch.inference_mode():
        for text in texts:
            ids = tok(text, return_tensors="pt", add_special_tokens=True).to(device)
            hidden = model(**ids).last_hidden_state[0]  # (T, d)
            out.append(hidden.float().mean(0).double().cpu().numpy())
    return np.stack(out)


@dataclass(frozen=True)
class IdentifierConfig:
    """`identifier:` training settings: MLP width, λ_ent, Adam steps and lr, validation share, seed."""

    hidden: int = 64
    lambda_ent: float = 0.01
    steps: int = 500
    lr: float = 1e-2
    val_fraction: float = 0.25
    seed: int = 0

    def __post_init__(self):
        if self.hidden < 1 or self.steps < 1 or not self.lr > 0 or self.lambda_ent < 0:
            raise bad_input("identifier", "need hidden >= 1, steps >= 1, lr > 0, lambda_ent >= 0", "fix the values")
        if not 0 <= self.val_fraction < 1:
            raise bad_input("identifier.val_fraction", f"must be in [0, 1), got {self.val_fraction}", "use e.g. 0.25")


@dataclass(frozen=True)
class Samples:
    """Training data: per intervention its task index, Δs (K,) and ΔU."""

    task: np.ndarray  # (M,) int
    delta_s: np.ndarray  # (M, K)
    delta_u: np.ndarray  # (M,)


def samples(interventions: Mapping[str, Sequence[Mapping]], tasks: Sequence[str]) -> Samples:
    """Stack the intervention records of ``tasks`` (``{"delta_s": {cap}, "delta_u"}`` rows;
    Δs is a signed change, every capability present)."""
    from read.reward import profile_vector

    idx, ds, du = [], [], []
    for t, task in enumerate(tasks):
        rows = interventions.get(task) or []
        if not rows:
            raise bad_input(f"identifier task {task}", "no profiling interventions", "profile the task first")
        for row in rows:
            idx.append(t)
            ds.append(profile_vector(row["delta_s"], f"interventions of {task}: delta_s"))
            du.append(float(row["delta_u"]))
    return Samples(np.asarray(idx), np.asarray(ds, dtype=np.float64), np.asarray(du, dtype=np.float64))


def _mlp(d: int, hidden: int):
    import torch

    return torch.nn.Sequential(torch.nn.Linear(d, hidden), torch.nn.Tanh(), torch.nn.Linear(hidden, K))


def objective(r, delta_s, delta_u, task, lambda_ent: float):
    """The loss above on tensors: r (T, K) on the simplex, delta_s (M, K), delta_u (M,), task (M,).

    Returns (total, mean squared error, mean entropy over tasks)."""
    import torch

    pred = (r[task] * delta_s).sum(-1)  # g_φ(D_τ)ᵀ Δs^(m), (M,)
    mse = torch.mean((delta_u - pred) ** 2)
    entropy = -(r * torch.log(r.clamp_min(1e-12))).sum(-1).mean()
    return mse + lambda_ent * entropy, mse, entropy


def _split(data: Samples, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded train/validation indices, the same share held out of every task."""
    val = []
    for t in np.unique(data.task):
        rows = np.flatnonzero(data.task == t)
        n = int(round(fraction * len(rows)))
        val += rng_for(seed, "identifier-val", int(t)).permutation(rows)[:n].tolist()
    val = np.asarray(sorted(val), dtype=int)
    return np.setdiff1d(np.arange(len(data.task)), val), val


def train(embeddings: np.ndarray, data: Samples, cfg: IdentifierConfig) -> tuple[object, dict]:
    """Fit g_φ on ``embeddings`` (T, d) of the training tasks and their interventions.

    Returns (the MLP, a report with the training and validation losses and final entropies).
    The input embeddings are standardised with the training tasks' mean and scale, stored
    with the model, so a new task is embedded on the same footing.
    """
    import torch

    torch.manual_seed(torch_seed_for(cfg.seed, "identifier"))
    mean, scale = embeddings.mean(0), embeddings.std(0) + 1e-6
    x = torch.tensor((embeddings - mean) / scale, dtype=torch.float32)
    tr, va = _split(data, cfg.val_fraction, cfg.seed)
    ds = torch.tensor(data.delta_s, dtype=torch.float32)
    du = torch.tensor(data.delta_u, dtype=torch.float32)
    task = torch.tensor(data.task, dtype=torch.long)
    model = _mlp(x.shape[1], cfg.hidden)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    for _ in range(cfg.steps):
        r = torch.softmax(model(x), -1)
        total, _, _ = objective(r, ds[tr], du[tr], task[tr], cfg.lambda_ent)
        opt.zero_grad()
        total.backward()
        opt.step()
    with torch.no_grad():
        r = torch.softmax(model(x), -1)
        _, train_mse, entropy = objective(r, ds[tr], du[tr], task[tr], cfg.lambda_ent)
        val_mse = objective(r, ds[va], du[va], task[va], cfg.lambda_ent)[1] if len(va) else torch.tensor(float("nan"))
    model.input_mean, model.input_scale = mean, scale
    report = {"train_mse": float(train_mse), "val_mse": None if len(va) == 0 else float(val_mse),
              "entropy": float(entropy), "n_train": int(len(tr)), "n_val": int(len(va))}
    return model, report


def predict(model, embeddings: np.ndarray) -> np.ndarray:
    """r_τ for each embedding, (T, K), rows on the simplex, CAPABILITIES order."""
    import torch

    if embeddings.shape[1] != model[0].in_features:
        raise bad_input("identifier", f"embeddings of dimension {embeddings.shape[1]}, g_phi expects "
                        f"{model[0].in_features}", "embed with the encoder g_phi was trained with")
    x = torch.tensor((embeddings - model.input_mean) / model.input_scale, dtype=torch.float32)
    with torch.no_grad():
        return torch.softmax(model(x), -1).double().numpy()


def save(out_dir: str | os.PathLike, model, card: Mapping) -> None:
    """``g_phi.safetensors`` (weights, input mean and scale) and ``card.json``, atomically together."""
    import torch
    from safetensors.torch import save_file

    tensors = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    tensors["input_mean"] = torch.tensor(model.input_mean)
    tensors["input_scale"] = torch.tensor(model.input_scale)
    with atomic_path(out_dir) as tmp:
        tmp.mkdir()
        save_file(tensors, str(tmp / WEIGHTS))
        (tmp / CARD).write_text(json.dumps(dict(card), indent=2, sort_keys=True) + "\n")


def load(path: str | os.PathLike):
    """(model, card) from a directory :func:`save` wrote; a bad path is one clear error."""
    from safetensors.torch import load_file

    path = Path(path)
    if not (path / WEIGHTS).is_file() or not (path / CARD).is_file():
        raise bad_input(str(path), f"not a trained identifier (needs {WEIGHTS} and {CARD})",
                        "point the card's identifier at the train_identifier rule's output")
    card = read_json(path / CARD)
    tensors = load_file(str(path / WEIGHTS))
    model = _mlp(int(card["input_dim"]), int(card["hidden"]))
    model.load_state_dict({k: v for k, v in tensors.items() if not k.startswith("input_")})
    model.input_mean, model.input_scale = tensors["input_mean"].numpy(), tensors["input_scale"].numpy()
    return model, card


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def top2_overlap(predicted: np.ndarray, truth: np.ndarray) -> int:
    """How many of the true two largest capabilities are among the predicted two largest (0-2)."""
    top = lambda v: set(np.argsort(-v, kind="stable")[:2].tolist())  # noqa: E731
    return len(top(predicted) & top(truth))


__all__ = ["IdentifierConfig", "Samples", "card_text", "cosine", "embed", "load", "objective", "predict", "samples",
           "save", "top2_overlap", "train"]
