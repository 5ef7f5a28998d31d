"""The one exception type users see for bad input: it names where, what, and the fix."""


class ReadError(ValueError):
    """Bad user input: a config key, a task card, a template or JSONL line, a checkpoint.

    The message is one line: ``<where>: <what is wrong>; <how to fix it>``.
    """


def bad_input(where: str, problem: str, fix: str) -> ReadError:
    """Build the uniform one-line error, e.g. ``config.yaml: reward.beta must be >= 0, got -1; set it to 0 or more``."""
    return ReadError(f"{where}: {problem}; {fix}")
