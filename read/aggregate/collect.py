"""Read a run tree's JSON outputs into tidy pandas frames (one row per observation).

Run layout (written by the workflow)::

    results/<exp>/runs/{task}/{method}/B{budget}/seed{seed}/i{k}/allocation.json
    results/<exp>/runs/{task}/{method}/B{budget}/seed{seed}/i{k}/profile.json
    results/<exp>/runs/{task}/{method}/B{budget}/seed{seed}/final/eval.json

Every function accepts files or run directories (``.../seed{seed}``) and returns rows in
a fixed order (task, method in :data:`METHOD_ORDER`, budget, seed, [k], metric, capability
in ``CAPABILITIES`` order), so two calls on the same inputs give identical frames.
Values are kept in the units of the files (exact match as a fraction 0..1, loglik in
nats/token); tables convert to points where they say so.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from read.capabilities import CAPABILITIES, INDEX, check_capability
from read.errors import bad_input
from read.io import read_json
from read.methods import split_method

if TYPE_CHECKING:
    import pandas as pd

RUN_COLUMNS = ["task", "method", "budget", "seed", "metric", "capability", "value"]
ALLOCATION_COLUMNS = ["task", "method", "budget", "seed", "k", "capability", "w"]
PROFILE_COLUMNS = ["task", "method", "budget", "seed", "k", "metric", "capability", "value"]
ITEM_COLUMNS = ["task", "method", "budget", "seed", "metric", "item", "value"]
ITEM_METRICS = {"task_score": "correct", "task_ll": "ll"}  # run metric -> eval.json task_items key

# Task-level metrics carry capability "" (empty string), per-capability ones a capability name.
TASK_METRICS = ("task_score", "task_ll", "initial_task_score", "initial_task_ll", "n_test",
                "tokens_budget", "tokens_generated", "tokens_trained", "tokens_profiling")
CAPABILITY_METRICS = ("acc", "ll", "initial_acc", "initial_ll")
METRIC_ORDER = {m: i for i, m in enumerate(TASK_METRICS + CAPABILITY_METRICS)}

BASELINES = ("uniform", "task_static", "greedy", "grid", "random")
ABLATIONS = ("no_identifier", "no_adaptation", "no_spillover")
# ReAD itself in other forms: never a "baseline" ReAD is compared against (significance).
READ_VARIANTS = (*ABLATIONS, "read_learned")
# "onehot" = the one-hot runs pooled over their targets (spillover table); S0/teacher: reference rows.
METHOD_ORDER = ("teacher", "S0", "read", *BASELINES, *READ_VARIANTS, "onehot",
                *(f"onehot:{c}" for c in CAPABILITIES))
ONEHOT_PREFIX = "onehot:"
REFERENCE_COLUMNS = ["task", "metric", "capability", "value"]

_RUN_DIR = re.compile(r"(?P<task>[^/]+)/(?P<method>[^/]+)/B(?P<budget>\d+)/seed(?P<seed>\d+)$")
_INTERVAL_FILE = re.compile(
    r"(?P<run>[^/]+/[^/]+/B\d+/seed\d+)/i(?P<k>\d+)/(?P<kind>allocation|profile)\.json$"
)


def split_signal(method: str) -> tuple[str, str]:
    """``"onehot:math+logit-kd" -> ("onehot:math", "logit-kd")``; ``"read" -> ("read", "")``.

    The suffix after ``+`` names the teacher signal and objective a baseline was trained
    with (:data:`read.methods.TEACHER_SIGNALS`; an unknown one is an error there); tables
    keep it as part of the method's name (a distinct baseline).
    """
    base, signal = split_method(method)
    return base, signal or ""


def method_key(method: str) -> tuple[int, str]:
    """Sort key: known methods in :data:`METHOD_ORDER` (a signal-suffixed variant right after
    its plain method), then unknown ones alphabetically."""
    base, signal = split_signal(method)
    try:
        return (METHOD_ORDER.index(base), signal)
    except ValueError:
        return (len(METHOD_ORDER), method)


def onehot_target(method: str) -> str | None:
    """The target capability of a one-hot run, the part between ``onehot:`` and ``+``:
    ``"onehot:math" -> "math"``, ``"onehot:math+logit-kd" -> "math"``; ``None`` for any
    other method. Every one-hot target in :mod:`read.aggregate` is parsed here."""
    base, _ = split_signal(method)
    return base[len(ONEHOT_PREFIX):] if base.startswith(ONEHOT_PREFIX) else None


def is_onehot(methods: pd.Series) -> pd.Series:
    """Boolean mask of ``onehot:<cap>`` methods (bool dtype even when empty, so ``df.loc[mask]``
    never turns into a column selection)."""
    return methods.map(lambda m: onehot_target(m) is not None).astype(bool)


def _number(value, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise bad_input(where, f"expected a finite number, got {value!r}", "rerun the rule that wrote it")
    return float(value)


def _get(obj: Mapping, key: str, where: str):
    if not isinstance(obj, Mapping) or key not in obj:
        raise bad_input(where, f"missing key {key!r}", "rerun the rule that wrote this file")
    return obj[key]


def _cap_values(mapping, where: str, *, skip_null: bool = False) -> dict[str, float]:
    """capability -> number; ``skip_null`` leaves out capabilities whose value is null
    (a probe accuracy where no probe item has a gold answer: not measured, not zero)."""
    if not isinstance(mapping, Mapping):
        raise bad_input(where, f"expected a mapping capability -> number, got {type(mapping).__name__}",
                        "rerun the rule that wrote this file")
    return {check_capability(c, where): _number(v, f"{where}.{c}") for c, v in mapping.items()
            if not (skip_null and v is None)}


def eval_file(path: str | os.PathLike) -> Path:
    """A run's ``final/eval.json`` (given it, or its run directory)."""
    path = Path(path)
    return path / "final" / "eval.json" if path.is_dir() else path


