"""read.students: budgeted SFT/KD training, LoRA carry-over and merge, batch-row validation, tokenizer checks."""

import json
import math
import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

torch = pytest.importorskip("torch")

from read import lm  # noqa: E402
from read.embedded.models import ModelSpec, build_model  # noqa: E402
from read.embedded.tokenizer import load_tokenizer, train_tokenizer  # noqa: E402
from read.errors import ReadError  # noqa: E402
from read.io import write_jsonl  # noqa: E402
from read.prompting import render_prompt  # noqa: E402
from read.students import (  # noqa: E402
    StudentConfig,
    batch_row,
    is_adapter,
    load_student,
    merge,
    tokenizer_fingerprint,
    train_on_batch,
)
from read.students.train import TopkMisaligned  # noqa: E402

PAIRS = [(a, b) for a in range(8) for b in range(8)]
CFG = StudentConfig(lr=3e-3, batch_size=8, warmup_steps=2, max_len=64)


@pytest.fixture(scope="module", autouse=True)
def one_thread(one_torch_thread):
    """Every test here runs with one torch thread (see conftest)."""


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """S0: a random 2-layer Llama (hidden 32) saved with its tokenizer."""
    root = tmp_path_factory.mktemp("student")
    texts = [render_prompt(f"What is {a} plus {b}?", cot=True) + f" {a} and {b} => {a + b}" for a, b in PAIRS]
    tok = load_tokenizer(train_tokenizer(texts, 300, root / "base"))
    model = build_model(ModelSpec(layers=2, hidden=32, heads=2, max_position=128), len(tok), seed=0)
    model.save_pretrained(root / "base")
    return root / "base"


def make_rows(tok, pairs=PAIRS, *, signal="resp", k=0):
    """Batch rows as the interval's data rule writes them (counts from the student tokenizer)."""
    prompts = [f"What is {a} plus {b}?" for a, b in pairs]
    responses = [f" {a} and {b} => {a + b}" if signal == "cot" else f" {a + b}" for a, b in pairs]
    enc = lm.encode_pairs(tok, [render_prompt(p, cot=signal == "cot") for p in prompts], responses, 64)
    rows = []
    for p, r, e in zip(prompts, responses, enc):
        ids = e.input_ids[e.n_prompt_tokens:]
        topk = [[[t, -0.2], [(t + 1) % len(tok), -1.8]] for t in ids] if k else None
        rows.append({"capability": "math", "template": "math/add", "difficulty": "easy", "prompt": p, "response": r,
                     "prompt_tokens": e.n_prompt_tokens, "response_tokens": e.n_response_tokens, "topk": topk})
    return rows


def weights(path):
    from safetensors.torch import load_file

    name = "adapter_model.safetensors" if is_adapter(path) else "model.safetensors"
    return load_file(str(path / name))


def same(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


# --------------------------------------------------------------------------- full fine-tuning, SFT


def test_sft_spends_at_most_the_token_budget_exactly_counted(base, tmp_path):
    tok = load_tokenizer(base)
    rows = make_rows(tok)
    seq = [r["prompt_tokens"] + r["response_tokens"] for r in rows]
    budget = 3 * sum(seq) // 2  # one and a half epochs
    rep = train_on_batch(base, None, rows, tmp_path / "s1", CFG, seed=0, max_train_tokens=budget, progress=False)
    assert budget - max(seq) < rep.train_tokens <= budget  # stops only when the next sequence would not fit
    assert rep.sequences > len(rows) and rep.steps == len(rep.losses) and rep.trainable_params > 0
    assert rep.to_dict()["final_loss"] == pytest.approx(rep.final_loss)
    assert (tmp_path / "s1" / "config.json").is_file() and (tmp_path / "s1" / "tokenizer.json").is_file()
    assert not weights(base).keys() - weights(tmp_path / "s1").keys()
    assert not same(weights(base), weights(tmp_path / "s1"))


def test_training_is_deterministic_for_a_seed(base, tmp_path):
    rows = make_rows(load_tokenizer(base))
    runs = {}
    for name, seed in (("a", 1), ("b", 1), ("c", 2)):
        runs[name] = train_on_batch(base, None, rows, tmp_path / name, CFG, seed=seed, max_train_tokens=400, progress=False)
    assert runs["a"].losses == runs["b"].losses and same(weights(tmp_path / "a"), weights(tmp_path / "b"))
    assert not same(weights(tmp_path / "a"), weights(tmp_path / "c"))


def test_full_mode_continues_from_the_previous_checkpoint(base, tmp_path):
    rows = make_rows(load_tokenizer(base))
    train_on_batch(base, None, rows, tmp_path / "i1", CFG, seed=0, max_train_tokens=300, progress=False)
    rep = train_on_batch(base, tmp_path / "i1", rows, tmp_path / "i2", CFG, seed=0, max_train_tokens=300, progress=False)
    ref = train_on_batch(base, None, rows, tmp_path / "r", CFG, seed=0, max_train_tokens=300, progress=False)
    assert rep.losses[0] < ref.losses[0]  # interval 2 starts where interval 1 ended
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir())  # atomic writes leave no temporaries


