"""Student training throughput: read's trainer against a bare PyTorch loop and TRL's SFTTrainer.

    .venv/bin/python benchmarks/train_throughput.py [--models tiny mid] [--modes full lora] \
        [--steps 40] [--mid-steps 12] [--repeats 3] [--threads 1] [--profile]

What a user would pick instead of ``read.lm.train`` (the loop every train job runs):

- bare: the loop one writes by hand, ``model(input_ids, attention_mask, labels).loss``
  (transformers' own shifted, masked cross-entropy on full logits), backward, clip, AdamW;
- trl: ``trl.SFTTrainer`` on a tokenized dataset of the same ``input_ids`` / ``labels``
  (``pip install -e '.[bench]'``). SFTTrainer's own defaults differ from the other two
  (bf16, gradient checkpointing), so they are turned off here: fp32, no checkpointing.

All three train the same model (a deep copy of one initialisation), on the same world
examples encoded by ``read.lm.encode_pairs``, in the same batches and order (the plan
``read.lm.train`` makes; TRL reads the batches in sequence), with the same AdamW (lr, betas
(0.9, 0.98), eps 1e-8, no weight decay, constant lr), clip 1.0, fp32, ``torch.set_num_threads``
fixed. Full fine-tuning and LoRA (r 8, alpha 16, q/v, read's student defaults), on the
embedded student (``tiny``) and a 4.7M-parameter Llama (``mid``).

Each variant first runs once untimed (warm-up), and the losses of its first steps are
checked against read's (``--tol``), so a ratio is for the same computation. Then the
variants alternate (A B C, B C A, C A B, ...) for ``--repeats`` rounds, each a whole
training call timed from outside (the trainer's set-up in it, as in an interval job; TRL's
``SFTTrainer(...)`` construction is timed apart and left out). Prints tokens/s (prompt +
response tokens, no padding) per variant, read's ratio to each (median over rounds of the
per-round ratio), and writes ``benchmarks/out/train_throughput.json`` (``_threads<n>`` added
for another ``--threads``). ``--profile`` adds the
top cProfile entries of one call of each variant.
"""

from __future__ import annotations

import argparse
import copy
import cProfile
import io
import pstats
import tempfile
import time

from common import median, verdict, write_result

VARIANTS = ("read", "bare", "trl")
MODELS = {  # ModelSpec fields; tiny = config/config.yaml's world.student
    "tiny": {"layers": 2, "hidden": 48, "heads": 4},
    "mid": {"layers": 4, "hidden": 256, "heads": 4},
}
LORA = {"r": 8, "lora_alpha": 16.0, "lora_dropout": 0.0, "target_modules": ["q_proj", "v_proj"]}
GOALS = {"bare": 0.9, "trl": 1.0}  # read / other, tokens/s


def examples(n: int, vocab: int):
    """(tokenizer, n encoded world items): a fresh world tokenizer, pretrain-split items."""
    from read import lm
    from read.embedded.pretrain import world_texts
    from read.embedded.tokenizer import load_tokenizer, train_world_tokenizer

    with tempfile.TemporaryDirectory() as tmp:
        tok = load_tokenizer(train_world_tokenizer(f"{tmp}/tok", vocab, 500, 0))
    prompts, responses, _ = world_texts(n // 8 + 1, 0.2, 0)
    return tok, lm.encode_pairs(tok, prompts, responses, 384)[:n]


def build(spec: dict, mode: str, tok):
    import torch
    from peft import LoraConfig, get_peft_model

    from read.embedded.models import ModelSpec, build_model

    model = build_model(ModelSpec(**spec), len(tok), 0, pad_id=tok.pad_token_id)
    if mode == "lora":
        torch.manual_seed(1)
        model = get_peft_model(model, LoraConfig(task_type="CAUSAL_LM", **LORA))
    return model


def run_read(model, enc, cfg, plan, tok) -> list[float]:
    from read import lm

    return lm.train(model, enc, cfg, seed=0, pad_id=tok.pad_token_id, progress=False).losses


def run_bare(model, enc, cfg, plan, tok) -> list[float]:
    import torch

    from read import lm

    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=cfg.lr, betas=(cfg.beta1, cfg.beta2), eps=1e-8, weight_decay=0.0)
    model.train()
    losses = []
    for idx in plan:
        t = lm.collate([enc[i] for i in idx], tok.pad_token_id)
        loss = model(input_ids=t["input_ids"], attention_mask=t["attention_mask"], labels=t["labels"]).loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, cfg.grad_clip)
        opt.step()
        losses.append(float(loss.detach()))
    model.eval()
    return losses


