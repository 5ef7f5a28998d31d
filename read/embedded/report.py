"""Greedy exact-match accuracy of an embedded model per capability and per composite task.

Used to check the teacher/S0 targets and to document what the pretrained models can do.
Items come from the world's ``test`` split; the verdict is the world's ``is_correct``.
"""

from __future__ import annotations

import os
from collections import defaultdict

from read.capabilities import CAPABILITIES

MAX_NEW_TOKENS_MARGIN = 8  # generate a little past the longest gold response so over-long answers count as wrong


def _score(model, tok, items, *, cot: bool, batch_size: int) -> dict:
    """{"acc", "n", "templates"|"tiers"|"nested": {key: {"acc", "n"}}} for greedy answers to ``items``."""
    from read import lm
    from read.embedded import difficulty, is_correct
    from read.prompting import render_prompt

    if not items:
        return {"acc": None, "n": 0, "templates": {}, "tiers": {}, "nested": {}}
    longest = max(len(ids) for ids in tok([it.response(cot=cot) for it in items], add_special_tokens=False)["input_ids"])
    gens = lm.generate(model, tok, [render_prompt(it.prompt, cot=cot) for it in items],
                       max_new_tokens=longest + 1 + MAX_NEW_TOKENS_MARGIN, batch_size=batch_size)
    groups: dict[str, dict[str, list[bool]]] = {"templates": defaultdict(list), "tiers": defaultdict(list),
                                                 "nested": defaultdict(list)}
    hits = []
    for it, g in zip(items, gens):
        ok = bool(is_correct(g.text, it))
        hits.append(ok)
        groups["templates"][it.template].append(ok)
        groups["tiers"][difficulty(it)].append(ok)
        groups["nested"]["yes" if it.inner else "no"].append(ok)
    out = {"acc": sum(hits) / len(hits), "n": len(hits)}
    for key, group in groups.items():
        out[key] = {k: {"acc": sum(v) / len(v), "n": len(v)} for k, v in sorted(group.items())}
    return out


def accuracy_report(model_dir: str | os.PathLike, tokenizer_dir: str | os.PathLike, n_per_capability: int, seed: int,
                    *, split: str = "test", tasks: bool = True, cot: bool = False, batch_size: int = 64) -> dict:
    """Greedy exact match per capability (and per composite task) on ``split``.

    Returns ``{"split", "n_per_capability", "seed", "capabilities": {cap: {"acc", "n", "templates", "tiers", "nested"}},
    "mean_acc", "min_acc", "tasks": {task: {"acc", "n", "requirement", "components": {cap: acc}}},
    "cot": {same per-capability block, CoT prompts} (only with cot=True)}``. JSON-friendly.
    """
    from read.embedded import TASKS, sample_items, task_items
    from read.embedded.models import load_model
    from read.embedded.tokenizer import load_tokenizer

    model, tok = load_model(model_dir), load_tokenizer(tokenizer_dir)
    items = {c: sample_items(c, split, n_per_capability, seed) for c in CAPABILITIES}
    caps = {c: _score(model, tok, items[c], cot=False, batch_size=batch_size) for c in CAPABILITIES}
    accs = [caps[c]["acc"] for c in CAPABILITIES]
    out = {"split": split, "n_per_capability": n_per_capability, "seed": seed, "capabilities": caps,
           "mean_acc": sum(accs) / len(accs), "min_acc": min(accs)}
    if tasks:
        out["tasks"] = {}
        for name, card in TASKS.items():
            block = _score(model, tok, task_items(name, split, n_per_capability, seed), cot=False, batch_size=batch_size)
            block["requirement"] = dict(card.requirement)
            block["components"] = {c: caps[c]["acc"] for c in card.requirement}
            out["tasks"][name] = block
    if cot:
        out["cot"] = {c: _score(model, tok, items[c], cot=True, batch_size=batch_size) for c in CAPABILITIES}
    return out


def summary_table(report: dict) -> str:
    """A short markdown table (capability/task, accuracy, n) for logs and docs."""
    rows = ["| item | acc | n |", "|---|---|---|"]
    rows += [f"| {c} | {v['acc']:.3f} | {v['n']} |" for c, v in report["capabilities"].items()]
    rows.append(f"| **mean** | {report['mean_acc']:.3f} | |")
    for name, v in report.get("tasks", {}).items():
        rows.append(f"| task {name} | {v['acc']:.3f} | {v['n']} |")
    return "\n".join(rows)
