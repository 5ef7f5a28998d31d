"""Pretraining speed: what the teacher's step could gain, measured side by side.

    .venv/bin/python benchmarks/pretrain_speed.py [--steps 120] [--config config/config.yaml]

The teacher's pretraining is the longest job of the main run. Three kinds of change are
measured against the step `read.lm.train` takes now (SDPA attention, foreach AdamW, one
process on 2 threads), on the same world batches, with the models of ``--config``:

1. in one process, alternating step by step: eager attention, fused AdamW, and both;
2. data parallelism: two processes on 1 thread each, each taking half of every batch and
   all-reducing the gradients (gloo), against one process on 2 threads, alternating block
   by block. Two 1-thread processes get more from 2 cores than one 2-thread process does,
   so this is the obvious candidate; the per-step cost that a half batch does not halve
   decides it.
3. the schedule of the two pretrainings, the teacher and S0 of ``config/config.yaml``: one
   after the other on 2 threads each, as the main job runs them, against side by side on
   1 thread each (two processes at once). Rates are measured; the two wall times are
   projected from the configured step counts.
4. the batch size: in one process, alternating block by block, 4 steps of the configured
   size against 8 of half the size, 2 of twice the size and 1 of four times, each size
   with its own length-bucketed plan. Larger GEMMs could raise tokens/s; a larger batch's
   padding works against it. Adopting a size would also need new steps and lr.

In 1 and 2 every variant computes the same loss: the first losses are checked equal.
Each changes the floating-point rounding, so adopting one would change the teacher's
weights. 3 changes only the thread count, which leaves the weights as they are.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
from world import world_batches

WARMUP = 5  # steps left out of every rate


def config_models(config: Path) -> dict:
    """{"teacher" | "student": (model spec, PretrainConfig)} from the workflow config."""
    import yaml

    from read.embedded.pretrain import PretrainConfig

    world = yaml.safe_load(config.read_text())["world"]
    return {name: (world[name]["spec"], PretrainConfig.from_dict(world[name]["pretrain"], f"{config}: world.{name}"))
            for name in ("teacher", "student")}


def new_model(tok, spec: dict, *, eager: bool = False):
    from read.embedded.models import ModelSpec, build_model

    model = build_model(ModelSpec(**spec), len(tok), 0, pad_id=tok.pad_token_id)
    if eager:
        model.set_attn_implementation("eager")
    model.train()
    return model


def step_loss(model, batch, n_targets: int):
    """Summed target cross-entropy over ``batch`` divided by the whole batch's target count."""
    import torch.nn.functional as F

    from read import lm

    select = batch["labels"][:, 1:] != lm.IGNORE
    logits = lm.target_logits(model, batch["input_ids"], batch["attention_mask"], select)
    return F.cross_entropy(logits, batch["labels"][:, 1:][select], reduction="sum") / n_targets


def train_step(model, opt, batch, n_targets: int):
    """One optimiser step on ``batch``, as ``read.lm.train`` takes it; returns the loss."""
    loss = step_loss(model, batch, n_targets)
    opt.zero_grad()
    loss.backward()
    opt.step()
    return loss


def run_processes(target, args: list[tuple], n_results: int) -> list:
    """Start one spawned process per ``args`` (each also gets a result queue), wait for
    ``n_results`` results from the queue, join them all, and return the results."""
    import torch.multiprocessing as mp

    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=target, args=(*a, out)) for a in args]
    for p in procs:
        p.start()
    results = [out.get() for _ in range(n_results)]
    for p in procs:
        p.join()
    return results