def trl_trainer(model, enc, cfg, plan, tok, out_dir: str, threads: int):
    """An SFTTrainer that reads ``plan``'s batches in order, with the other variants' optimiser."""
    from datasets import Dataset
    from transformers import PrinterCallback
    from trl import SFTConfig, SFTTrainer

    class Recording(SFTTrainer):  # the per-step loss, to check it against read's
        losses: list

        def training_step(self, *args, **kwargs):
            loss = super().training_step(*args, **kwargs)
            self.losses.append(float(loss))
            return loss

    rows = [enc[i] for idx in plan for i in idx]
    data = Dataset.from_dict({"input_ids": [list(e.input_ids) for e in rows], "labels": [list(e.labels) for e in rows]})
    args = SFTConfig(
        output_dir=out_dir, max_steps=len(plan), per_device_train_batch_size=cfg.batch_size,
        learning_rate=cfg.lr, lr_scheduler_type="constant", warmup_steps=0, optim="adamw_torch",
        adam_beta1=cfg.beta1, adam_beta2=cfg.beta2, adam_epsilon=1e-8, weight_decay=0.0, max_grad_norm=cfg.grad_clip,
        bf16=False, fp16=False, gradient_checkpointing=False, use_cpu=True, train_sampling_strategy="sequential",
        dataloader_num_workers=0, logging_steps=10**6, save_strategy="no", report_to="none", disable_tqdm=True,
        max_length=None, dataset_kwargs={"skip_prepare_dataset": True}, seed=0,
    )
    trainer = Recording(model=model, args=args, train_dataset=data, processing_class=tok)
    trainer.remove_callback(PrinterCallback)  # its end-of-training metrics line would break up the table
    trainer.losses = []
    return trainer


def call(name: str, base, enc, cfg, plan, tok, threads: int, profile: cProfile.Profile | None = None) -> dict:
    """One training call of variant ``name`` on a fresh copy of ``base``: wall time and step losses."""
    import torch

    model = copy.deepcopy(base)
    torch.set_num_threads(threads)
    with tempfile.TemporaryDirectory() as tmp:
        setup_s = 0.0
        if name == "trl":
            t0 = time.perf_counter()
            trainer = trl_trainer(model, enc, cfg, plan, tok, tmp, threads)
            setup_s = time.perf_counter() - t0
            fn = trainer.train
        else:
            runner = run_read if name == "read" else run_bare
            fn = lambda: runner(model, enc, cfg, plan, tok)  # noqa: E731
        if profile is not None:
            profile.enable()
        t0 = time.perf_counter()
        out = fn()
        wall = time.perf_counter() - t0
        if profile is not None:
            profile.disable()
        losses = trainer.losses if name == "trl" else out
    if torch.get_num_threads() != threads:
        raise RuntimeError(f"{name} changed torch's thread count to {torch.get_num_threads()}")
    return {"wall_s": wall, "setup_s": setup_s, "losses": losses}


def top_entries(profile: cProfile.Profile, n: int = 12) -> list[str]:
    buf = io.StringIO()
    pstats.Stats(profile, stream=buf).sort_stats("tottime").print_stats(n)
    return [line for line in buf.getvalue().splitlines() if line.strip()][-n - 1:]


