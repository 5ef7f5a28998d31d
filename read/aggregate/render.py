"""Write a table as tidy CSV plus human-readable Markdown and LaTeX, byte-deterministically.

A table is a tidy frame (what the CSV holds, every number at full precision) and a list of
*sections* for people: ``(heading, frame of strings)``, e.g. one wide 8-capability table
per task. All three files go through :func:`read.io.write_text` (atomic rename) and use a
fixed float format, so the same inputs give the same bytes.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from read.aggregate.collect import onehot_target, split_signal
from read.capabilities import SHORT
from read.io import write_text

if TYPE_CHECKING:
    import pandas as pd

FLOAT_FORMAT = "%.6g"
Section = tuple[str, "pd.DataFrame"]

# Exact match is reported in points (0-100) as in the paper; log-likelihoods in nats/token.
UNITS = {"task_score": "points", "acc": "points", "task_ll": "nats/token", "ll": "nats/token"}
SCALE = {"points": 100.0, "nats/token": 1.0, "fraction": 1.0}
DECIMALS = {"points": 2, "nats/token": 3, "fraction": 2}
METRIC_LABELS = {"task_score": "Task exact match", "task_ll": "Task gold log-lik.",
                 "acc": "Exact match", "ll": "Log-lik. of teacher answers"}
METHOD_LABELS = {"read": "ReAD", "uniform": "Uniform", "task_static": "Task-static",
                 "greedy": "Greedy", "grid": "Grid", "random": "Random",
                 "no_identifier": "w/o identifier", "no_adaptation": "w/o adaptation",
                 "no_spillover": "w/o spillover", "read_learned": "ReAD (learned g_phi)",
                 "S0": "Student (S0)", "teacher": "Teacher", "onehot": "One-hot (mean over targets)"}
SIGNAL_LABELS = {"resp": "Resp", "cot": "CoT", "logit": "Logit", "sft": "SFT", "kd": "KD"}


def method_label(method: str) -> str:
    """Display name: ``"read" -> "ReAD"``, ``"onehot:math" -> "One-hot Math"``,
    ``"onehot:math+logit-kd" -> "One-hot Math (Logit-KD)"``; unknown names unchanged."""
    base, signal = split_signal(method)
    target = onehot_target(base)
    label = f"One-hot {SHORT.get(target, target)}" if target is not None else METHOD_LABELS.get(base, base)
    return f"{label} ({signal_label(signal)})" if signal else label


def signal_label(signal: str) -> str:
    """``"logit-kd" -> "Logit-KD"``; ``""`` (the configured signal) stays ``""``."""
    return "-".join(SIGNAL_LABELS.get(part, part) for part in signal.split("-")) if signal else ""


def seeds_text(n) -> str:
    """``"n = 3 seeds"`` or ``"n = 2–3 seeds"`` from the ``n`` column of a summary table."""
    values = sorted({int(v) for v in n if v == v and v > 0})
    if not values:
        return "n = 0 seeds"
    span = f"{values[0]}" if values[0] == values[-1] else f"{values[0]}–{values[-1]}"
    return f"n = {span} seed{'s' if values[-1] > 1 else ''}"


ERROR_BARS = "error bars: ±1 std over {} (none for n = 1)"


def error_bars_text(n) -> str:
    """The caption every figure with error bars carries: ``"error bars: ±1 std over n = 3 seeds ..."``."""
    return ERROR_BARS.format(seeds_text(n))


def metric_label(metric: str) -> str:
    unit = UNITS.get(metric)
    return f"{METRIC_LABELS.get(metric, metric)} [{unit}]" if unit else metric


def format_tokens(tokens: float) -> str:
    """Compact token count: 512 -> "512", 20000 -> "20k", 1500000 -> "1.5M", inf -> "inf"."""
    if math.isinf(tokens) or math.isnan(tokens):
        return str(tokens)
    for div, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(tokens) >= div:
            return f"{tokens / div:.3g}{suffix}"
    return f"{tokens:.3g}"


def format_signed(value: float, decimals: int) -> str:
    """``+1.23`` / ``-0.50``; a value that rounds to zero prints as ``0.00`` (never ``-0.00``)."""
    text = f"{value:+.{decimals}f}"
    return f"{0.0:.{decimals}f}" if float(text) == 0 else text


def format_mean_std(mean: float, std: float, decimals: int, *, sign: bool = False) -> str:
    """``"35.02 ± 0.41"``; the std is dropped when it is nan (a single seed); nan mean -> ``"–"``."""
    if math.isnan(mean):
        return "–"
    head = format_signed(mean, decimals) if sign else f"{mean:.{decimals}f}"
    return head if math.isnan(std) else f"{head} ± {std:.{decimals}f}"


def format_p(p: float) -> str:
    if math.isnan(p):
        return "–"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def _cells(df: pd.DataFrame) -> tuple[list[str], list[list[str]]]:
    return [str(c) for c in df.columns], [[str(v) for v in row] for row in df.itertuples(index=False)]


def to_markdown(sections: Sequence[Section], title: str, note: str = "") -> str:
    """GitHub-flavoured Markdown: a ``#`` title, an optional note, one pipe table per section."""
    out = [f"# {title}", ""]
    if note:
        out += [note, ""]
    if not sections:
        out += ["_No runs provide the data for this table._", ""]
    for heading, df in sections:
        header, rows = _cells(df)
        out += [f"## {heading}", "", "| " + " | ".join(header) + " |",
                "| " + " | ".join("---" for _ in header) + " |"]
        out += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows]
        out.append("")
    return "\n".join(out)


