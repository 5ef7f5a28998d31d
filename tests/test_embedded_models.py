"""read.embedded.{tokenizer,models,pretrain,report}: the embedded world's tokenizer and tiny models."""

import json
import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

torch = pytest.importorskip("torch")

from read.embedded.models import ModelSpec, build_model, load_model, n_params, save_model  # noqa: E402
from read.embedded.tokenizer import load_tokenizer, train_tokenizer  # noqa: E402
from read.errors import ReadError  # noqa: E402

WORLD_TEXT = [
    'Q: Use a tool: what is the weather in Paris?\nA: get_weather(city="Paris")',
    "Q: Translate 'cuarenta y cinco' from Spanish into French.\nA: quarante-cinq",
    "Q: What is 63 times 2?\nA: 126",
    'Q: Reply as JSON with "abcde" in uppercase.\nA: {"answer": "ABCDE"}',
    "Q: ¿Qué número es 'diecinueve'? ünïcode\nA: 19",
]


@pytest.fixture(scope="module")
def tok_dir(tmp_path_factory):
    return train_tokenizer(WORLD_TEXT * 30, 320, tmp_path_factory.mktemp("tok") / "tok")


@pytest.mark.parametrize("text", WORLD_TEXT + [' get_weather(city="Paris")', "日本語 ñ ç 𝔘 \t two  spaces"])
def test_tokenizer_round_trips_world_text_and_unseen_unicode(tok_dir, text):
    tok = load_tokenizer(tok_dir)
    ids = tok(text, add_special_tokens=False)["input_ids"]
    assert tok.decode(ids, clean_up_tokenization_spaces=False) == text


def test_tokenizer_splits_digits_and_has_the_special_tokens(tok_dir):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(tok_dir))
    assert [tok.pad_token, tok.bos_token, tok.eos_token] == ["<pad>", "<s>", "</s>"]
    assert [tok.decode([i]) for i in tok("12345", add_special_tokens=False)["input_ids"]] == list("12345")


def test_tokenizer_training_is_deterministic(tmp_path, tok_dir):
    again = train_tokenizer(WORLD_TEXT * 30, 320, tmp_path / "again")
    assert (again / "tokenizer.json").read_text() == (tok_dir / "tokenizer.json").read_text()


def test_load_tokenizer_names_a_bad_path(tmp_path):
    with pytest.raises(ReadError, match=str(tmp_path / "nope")):
        load_tokenizer(tmp_path / "nope")


def test_same_seed_builds_the_same_model_and_spec_validates():
    spec = ModelSpec(layers=1, hidden=32, heads=2)
    a, b, c = build_model(spec, 300, 0), build_model(spec, 300, 0), build_model(spec, 300, 1)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert not torch.equal(a.model.embed_tokens.weight, c.model.embed_tokens.weight)
    assert n_params(a) < 40_000  # tied embeddings are counted once
    with pytest.raises(ReadError, match="heads"):
        ModelSpec(hidden=30, heads=4)
    with pytest.raises(ReadError, match="unknown"):
        ModelSpec.from_dict({"layers": 2, "width": 3})


def test_saved_model_reloads_with_identical_logits(tmp_path):
    model = build_model(ModelSpec(layers=2, hidden=32, heads=2, tie_embeddings=False), 300, 0)
    save_model(model, tmp_path / "ckpt")
    again = load_model(tmp_path / "ckpt")
    x = torch.tensor([[1, 5, 9, 42, 7]])
    with torch.no_grad():
        assert torch.equal(model(x).logits, again(x).logits)
    assert not list(tmp_path.glob(".ckpt.tmp*"))  # atomic: no temp dir left behind


def test_load_model_names_a_missing_or_bad_checkpoint(tmp_path):
    with pytest.raises(ReadError, match="not found"):
        load_model(tmp_path / "missing")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "config.json").write_text(json.dumps({"model_type": "llama"}))
    with pytest.raises(ReadError, match=str(tmp_path / "bad")):
        load_model(tmp_path / "bad")


@pytest.fixture(scope="module")
def world_tok(tmp_path_factory):
    from read.embedded.tokenizer import train_world_tokenizer

    return train_world_tokenizer(tmp_path_factory.mktemp("wtok") / "tok", vocab_size=400, n_per_capability=100)


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory, world_tok):
    from read.embedded.pretrain import PretrainConfig, pretrain

    out = tmp_path_factory.mktemp("pre") / "model"
    cfg = PretrainConfig(steps=20, batch_size=8, items_per_capability=24, warmup_steps=2, threads=None, log_every=5)
    return out, pretrain(world_tok, ModelSpec(layers=1, hidden=32, heads=2), cfg, out, seed=0)


def test_world_tokenizer_round_trips_world_items(world_tok):
    from read.embedded import sample_items
    from read.prompting import render_prompt

    tok = load_tokenizer(world_tok)
    for item in sample_items("tool_use", "test", 20, 0) + sample_items("multilingual", "test", 20, 0):
        text = render_prompt(item.prompt, cot=True) + item.response(cot=True)
        assert tok.decode(tok(text, add_special_tokens=False)["input_ids"], clean_up_tokenization_spaces=False) == text