def in_process(tok, enc, plan, spec: dict, cfg) -> None:
    import torch

    from read import lm

    torch.set_num_threads(2)
    variants = {"sdpa + foreach (now)": (False, None), "eager attention": (True, None),  # None: as train()
                "fused AdamW": (False, True), "eager + fused": (True, True)}
    models = {name: new_model(tok, spec, eager=eager) for name, (eager, _) in variants.items()}
    opts = {name: lm.adamw(list(models[name].parameters()), cfg.train_config(), fused=fused)
            for name, (_, fused) in variants.items()}
    seconds = {name: [] for name in variants}
    first = {}
    for idx in plan:
        items = [enc[i] for i in idx]
        batch = lm.collate(items, tok.pad_token_id)
        n_targets = sum(e.n_response_tokens for e in items)
        for name in variants:  # alternate, so load drifts affect all alike
            t0 = time.perf_counter()
            loss = train_step(models[name], opts[name], batch, n_targets)
            seconds[name].append(time.perf_counter() - t0)
            first.setdefault(name, float(loss.detach()))
    assert max(first.values()) - min(first.values()) < 1e-4, first
    base = np.median(seconds["sdpa + foreach (now)"][WARMUP:])
    print("1) one process, 2 threads, alternating step by step")
    for name, s in seconds.items():
        print(f"   {name:22s}: {1 / np.median(s[WARMUP:]):5.1f} steps/s  {base / np.median(s[WARMUP:]):.2f}x")