def _interval_files(paths: Iterable[str | os.PathLike], kind: str) -> list[Path]:
    files: list[Path] = []
    for path in map(Path, paths):
        files.extend(sorted(path.glob(f"i*/{kind}.json")) if path.is_dir() else [path])
    return files


def _run_keys(path: Path) -> dict:
    """(task, method, budget, seed, k) from ``.../{task}/{method}/B{b}/seed{s}/i{k}/<kind>.json``."""
    match = _INTERVAL_FILE.search(path.as_posix())
    run = _RUN_DIR.search(match["run"]) if match else None
    if run is None:
        raise bad_input(str(path), "path does not name its run",
                        "pass files laid out as .../{task}/{method}/B{budget}/seed{seed}/i{k}/<file>.json")
    return {"task": run["task"], "method": run["method"], "budget": int(run["budget"]),
            "seed": int(run["seed"]), "k": int(match["k"])}


QUANTITY_ORDER = ("on_target_gain", "marginal_gain", "off_target_change", "negative_transfer_rate",
                  "negative_spillover", "negative_share")


def _cap_key(c: str) -> tuple[int, str]:
    # "" (task-level rows) and "task_score" (a task target) sort before the capabilities.
    return (-1 if c in ("", "task_score") else INDEX.get(c, len(INDEX)), c)


_SORT_KEYS = {
    "method": method_key, "competitor": method_key, "baseline": method_key, "reference": method_key,
    "capability": _cap_key, "target": _cap_key,
    "metric": lambda m: (METRIC_ORDER.get(m, len(METRIC_ORDER)), m),
    "quantity": lambda q: (QUANTITY_ORDER.index(q) if q in QUANTITY_ORDER else len(QUANTITY_ORDER), q),
    "source": lambda v: (v == "items", v),  # significance: the seed-level tests before the per-item ones
}


def sort_rows(df: pd.DataFrame, by: Iterable[str]) -> pd.DataFrame:
    """Stable sort by ``by``; method, capability, metric and quantity columns sort in the
    project's fixed orders (:data:`METHOD_ORDER`, ``CAPABILITIES``, :data:`METRIC_ORDER`)."""

    def key(col: pd.Series) -> pd.Series:
        fn = _SORT_KEYS.get(str(col.name))
        if fn is None:
            return col
        rank = {v: i for i, v in enumerate(sorted(set(col), key=fn))}
        return col.map(rank)

    return df.sort_values(list(by), key=key, kind="stable").reset_index(drop=True)


def _frame(rows: list[dict], columns: list[str], keys: list[str]) -> pd.DataFrame:
    import pandas as pd

    df = sort_rows(pd.DataFrame(rows, columns=columns), keys)
    dup = df.duplicated(keys)
    if dup.any():
        first = df.loc[dup, keys].iloc[0].to_dict()
        raise bad_input("aggregate inputs", f"the same observation appears twice: {first}",
                        "pass each run's files once")
    return df


