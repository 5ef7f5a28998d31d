"""Which step of a composite task a model gets wrong.

A composite item's response is `` <inner answer> => <outer answer>``
(:func:`read.prompting.render_response` with the inner answer as scratch), and the task
is scored on the outer answer alone. That hides where a model fails: reading the
sub-question or using its result. These scores split the two:

- ``inner``: share of items whose generated inner answer is right;
- ``outer_given_inner``: share with the outer answer right, among those with the inner right;
- ``ll_<step>``: mean gold log-likelihood (nats/token) of the inner tokens, the ``=>``, the
  outer tokens and EOS, pooled over items.

    .venv/bin/python -m read.embedded.steps --tokenizer results/embedded/setup/tokenizer \\
        --task multilingual_arithmetic --split dev --n 200 S0=results/embedded/setup/student0 ...
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence

import numpy as np

from read.errors import bad_input
from read.prompting import ANSWER_SEP, exact_match, final_answer, normalise, render_prompt

STEPS = ("inner", "arrow", "outer", "eos")


def _check_nested(item, where: str):
    if item.scratch is None:
        raise bad_input(where, f"item {item.prompt[:40]!r} is not nested (no inner answer)",
                        "score the items of a composite task (read.embedded.task_items)")


def step_of_tokens(tokenizer, item) -> list[str]:
    """The step (:data:`STEPS`) each token of ``item.response()`` + EOS belongs to.

    Tokens are assigned by where they start in the response text, so any tokenizer with
    offsets works; a token that starts in the inner answer is ``inner`` even if a merge
    carries it past the arrow.
    """
    _check_nested(item, "step_of_tokens")
    inner_end = len(f" {item.scratch}")
    arrow_end = inner_end + len(f" {ANSWER_SEP}")
    spans = tokenizer(item.response(), add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
    steps = ["inner" if start < inner_end else "arrow" if start < arrow_end else "outer" for start, _ in spans]
    return steps + ["eos"]


def split_prediction(text: str) -> tuple[str | None, str]:
    """(inner answer, outer answer) of a generated response.

    The outer answer is what the task scores (:func:`read.prompting.final_answer`: after
    the last ``=>``, or the whole text); the inner one is before the first ``=>``, and
    None when there is no ``=>`` (the step was skipped).
    """
    inner = text.split(ANSWER_SEP, 1)[0].strip() if ANSWER_SEP in text else None
    return inner, final_answer(text)


def step_accuracy(predictions: Sequence[str], items: Sequence) -> dict[str, float]:
    """em (the task score), inner, and outer_given_inner (nan if no inner answer is right)."""
    if len(predictions) != len(items) or not items:
        raise bad_input("step_accuracy", f"{len(predictions)} predictions for {len(items)} items",
                        "pass one prediction per item, at least one")
    inner_ok, outer_ok = [], []
    for text, item in zip(predictions, items):
        _check_nested(item, "step_accuracy")
        inner, _ = split_prediction(text)
        inner_ok.append(inner is not None and normalise(inner) == normalise(item.scratch))
        outer_ok.append(exact_match(text, item.answer))  # the task's own verdict, so em is its score
    inner_ok, outer_ok = np.array(inner_ok), np.array(outer_ok)
    given = float(outer_ok[inner_ok].mean()) if inner_ok.any() else float("nan")
    return {"em": float(outer_ok.mean()), "inner": float(inner_ok.mean()), "outer_given_inner": given}


def step_loglik(model, tokenizer, items: Sequence, batch_size: int = 64) -> dict[str, float]:
    """Mean gold log-likelihood per step, pooled over the tokens of all items, and ``ll`` over all of them."""
    from read.lm import response_token_logprobs

    lps = response_token_logprobs(model, tokenizer, [render_prompt(it.prompt) for it in items],
                                  [it.response() for it in items], batch_size=batch_size)
    pooled: dict[str, list[float]] = {s: [] for s in STEPS}
    for lp, item in zip(lps, items):
        steps = step_of_tokens(tokenizer, item)
        if len(steps) != len(lp):
            raise bad_input("step_loglik", f"{len(steps)} step labels for {len(lp)} response tokens",
                            "use a tokenizer whose offsets cover every token (a fast tokenizer)")
        for step, x in zip(steps, lp):
            pooled[step].append(x)
    out = {f"ll_{s}": float(np.mean(v)) if v else float("nan") for s, v in pooled.items()}
    out["ll"] = float(np.mean(np.concatenate(lps)))
    return out


def step_scores(model, tokenizer, items: Sequence, *, batch_size: int = 64, max_new_tokens: int = 48) -> dict:
    """:func:`step_accuracy` on greedy generations (as the task evaluation decodes) plus :func:`step_loglik`."""
    from read.lm import generate

    gens = generate(model, tokenizer, [render_prompt(it.prompt) for it in items], max_new_tokens=max_new_tokens,
                    batch_size=batch_size)
    return {**step_accuracy([g.text for g in gens], items), **step_loglik(model, tokenizer, items, batch_size)}


def step_table(models: Mapping[str, str], tokenizer_dir: str, task: str, split: str, n: int, seed: int):
    """One row of :func:`step_scores` per named model directory, on ``n`` items of ``task``."""
    import pandas as pd

    from read.embedded import task_items
    from read.embedded.models import load_model
    from read.embedded.tokenizer import load_tokenizer

    tok = load_tokenizer(tokenizer_dir)
    items = task_items(task, split, n, seed)
    rows = [{"model": name, **step_scores(load_model(path), tok, items)} for name, path in models.items()]
    return pd.DataFrame(rows).set_index("model")


def to_markdown(table, title: str) -> str:
    """The :func:`step_table` frame as a Markdown table, three decimals."""
    from read.aggregate.render import to_markdown as render

    cells = table.reset_index().map(lambda v: f"{v:.3f}" if isinstance(v, float) else str(v))
    return render([(title, cells)], "Composite-task steps",
                  "inner: inner answer right; outer_given_inner: outer right among those; "
                  "ll_*: gold log-likelihood per step, nats/token.")


def _named_path(text: str) -> tuple[str, str]:
    name, sep, path = text.partition("=")
    if not sep or not name or not path:
        raise argparse.ArgumentTypeError(f"{text!r}: give NAME=MODEL_DIR, e.g. S0=results/embedded/setup/student0")
    return name, path


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("models", nargs="+", type=_named_path, help="NAME=MODEL_DIR, one per model")
    ap.add_argument("--tokenizer", required=True, help="the tokenizer directory the models share")
    ap.add_argument("--task", required=True)
    ap.add_argument("--split", default="dev")
    ap.add_argument("--n", type=int, default=200, help="task items")
    ap.add_argument("--seed", type=int, default=0, help="which items (evaluation.seed)")
    args = ap.parse_args(argv)
    table = step_table(dict(args.models), args.tokenizer, args.task, args.split, args.n, args.seed)
    print(to_markdown(table, f"{args.task}, {args.split} split, {args.n} items (seed {args.seed})"))


if __name__ == "__main__":
    main()