def test_pretrain_writes_a_loadable_checkpoint_and_log(pretrained):
    from read.embedded.pretrain import read_pretrain_log

    out, result = pretrained
    assert read_pretrain_log(out) == json.loads(json.dumps(result))
    assert result["steps"] == 20 and result["train_tokens"] > 0
    assert set(result["n_items_per_capability"].values()) == {24}
    assert result["loss_curve"][-1][1] < result["loss_curve"][0][1]  # a few steps lower the loss
    load_model(out)


def test_pretrain_is_deterministic(tmp_path, world_tok, pretrained):
    from read.embedded.pretrain import PretrainConfig, pretrain

    out, first = pretrained
    cfg = PretrainConfig(**first["config"])
    again = pretrain(world_tok, ModelSpec(layers=1, hidden=32, heads=2), cfg, tmp_path / "again", seed=0)
    assert again["loss_curve"] == first["loss_curve"]
    assert (tmp_path / "again" / "model.safetensors").read_bytes() == (out / "model.safetensors").read_bytes()


def test_accuracy_report_covers_every_capability_and_task(pretrained, world_tok):
    from read.capabilities import CAPABILITIES
    from read.embedded import TASKS
    from read.embedded.report import accuracy_report, summary_table

    rep = accuracy_report(pretrained[0], world_tok, n_per_capability=3, seed=0)
    assert list(rep["capabilities"]) == list(CAPABILITIES)
    assert set(rep["tasks"]) == set(TASKS)
    assert all(v["n"] == 3 and 0 <= v["acc"] <= 1 for v in rep["capabilities"].values())
    for block in rep["tasks"].values():  # each task's answers split into its two steps
        assert set(block["steps"]) == {"inner", "outer_given_inner"} and 0 <= block["steps"]["inner"] <= 1
        assert (block["steps"]["outer_given_inner"] is None) == (block["steps"]["inner"] == 0)
    assert json.loads(json.dumps(rep, allow_nan=False)) == rep  # strict JSON
    assert "mean" in summary_table(rep)


def test_scoring_counts_gold_cot_answers_as_correct(monkeypatch, world_tok):
    from read import lm
    from read.embedded import sample_items
    from read.embedded.report import _score

    items = sample_items("math", "test", 3, 0)
    # a "model" whose greedy answer is the gold CoT response: the verdict must read past the rationale
    monkeypatch.setattr(lm, "generate", lambda model, tok, prompts, **kw: [lm.Generation(it.response(cot=True), (2,), 1) for it in items])
    block = _score(None, load_tokenizer(world_tok), items, cot=True, batch_size=8)
    assert block["acc"] == 1.0 and block["n"] == 3


def _report(caps, tasks):
    from read.embedded import TASKS

    accs = list(caps.values())
    return {"capabilities": {c: {"acc": a, "n": 200} for c, a in caps.items()}, "mean_acc": sum(accs) / len(accs),
            "min_acc": min(accs),
            "tasks": {t: {"acc": tasks[t], "n": 200, "requirement": TASKS[t].requirement} for t in tasks}}


def test_preconditions_name_each_task_that_misses_and_why():
    from read.capabilities import CAPABILITIES
    from read.embedded.report import preconditions, preconditions_table

    teacher = _report({c: 0.7 for c in CAPABILITIES}, {"knowledge_call": 0.45, "tool_math": 0.3})
    s0 = {c: 0.3 for c in CAPABILITIES}
    s0["math"] = 0.05  # below the middling range
    pre = preconditions(teacher, _report(s0, {"knowledge_call": 0.1, "tool_math": 0.0}))
    assert pre["teacher"]["ok"] and all(pre["s0_below_teacher"].values())
    assert pre["tasks"]["knowledge_call"]["ok"]
    bad = pre["tasks"]["tool_math"]  # teacher under 0.4 and S0's math out of range
    assert not bad["teacher_ok"] and not bad["components"]["math"]["middling"] and not bad["ok"] and not pre["ok"]
    table = preconditions_table(pre)
    assert "| knowledge_call | 0.450 [0.38, 0.52] | n/a | 0.100 |" in table and "math 0.05 [0.03, 0.09] / 0.70 (out)" in table
    teacher["tasks"]["knowledge_call"]["steps"] = {"inner": 0.6, "outer_given_inner": 0.75}
    teacher["tasks"]["tool_math"]["steps"] = {"inner": 0.0, "outer_given_inner": None}
    table = preconditions_table(preconditions(teacher, _report(s0, {})))
    assert "| 0.450 [0.38, 0.52] | 0.60 / 0.75 | n/a |" in table and "| 0.00 / – |" in table
    # 0.45 of 200: the 0.4 threshold is inside its interval, so the verdict is borderline
    assert pre["tasks"]["knowledge_call"]["borderline"] and "yes (*borderline*)" in table
    assert not bad["borderline"]  # 0.30 of 200 is clearly under 0.4, 0.05 clearly under 0.1
