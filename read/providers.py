"""Where the teacher and the initial student come from: the user's checkpoints, or the embedded world.

``models: {teacher, student}`` in the config names them. With ``world:`` present the
embedded provider builds a tokenizer, a teacher and S0 under ``<setup>/`` and every model
path left unset points there; without it nothing is pretrained and the paths must name
local checkpoints (or, for the ``openai`` teacher, a served model). :func:`resolve_models`
fills the paths in; :func:`check_models` checks user checkpoints before anything runs,
with one line naming the key, the path and the fix.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from read.errors import bad_input

EMBEDDED = {"teacher": "teacher", "student": "student0", "tokenizer": "tokenizer"}
"""The embedded provider's setup outputs, relative to ``results/<experiment>/setup/``."""


@dataclass(frozen=True)
class ModelPaths:
    """The resolved model files: what the rules take as inputs and the steps load.

    teacher: the teacher's local checkpoint (None for a served teacher without a local copy).
    teacher_tokenizer: the teacher's tokenizer directory (None: a served teacher without one).
    student, student_tokenizer: S0's checkpoint and tokenizer directories.
    built: the paths the embedded provider builds (not checked here: setup rules make them).
    """

    teacher: str | None
    teacher_tokenizer: str | None
    student: str
    student_tokenizer: str
    built: frozenset = frozenset()


def resolve_models(models: Mapping[str, Any], *, world_setup: str | None):
    """(TeacherConfig, StudentConfig, ModelPaths) with every unset path filled in; building
    the two configs checks every value.

    ``world_setup``: the embedded provider's setup directory, or None without ``world:``.
    """
    from read.students.train import StudentConfig
    from read.teachers import TeacherConfig

    teacher, student = dict(models.get("teacher") or {}), dict(models.get("student") or {})
    built = set()
    if world_setup is not None:
        tok = f"{world_setup}/{EMBEDDED['tokenizer']}"
        for section, role in ((teacher, "teacher"), (student, "student")):
            if not section.get("path"):
                section["path"] = f"{world_setup}/{EMBEDDED[role]}"
                section.setdefault("tokenizer", tok)
                built |= {section["path"], tok}
    served = teacher.get("backend") == "openai"
    if not student.get("path"):
        raise bad_input("config models.student.path", "no initial student S0 is named",
                        "set it to a local checkpoint directory (save_pretrained), or add `world:` for the embedded one")
    if not teacher.get("path") and not served:
        raise bad_input("config models.teacher.path", "no teacher is named",
                        "set it to a local checkpoint directory, or use backend openai with served_model")
    paths = ModelPaths(teacher=teacher.get("path"), teacher_tokenizer=teacher.get("tokenizer") or teacher.get("path"),
                       student=student["path"], student_tokenizer=student.get("tokenizer") or student["path"],
                       built=frozenset(built))
    return (TeacherConfig.from_dict(teacher, "config models.teacher"),
            StudentConfig.from_dict(student, "config models.student"), paths)


def check_models(paths: ModelPaths) -> None:
    """Every user checkpoint exists, has a config and weights, and a tokenizer: else one clear error."""
    checks = [("models.student.path", paths.student, True), ("models.student.tokenizer", paths.student_tokenizer, False)]
    if paths.teacher:
        checks.append(("models.teacher.path", paths.teacher, True))
    if paths.teacher_tokenizer:
        checks.append(("models.teacher.tokenizer", paths.teacher_tokenizer, False))
    for key, path, is_model in checks:
        if path in paths.built:
            continue
        p = Path(path)
        if not p.is_dir():
            raise bad_input(f"config {key}", f"{path!r} is not a directory",
                            "point it at a local checkpoint directory (nothing is downloaded)")
        if is_model and not (p / "config.json").is_file():
            raise bad_input(f"config {key}", f"{path!r} has no config.json", "point it at a save_pretrained model directory")
        if is_model and not (any(p.glob("*.safetensors")) or any(p.glob("*.bin"))):
            raise bad_input(f"config {key}", f"{path!r} has no weights (*.safetensors, *.bin)",
                            "point it at a save_pretrained model directory")
        if not is_model and not ((p / "tokenizer.json").is_file() or (p / "tokenizer_config.json").is_file()):
            raise bad_input(f"config {key}", f"{path!r} has no tokenizer (tokenizer.json, tokenizer_config.json)",
                            "save the tokenizer there, or set the tokenizer key to its directory")