def test_zero_budget_trains_nothing_and_still_writes_the_checkpoint(base, tmp_path):
    rep = train_on_batch(base, None, make_rows(load_tokenizer(base)), tmp_path / "z", CFG, seed=0, max_train_tokens=0)
    assert (rep.steps, rep.train_tokens) == (0, 0) and same(weights(base), weights(tmp_path / "z"))


def test_cot_rows_train_on_the_cot_prompt(base, tmp_path):
    rows = make_rows(load_tokenizer(base), signal="cot")
    rep = train_on_batch(base, None, rows, tmp_path / "c", CFG, seed=0, max_train_tokens=500, signal="cot", progress=False)
    assert rep.train_tokens > 0
    with pytest.raises(ReadError, match=r"rows\[0\]: token counts .* for signal 'resp'"):
        train_on_batch(base, None, rows, tmp_path / "x", CFG, seed=0, max_train_tokens=500, signal="resp")


# --------------------------------------------------------------------------- LoRA


def test_lora_adapter_carries_over_and_merges_to_the_same_model(base, tmp_path):
    cfg = StudentConfig(mode="lora", lora_r=4, lr=1e-2, batch_size=8, warmup_steps=0, max_len=64)
    rows = make_rows(load_tokenizer(base))
    r1 = train_on_batch(base, None, rows, tmp_path / "a1", cfg, seed=0, max_train_tokens=300, progress=False)
    r2 = train_on_batch(base, tmp_path / "a1", rows, tmp_path / "a2", cfg, seed=0, max_train_tokens=300, progress=False)
    for d in ("a1", "a2"):  # only the adapter is saved
        assert is_adapter(tmp_path / d) and not (tmp_path / d / "model.safetensors").exists()
    assert r1.trainable_params == r2.trainable_params < 5000
    assert not same(weights(tmp_path / "a1"), weights(tmp_path / "a2"))
    assert r2.losses[0] < r1.losses[0]  # the second interval kept training the first one's adapter
    with pytest.raises(ReadError, match=r"adapter has \(r, target_modules\)"):
        train_on_batch(base, tmp_path / "a1", rows, tmp_path / "x", StudentConfig(mode="lora", lora_r=8), seed=0,
                       max_train_tokens=10)

    merge(base, tmp_path / "a2", tmp_path / "merged")
    assert not is_adapter(tmp_path / "merged") and (tmp_path / "merged" / "tokenizer.json").is_file()
    peft_model, tok = load_student(base, tmp_path / "a2")
    merged, _ = load_student(base, tmp_path / "merged")
    ids = torch.tensor([lm.encode_prompts(tok, [render_prompt("What is 3 plus 4?")])[0]])
    with torch.no_grad():
        assert torch.allclose(peft_model(input_ids=ids).logits, merged(input_ids=ids).logits, atol=1e-5)


def test_lora_mode_needs_an_adapter_to_continue_from(base, tmp_path):
    rows = make_rows(load_tokenizer(base))
    with pytest.raises(ReadError, match="not a LoRA adapter"):
        train_on_batch(base, base, rows, tmp_path / "x", StudentConfig(mode="lora"), seed=0, max_train_tokens=100)
    with pytest.raises(ReadError, match="target_modules"):
        train_on_batch(base, None, rows, tmp_path / "x", StudentConfig(mode="lora", target_modules=("wq",)),
                       seed=0, max_train_tokens=100)


# --------------------------------------------------------------------------- KD and tokenizers


@pytest.fixture(scope="module")
def uniform(base, tmp_path_factory):
    """A student whose logits are 0 at every position (zero, untied LM head): q is uniform."""
    tok = load_tokenizer(base)
    model = build_model(ModelSpec(layers=1, hidden=32, heads=2, max_position=128, tie_embeddings=False), len(tok), seed=0)
    with torch.no_grad():
        model.lm_head.weight.zero_()
    out = tmp_path_factory.mktemp("uniform")
    model.save_pretrained(out)
    return out


def self_topk_rows(base, k=3):
    """Batch rows whose teacher top-k is the base model's own: its top-k log_softmax for each response token."""
    tok = load_tokenizer(base)
    model, _ = load_student(base)
    rows = make_rows(tok)
    enc = lm.encode_pairs(tok, [render_prompt(r["prompt"]) for r in rows], [r["response"] for r in rows], 64)
    for row, e in zip(rows, enc):
        with torch.no_grad():
            lp = torch.log_softmax(model(torch.tensor([e.input_ids])).logits[0], -1)  # (T, V)
        vals, ids = lp[e.n_prompt_tokens - 1 : -1].topk(k, -1)  # position t - 1 predicts response token t
        row["topk"] = [[[int(i), float(v)] for i, v in zip(ri, rv)] for ri, rv in zip(ids, vals)]
    return rows


