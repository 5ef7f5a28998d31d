"""Teacher generation speed: one decoding pass per batch against segmented decoding.

    .venv/bin/python benchmarks/generate_batch.py [--setup results/embedded/setup] \
        [--segments 0 8 16] [--tokens 2500] [--threads 1]

A batch decodes until its longest answer ends, and world answers are short with a long
tail, so ``read.lm`` decodes a first segment for every row and continues the open rows
together (``lm._decode``). Each variant answers the same world prompts, capability by
capability within the same token budget (``lm.generate`` with ``max_total_tokens``, as a generate job
does), the variants alternating in one process so that machine load hits them alike.
Prints generated tokens/s per variant (segment 0 = one pass) and the ratio to the
first. Needs a trained teacher: run README command 1 (or the setup rules) first.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--setup", type=Path, default=Path("results/embedded/setup"))
    ap.add_argument("--segments", type=int, nargs="+", default=[0, 8, 16])
    ap.add_argument("--tokens", type=int, default=2500, help="generation budget per capability")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()

    from read.jobs import limit_threads

    limit_threads(args.threads)
    from read import lm
    from read.capabilities import CAPABILITIES
    from read.embedded import sample_items
    from read.embedded.models import load_model
    from read.embedded.tokenizer import load_tokenizer

    tok = load_tokenizer(args.setup / "tokenizer")
    model = load_model(args.setup / "teacher")
    prompts = {c: [it.prompt for it in sample_items(c, "pool", 300, 0)] for c in CAPABILITIES}
    seconds = dict.fromkeys(args.segments, 0.0)
    tokens = dict.fromkeys(args.segments, 0)
    for _ in range(args.repeats):
        for seg in args.segments:  # alternate within each repeat
            t0 = time.perf_counter()
            for c in CAPABILITIES:
                gens = lm.generate(model, tok, prompts[c], max_new_tokens=48, max_total_tokens=args.tokens,
                                   batch_size=args.batch_size, segment=seg or None)
                tokens[seg] += sum(g.n_tokens for g in gens)
            seconds[seg] += time.perf_counter() - t0
    base = tokens[args.segments[0]] / seconds[args.segments[0]]
    print(f"{args.threads} thread(s), batch {args.batch_size}, {args.tokens} tokens per capability, "
          f"{args.repeats} repeats")
    for seg in args.segments:
        rate = tokens[seg] / seconds[seg]
        name = "one pass" if not seg else f"segment {seg}"
        print(f"{name:>11}: {rate:7.0f} generated tokens/s  ({rate / base:.2f}x)")


if __name__ == "__main__":
    main()
