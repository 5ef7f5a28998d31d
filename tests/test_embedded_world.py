"""The embedded world: items, verifier, nesting, difficulty features, the spec table."""

from __future__ import annotations

import re
import statistics
import subprocess
import sys
from functools import cache

import pytest

import read.embedded as E
from read.capabilities import CAPABILITIES
from read.embedded import generators
from read.embedded.spec import NEST_RATE, PREFIXES, SPEC, TIER_PROBS, TIERS
from read.embedded.values import (
    ATTRIBUTES,
    COLORS,
    DAYS,
    VOCAB,
    WORDS,
    cities,
    entities,
    facts,
    names,
    number_word,
    word_numbers,
)
from read.errors import ReadError
from read.prompting import exact_match, normalise, render_prompt

N = 1500


@cache
def pretrain(cap: str) -> list:
    return E.sample_items(cap, "pretrain", N, seed=0)


def test_same_seed_gives_the_same_items_and_another_seed_does_not():
    for cap in CAPABILITIES:
        a, b = E.sample_items(cap, "pool", 50, seed=3), E.sample_items(cap, "pool", 50, seed=3)
        assert [i.to_row() for i in a] == [i.to_row() for i in b]
        assert [i.prompt for i in a] != [i.prompt for i in E.sample_items(cap, "pool", 50, seed=4)]


@pytest.mark.parametrize("cap", CAPABILITIES)
def test_sample_has_n_distinct_prompts(cap):
    items = pretrain(cap)
    assert len(items) == N
    assert len({i.prompt for i in items}) == N
    assert all(i.capability == cap for i in items)


@pytest.mark.parametrize("cap", CAPABILITIES)
def test_verifier_accepts_reference_and_rejects_perturbed_answers(cap):
    for item in pretrain(cap)[:300]:
        assert E.is_correct(item.response(), item)
        assert E.is_correct(item.response(cot=True), item)
        assert E.is_correct(f" {item.answer.upper()}.", item)  # case and trailing period are normalised
        assert not E.is_correct(f" {item.answer} {item.answer}", item)
        assert not E.is_correct(f" {item.answer}7", item)
        assert not E.is_correct(item.answer[:-1], item)
        assert not E.is_correct(" ", item)


@pytest.mark.parametrize("cap", CAPABILITIES)
def test_items_are_well_formed(cap):
    for item in pretrain(cap):
        assert item.answer and item.answer == item.answer.strip() and "=>" not in item.answer
        assert item.rationale and "=>" not in item.rationale
        assert item.template.split("[")[0] in SPEC[cap].templates
        assert set(item.features) == set(E.difficulty_features(cap))
        assert (item.inner is None) == (item.scratch is None) == (item.features["nested"] == 0)
        if item.inner is not None:
            assert "[" in item.prompt and item.response() == f" {item.scratch} => {item.answer}"
            assert item.template.split("[")[1].rstrip("]") in SPEC[item.inner].templates
        else:
            assert item.response() == f" {item.answer}"


@pytest.mark.parametrize("cap", CAPABILITIES)
def test_nested_rate_is_the_shared_constant_with_at_least_three_inner_capabilities(cap):
    items = pretrain(cap)
    rate = sum(i.inner is not None for i in items) / len(items)
    assert abs(rate - NEST_RATE) < 0.03, rate  # ~3.5 binomial SE at n=1500
    inners = {i.inner for i in items if i.inner}
    assert len(inners) >= 3 and cap not in inners, inners


@pytest.mark.parametrize("cap", CAPABILITIES)
def test_slots_take_only_the_value_types_the_spec_says_they_consume(cap):
    def value_type(answer: str) -> str:
        return "number" if answer.isdigit() else "word" if re.fullmatch(r"[^\W\d_]+", answer) else "text"

    used = {value_type(i.scratch) for i in pretrain(cap) if i.inner}
    consumes = set(SPEC[cap].consumes)
    assert used <= consumes or "text" in consumes, (used, consumes)
    assert used == consumes or "text" in consumes, "every consumed type is used"
    for i in pretrain(cap):
        if i.inner:
            assert value_type(i.scratch) in SPEC[i.inner].produces or "text" in consumes, i


