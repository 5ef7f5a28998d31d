"""Teacher generation speed: one decoding pass per batch against segmented decoding, and
batch sizes.

    .venv/bin/python benchmarks/generate_batch.py [--setup results/embedded/setup] \
        [--segments 0 8 16] [--batch-sizes 64] [--tokens 2500] [--threads 1]

A batch decodes until its longest answer ends, and world answers are short with a long
tail, so ``read.lm`` decodes a first segment for every row and continues the open rows
together (``lm._decode``). Each variant answers the same world prompts, capability by
capability within the same token budget (``lm.generate`` with ``max_total_tokens``, as a generate job
does), the variants alternating in one process so that machine load hits them alike.
A variant is a (segment, batch size) pair, every segment with every batch size (a larger
batch amortises each decoding step's fixed cost over more rows, but changes which prompts
a budget-stopped call answers, so the workflow's batches would change). Prints generated
tokens/s per variant (segment 0 = one pass) and the ratio to the first. Needs a trained
teacher: run README command 1 (or the setup rules) first.
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
    ap.add_argument("--batch-sizes", type=int, nargs="+", default=[64])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()

    from read.runtime.jobs import limit_threads

    limit_threads(args.threads)
    from read import lm
    from read.capabilities import CAPABILITIES
    from read.embedded import sample_items
    from read.embedded.models import load_model
    from read.embedded.tokenizer import load_tokenizer

    tok = load_tokenizer(args.setup / "tokenizer")
    model = load_model(args.setup / "teacher")
    prompts = {c: [it.prompt for it in sample_items(c, "pool", 300, 0)] for c in CAPABILITIES}
    variants = [(seg, size) for seg in args.segments for size in args.batch_sizes]
    seconds = dict.fromkeys(variants, 0.0)
    tokens = dict.fromkeys(variants, 0)
    for _ in range(args.repeats):
        for seg, size in variants:  # alternate within each repeat
            t0 = time.perf_counter()
            for c in CAPABILITIES:
                gens = lm.generate(model, tok, prompts[c], max_new_tokens=48, max_total_tokens=args.tokens,
                                   batch_size=size, segment=seg or None)
                tokens[seg, size] += sum(g.n_tokens for g in gens)
            seconds[seg, size] += time.perf_counter() - t0
    base = tokens[variants[0]] / seconds[variants[0]]
    print(f"{args.threads} thread(s), {args.tokens} tokens per capability, {args.repeats} repeats")
    for seg, size in variants:
        rate = tokens[seg, size] / seconds[seg, size]
        name = "one pass" if not seg else f"segment {seg}"
        print(f"{name:>11}, batch {size:4d}: {rate:7.0f} generated tokens/s  ({rate / base:.2f}x)")


if __name__ == "__main__":
    main()
