"""Greedy exact-match accuracy of an embedded model per capability and per composite task.

Used to check the teacher/S0 targets and to document what the pretrained models can do.
Items come from the world's ``test`` split; the verdict is the world's ``is_correct``.
"""

from __future__ import annotations

import math
import os
from collections import defaultdict

from read.aggregate.stats import wilson_interval
from read.capabilities import CAPABILITIES

MAX_NEW_TOKENS_MARGIN = 8  # generate a little past the longest gold response so over-long answers count as wrong


def _score(model, tok, items, *, cot: bool, batch_size: int, steps: bool = False) -> dict:
    """{"acc", "n", "templates"|"tiers"|"nested": {key: {"acc", "n"}}} for greedy answers to ``items``.

    ``steps`` (composite-task items, all nested): also ``"steps": {"inner", "outer_given_inner"}``
    from the same answers (:func:`read.embedded.steps.step_accuracy`; None where no inner
    answer is right).
    """
    from read import lm
    from read.embedded import difficulty, is_correct
    from read.embedded.steps import step_accuracy
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
    if steps:
        by_step = step_accuracy([g.text for g in gens], items)
        # nan (no inner answer right) is stored as None: the reports are strict JSON
        out["steps"] = {k: None if math.isnan(by_step[k]) else by_step[k] for k in ("inner", "outer_given_inner")}
    return out