def _slot(prompt: str) -> str:
    """The ``[sub-question]`` in a prompt: the shortest balanced bracket that is no Python literal."""
    import ast

    found = []
    for start, ch in enumerate(prompt):
        if ch != "[":
            continue
        depth = 0
        for end in range(start, len(prompt)):
            depth += {"[": 1, "]": -1}.get(prompt[end], 0)
            if depth == 0:
                break
        body = prompt[start: end + 1]
        try:
            ast.literal_eval(body)
        except (ValueError, SyntaxError):
            if re.search(r"[a-zA-Z?]", body):  # not a slice like [::-1]
                found.append(body)
    return min(found, key=len)


def _inline(item) -> str:
    """The outer prompt with its [sub-question] replaced by the inner answer, prefix removed."""
    slot = _slot(item.prompt)
    assert not slot[1:].startswith(tuple(PREFIXES))  # prefixes are outer-only
    out = item.prompt.replace(slot, item.scratch)
    for p in PREFIXES:
        out = out.removeprefix(p)
    return out


def test_nested_answers_follow_from_the_inner_answer():
    """Solve the outer question with the inner answer inlined, for capabilities we can solve here."""
    import contextlib
    import io

    from read.embedded.generators.steerability import apply

    for item in [i for i in pretrain("math") if i.inner][:80]:
        text = re.sub(r"'([^']+)'", lambda m: str(word_numbers()[m.group(1)]), _inline(item))
        nums = [int(x) for x in re.findall(r"\d+", text)]
        if item.template.startswith("math/chain"):
            ops = [{"plus": "+", "minus": "-"}.get(o, o) for o in re.findall(r" (plus|minus|\+|-) ", text)]
            expr = f"{nums[0]} {ops[0]} {nums[1]} {ops[1]} {nums[2]}"
        else:
            op = {"math/add": "+", "math/sub": "-", "math/mul": "*"}[item.template.split("[")[0]]
            a, b = nums[::-1] if text.startswith("Subtract") else nums
            expr = f"{a} {op} {b}"
        assert str(eval(expr)) == item.answer, (item, expr)
    for item in [i for i in pretrain("code") if i.inner][:60]:
        src = _inline(item).removesuffix(" prints what?")
        src = src[min(src.index(k) for k in ("x = ", "print(") if k in src):]
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            exec(src, {})
        assert buf.getvalue().strip() == item.answer, item
    for item in [i for i in pretrain("multilingual") if i.inner][:60]:
        assert item.answer == number_word(int(item.scratch), next(x for x in ("English", "Spanish", "French") if x in item.prompt))
    for item in [i for i in pretrain("steerability") if i.inner and i.template.startswith(("steer/json", "steer/quote"))][:60]:
        op = item.template.split("[")[0].split("/")[1]
        assert item.answer == apply(op, item.scratch, 2), item


@pytest.mark.parametrize("cap", CAPABILITIES)
def test_tiers_have_the_shared_mix_and_features_spread(cap):
    items = pretrain(cap)
    shares = [sum(E.difficulty(i) == t for i in items) / len(items) for t in TIERS]
    assert all(abs(s - p) < 0.05 for s, p in zip(shares, TIER_PROBS)), shares
    raw = [f for f in E.difficulty_features(cap) if f not in ("level", "nested")]
    assert all(len({i.features[f] for i in items}) >= 2 for f in raw)
    # some raw feature separates the tiers: hard items are harder than easy ones on it
    easy = [i for i in items if E.difficulty(i) == "easy" and not i.inner]
    hard = [i for i in items if E.difficulty(i) == "hard" and not i.inner]
    assert any(statistics.mean(i.features[f] for i in hard) > statistics.mean(i.features[f] for i in easy)
               for f in raw)


@pytest.mark.parametrize("cap", CAPABILITIES)
def test_a_prompt_has_one_answer(cap):
    """Draws from other seeds and splits that repeat a prompt never give it another answer."""
    answers = {normalise(i.prompt): i.answer for i in pretrain(cap)}
    for seed in (1, 2):
        for item in E.sample_items(cap, "pretrain", N, seed=seed):
            assert answers.setdefault(normalise(item.prompt), item.answer) == item.answer, item


