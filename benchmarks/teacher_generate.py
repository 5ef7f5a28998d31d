"""Teacher generation throughput: the ``hf`` backend against a bare ``model.generate`` loop.

    .venv/bin/python benchmarks/teacher_generate.py [--setup results/embedded/setup] \
        [--batch-sizes 1 8 32] [--prompts 256] [--max-new-tokens 48] [--repeats 5] [--threads 1]

The same world pool prompts (every capability in turn), the same ``max_new_tokens``, greedy,
through the embedded teacher:

- hf: ``read.teachers.hf.HFTeacher(...).generate(prompts)``, batch size ``--batch-sizes``
  (``read.lm.generate``: length-sorted batches, segmented decoding);
- bare: what one writes by hand, prompts in their order, ``batch`` at a time: the tokenizer
  left-pads ``<s>`` + the prompt in the raw ``Q: ...\nA:`` format, ``model.generate(do_sample=False)``, decode up to EOS.

Outputs are checked identical text for text before any timing (a greedy answer that
differs would make the ratio about different work). Then, per batch size, the variants
alternate (hf bare, bare hf, ...) for ``--repeats`` rounds; a round is one pass over all
prompts. Prints generated tokens/s (EOS counted, nothing after it) and hf / bare (median of
the per-round ratios), and writes ``benchmarks/out/teacher_generate.json``.
vLLM against hf needs a GPU, which this machine lacks: not measured here.
Needs the trained teacher: README command 1 (or the setup rules) first.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import time
from pathlib import Path

from common import median, verdict, write_result

GOAL = 0.9  # hf / bare tokens/s


def bare_generate(model, tok, prompts: list[str], batch: int, max_new_tokens: int) -> list[str]:
    """The hand-written loop: left-padded batches in prompt order, greedy ``model.generate``."""
    import torch

    eos = tok.eos_token_id
    tok.padding_side = "left"
    texts = []
    with torch.inference_mode():
        for i in range(0, len(prompts), batch):
            enc = tok([tok.bos_token + p for p in prompts[i : i + batch]], return_tensors="pt", padding=True,
                      add_special_tokens=False)
            out = model.generate(**enc, max_new_tokens=max_new_tokens, do_sample=False, pad_token_id=tok.pad_token_id,
                                 eos_token_id=eos)
            for row in out[:, enc["input_ids"].size(1):].tolist():
                texts.append(row[: row.index(eos) + 1] if eos in row else row)
    return texts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--setup", type=Path, default=Path("results/embedded/setup"))
    ap.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 8, 32])
    ap.add_argument("--prompts", type=int, default=256, help="prompts a round (a multiple of 8: every capability alike)")
    ap.add_argument("--max-new-tokens", type=int, default=48, help="generation.max_new_tokens")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1, help="a generate job's threads:")
    ap.add_argument("--profile", action="store_true",
                    help="add cProfile's top entries, hf and bare, at the first batch size that misses the goal")
    args = ap.parse_args()

    from read.runtime.jobs import limit_threads

    limit_threads(args.threads)
    import torch

    from read.capabilities import CAPABILITIES
    from read.embedded import sample_items
    from read.embedded.models import load_model
    from read.embedded.tokenizer import load_tokenizer
    from read.teachers import TeacherConfig
    from read.teachers.hf import HFTeacher

    tok = load_tokenizer(args.setup / "tokenizer")
    # the bare loop's own copy: a padded tokenizer(...) call leaves padding switched on in the
    # shared Rust backend, and read.lm's encode_batch would then pad prompts with <pad> ids
    bare_tok = load_tokenizer(args.setup / "tokenizer")
    model = load_model(args.setup / "teacher")
    per_cap = {c: [it.prompt for it in sample_items(c, "pool", args.prompts // len(CAPABILITIES), 0)] for c in CAPABILITIES}
    prompts = [p for group in zip(*per_cap.values()) for p in group]  # interleaved capabilities
    teachers = {b: HFTeacher(TeacherConfig(backend="hf", path=str(args.setup / "teacher"), batch_size=b),
                             model=model, tokenizer=tok) for b in args.batch_sizes}
    fmt = teachers[args.batch_sizes[0]].prompt_format
    if not fmt.add_bos:
        raise RuntimeError("the teacher's prompts carry their own special tokens (a chat template); the bare loop adds <s>")
    texts = [fmt.prompt(p) for p in prompts]  # "Q: ...\nA:", the model text a user formats for the raw format

    def run(name: str, b: int) -> tuple[float, list]:
        t0 = time.perf_counter()
        if name == "hf":
            out = [list(g.token_ids) for g in teachers[b].generate(prompts, max_new_tokens=args.max_new_tokens)]
        else:
            out = bare_generate(model, bare_tok, texts, b, args.max_new_tokens)
        return time.perf_counter() - t0, out

    print(f"torch {torch.__version__}, {args.threads} thread(s); {len(prompts)} prompts, max_new_tokens "
          f"{args.max_new_tokens}, greedy")
    results = []
    for b in args.batch_sizes:
        _, hf_ids = run("hf", b)  # warm-up, and the outputs to compare
        _, bare_ids = run("bare", b)
        same = sum(x == y for x, y in zip(hf_ids, bare_ids))
        if same != len(prompts):
            raise RuntimeError(f"batch {b}: {len(prompts) - same} of {len(prompts)} greedy outputs differ")
        tokens = sum(map(len, hf_ids))
        rounds = []
        for r in range(args.repeats):
            order = ("hf", "bare") if r % 2 == 0 else ("bare", "hf")
            rounds.append({name: run(name, b)[0] for name in order})
        rate = {name: median(tokens / rd[name] for rd in rounds) for name in ("hf", "bare")}
        ratio = median(rd["bare"] / rd["hf"] for rd in rounds)
        print(f"batch {b:3d}: hf {rate['hf']:7.0f}, bare {rate['bare']:7.0f} generated tokens/s; hf / bare "
              f"{ratio:.2f}x (goal >= {GOAL}x: {verdict(ratio, GOAL)}); {same}/{len(prompts)} outputs identical, "
              f"{tokens} tokens", flush=True)
        results.append({"batch_size": b, "tokens": tokens, "identical": same, "prompts": len(prompts),
                        "tokens_per_s": rate, "hf_over_bare": ratio, "verdict": verdict(ratio, GOAL),
                        "rounds_s": rounds})
    out = {"threads": args.threads, "max_new_tokens": args.max_new_tokens, "goal": GOAL, "results": results,
           "vllm": "not measured: vLLM against hf needs a GPU, and this machine has none"}
    if args.profile:
        b = next((r["batch_size"] for r in results if r["verdict"] != "met"), min(args.batch_sizes))
        out["profile"] = {"batch_size": b}
        for name in ("hf", "bare"):
            prof = cProfile.Profile()
            prof.runcall(run, name, b)
            buf = io.StringIO()
            pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats(r"read/|generation/utils|teacher_gen", 8)
            out["profile"][name] = [ln for ln in buf.getvalue().splitlines() if ln.strip()][-9:]
            print(f"cProfile, {name}, batch {b} (cumulative):\n  " + "\n  ".join(out["profile"][name]))
    print("vLLM vs hf: not measured (needs a GPU; none here)")
    write_result("teacher_generate", out)


if __name__ == "__main__":
    main()