_TEX_ESCAPES = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
                "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\^{}",
                "±": r"$\pm$", "−": "$-$", "–": "--", "≤": r"$\leq$", "×": r"$\times$",
                "→": r"$\to$", "≠": r"$\neq$", "∈": r"$\in$", "∉": r"$\notin$", "Σ": r"$\Sigma$",
                "Δ": r"$\Delta$", "τ": r"$\tau$", "·": r"$\cdot$"}


_TEX_MINUS = re.compile(r"(?<![\w.])-(?=\d)")  # "-0.03" -> "$-$0.03"; "a-b" and "1e-05" stay


def tex_escape(text: str) -> str:
    return _TEX_MINUS.sub("$-$", "".join(_TEX_ESCAPES.get(ch, ch) for ch in text))


def to_latex(sections: Sequence[Section], title: str, note: str = "") -> str:
    """One booktabs ``table`` per section (needs ``\\usepackage{booktabs}``)."""
    out = [f"% {title}"]
    if note:
        out.append(f"% {note}")
    if not sections:
        out.append("% No runs provide the data for this table.")
    for heading, df in sections:
        header, rows = _cells(df)
        spec = "l" * min(2, len(header)) + "r" * max(0, len(header) - 2)
        out += [r"\begin{table}[t]", r"\centering", rf"\caption{{{tex_escape(title)}: {tex_escape(heading)}}}",
                rf"\begin{{tabular}}{{{spec}}}", r"\toprule",
                " & ".join(tex_escape(h) for h in header) + r" \\", r"\midrule"]
        out += [" & ".join(tex_escape(c) for c in row) + r" \\" for row in rows]
        out += [r"\bottomrule", r"\end{tabular}", r"\end{table}", ""]
    return "\n".join(out) + "\n"


def to_csv(df: pd.DataFrame) -> str:
    """Tidy CSV text: no index, ``\\n`` line ends, :data:`FLOAT_FORMAT`, nan as empty."""
    return df.to_csv(index=False, float_format=FLOAT_FORMAT, lineterminator="\n", na_rep="")


def write_table(tidy: pd.DataFrame, sections: Sequence[Section], *, title: str, note: str = "",
                out_csv: str | os.PathLike | None = None, out_md: str | os.PathLike | None = None,
                out_tex: str | os.PathLike | None = None) -> None:
    """Write whichever of CSV (tidy), Markdown and LaTeX (sections) are given, atomically."""
    if out_csv is not None:
        write_text(out_csv, to_csv(tidy))
    if out_md is not None:
        write_text(out_md, to_markdown(sections, title, note))
    if out_tex is not None:
        write_text(out_tex, to_latex(sections, title, note))
