"""Atomic file output and strict JSON/JSONL input.

Every output the workflow produces goes through these helpers: data is written to a
hidden temporary sibling and renamed into place, so a killed job never leaves a file
(or checkpoint directory) that looks finished, and ``--rerun-incomplete`` can resume.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import uuid
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from read.errors import bad_input


def _tmp_sibling(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp-{uuid.uuid4().hex[:8]}")


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success rename it onto ``path``.

    Works for files and directories alike (e.g. a checkpoint written with
    ``save_pretrained(tmp)``). On error the temporary is removed and ``path`` is untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp_sibling(path)
    try:
        yield tmp
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)  # os.replace cannot overwrite a non-empty directory
        os.replace(tmp, path)
    finally:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        elif tmp.exists():
            tmp.unlink()


def write_text(path: str | os.PathLike, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json(path: str | os.PathLike, obj: Any) -> None:
    """Write ``obj`` as sorted, indented JSON (byte-stable for the same object)."""
    write_text(path, json.dumps(obj, indent=2, sort_keys=True, allow_nan=False) + "\n")


def write_jsonl(path: str | os.PathLike, rows: Iterable[dict]) -> int:
    """Write one sorted-key JSON object per line; returns the number of rows."""
    n = 0
    with atomic_path(path) as tmp, tmp.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, sort_keys=True, allow_nan=False) + "\n")
            n += 1
    return n


def read_json(path: str | os.PathLike) -> Any:
    path = Path(path)
    if not path.is_file():
        raise bad_input(str(path), "file not found", "check the path or rerun the rule that makes it")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise bad_input(f"{path}:{err.lineno}", f"invalid JSON ({err.msg})", "fix or delete the file") from None


def read_jsonl(path: str | os.PathLike, required: Sequence[str] = ()) -> list[dict]:
    """Read a JSONL file strictly: a malformed line or a missing key is an error naming file:line.

    Blank lines are allowed; nothing else is ever skipped silently.
    """
    path = Path(path)
    if not path.is_file():
        raise bad_input(str(path), "file not found", "check the path or rerun the rule that makes it")
    rows = []
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            where = f"{path}:{lineno}"
            try:
                row = json.loads(line)
            except json.JSONDecodeError as err:
                raise bad_input(where, f"invalid JSON ({err.msg})", "fix or remove this line") from None
            if not isinstance(row, dict):
                raise bad_input(where, f"expected a JSON object, got {type(row).__name__}", "write one object per line")
            missing = [k for k in required if k not in row]
            if missing:
                raise bad_input(where, f"missing key(s) {missing}", f"every line needs {list(required)}")
            rows.append(row)
    return rows