def accuracy_report(model_dir: str | os.PathLike, tokenizer_dir: str | os.PathLike, n_per_capability: int, seed: int,
                    *, split: str = "test", tasks: bool = True, cot: bool = False, batch_size: int = 64) -> dict:
    """Greedy exact match per capability (and per composite task) on ``split``.

    Returns ``{"split", "n_per_capability", "seed", "capabilities": {cap: {"acc", "n", "templates", "tiers", "nested"}},
    "mean_acc", "min_acc", "tasks": {task: {"acc", "n", "steps", "requirement", "components": {cap: acc}}},
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
            block = _score(model, tok, task_items(name, split, n_per_capability, seed), cot=False,
                           batch_size=batch_size, steps=True)
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


# The world's preconditions for an experiment that can tell allocation methods apart
# (science.md): the teacher solves each composite task often enough to be worth
# distilling, the student starts in the middle on each capability the task needs, and
# the teacher is ahead of S0 everywhere. Targets of the embedded default (issue #2).
TEACHER_MEAN_MIN, TEACHER_CAP_MIN, TEACHER_TASK_MIN = 0.6, 0.2, 0.4
S0_MIDDLING = (0.1, 0.6)


def _straddles(ci: tuple[float, float], *thresholds: float) -> bool:
    return any(ci[0] < t < ci[1] for t in thresholds)


def preconditions(teacher: dict, student: dict) -> dict:
    """Check the embedded preconditions from two :func:`accuracy_report` results.

    Returns ``{"teacher": {"mean_acc", "min_acc", "ok"}, "s0_below_teacher": {cap: bool},
    "tasks": {task: {"teacher", "teacher_ci", "teacher_steps", "teacher_ok", "components": {cap: {"teacher",
    "s0", "s0_ci", "middling"}}, "ok", "borderline"}}, "ok"}``; "ok" is True when every check
    in it holds. The checks compare point estimates with the thresholds; ``*_ci`` are 95%
    Wilson intervals, and "borderline" says that a threshold a task is checked against lies
    inside one of them, so more test items could change its verdict.
    """
    caps = {c: (teacher["capabilities"][c]["acc"], student["capabilities"][c]["acc"]) for c in CAPABILITIES}
    s0_ci = {c: wilson_interval(caps[c][1], student["capabilities"][c]["n"]) for c in CAPABILITIES}
    below = {c: s < t for c, (t, s) in caps.items()}
    t_ok = teacher["mean_acc"] >= TEACHER_MEAN_MIN and teacher["min_acc"] >= TEACHER_CAP_MIN
    tasks = {}
    for name, block in teacher.get("tasks", {}).items():
        comps = {c: {"teacher": caps[c][0], "s0": caps[c][1], "s0_ci": list(s0_ci[c]),
                     "middling": S0_MIDDLING[0] <= caps[c][1] <= S0_MIDDLING[1]} for c in block["requirement"]}
        ok = block["acc"] >= TEACHER_TASK_MIN
        ci = wilson_interval(block["acc"], block["n"])
        edge = _straddles(ci, TEACHER_TASK_MIN) or any(_straddles(s0_ci[c], *S0_MIDDLING) for c in comps)
        tasks[name] = {"teacher": block["acc"], "teacher_ci": list(ci), "s0": student.get("tasks", {}).get(name, {}).get("acc"),
                       "teacher_steps": block.get("steps"), "teacher_ok": ok, "components": comps,
                       "ok": ok and all(v["middling"] for v in comps.values()), "borderline": edge}
    return {"teacher": {"mean_acc": teacher["mean_acc"], "min_acc": teacher["min_acc"], "ok": t_ok},
            "s0_below_teacher": below, "tasks": tasks,
            "thresholds": {"teacher_mean_min": TEACHER_MEAN_MIN, "teacher_cap_min": TEACHER_CAP_MIN,
                           "teacher_task_min": TEACHER_TASK_MIN, "s0_middling": list(S0_MIDDLING)},
            "ok": t_ok and all(below.values()) and all(t["ok"] for t in tasks.values())}


def preconditions_table(pre: dict) -> str:
    """Markdown: one row per task (teacher EM, S0 EM, each component's S0 / teacher accuracy),
    with 95% Wilson intervals on the two quantities the verdict checks."""
    yes = {True: "yes", False: "**no**"}
    th = pre["thresholds"]
    lo, hi = th["s0_middling"]
    rows = [f"Teacher mean exact match {pre['teacher']['mean_acc']:.3f} (target ≥ {th['teacher_mean_min']}), "
            f"lowest capability {pre['teacher']['min_acc']:.3f} (target ≥ {th['teacher_cap_min']}): "
            f"{yes[pre['teacher']['ok']]}. S0 below the teacher on every capability: "
            f"{yes[all(pre['s0_below_teacher'].values())]}.", "",
            "Verdicts compare point estimates with the thresholds; brackets are 95% Wilson intervals, "
            "and *borderline* marks a verdict whose threshold lies inside one of them.", "",
            "*Teacher steps* splits the teacher's answers: its inner answer right / its outer answer right "
            "when the inner one is (`read.embedded.steps`).", "",
            f"| task | teacher EM (≥ {th['teacher_task_min']}) | teacher steps | S0 EM "
            f"| components: S0 / teacher (S0 in [{lo}, {hi}]) | met |",
            "|---|---|---|---|---|---|"]
    for name, t in pre["tasks"].items():
        comps = ", ".join(f"{c} {v['s0']:.2f} {_bracket(v['s0_ci'])} / {v['teacher']:.2f}{'' if v['middling'] else ' (out)'}"
                          for c, v in t["components"].items())
        s0 = "n/a" if t["s0"] is None else f"{t['s0']:.3f}"
        verdict = yes[t["ok"]] + (" (*borderline*)" if t["borderline"] else "")
        rows.append(f"| {name} | {t['teacher']:.3f} {_bracket(t['teacher_ci'])} | {_steps(t.get('teacher_steps'))} "
                    f"| {s0} | {comps} | {verdict} |")
    return "\n".join(rows) + "\n"


def _bracket(ci) -> str:
    return f"[{ci[0]:.2f}, {ci[1]:.2f}]"


def _steps(steps: dict | None) -> str:
    if not steps:
        return "n/a"
    return " / ".join("–" if v is None else f"{v:.2f}" for v in (steps["inner"], steps["outer_given_inner"]))
