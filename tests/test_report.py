"""REPORT.md and `snakemake --report`: every table and figure under its caption, the captions
from one source (workflow/report/<name>.rst), the proxy reward's validity per task after the
allocation schedule, and one clear error for a missing caption."""

from __future__ import annotations

import json
import types
import zipfile
from pathlib import Path

import pytest
from test_workflow import make_workdir, smk, tiny_args

from read.aggregate.document import read_caption, write_report
from read.aggregate.report import ARTEFACTS
from read.errors import ReadError
from read.io import write_json

REPO = Path(__file__).resolve().parents[1]
CAPTIONS = REPO / "workflow" / "report"
# the real seed0 report of results/embedded (multilingual_arithmetic), and one with too few interventions
VALIDITY = {"mean_delta_u": -0.004540748554207913, "n": 24, "pearson": 0.011994808849310656,
            "pearson_p": 0.955638827751564, "reward": {"beta": 0.5, "lam": 0.01, "top_k": 3},
            "spearman": 0.0, "spearman_p": 1.0}
TOO_FEW = {"mean_delta_u": 0.01, "n": 2, "pearson": None, "pearson_p": None, "spearman": None, "spearman_p": None,
           "reward": {"beta": 0.5, "lam": 0.01, "top_k": 3}}


def _table(title: str, value: int) -> str:
    return f"# {title}\n\nA note on {title}.\n\n## Task A\n\n| Method | Score |\n| --- | --- |\n| ReAD | {value} |\n"


@pytest.fixture
def results(tmp_path):
    """results/x/ with three artefacts (two with a figure), their captions and two seeds' validity."""
    exp, captions = tmp_path / "results" / "x", tmp_path / "report"
    for name, title, figure in (("budget_vs_score", "Score vs budget", True),
                                ("allocation_schedule", "Schedules", True),
                                ("significance", "Significance", False)):
        (exp / "tables").mkdir(parents=True, exist_ok=True)
        (exp / "tables" / f"{name}.md").write_text(_table(title, len(name)))
        if figure:
            (exp / "plots").mkdir(exist_ok=True)
            (exp / "plots" / f"{name}.png").write_bytes(b"\x89PNG")
        captions.mkdir(exist_ok=True)
        (captions / f"{name}.rst").write_text(f"Caption of\n{name}, over two lines.\n")
    (captions / "reward_validity.rst").write_text("How well the proxy reward tracks the task.\n")
    write_json(exp / "setup/interventions/A/seed0.validity.json", VALIDITY)
    write_json(exp / "setup/interventions/A/seed1.validity.json", TOO_FEW)
    return exp, captions


def _report(exp: Path, captions: Path, names=("budget_vs_score", "allocation_schedule", "significance"),
            validity=True) -> str:
    figures = [exp / "plots" / f"{n}.png" for n in names if (exp / "plots" / f"{n}.png").exists()]
    seeds = [("A", s, exp / f"setup/interventions/A/seed{s}.validity.json") for s in (1, 0)] if validity else []
    return write_report(exp / "REPORT.md", experiment="x", tables=[exp / "tables" / f"{n}.md" for n in names],
                        captions=sorted(captions.glob("*.rst")), figures=figures, validity=seeds,
                        validity_caption=captions / "reward_validity.rst" if validity else None)


def test_report_has_every_caption_figure_link_and_table(results):
    exp, captions = results
    text = _report(exp, captions)
    assert (exp / "REPORT.md").read_text() == text and text.startswith("# ReAD report: x\n")
    for name in ("budget_vs_score", "allocation_schedule", "significance"):
        assert f"\nCaption of {name}, over two lines.\n" in text  # one line, from the rst
        assert f"| ReAD | {len(name)} |" in text
    assert "![Score vs budget](plots/budget_vs_score.png)" in text
    assert "![Schedules](plots/allocation_schedule.png)" in text
    assert "plots/significance" not in text  # a table without a figure links none
    # each table's title is its section's heading; its own sections move one level down
    assert "\n## Score vs budget\n" in text and "\n### Task A\n" in text and "\n# Score" not in text


