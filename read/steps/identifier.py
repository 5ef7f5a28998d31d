"""Steps of the learned requirement identifier (``workflow/rules/identifier.smk``)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import asdict

import numpy as np

from read.capabilities import to_mapping, to_vector
from read.errors import bad_input
from read.io import read_json, read_jsonl

log = logging.getLogger(__name__)


def card_embeddings(cards: Mapping, *, encoder: str, tokenizer: str | None = None) -> dict:
    """``cards.json``: each card's text (:func:`read.identifier.card_text`) and its embedding."""
    from read.identifier import card_text, embed

    names = sorted(cards)
    texts = {n: card_text(cards[n]) for n in names}
    vectors = embed([texts[n] for n in names], encoder, tokenizer)
    log.info("embedded %d cards with %s: dimension %d", len(names), encoder, vectors.shape[1])
    return {"encoder": str(encoder), "dim": int(vectors.shape[1]), "texts": texts,
            "vectors": {n: v.tolist() for n, v in zip(names, vectors)}}


def _vectors(embeddings, tasks) -> np.ndarray:
    obj = read_json(embeddings)
    missing = [t for t in tasks if t not in obj["vectors"]]
    if missing:
        raise bad_input(str(embeddings), f"no embedding for {missing}", "rerun the identifier's card embeddings")
    return np.asarray([obj["vectors"][t] for t in tasks], dtype=np.float64)


def train_identifier(out_dir, embeddings, interventions: Mapping[str, list], *, tasks: list[str], cfg) -> dict:
    """g_φ trained on the interventions of ``tasks`` (``interventions[task]``: JSONL paths);
    saved to ``out_dir`` with its card, which this returns."""
    from read.identifier import samples, save, train

    records = {t: [row for path in interventions[t] for row in read_jsonl(path, required=("delta_s", "delta_u"))]
               for t in tasks}
    data = samples(records, tasks)
    model, report = train(_vectors(embeddings, tasks), data, cfg)
    card = {**report, **asdict(cfg), "tasks": list(tasks), "n_interventions": int(len(data.task)),
            "encoder": read_json(embeddings)["encoder"], "input_dim": int(model[0].in_features),
            "objective": "mean (dU - g(D)^T ds)^2 + lambda_ent * mean H(g(D))"}
    save(out_dir, model, card)
    log.info("g_phi on %s: train mse %.3g, val mse %s, entropy %.3f", tasks, report["train_mse"], report["val_mse"],
             report["entropy"])
    return card


def learned_requirement(identifier_dir, embeddings, *, task: str) -> dict:
    """``r_tau`` of ``task`` predicted by the identifier at ``identifier_dir``."""
    from read.identifier import load, predict

    model, card = load(identifier_dir)
    r = predict(model, _vectors(embeddings, [task]))[0]
    return {"task": task, "r": to_mapping(r), "source": "learned", "identifier": str(identifier_dir),
            "trained_on": card["tasks"]}


def identifier_report(truth: Mapping[str, Mapping[str, float]], predicted: Mapping[str, str]) -> tuple[list, str]:
    """Held-out tasks: the learned r_tau against each card's hand-written one (cosine, top-2 overlap)."""
    from read.identifier import cosine, top2_overlap

    rows = []
    for task in sorted(predicted):
        obj = read_json(predicted[task])
        r = to_vector(obj["r"], str(predicted[task]))
        true = to_vector(truth[task], f"task {task}.requirement")
        rows.append({"task": task, "trained_on": obj["trained_on"], "cosine": cosine(r, true),
                     "top2_overlap": top2_overlap(r, true), "learned": to_mapping(r), "card": to_mapping(true)})
    lines = ["# Learned requirement identifier, leave one task out", "",
             "Each task's r_tau predicted by g_phi trained on the other tasks, against its card.", "",
             "| held-out task | cosine | top-2 overlap | learned, top two | card, top two |", "|---|---|---|---|---|"]
    for row in rows:
        top = lambda m: ", ".join(f"{c} {v:.2f}" for c, v in sorted(m.items(), key=lambda kv: -kv[1])[:2])  # noqa: E731
        lines.append(f"| {row['task']} | {row['cosine']:.3f} | {row['top2_overlap']}/2 | {top(row['learned'])} | "
                     f"{top(row['card'])} |")
    if rows:
        lines += ["", f"Mean cosine {np.mean([r['cosine'] for r in rows]):.3f}; mean top-2 overlap "
                  f"{np.mean([r['top2_overlap'] for r in rows]):.2f}/2."]
    return rows, "\n".join(lines) + "\n"