def _eval_key(ev: Mapping, where: str) -> dict:
    """The run an eval.json is about: task, method, budget, seed."""
    return {"task": str(_get(ev, "task", where)), "method": str(_get(ev, "method", where)),
            "budget": int(_number(_get(ev, "budget", where), f"{where}.budget")),
            "seed": int(_number(_get(ev, "seed", where), f"{where}.seed"))}


def read_eval(path: str | os.PathLike) -> list[dict]:
    """Rows (without the value ordering) for one ``final/eval.json``; see :func:`collect_runs`."""
    path = eval_file(path)
    ev = read_json(path)
    where = str(path)
    key = _eval_key(ev, where)
    initial = _get(ev, "initial", where)
    task_values = {
        "task_score": _get(ev, "task_score", where),
        "task_ll": _get(ev, "task_ll", where),
        "initial_task_score": _get(initial, "task_score", f"{where}.initial"),
        "initial_task_ll": _get(initial, "task_ll", f"{where}.initial"),
    }
    if "n_test" in ev:  # optional: older eval files may not count test items
        task_values["n_test"] = ev["n_test"]
    for name, value in (ev.get("tokens") or {}).items():
        if f"tokens_{name}" in METRIC_ORDER:
            task_values[f"tokens_{name}"] = value
    rows = [{**key, "metric": m, "capability": "", "value": _number(v, f"{where}.{m}")}
            for m, v in task_values.items()]
    for prefix, profile, at in (("", _get(ev, "profile", where), f"{where}.profile"),
                                ("initial_", _get(initial, "profile", f"{where}.initial"),
                                 f"{where}.initial.profile")):
        for metric in ("acc", "ll"):
            for cap, value in _cap_values(_get(profile, metric, at), f"{at}.{metric}").items():
                rows.append({**key, "metric": prefix + metric, "capability": cap, "value": value})
    return rows


def collect_runs(run_paths: Iterable[str | os.PathLike]) -> pd.DataFrame:
    """Tidy frame of every ``final/eval.json``: columns :data:`RUN_COLUMNS`.

    Args:
        run_paths: ``final/eval.json`` files or run directories (``.../seed{seed}``).

    Returns:
        One row per (task, method, budget, seed, metric, capability). Metrics:
        ``task_score`` (exact match, 0..1), ``task_ll`` (nats/token), their ``initial_*``
        (S0) values, ``n_test`` and ``tokens_*`` (capability ``""``); ``acc``, ``ll`` and
        ``initial_acc``, ``initial_ll`` per capability.
    """
    rows = [row for path in run_paths for row in read_eval(path)]
    return _frame(rows, RUN_COLUMNS, RUN_COLUMNS[:-1])


def read_task_items(path: str | os.PathLike) -> list[dict]:
    """Per-test-item rows of one ``final/eval.json``: see :func:`collect_task_items`."""
    path = eval_file(path)
    ev = read_json(path)
    where = str(path)
    if "task_items" not in ev:  # eval files written before per-item values were kept
        return []
    key = _eval_key(ev, where)
    items = _get(ev, "task_items", where)
    rows = []
    for metric, name in ITEM_METRICS.items():
        values = _get(items, name, f"{where}.task_items")
        if values is None:
            continue
        if not isinstance(values, list):
            raise bad_input(f"{where}.task_items.{name}", f"expected a list, got {type(values).__name__}",
                            "rerun the rule that wrote this file")
        rows += [{**key, "metric": metric, "item": i, "value": _number(v, f"{where}.task_items.{name}[{i}]")}
                 for i, v in enumerate(values)]
    return rows


def collect_task_items(run_paths: Iterable[str | os.PathLike]) -> pd.DataFrame:
    """Tidy frame of every run's per-test-item task values: columns :data:`ITEM_COLUMNS`.

    One row per (task, method, budget, seed, metric, item): ``task_score`` rows hold 0 or 1
    (exact match of that item), ``task_ll`` rows its mean gold-response log-likelihood.
    ``item`` indexes the task's test items, which are the same for every run (the
    evaluation seed), so rows pair across methods and seeds. Runs without per-item values
    give no rows.
    """
    rows = [row for path in run_paths for row in read_task_items(path)]
    return _frame(rows, ITEM_COLUMNS, ITEM_COLUMNS[:-1])