def test_kd_trains_on_teacher_top_k_with_a_shared_tokenizer(base, tmp_path):
    # The teacher is the student itself: KL is 0 where training starts, if train() pairs each
    # response token's top-k with the logits that predict it (the causal shift).
    cfg = StudentConfig(loss="kd", kd_alpha=1.0, lr=3e-3, batch_size=8, warmup_steps=2, max_len=64)
    rep = train_on_batch(base, None, self_topk_rows(base), tmp_path / "kd", cfg, seed=0, max_train_tokens=600,
                         teacher_tokenizer=base, progress=False)
    assert rep.loss == "kd" and rep.steps > 1 and rep.train_tokens > 0
    assert rep.losses[0] == pytest.approx(0.0, abs=1e-6)
    assert max(rep.losses[1:]) > 1e-4  # AdamW steps off the optimum: later steps see a real KL


@pytest.mark.parametrize("alpha, temperature", [(1.0, 1.0), (0.5, 2.0), (0.0, 1.0)])
def test_first_kd_loss_of_a_uniform_student_is_the_closed_form(uniform, base, tmp_path, alpha, temperature):
    # Every row's teacher gives logprobs (-0.2, -1.8) to 2 ids; the student's logits are all 0, so
    #   KD = T² · KL(p || (1/2, 1/2)) = T² · Σ_j p_j log(2 p_j),  p = softmax((-0.2, -1.8) / T)
    #   CE = log V (uniform over the vocabulary)
    tok = load_tokenizer(base)
    p = torch.softmax(torch.tensor([-0.2, -1.8], dtype=torch.float64) / temperature, -1)
    want = alpha * temperature**2 * float((p * torch.log(2 * p)).sum()) + (1 - alpha) * math.log(len(tok))
    cfg = StudentConfig(loss="kd", kd_alpha=alpha, kd_temperature=temperature, lr=3e-3, batch_size=8, warmup_steps=2,
                        max_len=64)
    rep = train_on_batch(uniform, None, make_rows(tok, k=2), tmp_path / "kd", cfg, seed=0, max_train_tokens=600,
                         tokenizer_dir=base, teacher_tokenizer=base, progress=False)
    assert rep.losses[0] == pytest.approx(want, abs=1e-5)
    assert rep.losses[-1] < rep.losses[0]  # the student learns from there


def test_kd_refuses_a_different_teacher_tokenizer(base, tmp_path):
    other = train_tokenizer(["completely different words here"] * 5, 280, tmp_path / "other")
    assert tokenizer_fingerprint(other) != tokenizer_fingerprint(base) == tokenizer_fingerprint(load_tokenizer(base))
    rows = make_rows(load_tokenizer(base), k=2)
    cfg = StudentConfig(loss="kd")
    with pytest.raises(ReadError, match="teacher tokenizer differs"):
        train_on_batch(base, None, rows, tmp_path / "x", cfg, seed=0, max_train_tokens=100, teacher_tokenizer=other)
    with pytest.raises(ReadError, match="needs the teacher tokenizer"):
        train_on_batch(base, None, rows, tmp_path / "x", cfg, seed=0, max_train_tokens=100)


def test_kd_row_without_top_k_is_an_error(base, tmp_path):
    rows = make_rows(load_tokenizer(base), k=2)
    rows[5]["topk"] = None
    with pytest.raises(ReadError, match=r"rows\[5\]: loss 'kd' needs teacher top-k"):
        train_on_batch(base, None, rows, tmp_path / "x", StudentConfig(loss="kd"), seed=0, max_train_tokens=100,
                       teacher_tokenizer=base)


# --------------------------------------------------------------------------- bad rows and paths


@pytest.mark.parametrize("mutate, match", [
    (lambda r: r.pop("response"), r"missing key\(s\) \['response'\]"),
    (lambda r: r.update(prompt=7), "'prompt' must be a string"),
    (lambda r: r.update(response_tokens="3"), "'response_tokens' must be an integer"),
    (lambda r: r.update(response_tokens=r["response_tokens"] + 1), "token counts"),
    (lambda r: r.update(capability="cooking"), "unknown capability"),
    (lambda r: r.update(difficulty="extreme"), "difficulty must be"),
    (lambda r: r.update(topk=[[[1, -0.1]]]), "one list per response token"),
])
def test_a_bad_batch_line_is_an_error_naming_file_and_line(base, tmp_path, mutate, match):
    rows = make_rows(load_tokenizer(base))
    mutate(rows[2])
    write_jsonl(tmp_path / "batch.jsonl", rows)
    with pytest.raises(ReadError, match=rf"batch\.jsonl:3: .*{match}"):
        train_on_batch(base, None, tmp_path / "batch.jsonl", tmp_path / "out", CFG, seed=0, max_train_tokens=100)
    assert not (tmp_path / "out").exists()


