"""Prompt formats: the raw Q/A format and the tokenizer's chat template, token by token."""

from __future__ import annotations

import pytest

from read import lm
from read.errors import ReadError
from read.prompting import RAW, PromptFormat, render_prompt, render_response


def test_the_raw_format_is_q_a_with_bos_prepended():
    assert RAW.prompt("What is 2 plus 3?") == "Q: What is 2 plus 3?\nA:" == render_prompt("What is 2 plus 3?")
    assert RAW.prompt("Why?", cot=True) == "Q: Why?\nExplain.\nA:"
    assert RAW.response(render_response("5")) == " 5" and RAW.add_bos and not RAW.chat


@pytest.fixture(scope="module")
def chat_tokenizer(tiny_example):
    from read.students.checkpoint import load_tokenizer

    return load_tokenizer(tiny_example / "student")


def test_auto_uses_a_chat_template_when_the_tokenizer_has_one(chat_tokenizer):
    fmt = PromptFormat.for_tokenizer(chat_tokenizer)
    assert fmt.chat and not fmt.add_bos
    assert fmt.prompt("What is 2 plus 3?") == "<s><|user|>What is 2 plus 3?<|assistant|>"
    assert fmt.response(" 5") == "5"
    assert PromptFormat.for_tokenizer(chat_tokenizer, "none") is RAW
    with pytest.raises(ReadError, match="chat_template"):
        PromptFormat.for_tokenizer(chat_tokenizer, "always")


def test_a_tokenizer_without_a_template_keeps_the_raw_format(tmp_path):
    from read.embedded.tokenizer import load_tokenizer, train_tokenizer

    tok = load_tokenizer(train_tokenizer(["Q: a\nA: b"] * 4, 300, tmp_path / "tok"))
    assert PromptFormat.for_tokenizer(tok) is RAW


def test_the_loss_mask_covers_exactly_the_assistant_turn(chat_tokenizer):
    """Encoding (prompt, response) as the trainer does gives the ids apply_chat_template
    gives the whole conversation, and labels only on the assistant's tokens and EOS."""
    fmt = PromptFormat.for_tokenizer(chat_tokenizer)
    question, answer = "Compute 17 - 9.", "8"
    (enc,) = lm.encode_pairs(chat_tokenizer, [fmt.prompt(question)], [fmt.response(" " + answer)], 128,
                             add_bos=fmt.add_bos)
    whole = chat_tokenizer.apply_chat_template(
        [{"role": "user", "content": question}, {"role": "assistant", "content": answer}], tokenize=True)
    whole = list(whole["input_ids"] if isinstance(whole, dict) or hasattr(whole, "keys") else whole)
    assert list(enc.input_ids) == whole
    assert whole.count(chat_tokenizer.bos_token_id) == 1  # the template's BOS, none added on top
    user = chat_tokenizer.apply_chat_template([{"role": "user", "content": question}], tokenize=True,
                                              add_generation_prompt=True)
    n_prompt = len(user["input_ids"] if hasattr(user, "keys") else user)
    assert enc.n_prompt_tokens == n_prompt
    assert all(label == lm.IGNORE for label in enc.labels[:n_prompt])
    assert list(enc.labels[n_prompt:]) == whole[n_prompt:]
    assert chat_tokenizer.decode(whole[n_prompt:]) == answer + chat_tokenizer.eos_token


def test_batch_rows_count_the_students_chat_tokens(chat_tokenizer):
    from read.lm import Generation
    from read.students.train import batch_row, encode_rows
    from read.templates import PoolItem

    fmt = PromptFormat.for_tokenizer(chat_tokenizer)
    item = PoolItem("math", "Compute 17 - 9.", None, "math/minus", {}, "easy", 0.1)
    ids = tuple(chat_tokenizer("8", add_special_tokens=False)["input_ids"]) + (chat_tokenizer.eos_token_id,)
    row = batch_row(item, Generation("8", ids, len(ids)), chat_tokenizer, signal="resp", fmt=fmt)
    raw = batch_row(item, Generation("8", ids, len(ids)), chat_tokenizer, signal="resp")
    assert row["prompt_tokens"] != raw["prompt_tokens"]
    (enc,) = encode_rows(chat_tokenizer, [("rows[0]", row)], signal="resp", kd=False, max_len=128, fmt=fmt)
    assert enc.n_prompt_tokens == row["prompt_tokens"] and enc.n_response_tokens == row["response_tokens"]
    with pytest.raises(ReadError, match="prompt format"):  # a raw-format row is not the chat student's
        encode_rows(chat_tokenizer, [("rows[0]", raw)], signal="resp", kd=False, max_len=128, fmt=fmt)
