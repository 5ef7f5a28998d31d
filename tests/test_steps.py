"""read.embedded.steps: per-step scores of composite tasks (inner answer, then outer answer)."""

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from read import lm  # noqa: E402
from read.embedded import sample_items, task_items  # noqa: E402
from read.embedded.models import ModelSpec, build_model  # noqa: E402
from read.embedded.steps import main, split_prediction, step_accuracy, step_loglik, step_of_tokens  # noqa: E402
from read.embedded.tokenizer import load_tokenizer, train_world_tokenizer  # noqa: E402
from read.errors import ReadError  # noqa: E402
from read.prompting import exact_match, render_prompt  # noqa: E402

TASKS = ("multilingual_arithmetic", "tool_math", "lookup_format", "knowledge_call")


@pytest.fixture(scope="module")
def tok_dir(tmp_path_factory):
    return train_world_tokenizer(tmp_path_factory.mktemp("tok") / "tok", vocab_size=400, n_per_capability=100)


@pytest.fixture(scope="module")
def tok(tok_dir):
    return load_tokenizer(tok_dir)


@pytest.fixture(scope="module")
def items():
    return task_items("multilingual_arithmetic", "dev", 12, 0)


def test_split_prediction_takes_the_first_and_last_parts():
    assert split_prediction(" 3 => 104") == ("3", "104")
    assert split_prediction(" 3 => 7 => 104") == ("3", "104")
    assert split_prediction(" 104") == (None, "104")  # the inner step skipped


def test_step_accuracy_scores_each_step(items):
    gold = [it.response() for it in items]
    assert step_accuracy(gold, items) == {"em": 1.0, "inner": 1.0, "outer_given_inner": 1.0}
    # the inner answer wrong or skipped everywhere, the outer right: the task score alone would not show it
    for wrong_inner in ([f" x{it.scratch} => {it.answer}" for it in items], [f" {it.answer}" for it in items]):
        scores = step_accuracy(wrong_inner, items)
        assert (scores["em"], scores["inner"]) == (1.0, 0.0) and math.isnan(scores["outer_given_inner"])
    # the inner right everywhere, the outer wrong; then case, space and a final period do not count
    assert step_accuracy([f" {it.scratch} => wrong" for it in items], items) == {
        "em": 0.0, "inner": 1.0, "outer_given_inner": 0.0}
    mixed = [f" {it.scratch.upper()}  =>  {it.answer}." if i < 3 else f" ? => {it.answer}" if i < 6 else " ? => ?"
             for i, it in enumerate(items)]
    assert step_accuracy(mixed, items) == {"em": 6 / 12, "inner": 3 / 12, "outer_given_inner": 1.0}
    # em is the task's own score
    assert step_accuracy(mixed, items)["em"] == np.mean([exact_match(p, it.answer) for p, it in zip(mixed, items)])


def test_step_accuracy_rejects_bad_input(items):
    with pytest.raises(ReadError, match="one prediction per item"):
        step_accuracy([" 1 => 2"], items)
    plain = sample_items("math", "dev", 40, 0)
    unnested = next(it for it in plain if it.scratch is None)
    with pytest.raises(ReadError, match="not nested"):
        step_accuracy([" 1"], [unnested])


@pytest.mark.parametrize("task", TASKS)
def test_step_labels_cover_the_response_tokens_in_order(tok, task):
    for item in task_items(task, "dev", 8, 0):
        (enc,) = lm.encode_pairs(tok, [render_prompt(item.prompt)], [item.response()], 512)
        steps = step_of_tokens(tok, item)
        assert len(steps) == enc.n_response_tokens and steps[-1] == "eos"
        order = ["inner", "arrow", "outer", "eos"]
        assert [order.index(s) for s in steps] == sorted(order.index(s) for s in steps)
        ids = enc.input_ids[enc.n_prompt_tokens :]
        text = {s: tok.decode([t for t, x in zip(ids, steps) if x == s]) for s in ("inner", "arrow", "outer")}
        assert text == {"inner": f" {item.scratch}", "arrow": " =>", "outer": f" {item.answer}"}


def test_step_loglik_pools_the_same_token_logprobs_as_response_loglik(tok, items, one_torch_thread):
    model = build_model(ModelSpec(layers=1, hidden=32, heads=2), len(tok), 0)
    prompts, responses = [render_prompt(it.prompt) for it in items], [it.response() for it in items]
    per_token = lm.response_token_logprobs(model, tok, prompts, responses, batch_size=5)
    encoded = lm.encode_pairs(tok, prompts, responses, 512)
    assert [len(x) for x in per_token] == [e.n_response_tokens for e in encoded]
    np.testing.assert_allclose([x.mean() for x in per_token], lm.response_loglik(model, tok, prompts, responses, batch_size=5),
                               rtol=1e-12)
    scores = step_loglik(model, tok, items, batch_size=5)
    counts = {s: sum(step_of_tokens(tok, it).count(s) for it in items) for s in ("inner", "arrow", "outer", "eos")}
    pooled = sum(scores[f"ll_{s}"] * n for s, n in counts.items()) / sum(counts.values())
    assert scores["ll"] == pytest.approx(pooled, rel=1e-12)
    assert all(scores[k] < 0 for k in scores)


def test_cli_prints_one_row_per_model(tmp_path, tok_dir, tok, capsys, one_torch_thread):
    model_dir = tmp_path / "m"
    build_model(ModelSpec(layers=1, hidden=32, heads=2), len(tok), 0).save_pretrained(model_dir)
    main([f"tiny={model_dir}", f"again={model_dir}", "--tokenizer", str(tok_dir), "--task", "tool_math", "--n", "6"])
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith("| tiny") or line.startswith("| again")]
    assert len(rows) == 2 and rows[0].split("|")[2:] == rows[1].split("|")[2:]
    assert "tool_math, dev split, 6 items" in out
    with pytest.raises(SystemExit):
        main(["no-equals-sign", "--tokenizer", str(tok_dir), "--task", "tool_math"])