def test_malformed_json_line_is_an_error_naming_file_and_line(base, tmp_path):
    rows = make_rows(load_tokenizer(base))[:3]
    text = "".join(json.dumps(r) + "\n" for r in rows)
    (tmp_path / "batch.jsonl").write_text(text + '{"capability": "math",\n')
    with pytest.raises(ReadError, match=r"batch\.jsonl:4: invalid JSON"):
        train_on_batch(base, None, tmp_path / "batch.jsonl", tmp_path / "out", CFG, seed=0, max_train_tokens=100)


def test_missing_checkpoints_are_clear_errors(base, tmp_path):
    rows = make_rows(load_tokenizer(base))
    with pytest.raises(ReadError, match="no tokenizer here"):
        train_on_batch(tmp_path / "nope", None, rows, tmp_path / "o", CFG, seed=0, max_train_tokens=10)
    with pytest.raises(ReadError, match="previous checkpoint not found"):
        train_on_batch(base, tmp_path / "nope", rows, tmp_path / "o", CFG, seed=0, max_train_tokens=10)
    with pytest.raises(ReadError, match="model checkpoint not found"):
        load_student(tmp_path / "nope")


@pytest.mark.parametrize("kw", [{"mode": "qlora"}, {"loss": "dpo"}, {"lora_r": 0}, {"kd_alpha": 2.0}, {"lr": 0},
                                {"target_modules": "q_proj"}])
def test_bad_student_config_is_rejected(kw):
    with pytest.raises(ReadError):
        StudentConfig(**kw)


# --------------------------------------------------------------------------- batch rows from teacher generations


def test_batch_row_counts_match_what_training_checks(base, tmp_path):
    from read.templates import PoolItem

    tok = load_tokenizer(base)
    items = [PoolItem("math", f"What is {a} plus {b}?", str(a + b), "math/add", {}, "hard", 0.9) for a, b in PAIRS[:6]]

    def gen_for(it):
        ids = tuple(tok(f" {it.answer}", add_special_tokens=False)["input_ids"]) + (tok.eos_token_id,)
        return lm.Generation(f" {it.answer}", ids, len(ids), [[(t, -0.1), (0, -3.0)] for t in ids], True)

    rows = [batch_row(it, gen_for(it), tok, signal="logit") for it in items]
    ids = gen_for(items[-1]).token_ids
    first = tuple(tok(" 0", add_special_tokens=False)["input_ids"])[0]
    assert rows[0]["difficulty"] == "hard" and rows[0]["topk"][0] == [[first, -0.1], [0, -3.0]]
    cfg = StudentConfig(loss="kd", batch_size=4, max_len=64)
    one_epoch = sum(r["prompt_tokens"] + r["response_tokens"] for r in rows)
    rep = train_on_batch(base, None, rows, tmp_path / "o", cfg, seed=0, max_train_tokens=one_epoch, signal="logit",
                         teacher_tokenizer=base, progress=False)
    assert rep.train_tokens == one_epoch and rep.sequences == len(rows)
    cut = lm.Generation(" 1", ids[:-1], len(ids) - 1, [[(t, -0.1)] for t in ids[:-1]], False)
    with pytest.raises(ReadError, match="max_new_tokens"):
        batch_row(items[0], cut, tok, signal="logit")
    assert batch_row(items[0], cut, tok, signal="resp")["topk"] is None
    # ids that are not how the tokenizer writes the text: the row is refused, to be dropped
    other = lm.Generation(f" {items[0].answer}", (ids[0], ids[0]) + ids[1:], len(ids) + 1,
                          [[(t, -0.1)] for t in (ids[0],) + ids], True)
    with pytest.raises(TopkMisaligned, match="differ from the student's tokenisation"):
        batch_row(items[0], other, tok, signal="cot_logit")
    # cot_logit: the rationale prompt and the top-k, together
    row = batch_row(items[0], gen_for(items[0]), tok, signal="cot_logit")
    assert row["topk"] is not None and row["prompt_tokens"] > rows[0]["prompt_tokens"]


def test_configs_build_from_dicts_and_reject_unknown_keys():
    assert StudentConfig.from_dict({"mode": "lora", "target_modules": ["q_proj"]}).target_modules == ("q_proj",)
    with pytest.raises(ReadError, match=r"unknown key\(s\) \['lora_rank'\]"):
        StudentConfig.from_dict({"lora_rank": 8})
