"""Training-step speed: logits at target positions only (read.lm.train) vs the full forward.

    .venv/bin/python benchmarks/train_step.py [--steps 60] [--vocab 2048] [--threads 2]

Both variants train the same tiny Llama on the same world batches, alternating in one
process so that machine load hits them alike, and the script prints steps/s of each and
their ratio. The loss values are checked equal on the first batch, so the speed-up is
for the same computation.
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--vocab", type=int, default=2048)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--hidden", type=int, default=128)
    args = ap.parse_args()

    from read.runtime.jobs import limit_threads

    limit_threads(args.threads)
    import torch
    from world import world_batches

    from read import lm
    from read.embedded.models import ModelSpec, build_model

    tok, enc, plan = world_batches(args.steps, vocab=args.vocab)
    batches = [lm.collate([enc[i] for i in idx], tok.pad_token_id) for idx in plan]
    spec = ModelSpec(layers=2, hidden=args.hidden, heads=4)
    models = {name: build_model(spec, len(tok), 0) for name in ("full", "targets")}
    opts = {name: torch.optim.AdamW(m.parameters(), lr=1e-3) for name, m in models.items()}

    def step(name: str, t: dict) -> float:
        model = models[name]
        if name == "full":
            loss = lm.sft_loss(model(input_ids=t["input_ids"], attention_mask=t["attention_mask"]).logits, t["labels"])
        else:
            select = t["labels"][:, 1:] != lm.IGNORE
            logits = lm.target_logits(model, t["input_ids"], t["attention_mask"], select)
            loss = lm.cross_entropy(logits, t["labels"][:, 1:][select])
        opts[name].zero_grad()
        loss.backward()
        opts[name].step()
        return float(loss)

    first = {name: step(name, batches[0]) for name in models}
    assert abs(first["full"] - first["targets"]) < 1e-4, first
    seconds = {name: [] for name in models}
    for t in batches[1:]:
        for name in models:  # alternate, so load drifts affect both
            t0 = time.perf_counter()
            step(name, t)
            seconds[name].append(time.perf_counter() - t0)
    rate = {name: 1.0 / np.median(s) for name, s in seconds.items()}
    share = np.mean([(t["labels"][:, 1:] != lm.IGNORE).float().mean().item() for t in batches])
    print(f"vocab {len(tok)}, hidden {args.hidden}, {args.threads} threads, {len(batches) - 1} steps each, "
          f"target tokens {share:.0%} of positions")
    print(f"full logits   : {rate['full']:.1f} steps/s")
    print(f"target logits : {rate['targets']:.1f} steps/s")
    print(f"speed-up      : {rate['targets'] / rate['full']:.2f}x")


if __name__ == "__main__":
    main()
