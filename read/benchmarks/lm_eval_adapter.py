"""lm-evaluation-harness on a student checkpoint: ``lm_eval.simple_evaluate`` with its HF model.

A full checkpoint is passed by path (``pretrained=``); a LoRA adapter is passed as
``peft=`` on top of its base. Tasks are the harness's built-in names or custom task YAMLs
over local data (``include_path``). Nothing downloads: the offline flags are set before
the harness is imported, and a task whose data is not on disk fails with one line naming
the task and what is missing. Each task's primary metric (given, or the first one the
harness reports) is its score; the per-sample values are kept (``items``), so tests
paired on items keep working.

Needs the ``eval`` extra (``pip install .[eval]``; ``tools/setup.sh`` installs it).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from read.errors import bad_input

OFFLINE = {"HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "HF_HUB_DISABLE_TELEMETRY": "1"}
NOT_METRICS = {"alias", "name", "sample_len", "samples"}


@dataclass(frozen=True)
class LmEvalTask:
    """A harness task and its primary metric (``"exact_match,strict-match"``; None = the first reported)."""

    task: str
    metric: str | None = None


def import_lm_eval():
    for key, value in OFFLINE.items():
        os.environ[key] = value  # inside the job: a cluster node must never reach a hub
    try:
        import lm_eval
        from lm_eval.tasks import TaskManager
    except ImportError as err:
        raise bad_input("lm_eval benchmark", f"lm-evaluation-harness is not importable ({err})",
                        "install the eval extra: pip install '.[eval]' (tools/setup.sh does)") from None
    return lm_eval, TaskManager


def model_args(base_dir, ckpt_dir, tokenizer_dir, *, dtype: str = "float32", add_bos: bool = True) -> dict:
    """The harness's HF model arguments: a full checkpoint by path, an adapter as ``peft``."""
    from read.students.checkpoint import is_adapter

    if ckpt_dir is not None and is_adapter(ckpt_dir):
        args = {"pretrained": str(base_dir), "peft": str(ckpt_dir)}
    else:
        args = {"pretrained": str(ckpt_dir if ckpt_dir is not None else base_dir)}
    args.update({"tokenizer": str(tokenizer_dir or base_dir), "dtype": dtype, "add_bos_token": add_bos})
    return args


def primary_metric(results: Mapping[str, object], wanted: str | None, task: str) -> str:
    """The metric key to report: ``wanted`` if the harness reported it, else its first metric."""
    keys = [k for k in results if k not in NOT_METRICS and "_stderr" not in k]
    if wanted is not None:
        if wanted not in keys:
            raise bad_input(f"lm_eval task {task}", f"no metric {wanted!r} in its results", f"choose from {keys}")
        return wanted
    if not keys:
        raise bad_input(f"lm_eval task {task}", "the harness reported no metric", "check the task's metric_list")
    return keys[0]


def evaluate(base_dir, ckpt_dir, tokenizer_dir, tasks: Sequence[LmEvalTask], *, include_path: str | None = None,
             batch_size: int = 8, device: str = "cpu", dtype: str = "float32", limit: int | None = None,
             add_bos: bool = True) -> dict[str, dict]:
    """``{task: {"metric", "score", "n", "items": [{"doc_id", "score"}]}}``, one harness call per task
    (so an error names its task). Scores are the harness's, in [0, 1] for accuracy-like metrics."""
    lm_eval, TaskManager = import_lm_eval()
    if include_path is not None and not Path(include_path).is_dir():
        raise bad_input("evaluation.lm_eval.include_path", f"{include_path!r} is not a directory",
                        "point it at the folder of your custom task YAMLs")
    manager = TaskManager(include_path=include_path)
    args = model_args(base_dir, ckpt_dir, tokenizer_dir, dtype=dtype, add_bos=add_bos)
    out = {}
    for spec in tasks:
        if spec.task not in manager.all_tasks:
            raise bad_input(f"lm_eval task {spec.task}", "the harness knows no such task",
                            "name a built-in task or add its YAML under evaluation.lm_eval.include_path")
        try:
            res = lm_eval.simple_evaluate(model="hf", model_args=args, tasks=[spec.task], task_manager=manager,
                                          device=device, batch_size=batch_size, limit=limit, log_samples=True)
        except (FileNotFoundError, ConnectionError, OSError, ValueError) as err:
            raise bad_input(f"lm_eval task {spec.task}", f"its data could not be loaded offline "
                            f"({type(err).__name__}: {str(err).splitlines()[0][:200]})",
                            "put the dataset on disk and name it in the task YAML (dataset_kwargs.data_files)") from None
        metric = primary_metric(res["results"][spec.task], spec.metric, spec.task)
        name = metric.split(",")[0]
        samples = sorted(res["samples"][spec.task], key=lambda s: s["doc_id"])
        items = [{"doc_id": int(s["doc_id"]), "score": float(s[name])} for s in samples if name in s]
        score = float(res["results"][spec.task][metric])
        if not math.isfinite(score):
            raise bad_input(f"lm_eval task {spec.task}", f"metric {metric} is {score}", "check the task")
        out[spec.task] = {"metric": metric, "score": score, "n": len(samples), "items": items}
    return out