def bench(model_name: str, mode: str, steps: int, args, tok, enc) -> dict:
    from read import lm
    from read.embedded.models import n_params
    from read.rng import rng_for

    cfg = lm.TrainConfig(lr=3e-4, min_lr_ratio=1.0, warmup_steps=0, batch_size=args.batch_size, max_steps=steps,
                         grad_clip=1.0, weight_decay=0.0)
    plan = lm.plan_steps(enc, cfg, rng_for(0, "train", "batches"))  # what read.lm.train will run
    if any(len(b) != cfg.batch_size for b in plan):
        raise RuntimeError("a short batch in the plan: TRL would batch differently; use a multiple of 50 batches of examples")
    tokens = sum(enc[i].n_tokens for b in plan for i in b)
    base = build(MODELS[model_name], mode, tok)
    trainable = sum(p.numel() for p in base.parameters() if p.requires_grad)
    print(f"\n{model_name} ({n_params(base) / 1e6:.2f}M params, {trainable / 1e6:.3f}M trainable), {mode}: "
          f"{steps} steps of {cfg.batch_size}, {tokens} tokens a call", flush=True)

    warm = {name: call(name, base, enc, cfg, plan, tok, args.threads) for name in VARIANTS}
    k = min(args.check_steps, steps)
    ref = warm["read"]["losses"][:k]
    diffs = {name: max(abs(a - b) for a, b in zip(ref, w["losses"][:k])) for name, w in warm.items()}
    print(f"  first {k} losses (read): {', '.join(f'{v:.5f}' for v in ref)}; max |diff|: "
          + ", ".join(f"{n} {d:.1e}" for n, d in diffs.items() if n != "read"))
    bad = {n: d for n, d in diffs.items() if d > args.tol}
    if bad:
        raise RuntimeError(f"losses disagree beyond {args.tol}: {bad}; the variants do not compute the same thing")

    rounds = []
    for r in range(args.repeats):
        order = VARIANTS[r % 3:] + VARIANTS[: r % 3]  # rotate, so no variant always runs first
        rounds.append({name: call(name, base, enc, cfg, plan, tok, args.threads) for name in order})
    rate = {name: median(tokens / rd[name]["wall_s"] for rd in rounds) for name in VARIANTS}
    ratio = {other: median(rd[other]["wall_s"] / rd["read"]["wall_s"] for rd in rounds) for other in GOALS}
    for name in VARIANTS:
        extra = f" (+{median(rd['trl']['setup_s'] for rd in rounds):.2f} s SFTTrainer construction, not timed)" if name == "trl" else ""
        print(f"  {name:5s}: {rate[name]:9.0f} tokens/s{extra}")
    for other, goal in GOALS.items():
        print(f"  read / {other}: {ratio[other]:.2f}x  (goal >= {goal}x: {verdict(ratio[other], goal)})")
    result = {"model": model_name, "spec": MODELS[model_name], "params": n_params(base), "trainable": trainable,
              "mode": mode, "steps": steps, "batch_size": cfg.batch_size, "tokens_per_call": tokens,
              "loss_check": {"steps": k, "tol": args.tol, "max_abs_diff": diffs, "read_losses": ref},
              "tokens_per_s": rate, "read_over": ratio,
              "goals": {o: {"goal": g, "verdict": verdict(ratio[o], g)} for o, g in GOALS.items()},
              "rounds": [{n: {"wall_s": v["wall_s"], "setup_s": v["setup_s"]} for n, v in rd.items()} for rd in rounds]}
    if args.profile:
        result["profile"] = {}
        for name in VARIANTS:
            prof = cProfile.Profile()
            call(name, base, enc, cfg, plan, tok, args.threads, profile=prof)
            result["profile"][name] = top_entries(prof)
            print(f"  cProfile, {name} (tottime):\n    " + "\n    ".join(result["profile"][name]))
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    ap.add_argument("--modes", nargs="+", default=["full", "lora"], choices=["full", "lora"])
    ap.add_argument("--steps", type=int, default=40, help="steps a call, tiny model (an interval job takes 32-94)")
    ap.add_argument("--mid-steps", type=int, default=12, help="steps a call, mid model")
    ap.add_argument("--repeats", type=int, default=3, help="timed rounds (each variant once a round)")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--threads", type=int, default=1, help="torch threads, all variants (a train job has 1)")
    ap.add_argument("--check-steps", type=int, default=3, help="first steps whose losses must agree")
    ap.add_argument("--tol", type=float, default=1e-4, help="max |loss difference| on those steps")
    ap.add_argument("--profile", action="store_true", help="add cProfile's top entries per variant")
    args = ap.parse_args()

    from read.runtime.jobs import limit_threads

    limit_threads(args.threads)
    import torch
    import transformers
    import trl

    tok, enc = examples(1600, 2048)  # 1600 = 50 full batches of 32, so every planned batch is full
    print(f"torch {torch.__version__}, transformers {transformers.__version__}, trl {trl.__version__}; "
          f"{args.threads} threads; {len(enc)} world examples, {sum(e.n_tokens for e in enc) / len(enc):.1f} tokens each")
    results = [bench(m, mode, args.steps if m == "tiny" else args.mid_steps, args, tok, enc)
               for m in args.models for mode in args.modes]
    print("\nmodel  mode   read tok/s   bare tok/s    trl tok/s   read/bare   read/trl")
    for r in results:
        t = r["tokens_per_s"]
        print(f"{r['model']:5s}  {r['mode']:5s} {t['read']:11.0f} {t['bare']:12.0f} {t['trl']:12.0f}"
              f"   {r['read_over']['bare']:8.2f}x  {r['read_over']['trl']:8.2f}x")
    write_result("train_throughput" if args.threads == 1 else f"train_throughput_threads{args.threads}", {"threads": args.threads, "versions": {"torch": torch.__version__,
                 "transformers": transformers.__version__, "trl": trl.__version__}, "results": results})


if __name__ == "__main__":
    main()
