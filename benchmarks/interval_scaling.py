"""Scaling of a train interval: its time against the interval index (flat) and the tokens it trains (linear).

    .venv/bin/python benchmarks/interval_scaling.py [--sizes tiny teacher mid] [--intervals 6] \
        [--index-tokens 12000] [--tokens 4000 8000 16000 32000] [--repeats 2] [--threads 1]

Times ``read.students.train.train_on_batch``, what a train job calls: load the student
(S0, or the previous interval's checkpoint), check and encode the batch rows, train with
``read.lm.train`` up to ``max_train_tokens``, save the checkpoint. Synthetic batches: world
pool items with their gold responses as the teacher's answers, counted with the student
tokenizer as a generate job counts them, about 1.25x the trained tokens a batch (as the
workflow's batches are). Full fine-tuning, read's student defaults (lr 3e-4, batch 32), on
``--threads`` (a train job's ``threads:``, 1), at up to three student sizes: ``tiny`` (the
embedded student), ``teacher`` (the embedded teacher's shape) and ``mid`` (4.7M parameters).

1. index: a chain of ``--intervals`` intervals, each from the previous checkpoint, at
   ``--index-tokens`` each; slope of seconds against k (should be ~0: nothing accumulates).
2. tokens: one interval from S0 at each of ``--tokens``, sizes and budgets in a rotating
   order, ``--repeats`` times (median); least-squares fit seconds = a + b * tokens, so b is
   the cost per token and a the fixed cost of a call (load, encode, save), and R^2.

Prints both fits per size and writes ``benchmarks/out/interval_scaling.json``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from common import median, write_result

SIZES = {  # ModelSpec fields
    "tiny": {"layers": 2, "hidden": 48, "heads": 4},
    "teacher": {"layers": 2, "hidden": 128, "heads": 4, "intermediate": 256},
    "mid": {"layers": 4, "hidden": 256, "heads": 4},
}


def synthetic_rows(tok, n_tokens: int, seed: int) -> list[dict]:
    """Batch rows whose examples hold about ``n_tokens`` (student tokenizer), every capability in turn."""
    from read import lm
    from read.capabilities import CAPABILITIES
    from read.embedded import sample_items
    from read.prompting import RAW

    per_cap = n_tokens // (20 * len(CAPABILITIES)) + 1  # world items are ~20-30 tokens
    items = [it for group in zip(*(sample_items(c, "pool", per_cap, seed) for c in CAPABILITIES)) for it in group]
    responses = [RAW.response(it.response(cot=False)) for it in items]
    enc = lm.encode_pairs(tok, [RAW.prompt(it.prompt) for it in items], responses, 1 << 30)
    rows, total = [], 0
    for it, resp, e in zip(items, responses, enc):
        if total >= n_tokens:
            break
        rows.append({"capability": it.capability, "template": it.template, "difficulty": "medium", "prompt": it.prompt,
                     "response": resp, "prompt_tokens": e.n_prompt_tokens, "response_tokens": e.n_response_tokens,
                     "topk": None})
        total += e.n_tokens
    return rows


def fit(x, y) -> dict:
    """Least squares y = a + b x, with R^2."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    b, a = np.polyfit(x, y, 1)
    resid = y - (a + b * x)
    r2 = 1 - float(resid @ resid) / float(((y - y.mean()) ** 2).sum()) if len(y) > 2 else float("nan")
    return {"intercept_s": float(a), "slope": float(b), "r2": r2}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", nargs="+", default=list(SIZES), choices=list(SIZES))
    ap.add_argument("--intervals", type=int, default=6)
    ap.add_argument("--index-tokens", type=int, default=12000, help="trained tokens per interval in the chain")
    ap.add_argument("--tokens", type=int, nargs="+", default=[4000, 8000, 16000, 32000])
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()

    from read.runtime.jobs import limit_threads

    limit_threads(args.threads)
    from read.embedded.models import ModelSpec, build_model, n_params, save_model
    from read.embedded.tokenizer import train_world_tokenizer
    from read.students.train import StudentConfig, train_on_batch

    cfg = StudentConfig(lr=3e-4, threads=args.threads)
    with tempfile.TemporaryDirectory(prefix="read-scaling-") as tmp:
        tmp = Path(tmp)
        tok_dir = train_world_tokenizer(tmp / "tok", 2048, 500, 0)
        from read.embedded.tokenizer import load_tokenizer

        tok = load_tokenizer(tok_dir)
        bases = {}
        for name in args.sizes:
            model = build_model(ModelSpec(**SIZES[name]), len(tok), 0, pad_id=tok.pad_token_id)
            bases[name] = save_model(model, tmp / f"s0-{name}")
            tok.save_pretrained(bases[name])
            print(f"{name}: {n_params(model) / 1e6:.2f}M parameters", flush=True)
        rows = {(k, n): synthetic_rows(tok, int(n * 1.25), k) for k in range(1, args.intervals + 1)
                for n in {args.index_tokens, *args.tokens}}

        def interval(name, init, k, n, out):
            t0 = time.perf_counter()
            rep = train_on_batch(bases[name], init, rows[k, n], out, cfg, seed=0, max_train_tokens=n, progress=False)
            return time.perf_counter() - t0, rep

        for name in args.sizes:  # warm-up: imports, kernels, the file cache
            interval(name, None, 1, min(args.tokens), tmp / "warm")

        results = {}
        for name in args.sizes:
            times, train_s, prev = [], [], None
            for k in range(1, args.intervals + 1):
                wall, rep = interval(name, prev, k, args.index_tokens, tmp / f"chain-{name}" / f"i{k}")
                prev = tmp / f"chain-{name}" / f"i{k}"
                times.append(wall)
                train_s.append(rep.wall_s)
            f = fit(range(1, args.intervals + 1), times)
            f["slope_share_of_mean"] = f["slope"] / float(np.mean(times))
            results[name] = {"index": {"seconds": times, "train_s": train_s, "fit": f}}
            print(f"{name:8s} index : {', '.join(f'{t:.2f}' for t in times)} s; slope {f['slope'] * 1e3:+.1f} ms "
                  f"per interval ({f['slope_share_of_mean']:+.1%} of the mean)", flush=True)

        plan = [(name, n) for name in args.sizes for n in args.tokens]
        seconds = {p: [] for p in plan}
        for r in range(args.repeats):
            shift = r * len(plan) // max(1, args.repeats)
            for name, n in plan[shift:] + plan[:shift]:  # rotated, so load drift spreads over sizes and budgets
                seconds[name, n].append(interval(name, None, 1, n, tmp / "one")[0])
        for name in args.sizes:
            ys = [median(seconds[name, n]) for n in args.tokens]
            f = fit(args.tokens, ys)
            results[name]["tokens"] = {"tokens": args.tokens, "seconds": ys, "all": [seconds[name, n] for n in args.tokens],
                                       "fit": f, "tokens_per_s_marginal": 1.0 / f["slope"] if f["slope"] > 0 else None}
            print(f"{name:8s} tokens: {', '.join(f'{n}: {y:.2f}' for n, y in zip(args.tokens, ys))} s; "
                  f"fit {f['intercept_s']:.2f} s + {f['slope'] * 1e6:.1f} us/token (R^2 {f['r2']:.3f}; "
                  f"{1 / f['slope']:.0f} tokens/s marginal)", flush=True)
    write_result("interval_scaling", {"threads": args.threads, "sizes": {n: SIZES[n] for n in args.sizes},
                                      "index_tokens": args.index_tokens, "results": results})


if __name__ == "__main__":
    main()
