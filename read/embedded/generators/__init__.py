"""One generator module per capability, all with the interface described in ``base``."""

from __future__ import annotations

from read.embedded.generators import (
    code,
    general_knowledge,
    long_context,
    math,
    multilingual,
    reasoning,
    steerability,
    tool_use,
)
from read.embedded.generators.base import Item, Nest

GENERATORS = {
    "general_knowledge": general_knowledge,
    "steerability": steerability,
    "reasoning": reasoning,
    "math": math,
    "code": code,
    "tool_use": tool_use,
    "long_context": long_context,
    "multilingual": multilingual,
}

__all__ = ["GENERATORS", "Item", "Nest"]