def collect_allocations(paths: Iterable[str | os.PathLike]) -> pd.DataFrame:
    """Tidy frame of the allocations w_k: columns :data:`ALLOCATION_COLUMNS`.

    Args:
        paths: ``i{k}/allocation.json`` files or run directories (all their intervals).
            Task, budget and seed come from the path; method and k from the file (k must
            match the path's ``i{k}``). Capabilities missing from ``w`` get weight 0.
    """
    rows = []
    for path in _interval_files(paths, "allocation"):
        keys = _run_keys(path)
        alloc = read_json(path)
        where = str(path)
        k = int(_number(_get(alloc, "k", where), f"{where}.k"))
        if k != keys["k"]:
            raise bad_input(f"{where}.k", f"k={k} but the file sits in i{keys['k']}/", "rerun the allocate rule")
        keys["method"] = str(_get(alloc, "method", where))
        w = _cap_values(_get(alloc, "w", where), f"{where}.w")
        rows.extend({**keys, "capability": c, "w": w.get(c, 0.0)} for c in CAPABILITIES)
    return _frame(rows, ALLOCATION_COLUMNS, ALLOCATION_COLUMNS[:-1])


def collect_profiles(paths: Iterable[str | os.PathLike]) -> pd.DataFrame:
    """Tidy frame of the per-interval profiles s_k: columns :data:`PROFILE_COLUMNS`.

    Args:
        paths: ``i{k}/profile.json`` files or run directories. The method is the path's
            method directory (profile files do not name it). Metrics ``acc`` and ``ll``.
    """
    rows = []
    for path in _interval_files(paths, "profile"):
        keys = _run_keys(path)
        profile = read_json(path)
        for metric in ("acc", "ll"):
            values = _cap_values(_get(profile, metric, str(path)), f"{path}.{metric}", skip_null=metric == "acc")
            rows.extend({**keys, "metric": metric, "capability": c, "value": v} for c, v in values.items())
    return _frame(rows, PROFILE_COLUMNS, PROFILE_COLUMNS[:-1])


def collect_reference(paths: Iterable[str | os.PathLike]) -> pd.DataFrame:
    """Tidy frame of reference models scored on the test split (the teacher, or S0), one
    eval file per task: columns :data:`REFERENCE_COLUMNS`.

    Args:
        paths: eval files shaped like ``setup/tasks/<task>/s0_eval.json`` (``task``,
            ``task_score``, ``task_ll``, ``profile{acc, ll}``).

    Returns:
        One row per (task, metric, capability): ``task_score``, ``task_ll`` (capability
        ``""``), ``acc`` and ``ll`` per capability, in the files' units. Capabilities whose
        ``acc`` is null (no test item) are left out.
    """
    rows = []
    for path in map(Path, paths):
        ev = read_json(path)
        where = str(path)
        task = str(_get(ev, "task", where))
        rows += [{"task": task, "metric": m, "capability": "", "value": _number(_get(ev, m, where), f"{where}.{m}")}
                 for m in ("task_score", "task_ll")]
        profile = _get(ev, "profile", where)
        for metric in ("acc", "ll"):
            values = _cap_values(_get(profile, metric, f"{where}.profile"), f"{where}.profile.{metric}",
                                 skip_null=metric == "acc")
            rows += [{"task": task, "metric": metric, "capability": c, "value": v} for c, v in values.items()]
    return _frame(rows, REFERENCE_COLUMNS, REFERENCE_COLUMNS[:-1])


def load_requirements(source) -> dict[str, dict[str, float]]:
    """Requirement vectors r_tau per task, from a mapping or JSON file(s).

    Accepted: a mapping ``{task: {cap: weight}}``; a JSON file holding that mapping; a
    JSON file ``{"task": name, "r": {cap: weight}}`` (one per task); or a list of files.
    """
    if isinstance(source, Mapping):
        items, where = source.items(), "requirements"
        return {str(t): _cap_values(r, f"{where}.{t}") for t, r in items}
    if isinstance(source, (str, os.PathLike)):
        source = [source]
    out: dict[str, dict[str, float]] = {}
    for path in source:
        obj = read_json(path)
        if isinstance(obj, Mapping) and "task" in obj and "r" in obj:
            obj = {obj["task"]: obj["r"]}
        for task, r in load_requirements(obj).items():
            if task in out:
                raise bad_input(str(path), f"task {task!r} is given twice", "pass one requirement per task")
            out[task] = r
    return out
