"""Typed config sections: one way to build a frozen dataclass from a config mapping."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, TypeVar

from read.errors import bad_input

T = TypeVar("T")


def from_mapping(cls: type[T], d: Mapping[str, Any], where: str) -> T:
    """``cls(**d)`` for a dataclass; an unknown key is an error listing the valid ones.

    Validation of values stays in each class's ``__post_init__``.
    """
    fields = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(d) - fields)
    if unknown:
        raise bad_input(where, f"unknown key(s) {unknown}", f"use only {sorted(fields)}")
    return cls(**d)