@pytest.mark.parametrize("cap", CAPABILITIES)
def test_a_min_max_score_over_raw_features_orders_the_tiers(cap):
    """Features grow with difficulty, so the usual score (mean of min-max features) ranks tiers."""
    items = pretrain(cap)
    names_ = [f for f in E.difficulty_features(cap) if f != "level"]
    lo = {f: min(i.features[f] for i in items) for f in names_}
    hi = {f: max(i.features[f] for i in items) for f in names_}

    def d(i):
        return statistics.mean((i.features[f] - lo[f]) / (hi[f] - lo[f] + 1e-9) for f in names_)

    means = [statistics.mean(d(i) for i in items if E.difficulty(i) == t) for t in TIERS]
    assert means[0] < means[1] < means[2], means


def test_tier_knobs_bound_the_recorded_features():
    bounds = {"long_context": ("n_pairs", "n_pairs"), "code": ("list_len", "list_len"),
              "reasoning": ("n_people", "n_people"), "steerability": ("n_constraints", "n_constraints"),
              "tool_use": ("n_args", "n_args")}
    for cap, (knob, feat) in bounds.items():
        for item in pretrain(cap):
            lo, hi = SPEC[cap].tiers[E.difficulty(item)][knob]
            assert lo <= item.features[feat] <= hi, (cap, item)


def test_prompts_stay_short_enough_for_a_tiny_model():
    def n_tokens(s):  # words, single digits and punctuation: a rough upper bound of BPE units/2
        return len(re.findall(r"\d|[^\W\d]+|[^\w\s]", s))

    for cap in CAPABILITIES:
        plain = sorted(n_tokens(i.prompt) for i in pretrain(cap) if not i.inner)
        limit = 70 if cap == "long_context" else 40
        assert plain[int(0.95 * len(plain))] <= limit, (cap, plain[-5:])


def test_general_knowledge_has_300_facts_recallable_in_unseen_phrasings():
    assert len(facts()) * len(ATTRIBUTES) >= 300
    seen = {}
    for item in E.sample_items("general_knowledge", "pretrain", 6000, seed=0):
        if item.template == "gk/fact":
            seen.setdefault(item.rationale, set()).add(item.prompt)
    tested = [i for i in E.sample_items("general_knowledge", "test", 300, seed=0)
              if i.template == "gk/fact" and E.difficulty(i) == "easy"]
    assert tested
    covered = [i for i in tested if i.rationale in seen and i.prompt not in seen[i.rationale]]
    assert len(covered) >= 0.9 * len(tested)


def test_shared_vocabularies_tie_capabilities_together():
    text = {cap: " ".join(i.prompt + " " + i.answer for i in pretrain(cap)) for cap in CAPABILITIES}
    nw = word_numbers()
    assert any(f"'{w}'" in text["math"] for w in nw) and any(w in text["multilingual"] for w in nw)
    for cap in ("reasoning", "long_context", "general_knowledge"):
        assert sum(n in text[cap] for n in names()[:50]) > 5, cap
    assert sum(c in text["tool_use"] for c in cities()[:50]) > 5
    assert all(f["capital"] in cities() for f in facts().values())
    assert sum(w in text["steerability"] for w in WORDS) > 20 and sum(w in text["multilingual"] for w in VOCAB) > 20
    assert set(COLORS) & set(VOCAB) and set(DAYS) <= set(VOCAB) and set(WORDS) & set(VOCAB)


def test_number_words_are_right_on_tricky_cases():
    cases = {71: ("seventy-one", "setenta y uno", "soixante et onze"), 80: ("eighty", "ochenta", "quatre-vingts"),
             91: ("ninety-one", "noventa y uno", "quatre-vingt-onze"), 100: ("one hundred", "cien", "cent"),
             116: ("one hundred sixteen", "ciento dieciséis", "cent seize"),
             200: ("two hundred", "doscientos", "deux cents"), 222: ("two hundred twenty-two", "doscientos veintidós", "deux cent vingt-deux"),
             580: ("five hundred eighty", "quinientos ochenta", "cinq cent quatre-vingts")}
    for n, words in cases.items():
        assert tuple(number_word(n, lang) for lang in ("English", "Spanish", "French")) == words
    assert all(word_numbers()[number_word(n, "French")] == n for n in range(1000))


