"""Build the general-path example's inputs: chat checkpoints and JSONL data, outside results/.

    python -m read.embedded.example --out example

writes what ``config/examples/local_hf.yaml`` names, as a researcher would bring it:

- ``teacher/`` and ``student/``: ordinary transformers checkpoints (config, safetensors,
  and a tokenizer with a Jinja chat template), pretrained here on the embedded world in
  that chat format, so nothing is downloaded;
- ``data/task_{dev,test}.jsonl``: a task as ``{"prompt", "answer"}`` lines (the world's
  ``multilingual_arithmetic``; the answer keeps its ``inner => outer`` working);
- ``data/prompts/<cap>.jsonl``: prompt pools for six capabilities (the world's pool split),
  with gold answers where the world has them; ``data/templates/<cap>.jsonl``: typed-slot
  templates for the other two; ``data/eval/<cap>.jsonl``: gold eval sets for two.

The defaults give a usable teacher in a few minutes on 2 cores; ``--teacher-steps`` and
``--student-steps`` trade quality for time (the tests use a handful of steps).
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from read.capabilities import CAPABILITIES
from read.io import atomic_path, write_jsonl

log = logging.getLogger(__name__)

CHAT_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}<|{{ message['role'] }}|>{{ message['content'] }}"
    "{% if message['role'] == 'assistant' %}{{ eos_token }}{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)
ROLE_TOKENS = ("<|system|>", "<|user|>", "<|assistant|>")
TASK = "multilingual_arithmetic"
TEMPLATE_CAPABILITIES = ("math", "steerability")
EVAL_CAPABILITIES = ("math", "multilingual")
WORDS = ["shell", "robot", "rocket", "queen", "cheese", "table", "pocket", "silver", "music", "storm"]
TEMPLATES = {
    "math": [
        {"id": "math/plus", "capability": "math", "scaffold": "What is {a} plus {b}?",
         "slots": {"a": {"type": "int", "min": 0, "max": 99}, "b": {"type": "int", "min": 0, "max": 99}},
         "features": {"size": "a"}},
        {"id": "math/minus", "capability": "math", "scaffold": "Compute {a} - {b}.",
         "slots": {"a": {"type": "int", "min": 10, "max": 99}, "b": {"type": "int", "min": 0, "max": 9}},
         "features": {"size": "a"}},
    ],
    "steerability": [
        {"id": "steer/brackets", "capability": "steerability", "scaffold": "Reply in brackets: {w}",
         "slots": {"w": {"type": "choice", "choices": WORDS}}, "answer": "({w})"},
        {"id": "steer/join", "capability": "steerability", "scaffold": "Join the words using dashes: {a} {b}",
         "slots": {"a": {"type": "choice", "choices": WORDS}, "b": {"type": "choice", "choices": WORDS}},
         "answer": "{a}-{b}"},
    ],
}


def chat_tokenizer(out_dir: Path, vocab_size: int, corpus_per_capability: int, seed: int):
    """The world's BPE tokenizer plus role tokens and :data:`CHAT_TEMPLATE`, saved to ``out_dir``."""
    from read.embedded.tokenizer import load_tokenizer, train_world_tokenizer

    train_world_tokenizer(out_dir, vocab_size, corpus_per_capability, seed)
    tok = load_tokenizer(out_dir)
    tok.add_special_tokens({"additional_special_tokens": list(ROLE_TOKENS)})
    tok.chat_template = CHAT_TEMPLATE
    with atomic_path(out_dir) as tmp:
        tok.save_pretrained(tmp)
    return load_tokenizer(out_dir)


def pretrained(tokenizer_dir: Path, out_dir: Path, spec: dict, steps: int, items: int, seed: int) -> None:
    """A chat-format model pretrained on the world, saved with its tokenizer (a self-contained checkpoint)."""
    from read.embedded.models import ModelSpec
    from read.embedded.pretrain import PretrainConfig, pretrain
    from read.embedded.tokenizer import load_tokenizer

    cfg = PretrainConfig(steps=steps, items_per_capability=items, warmup_steps=min(100, max(1, steps // 10)),
                         weight_decay=0.3, log_every=max(1, steps // 20))
    pretrain(tokenizer_dir, ModelSpec.from_dict(spec), cfg, out_dir, seed)
    load_tokenizer(tokenizer_dir).save_pretrained(out_dir)


def _answer(item) -> str:
    """The gold response without its leading space: ``inner => outer`` where the item has working."""
    return item.response().strip()


def write_data(out: Path, *, n_prompts: int, n_dev: int, n_test: int, n_eval: int, seed: int) -> None:
    """The task splits, the prompt and template pools and the gold eval sets under ``out/data``."""
    from read.embedded import sample_items, task_items

    data = out / "data"
    for split, n in (("dev", n_dev), ("test", n_test)):
        write_jsonl(data / f"task_{split}.jsonl",
                    ({"prompt": it.prompt, "answer": _answer(it)} for it in task_items(TASK, split, n, seed)))
    for cap in CAPABILITIES:
        if cap in TEMPLATE_CAPABILITIES:
            write_jsonl(data / "templates" / f"{cap}.jsonl", TEMPLATES[cap])
        else:
            write_jsonl(data / "prompts" / f"{cap}.jsonl",
                        ({"prompt": it.prompt, "answer": _answer(it), "template": it.template}
                         for it in sample_items(cap, "pool", n_prompts, seed)))
    for cap in EVAL_CAPABILITIES:
        write_jsonl(data / "eval" / f"{cap}.jsonl",
                    ({"prompt": it.prompt, "answer": _answer(it)} for it in sample_items(cap, "test", n_eval, seed)))


def build(out: str | Path, *, teacher_steps: int = 4000, student_steps: int = 2900, items: int = 8000,
          vocab_size: int = 2048, n_prompts: int = 2000, n_dev: int = 64, n_test: int = 200, n_eval: int = 64,
          seed: int = 0, teacher_spec: dict | None = None, student_spec: dict | None = None) -> Path:
    """Everything the example config reads, under ``out`` (see the module docstring)."""
    out = Path(out)
    tok_dir = out / "tokenizer"
    chat_tokenizer(tok_dir, vocab_size, 2000 if vocab_size >= 1024 else 40, seed)
    pretrained(tok_dir, out / "teacher", teacher_spec or {"layers": 2, "hidden": 128, "heads": 4, "intermediate": 256},
               teacher_steps, items, seed)
    pretrained(tok_dir, out / "student", student_spec or {"layers": 2, "hidden": 48, "heads": 4}, student_steps,
               max(1, items // 2), seed)
    write_data(out, n_prompts=n_prompts, n_dev=n_dev, n_test=n_test, n_eval=n_eval, seed=seed)
    (out / "README.txt").write_text(
        "Built by `python -m read.embedded.example`; read by config/examples/local_hf.yaml.\n", encoding="utf-8")
    log.info("example inputs under %s: %s", out, json.dumps(sorted(p.name for p in out.iterdir())))
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m read.embedded.example", description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default="example")
    ap.add_argument("--teacher-steps", type=int, default=4000)
    ap.add_argument("--student-steps", type=int, default=2900)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    print(build(args.out, teacher_steps=args.teacher_steps, student_steps=args.student_steps, seed=args.seed))


if __name__ == "__main__":
    main()
