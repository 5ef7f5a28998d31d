"""REPORT.md: every table and figure of an experiment under its one-line caption, in one file.

The report has one section per artefact, in the order config ``tables`` lists them: the
table's own title as the heading, the caption, the figure (a relative link to
``plots/<name>.png``) and the table's Markdown (``tables/<name>.md``) inlined. With bandit
methods a section on the proxy reward's validity follows the allocation schedule (the
allocations the bandit chose), or ends the report when the schedule is not asked for: per
task, one row per seed (and intervention size T) of its ``.validity.json`` under
``setup/interventions/<task>/``.

Captions have one source, the reST files ``workflow/report/<name>.rst``: this module reads
them for REPORT.md, and ``snakemake --report`` renders the same files. A caption is one
paragraph of plain text (reST comments, ``..`` blocks, are skipped). Artefact files are
paired with their caption by name: ``<name>.md``, ``<name>.png`` and ``<name>.rst``.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from read.errors import bad_input
from read.io import read_json, write_text

PathLike = str | os.PathLike
# after this artefact's section comes the proxy reward's validity
SCHEDULE = "allocation_schedule"


def _p_value(p: float) -> str:
    return f"{p:.3f}" if p >= 0.001 else f"{p:.1e}"


# (key path in a .validity.json, column header, format, required); read.steps.setup.reward_validity.
# The optional columns show where a task's reports have them: T, the tokens of one
# intervention, and the reward model's cross-validated error beside predicting the mean.
VALIDITY_COLUMNS = (
    (("tokens",), "T [tokens]", str, False),
    (("n",), "n", str, True),
    (("pearson",), "Pearson r", "{:.3f}".format, True),
    (("pearson_p",), "p (Pearson)", _p_value, True),
    (("spearman",), "Spearman ρ", "{:.3f}".format, True),
    (("spearman_p",), "p (Spearman)", _p_value, True),
    (("mean_delta_u",), "mean ΔU", "{:+.4f}".format, True),
    (("reward_model", "rmse"), "reward model RMSE", "{:.4f}".format, False),
    (("reward_model", "rmse_mean_baseline"), "RMSE of the mean", "{:.4f}".format, False),
)
_HEADING = re.compile(r"^(#{1,5}) ")


@dataclass(frozen=True)
class Artefact:
    """One artefact's files: its Markdown table, its caption and, if it has one, its figure."""

    name: str
    table: Path
    caption: Path
    figure: Path | None = None


def read_caption(path: PathLike) -> str:
    """The caption in the reST file ``path`` as one line (whitespace collapsed, comments dropped)."""
    path = Path(path)
    if not path.is_file():
        raise bad_input(str(path), "caption file not found", f"write a one-line caption for {path.stem!r} there")
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", path.read_text(encoding="utf-8"))]
    text = [p for p in paragraphs if p and not p.startswith("..")]
    if len(text) != 1:
        raise bad_input(str(path), f"a caption is one paragraph of text, found {len(text)}",
                        "write the caption as one paragraph")
    return text[0]


def pair_artefacts(tables: Iterable[PathLike], captions: Iterable[PathLike],
                   figures: Iterable[PathLike] = ()) -> list[Artefact]:
    """Pair each ``<name>.md`` table, in order, with ``<name>.rst`` and (if given) ``<name>.png``."""
    by_name = {Path(c).stem: Path(c) for c in captions}
    plots = {Path(f).stem: Path(f) for f in figures}
    out = []
    for table in map(Path, tables):
        if table.stem not in by_name:
            raise bad_input(str(table), f"no caption {table.stem}.rst among {sorted(by_name)}",
                            f"add workflow/report/{table.stem}.rst and pass it as a caption")
        out.append(Artefact(table.stem, table, by_name[table.stem], plots.get(table.stem)))
    return out


def _demoted(markdown: str) -> list[str]:
    """The table's lines one heading level down, without its ``#`` title (the section's heading)."""
    lines = markdown.strip("\n").splitlines()
    if lines and lines[0].startswith("# "):
        lines = lines[1:]
    while lines and not lines[0].strip():
        lines = lines[1:]
    return [_HEADING.sub(r"#\1 ", line) for line in lines]


def artefact_section(artefact: Artefact, report_dir: PathLike) -> list[str]:
    """``## <table title>``, the caption, the figure linked relative to ``report_dir``, the table."""
    if not artefact.table.is_file():
        raise bad_input(str(artefact.table), "table not found", f"rerun the rule that writes {artefact.name}")
    markdown = artefact.table.read_text(encoding="utf-8")
    first = markdown.lstrip("\n").splitlines()[:1]
    title = first[0][2:].strip() if first and first[0].startswith("# ") else artefact.name
    caption = read_caption(artefact.caption)
    out = [f"## {title}", "", caption, ""]
    if artefact.figure is not None:
        if not artefact.figure.is_file():
            raise bad_input(str(artefact.figure), "figure not found", f"rerun the rule that writes {artefact.name}")
        link = Path(os.path.relpath(artefact.figure, report_dir)).as_posix()
        out += [f"![{title}]({link})", ""]
    return out + _demoted(markdown) + [""]