def test_validity_is_a_table_of_seeds_right_after_the_allocation_schedule(results):
    text = _report(*results)
    schedule, validity, significance = (text.index(h) for h in (
        "## Schedules", "## Proxy reward validity", "## Significance"))
    assert schedule < validity < significance
    section = text[validity:significance]
    assert "How well the proxy reward tracks the task." in section and "### Task A" in section
    assert "| Seed | n | Pearson r | p (Pearson) | Spearman ρ | p (Spearman) | mean ΔU |" in section
    rows = [line for line in section.splitlines() if line.startswith("| 0 ") or line.startswith("| 1 ")]
    # seeds in order; a null correlation (n < 3) prints as a dash
    assert rows == ["| 0 | 24 | 0.012 | 0.956 | 0.000 | 1.000 | -0.0045 |", "| 1 | 2 | – | – | – | – | +0.0100 |"]
    assert "Proxy reward terms: beta = 0.5, lam = 0.01, top_k = 3." in section


def test_validity_shows_intervention_sizes_and_the_reward_model_error_where_reported(results):
    exp, captions = results
    for seed, tokens, rmse in ((0, 800, 0.25), (0, 200, 0.5), (1, 200, None)):
        write_json(exp / f"v{seed}_{tokens}.json", {**VALIDITY, "tokens": tokens, "reward_model": {
            "folds": 4, "n": 24, "rmse": rmse, "rmse_mean_baseline": 0.3, "pearson": None}})
    text = write_report(exp / "REPORT.md", experiment="x", tables=[], captions=[],
                        validity=[("A", s, exp / f"v{s}_{t}.json") for s, t in ((1, 200), (0, 800), (0, 200))],
                        validity_caption=captions / "reward_validity.rst")
    assert "| Seed | T [tokens] | n | Pearson r | p (Pearson) | Spearman ρ | p (Spearman) | mean ΔU | " \
           "reward model RMSE | RMSE of the mean |" in text
    rows = [line for line in text.splitlines() if line.startswith(("| 0 ", "| 1 "))]
    assert [row.split(" | ")[:2] for row in rows] == [["| 0", "200"], ["| 0", "800"], ["| 1", "200"]]
    assert rows[0].endswith("| 0.5000 | 0.3000 |") and rows[2].endswith("| – | 0.3000 |")


def test_a_validity_report_without_its_metrics_names_the_file(results):
    exp, captions = results
    write_json(exp / "bad.json", {"n": 3})
    with pytest.raises(ReadError, match=r"bad\.json: validity report lacks \['pearson'"):
        write_report(exp / "REPORT.md", experiment="x", tables=[], captions=[], validity=[("A", 0, exp / "bad.json")],
                     validity_caption=captions / "reward_validity.rst")


def test_validity_ends_the_report_when_the_schedule_is_not_asked_for(results):
    text = _report(*results, names=("budget_vs_score", "significance"))
    assert text.index("## Significance") < text.index("## Proxy reward validity")


def test_no_validity_section_without_bandit_methods(results):
    text = _report(*results, validity=False)
    assert "Proxy reward" not in text and "## Significance" in text


def test_a_missing_caption_file_is_one_line_naming_it(results):
    exp, captions = results
    (captions / "significance.rst").unlink()
    missing = captions / "significance.rst"
    with pytest.raises(ReadError) as err:
        write_report(exp / "REPORT.md", experiment="x", tables=[exp / "tables/significance.md"], captions=[missing])
    assert str(err.value).startswith(f"{missing}: caption file not found;") and "\n" not in str(err.value)
    assert not (exp / "REPORT.md").exists()


def test_a_table_without_any_caption_names_the_rst_to_add(results):
    exp, captions = results
    with pytest.raises(ReadError, match=r"workflow/report/significance\.rst"):
        write_report(exp / "REPORT.md", experiment="x", tables=[exp / "tables/significance.md"],
                     captions=[captions / "budget_vs_score.rst"])