def test_producers_answer_exactly_the_value_asked_for():
    import random

    r = random.Random(0)
    asks = {"number": ["0", "5", "17", "42", "230"], "word": [cities()[3], names()[7], "red", facts()[entities()[0]]["leader"]]}
    for cap in CAPABILITIES:
        gen = generators.GENERATORS[cap]
        for vtype in SPEC[cap].produces:
            if vtype == "text":
                assert gen.produce(r, "text", None) is not None
                continue
            made = [gen.produce(r, vtype, v) for v in asks[vtype]]
            assert any(made), (cap, vtype)
            assert all(m.answer == v and m.inner is None for m, v in zip(made, asks[vtype]) if m), cap
        for vtype in {"number", "word"} - set(SPEC[cap].produces):
            assert all(gen.produce(r, vtype, v) is None for v in asks[vtype]), (cap, vtype)


def test_bad_names_and_counts_raise_read_errors_naming_them():
    with pytest.raises(ReadError, match="'maths'"):
        E.sample_items("maths", "pool", 3, 0)
    with pytest.raises(ReadError, match="'train'"):
        E.sample_items("math", "train", 3, 0)
    with pytest.raises(ReadError, match="'nope'"):
        E.task_items("nope", "test", 3, 0)
    with pytest.raises(ReadError, match="n must be"):
        E.sample_items("math", "pool", -1, 0)
    with pytest.raises(ReadError, match="'physics'"):
        E.difficulty_features("physics")


def test_a_space_too_small_for_n_raises_a_clear_error(monkeypatch):
    from read.embedded.generators import base

    def tiny(r, tier, nest):  # 20 possible prompts in all
        return base.make_item("math", f"What is {r.randrange(20)}?", "1", "r", "math/add", {}, None, tier)

    monkeypatch.setattr(generators.GENERATORS["math"], "generate", tiny)
    with pytest.raises(ReadError, match="distinct 'pool' prompts"):
        E.sample_items("math", "pool", 30, 0)


def test_item_rows_round_trip_and_bad_rows_are_named():
    for item in pretrain("tool_use")[:50]:
        assert E.Item.from_row(item.to_row(), "x.jsonl:1") == item
    row = pretrain("math")[0].to_row()
    with pytest.raises(ReadError, match="x.jsonl:3"):
        E.Item.from_row({k: v for k, v in row.items() if k != "answer"}, "x.jsonl:3")
    with pytest.raises(ReadError, match="x.jsonl:4.capability"):
        E.Item.from_row({**row, "capability": "maths"}, "x.jsonl:4")


def test_world_corpus_renders_pretrain_text_with_and_without_rationales():
    texts = E.world_corpus(20, seed=0)
    assert len(texts) == 20 * len(CAPABILITIES)
    assert all(t.startswith("Q: ") and "\nA: " in t for t in texts)
    assert any("Explain." in t and "=>" in t for t in texts)


def test_exact_match_is_the_shared_one():
    item = pretrain("math")[0]
    assert E.is_correct("junk => " + item.answer, item) == exact_match("junk => " + item.answer, item.answer)
    assert render_prompt(item.prompt).startswith("Q: ")


def test_a_large_draw_gives_n_distinct_prompts_all_in_its_split():
    items = E.sample_items("math", "pretrain", 4096, seed=11)
    assert len({i.prompt for i in items}) == 4096
    assert all(E.split_of(i.prompt) == "pretrain" for i in items)


def test_import_loads_no_model_or_table_stack():
    # cheap jobs import the world; torch and friends cost seconds a job (a fresh interpreter)
    heavy = ("torch", "transformers", "tokenizers", "peft", "pandas", "scipy", "matplotlib", "seaborn")
    code = f"import sys, read.embedded; print(sorted(m for m in {heavy!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