def _cell(value, fmt: Callable[[float], str]) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"  # a correlation is null with < 3 interventions or a constant column
    return fmt(value)


_ABSENT = object()


def _lookup(report: Any, keys: tuple[str, ...]) -> Any:
    """``report[k0][k1]...``, or _ABSENT where a key is missing."""
    for key in keys:
        if not isinstance(report, dict) or key not in report:
            return _ABSENT
        report = report[key]
    return report


def _read_validity(path: Path) -> dict:
    report = read_json(path)
    missing = [".".join(keys) for keys, *_, required in VALIDITY_COLUMNS
               if required and _lookup(report, keys) is _ABSENT]
    if missing:
        raise bad_input(str(path), f"validity report lacks {missing}", "rerun rule reward_validity")
    return report


def _validity_table(task: str, reports: list[tuple[int, dict]]) -> list[str]:
    """``### Task <task>``: one row per report, seeds (then T) ascending, and the reward terms."""
    columns = [c for c in VALIDITY_COLUMNS if c[3] or any(_lookup(r, c[0]) is not _ABSENT for _, r in reports)]
    header = ["Seed"] + [title for _, title, *_ in columns]
    out = [f"### Task {task}", "", "| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    rewards = []
    for seed, report in sorted(reports, key=lambda sr: (sr[0], sr[1].get("tokens") or 0)):
        cells = [_lookup(report, keys) for keys, *_ in columns]
        row = [str(seed)] + ["–" if v is _ABSENT else _cell(v, fmt) for v, (_, _, fmt, _) in zip(cells, columns)]
        out.append("| " + " | ".join(row) + " |")
        rewards.append(", ".join(f"{k} = {v}" for k, v in sorted(report.get("reward", {}).items())))
    terms = [r for r in dict.fromkeys(rewards) if r]
    return out + [""] + ([f"Proxy reward terms: {'; '.join(terms)}.", ""] if terms else [])


def validity_section(validity: Sequence[tuple[str, int, PathLike]], caption: str) -> list[str]:
    """``## Proxy reward validity``: the caption, then per task a table of seed x the metrics.

    Args:
        validity: (task, seed, path of a ``.validity.json``), tasks in report order; a seed
            may have several reports, one per intervention size T.
        caption: the section's one-line caption.
    """
    out = ["## Proxy reward validity", "", caption, ""]
    for task in dict.fromkeys(task for task, _, _ in validity):
        out += _validity_table(task, [(seed, _read_validity(Path(p))) for t, seed, p in validity if t == task])
    return out


def render_report(experiment: str, artefacts: Sequence[Artefact], report_dir: PathLike, *,
                  validity: Sequence[tuple[str, int, PathLike]] = (), validity_caption: PathLike | None = None) -> str:
    """REPORT.md's text: the artefacts in order, the validity section after the schedule."""
    if validity and validity_caption is None:
        raise bad_input("REPORT.md", "validity reports without a caption",
                        "pass workflow/report/reward_validity.rst as the validity caption")
    out = [f"# ReAD report: {experiment}", "",
           "Every table and figure config `tables` asks for, each under its caption "
           "(workflow/report/<name>.rst); the numbers are also in tables/<name>.csv.", ""]
    sections = [artefact_section(a, report_dir) for a in artefacts]
    names = [a.name for a in artefacts]
    if validity:
        at = names.index(SCHEDULE) + 1 if SCHEDULE in names else len(sections)
        sections.insert(at, validity_section(validity, read_caption(validity_caption)))
    for section in sections:
        out += section
    return "\n".join(out).rstrip("\n") + "\n"


def write_report(out: PathLike, *, experiment: str, tables: Iterable[PathLike], captions: Iterable[PathLike],
                 figures: Iterable[PathLike] = (), validity: Sequence[tuple[str, int, PathLike]] = (),
                 validity_caption: PathLike | None = None) -> str:
    """Write REPORT.md to ``out`` (atomically) and return its text.

    Args:
        out: the report's path; figure links are relative to its folder.
        experiment: the experiment's name, for the title.
        tables: every ``tables/<name>.md`` to show, in report order.
        captions: ``<name>.rst`` for every table (more are ignored).
        figures: ``plots/<name>.png`` of the artefacts that have a figure.
        validity: (task, seed, ``.validity.json``) of every proxy-reward validity report.
        validity_caption: the validity section's ``.rst`` caption (needed with ``validity``).
    """
    artefacts = pair_artefacts(tables, captions, figures)
    text = render_report(experiment, artefacts, Path(out).parent, validity=validity,
                         validity_caption=validity_caption)
    write_text(out, text)
    return text