def _worker(rank: int, world: int, store: str, steps: int, spec: dict, cfg, out) -> None:
    """One training process: its share of every batch; gradients summed over processes."""
    import torch
    import torch.distributed as dist

    from read import lm

    torch.set_num_threads(2 // world)
    tok, enc, plan = world_batches(steps, items_per_capability=400, batch_size=cfg.batch_size)
    model = new_model(tok, spec)
    params = list(model.parameters())
    opt = lm.adamw(params, cfg.train_config())
    if world > 1:
        dist.init_process_group("gloo", init_method=f"file://{store}", rank=rank, world_size=world)
    first_loss, t0 = None, 0.0
    for k, idx in enumerate(plan):
        if k == WARMUP:
            t0 = time.perf_counter()
        items = [enc[i] for i in idx]
        n_targets = sum(e.n_response_tokens for e in items)
        loss = step_loss(model, lm.collate(items[rank::world], tok.pad_token_id), n_targets)
        opt.zero_grad()
        loss.backward()
        value = loss.detach()
        if world > 1:
            flat = torch.cat([p.grad.reshape(-1) for p in params] + [value.reshape(1)])
            dist.all_reduce(flat)  # one call: every gradient and the loss
            offset = 0
            for p in params:
                p.grad.copy_(flat[offset : offset + p.numel()].view_as(p))
                offset += p.numel()
            value = flat[-1]
        opt.step()
        first_loss = float(value) if first_loss is None else first_loss
    if rank == 0:
        out.put(((len(plan) - WARMUP) / (time.perf_counter() - t0), first_loss))
    if world > 1:
        dist.destroy_process_group()


def data_parallel(steps: int, spec: dict, cfg, repeats: int = 2) -> None:
    rates = {1: [], 2: []}
    first = {}
    for _ in range(repeats):
        for world in (1, 2):  # alternate blocks, so load drifts affect both
            with tempfile.TemporaryDirectory() as tmp:  # rank 0 alone reports
                [(rate, first[world])] = run_processes(
                    _worker, [(r, world, f"{tmp}/store", steps, spec, cfg) for r in range(world)], n_results=1)
            rates[world].append(rate)
    assert abs(first[1] - first[2]) < 1e-4, first
    one, two = np.median(rates[1]), np.median(rates[2])
    print("2) data parallelism, alternating block by block")
    print(f"   one process, 2 threads      : {one:5.1f} steps/s")
    print(f"   two processes, 1 thread each: {two:5.1f} steps/s  {two / one:.2f}x")


def _pretrain_rate(name: str, spec: dict, cfg, threads: int, steps: int, out) -> None:
    """Steps/s of ``read.lm.train`` on ``spec`` with ``cfg``'s optimiser at ``threads`` (after
    WARMUP steps), put on ``out``."""
    import torch

    from read import lm

    torch.set_num_threads(threads)
    tok, enc, _ = world_batches(steps, items_per_capability=400, batch_size=cfg.batch_size)
    model = new_model(tok, spec)
    marks = {}

    def clock(step: int, *_) -> None:
        marks.setdefault(step, time.perf_counter())

    lm.train(model, enc, replace(cfg.train_config(), max_steps=steps), seed=0, pad_id=tok.pad_token_id,
             callback=clock, progress=False)
    out.put((name, threads, (steps - WARMUP) / (marks[steps - 1] - marks[WARMUP - 1])))


def pretraining_schedule(steps: int, models: dict, repeats: int = 2) -> None:
    rates = {(name, threads): [] for name in models for threads in (1, 2)}

    def run(jobs: list[tuple[str, int]]) -> None:
        """Start ``jobs`` (model, threads) together; S0 takes twice the steps, so both run about as long."""
        args = [(name, *models[name], threads, steps * (2 if name == "student" else 1)) for name, threads in jobs]
        for name, threads, rate in run_processes(_pretrain_rate, args, n_results=len(jobs)):
            rates[name, threads].append(rate)

    for _ in range(repeats):  # alternate blocks, so load drifts affect both schedules
        run([("teacher", 2)])
        run([("student", 2)])
        run([("teacher", 1), ("student", 1)])
    r = {key: float(np.median(v)) for key, v in rates.items()}
    t_steps, s_steps = models["teacher"][1].steps, models["student"][1].steps
    one_after = t_steps / r["teacher", 2] + s_steps / r["student", 2]
    side_by_side = max(t_steps / r["teacher", 1], s_steps / r["student", 1])  # 1-thread rates measured side by side
    print(f"3) the two pretrainings ({t_steps} teacher steps, {s_steps} S0 steps), alternating block by block")
    for name, label in (("teacher", "teacher"), ("student", "S0")):
        print(f"   {label:7s}: {r[name, 2]:5.1f} steps/s on 2 threads alone, {r[name, 1]:5.1f} on 1 thread "
              f"beside the other ({r[name, 2] / r[name, 1]:.2f}x from the second thread)")
    print(f"   one after the other, 2 threads each: {one_after:4.0f} s of training")
    print(f"   side by side, 1 thread each        : {side_by_side:4.0f} s  {one_after / side_by_side:.2f}x")


def batch_sizes(tok, enc, spec: dict, cfg, steps: int) -> None:
    import torch

    from read import lm
    from read.rng import rng_for

    torch.set_num_threads(2)
    block = 4 * cfg.batch_size  # sequences per block: 8, 4, 2 and 1 steps of the sizes below
    sizes = (cfg.batch_size // 2, cfg.batch_size, 2 * cfg.batch_size, 4 * cfg.batch_size)
    # each size gets its own length-bucketed plan, as train() would make it at that size
    plans = {b: lm.plan_steps(enc, replace(cfg.train_config(), batch_size=b, max_steps=steps * block // b),
                              rng_for(0, "bench", "batch size", b)) for b in sizes}
    models = {b: new_model(tok, spec) for b in sizes}
    opts = {b: lm.adamw(list(models[b].parameters()), cfg.train_config()) for b in sizes}
    seconds, tokens = dict.fromkeys(sizes, 0.0), dict.fromkeys(sizes, 0)
    for k in range(steps):
        for b in sizes:  # alternate, so load drifts affect all alike
            per_block = block // b
            t0 = time.perf_counter()
            for idx in plans[b][k * per_block : (k + 1) * per_block]:
                items = [enc[i] for i in idx]
                train_step(models[b], opts[b], lm.collate(items, tok.pad_token_id),
                           sum(e.n_response_tokens for e in items))
                if k >= WARMUP:
                    tokens[b] += sum(e.n_tokens for e in items)
            if k >= WARMUP:
                seconds[b] += time.perf_counter() - t0
    base = tokens[cfg.batch_size] / seconds[cfg.batch_size]
    print(f"4) batch size, one process, 2 threads, alternating block by block ({block} sequences a block)")
    for b in sizes:
        rate = tokens[b] / seconds[b]
        print(f"   batch {b:4d}: {rate:7.0f} tokens/s  {rate / base:.2f}x")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=120)
    ap.add_argument("--config", type=Path, default=Path("config/config.yaml"), help="where the teacher and S0 are read from")
    args = ap.parse_args()
    models = config_models(args.config)
    spec, cfg = models["teacher"]
    tok, enc, plan = world_batches(args.steps, items_per_capability=400, batch_size=cfg.batch_size)
    in_process(tok, enc, plan, spec, cfg)
    data_parallel(args.steps, spec, cfg)
    pretraining_schedule(args.steps, models)
    batch_sizes(tok, enc, spec, cfg, args.steps)


if __name__ == "__main__":
    main()
