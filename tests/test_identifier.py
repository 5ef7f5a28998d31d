"""The learned requirement identifier g_phi: its loss, training, persistence and workflow use."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import yaml

from read.capabilities import CAPABILITIES, K
from read.errors import ReadError
from read.identifier import (
    IdentifierConfig,
    Samples,
    card_text,
    cosine,
    load,
    objective,
    predict,
    save,
    top2_overlap,
    train,
)


def test_the_objective_is_the_squared_error_plus_lambda_times_the_entropy():
    import torch

    r = torch.tensor([[0.5, 0.5] + [0.0] * (K - 2), [1.0] + [0.0] * (K - 1)])
    ds = torch.zeros(3, K)
    ds[0, 0], ds[0, 1], ds[1, 0], ds[2, 2] = 0.2, 0.4, 0.1, 0.3
    du = torch.tensor([0.3, 0.0, 0.1])
    task = torch.tensor([0, 1, 1])
    total, mse, entropy = objective(r, ds, du, task, lambda_ent=0.5)
    # predictions: 0.5*0.2 + 0.5*0.4 = 0.3; 1*0.1 = 0.1; 0 (task 1 puts nothing on capability 2)
    assert float(mse) == pytest.approx(((0.3 - 0.3) ** 2 + (0.0 - 0.1) ** 2 + (0.1 - 0.0) ** 2) / 3)
    assert float(entropy) == pytest.approx((math.log(2) + 0.0) / 2, abs=1e-6)
    assert float(total) == pytest.approx(float(mse) + 0.5 * float(entropy))


def test_samples_stack_signed_profile_changes_per_task():
    from read.identifier import samples

    row = {"delta_s": {c: (-0.1 if i % 2 else 0.2) for i, c in enumerate(CAPABILITIES)}, "delta_u": -0.05}
    data = samples({"a": [row, row], "b": [row]}, ["a", "b"])
    assert data.task.tolist() == [0, 0, 1] and data.delta_s[0, 1] == -0.1 and data.delta_u.tolist() == [-0.05] * 3
    with pytest.raises(ReadError, match="no profiling interventions"):
        samples({"a": [row]}, ["a", "b"])


def synthetic(n_tasks: int = 6, d: int = 10, m: int = 200, seed: int = 0):
    """Tasks with random embeddings and two-capability requirements; ΔU = rᵀΔs exactly."""
    rng = np.random.default_rng(seed)
    emb = rng.normal(size=(n_tasks, d))
    truth = np.zeros((n_tasks, K))
    for t in range(n_tasks):
        truth[t, rng.choice(K, 2, replace=False)] = [0.6, 0.4]
    task = np.repeat(np.arange(n_tasks), m)
    ds = rng.normal(scale=0.1, size=(len(task), K))
    du = (truth[task] * ds).sum(1)
    return emb, truth, Samples(task, ds, du)


def test_g_phi_recovers_a_known_linear_ground_truth():
    emb, truth, data = synthetic()
    model, report = train(emb, data, IdentifierConfig(hidden=32, lambda_ent=0.0, steps=800, lr=3e-2))
    pred = predict(model, emb)
    assert np.allclose(pred.sum(1), 1.0)
    assert min(cosine(p, t) for p, t in zip(pred, truth)) > 0.9, pred.round(2)
    assert all(top2_overlap(p, t) == 2 for p, t in zip(pred, truth))
    assert report["val_mse"] is not None and report["val_mse"] < 1e-3 and report["n_val"] == 6 * 50


def test_the_entropy_term_makes_requirements_more_peaked():
    emb, _, data = synthetic(seed=1)
    base = IdentifierConfig(hidden=16, steps=300, lr=3e-2, lambda_ent=0.0)
    flat = train(emb, Samples(data.task, data.delta_s * 0, data.delta_u * 0), base)[1]["entropy"]
    peaked = train(emb, Samples(data.task, data.delta_s * 0, data.delta_u * 0),
                   IdentifierConfig(hidden=16, steps=300, lr=3e-2, lambda_ent=0.1))[1]["entropy"]
    assert peaked < 0.5 * flat  # with no signal in the data, only the entropy term moves r


def test_a_saved_identifier_predicts_the_same_and_bad_inputs_are_clear(tmp_path):
    emb, _, data = synthetic(n_tasks=3, m=20)
    model, report = train(emb, data, IdentifierConfig(hidden=8, steps=20))
    save(tmp_path / "g", model, {**report, "input_dim": emb.shape[1], "hidden": 8, "tasks": ["a", "b", "c"]})
    again, card = load(tmp_path / "g")
    assert np.array_equal(predict(again, emb), predict(model, emb)) and card["tasks"] == ["a", "b", "c"]
    with pytest.raises(ReadError, match="not a trained identifier"):
        load(tmp_path / "nowhere")
    with pytest.raises(ReadError, match="embeddings of dimension 4, g_phi expects 10"):
        predict(again, emb[:, :4])


def test_card_text_is_one_fixed_rendering_and_a_card_without_text_is_an_error():
    from read.tasks import TaskCard

    card = TaskCard("t", "Add two numbers.", "jsonl", {"math": 1}, formats=("Q: a + b\nA: c",),
                    exemplars=({"prompt": "1 + 2", "answer": "3"},))
    assert card_text(card) == "Task: Add two numbers.\nFormat: Q: a + b\nA: c\nEvaluation: exact_match\nExample: 1 + 2 -> 3"
    with pytest.raises(ReadError, match="no text for the identifier"):
        card_text(TaskCard("t", "", "jsonl", {"math": 1}))


# ---- the workflow: collection, training and use on the tiny config ----------------------


@pytest.mark.slow
def test_learned_requirements_run_end_to_end_from_the_workflow(tmp_path):
    from test_workflow import make_workdir, smk, tiny_args

    override = {"tasks": ["knowledge_call", "tool_math"], "methods": ["read_learned"],
                "identifier": {"leave_one_out": True, "steps": 20}, "tables": ["budget_vs_score"]}
    workdir = make_workdir(tmp_path, override)
    r = smk(workdir, "--cores", "2", *tiny_args(workdir, override))
    assert r.returncode == 0, r.stdout[-5000:]
    setup = workdir / "results/tiny/setup"
    report = json.loads((setup / "identifier/report.json").read_text())["rows"]
    assert [row["task"] for row in report] == ["knowledge_call", "tool_math"]
    for row in report:
        assert row["trained_on"] == [t for t in override["tasks"] if t != row["task"]]  # never its own task
        assert -1 <= row["cosine"] <= 1 and row["top2_overlap"] in (0, 1, 2)
    card = json.loads((setup / "identifier/without_tool_math/card.json").read_text())
    assert card["n_interventions"] == 2 and card["tasks"] == ["knowledge_call"]
    learned = json.loads((setup / "tasks/tool_math/r_tau_learned.json").read_text())
    bandit = json.loads((workdir / "results/tiny/runs/tool_math/read_learned/B2000/seed0/init/bandit.json").read_text())
    assert bandit and learned["source"] == "learned" and set(learned["r"]) == set(CAPABILITIES)
    assert "Nothing to be done" in smk(workdir, "-n", "--cores", "2", *tiny_args(workdir, override)).stdout
    # switching a card to the learned source reruns what reads its r_tau, and says so
    cards = yaml.safe_load((workdir / "config/task_cards.yaml").read_text())
    cards["tasks"]["tool_math"]["requirement_source"] = "learned"
    (workdir / "config/task_cards.yaml").write_text(yaml.safe_dump(cards))
    dry = smk(workdir, "-n", "--cores", "2", *tiny_args(workdir, override))
    assert "results/tiny/setup/tasks/tool_math/r_tau.json" in dry.stdout
    assert "results/tiny/setup/tasks/knowledge_call/r_tau.json" not in dry.stdout.split("Job stats")[0]