def test_a_caption_of_two_paragraphs_is_rejected(tmp_path):
    (tmp_path / "two.rst").write_text("First.\n\nSecond.\n")
    (tmp_path / "commented.rst").write_text(".. a reST comment\n   on two lines\n\nThe caption.\n")
    with pytest.raises(ReadError, match="one paragraph"):
        read_caption(tmp_path / "two.rst")
    assert read_caption(tmp_path / "commented.rst") == "The caption."


@pytest.mark.parametrize("name", [*ARTEFACTS, "reward_validity", "report_md"])
def test_every_artefact_has_a_one_line_caption_file(name):
    assert (CAPTIONS / f"{name}.rst").is_file(), f"add workflow/report/{name}.rst"
    assert read_caption(CAPTIONS / f"{name}.rst")


def test_the_generic_caption_renders_the_artefacts_own_caption():
    """What `snakemake --report` does with ../report/artefact.rst: Jinja, then reST to HTML."""
    from docutils.core import publish_parts
    from jinja2 import Environment

    caption = CAPTIONS / "budget_vs_score.rst"
    fake = types.SimpleNamespace(input=types.SimpleNamespace(caption=str(caption)))
    rst = Environment(trim_blocks=True, lstrip_blocks=True).from_string(
        (CAPTIONS / "artefact.rst").read_text()).render(snakemake=fake)
    html = publish_parts(rst, writer="html")["body"]
    assert read_caption(caption) in " ".join(html.split()) and "system-message" not in html


# ---- the workflow: rule report_md and `snakemake --report` on the tiny config ------------

EXP = "results/tiny"
OVERRIDE = {"methods": ["read"]}  # one bandit method: validity reports exist, half the tiny grid's runs


@pytest.fixture(scope="module")
def report_run(tmp_path_factory):
    """(workdir, REPORT.md run, its dry-run again, --report html, --report zip) on the tiny config."""
    workdir = make_workdir(tmp_path_factory.mktemp("report"), OVERRIDE)
    args = tiny_args(workdir, OVERRIDE)
    run = smk(workdir, f"{EXP}/REPORT.md", "--cores", "2", *args)
    again = smk(workdir, "-n", f"{EXP}/REPORT.md", *args)
    html = smk(workdir, "--report", "report.html", f"{EXP}/REPORT.md", *args)
    archive = smk(workdir, "--report", "report.zip", f"{EXP}/REPORT.md", *args)
    return workdir, run, again, html, archive


@pytest.mark.slow
def test_report_md_rule_embeds_the_tiny_runs_table_figure_and_validity(report_run):
    workdir, run, again, *_ = report_run
    assert run.returncode == 0, run.stdout[-5000:]
    text = (workdir / EXP / "REPORT.md").read_text()
    assert read_caption(CAPTIONS / "budget_vs_score.rst") in text
    assert "](plots/budget_vs_score.png)" in text and (workdir / EXP / "plots/budget_vs_score.png").is_file()
    assert "| ReAD |" in text  # the table, inlined
    assert read_caption(CAPTIONS / "reward_validity.rst") in text and "### Task knowledge_call" in text
    assert "Nothing to be done" in again.stdout, again.stdout[-3000:]  # cached captions keep their mtime


@pytest.mark.slow
def test_snakemake_report_shows_the_figures_and_report_under_their_captions(report_run):
    workdir, *_, html, archive = report_run
    assert html.returncode == 0, html.stdout[-5000:]
    page = (workdir / "report.html").read_text()
    for name in ("budget_vs_score", "report_md"):  # the figure and table (artefact.rst includes it), REPORT.md
        assert json.dumps(read_caption(CAPTIONS / f"{name}.rst"))[1:-1] in page, name  # the page embeds JSON
    assert "Experiment <strong>tiny</strong>" in page and "system-message" not in page  # workflow.rst, rendered
    assert archive.returncode == 0, archive.stdout[-5000:]
    assert any(n.endswith("report.html") for n in zipfile.ZipFile(workdir / "report.zip").namelist())
