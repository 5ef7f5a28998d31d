"""config/study.yaml: its rule graph holds every paper artefact and the runs behind each.

A dry run only (the study itself runs for hours on 2 cores): every table and figure of
read.aggregate.report.ARTEFACTS and REPORT.md are planned, the one-hot runs cover all 8
capabilities at every budget, the teacher-signal baselines are real runs whose batches
carry top-k exactly when their loss is KD, and each budget's bandit starts from
interventions of its own interval size.
"""

from __future__ import annotations

from collections import Counter

import pytest
import yaml
from test_workflow import REPO, make_workdir, smk
from test_workflow_run import planned_jobs

from read.aggregate.report import ARTEFACTS
from read.capabilities import CAPABILITIES
from read.config import load_config
from read.grid import expand
from read.methods import method_student

pytestmark = pytest.mark.slow

STUDY = REPO / "config" / "study.yaml"


@pytest.fixture(scope="module")
def study_plan(tmp_path_factory):
    workdir = make_workdir(tmp_path_factory.mktemp("study"))
    r = smk(workdir, "-n", "--cores", "2", "--configfile", "config/study.yaml")
    assert r.returncode == 0, r.stdout[-3000:]
    return planned_jobs(r.stdout), load_config_in(workdir)


def load_config_in(workdir):
    import os

    cwd = os.getcwd()
    os.chdir(workdir)  # `extends:` is relative to the working directory, as in the workflow
    try:
        return load_config("config/study.yaml")
    finally:
        os.chdir(cwd)


def test_the_study_extends_the_default_world():
    cfg = yaml.safe_load(STUDY.read_text())
    assert cfg["extends"] == "config/config.yaml" and "world" not in cfg


def test_every_artefact_and_the_report_are_planned(study_plan):
    jobs, _ = study_plan
    outputs = {out for _, out in jobs}
    for name in ARTEFACTS:
        assert f"results/study/tables/{name}.csv" in outputs, name
    assert any(rule == "report_md" for rule, _ in jobs)


def test_one_hot_runs_cover_every_capability_at_every_budget(study_plan):
    jobs, cfg = study_plan
    evals = [out for rule, out in jobs if rule == "evaluate"]
    for cap in CAPABILITIES:
        for budget in cfg["budgets"]:
            runs = [e for e in evals if f"/onehot:{cap}/B{budget}/" in e]
            planned = [r for r in expand(cfg) if r.method == f"onehot:{cap}" and r.budget == budget]
            assert runs and len(runs) == len(planned), (cap, budget)


def test_teacher_signal_baselines_carry_top_k_exactly_when_they_distil_logits(study_plan):
    jobs, cfg = study_plan
    topk = {out.split("/runs/")[1].split("/")[1] for rule, out in jobs if rule == "generate_topk"}
    signal_methods = [m for block in cfg["grids"] for m in block.get("methods", ()) if "+" in m]
    assert signal_methods
    kd = {m for m in signal_methods if method_student(m, cfg["models"]["student"])["loss"] == "kd"}
    assert kd and topk == kd


def test_each_budget_starts_its_bandit_from_interventions_of_its_interval_size(study_plan):
    jobs, cfg = study_plan
    sizes = Counter(out.rsplit("/T", 1)[1].split(".")[0] for rule, out in jobs if rule == "merge_interventions")
    n = cfg["budget"]["n_intervals"]
    # interval 1's planned caps: B·gen_fraction / N generated + the rest / N trained
    expected = {str(b // n) for b in cfg["budgets"]}
    assert set(sizes) == expected
