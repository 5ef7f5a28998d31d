"""read.templates: slot filling, validation, difficulty d_c, curriculum, template cap, leakage filter."""

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from read.capabilities import CAPABILITIES
from read.errors import ReadError
from read.rng import rng_for
from read.templates import (
    DEFAULT_SCHEDULE,
    CurriculumConfig,
    DifficultyScale,
    EmbeddedPool,
    JsonlPool,
    LeakageIndex,
    PoolItem,
    curriculum_mix,
    level_counts,
    load_templates,
    parse_template,
    select,
)

REPO = Path(__file__).resolve().parents[1]

MATH = {
    "id": "math/add", "capability": "math", "scaffold": "What is {a} plus {b}?",
    "slots": {"a": {"type": "int", "min": 1, "max": 9}, "b": {"type": "int", "min": 10, "max": 99}},
    "constraints": ["Answer with a number."], "features": {"magnitude": "b", "steps": 1},
    "answer": "{a}+{b}",
}


def write_pool(tmp_path, rows_by_cap):
    d = tmp_path / "templates"
    d.mkdir(exist_ok=True)
    for cap, rows in rows_by_cap.items():
        (d / f"{cap}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return d


def variant(i, **kw):
    return {**MATH, "id": f"math/t{i}", **kw}


# --------------------------------------------------------------------------- slots and parsing


def test_shipped_example_pools_parse_and_cover_every_capability():
    pool = JsonlPool(REPO / "config/templates")
    assert set(pool.capabilities()) == set(CAPABILITIES)
    assert all(len(pool.templates[c]) >= 2 for c in CAPABILITIES)


def test_slot_filling_is_typed_in_range_and_fixed_by_the_seed():
    rows = [{"id": "math/x", "capability": "math", "scaffold": "{i} {f} {c} {s}", "slots": {
        "i": {"type": "int", "min": -3, "max": 3}, "f": {"type": "float", "min": 0.5, "max": 1.5, "decimals": 1},
        "c": {"type": "choice", "choices": ["red", "blue"]}, "s": {"type": "str", "min_len": 2, "max_len": 4, "alphabet": "xy"}}}]
    (t,) = [parse_template(r, "test:1") for r in rows]
    a = [t.fill(rng_for(3, "fill")) for _ in range(1)][0]
    assert a.prompt == t.fill(rng_for(3, "fill")).prompt
    rng = rng_for(0, "fill")
    for _ in range(200):
        i, f, c, s = t.fill(rng).prompt.split()
        assert -3 <= int(i) <= 3 and 0.5 <= float(f) <= 1.5 and len(f.split(".")[1]) == 1
        assert c in ("red", "blue") and 2 <= len(s) <= 4 and set(s) <= {"x", "y"}


def test_fill_appends_constraints_and_computes_features_and_answer():
    t = parse_template(MATH, "test:1")
    it = t.fill(rng_for(0, "x"))
    a, b = (int(w.strip("?")) for w in it.prompt.split()[2:5:2])
    assert it.prompt == f"What is {a} plus {b}? Answer with a number."
    assert it.features == {"words": 9.0, "constraints": 1.0, "magnitude": float(b), "steps": 1.0}
    assert it.answer == f"{a}+{b}" and it.template == "math/add" and it.capability == "math"


@pytest.mark.parametrize("patch, match", [
    ({"scaffold": "What is {a} plus {c}?"}, "undeclared slot"),
    ({"scaffold": "What is {a}?"}, "never appear"),
    ({"slots": {"a": {"type": "int", "min": 5, "max": 1}, "b": {"type": "int", "min": 1, "max": 2}}}, "min <= max"),
    ({"slots": {"a": {"type": "bogus"}, "b": {"type": "int", "min": 1, "max": 2}}}, "type in"),
    ({"slots": {"a": {"type": "choice", "choices": []}, "b": {"type": "int", "min": 1, "max": 2}}}, "non-empty"),
    ({"capability": "cooking"}, "unknown capability"),
    ({"features": {"magnitude": "zz"}}, "slot name"),
    ({"features": {"words": 1}}, "built in"),
    ({"answer": "{q}"}, "undeclared"),
    ({"colour": "red"}, "unknown key"),
    ({"scaffold": "What is {a[0]} plus {b}?"}, "plain names"),
])
def test_bad_template_is_a_read_error_naming_the_line(patch, match):
    with pytest.raises(ReadError, match=rf"^f.jsonl:7: .*{match}"):
        parse_template({**MATH, **patch}, "f.jsonl:7")


def test_malformed_jsonl_line_names_file_and_line(tmp_path):
    d = write_pool(tmp_path, {"math": [MATH]})
    (d / "math.jsonl").write_text(json.dumps(MATH) + "\n\n{not json\n")
    with pytest.raises(ReadError, match=r"math\.jsonl:3: invalid JSON"):
        JsonlPool(d)


def test_template_errors_count_blank_lines_in_the_line_number(tmp_path):
    d = write_pool(tmp_path, {"math": [MATH]})
    (d / "math.jsonl").write_text(json.dumps(MATH) + "\n\n" + json.dumps(variant(2, scaffold="{a}")) + "\n")
    with pytest.raises(ReadError, match=r"math\.jsonl:3: .*never appear"):
        load_templates(d / "math.jsonl")


def test_capability_must_match_file_and_ids_be_unique(tmp_path):
    d = write_pool(tmp_path, {"code": [MATH]})
    with pytest.raises(ReadError, match="code.jsonl:1: capability 'math'"):
        JsonlPool(d)
    (tmp_path / "b").mkdir()
    d = write_pool(tmp_path / "b", {"math": [MATH, MATH]})
    with pytest.raises(ReadError, match="math.jsonl:2: duplicate template id"):
        JsonlPool(d)


def test_stray_file_and_missing_directory_are_errors(tmp_path):
    d = write_pool(tmp_path, {"math": [MATH], "cooking": [MATH]})
    with pytest.raises(ReadError, match="not named after a capability"):
        JsonlPool(d)
    with pytest.raises(ReadError, match="template directory not found"):
        JsonlPool(tmp_path / "nope")


# --------------------------------------------------------------------------- difficulty


@dataclass
class Fake:
    capability: str
    prompt: str
    features: dict
    template: str = "math/t"
    answer: str | None = "1"
    scratch: str | None = None
    rationale: str = "because"
    inner: str | None = None


def test_difficulty_is_the_mean_of_min_max_normalised_features():
    ref = [Fake("math", "p0", {"x": 0.0, "y": 10.0}), Fake("math", "p1", {"x": 4.0, "y": 20.0})]
    scale = DifficultyScale.fit({"math": ref})
    assert scale.ranges["math"] == {"x": (0.0, 4.0), "y": (10.0, 20.0)}
    # x at 1/4 of its range, y at 3/4: d = (0.25 + 0.75) / 2
    assert scale.score("math", {"x": 1.0, "y": 17.5}) == pytest.approx(0.5)
    # out-of-reference values are clipped into [0, 1]; a missing feature counts as its minimum
    assert scale.score("math", {"x": 100.0, "y": 100.0}) == 1.0
    assert scale.score("math", {"y": 20.0}) == pytest.approx(0.5)


def test_tertile_cuts_split_the_reference_sample_into_thirds():
    ref = [Fake("math", f"p{i}", {"x": float(i)}) for i in range(300)]
    scale = DifficultyScale.fit({"math": ref})
    levels = Counter(scale.level("math", scale.score("math", r.features)) for r in ref)
    assert levels == {"easy": 100, "medium": 100, "hard": 100}


def test_difficulty_scale_round_trips_through_json(tmp_path):
    scale = JsonlPool(REPO / "config/templates").scale
    scale.save(tmp_path / "d.json")
    assert DifficultyScale.load(tmp_path / "d.json") == scale


# --------------------------------------------------------------------------- curriculum


def test_default_curriculum_is_the_paper_schedule_and_shifts_to_hard():
    assert DEFAULT_SCHEDULE[0] == (0.3, 0.1, 0.8, 0.1)
    assert curriculum_mix(0.0) == {"easy": 0.1, "medium": 0.8, "hard": 0.1}
    assert curriculum_mix(0.3) == curriculum_mix(0.0)
    assert curriculum_mix(0.5) == {"easy": 0.1, "medium": 0.5, "hard": 0.4}
    assert curriculum_mix(1.0) == {"easy": 0.05, "medium": 0.2, "hard": 0.75}
    with pytest.raises(ReadError, match="progress"):
        curriculum_mix(1.5)


def test_level_counts_sum_to_n_by_largest_remainder():
    assert level_counts({"easy": 0.1, "medium": 0.8, "hard": 0.1}, 10) == {"easy": 1, "medium": 8, "hard": 1}
    assert sum(level_counts({"easy": 0.05, "medium": 0.2, "hard": 0.75}, 7).values()) == 7


@pytest.mark.parametrize("kw", [{"schedule": ((0.5, 0.2, 0.2, 0.6),)}, {"schedule": ((1.0, 0.5, 0.5, 0.5),)},
                                {"template_cap": 0}, {"window": 0}])
def test_bad_curriculum_config_is_rejected(kw):
    with pytest.raises(ReadError):
        CurriculumConfig(**kw)


def make_pool(tmp_path, n_templates=5, **cfg):
    rows = [variant(i, features={"magnitude": "b", "steps": i}) for i in range(n_templates)]
    return JsonlPool(write_pool(tmp_path, {"math": rows}), cfg=CurriculumConfig(**cfg))


def test_sample_follows_the_curriculum_mix(tmp_path):
    pool = make_pool(tmp_path)
    for progress in (0.0, 0.5, 1.0):
        items = pool.sample("math", 100, rng_for(0, "s", progress), progress)
        got = Counter(it.difficulty for it in items)
        assert got == level_counts(curriculum_mix(progress), 100)
        assert all(it.difficulty == pool.scale.level("math", it.d) for it in items)


def test_sample_is_deterministic_distinct_and_seed_dependent(tmp_path):
    pool = make_pool(tmp_path)
    a = pool.sample("math", 60, rng_for(1, "s"), 0.5)
    assert [x.prompt for x in a] == [x.prompt for x in pool.sample("math", 60, rng_for(1, "s"), 0.5)]
    assert len({x.prompt for x in a}) == 60
    assert [x.prompt for x in a] != [x.prompt for x in pool.sample("math", 60, rng_for(2, "s"), 0.5)]


def test_template_share_cap_holds_in_every_window(tmp_path):
    pool = make_pool(tmp_path, n_templates=6, template_cap=0.25, window=32)
    items = pool.sample("math", 200, rng_for(0, "cap"), 1.0)
    ids = [it.template for it in items]
    for start in range(len(ids) - 32 + 1):
        assert max(Counter(ids[start:start + 32]).values()) <= 8


def test_template_cap_is_raised_when_the_pool_has_too_few_templates(tmp_path):
    pool = make_pool(tmp_path, n_templates=2, template_cap=0.25, window=16)
    items = pool.sample("math", 64, rng_for(0, "few"), 0.0)
    assert len(items) == 64  # 2 templates can only meet a cap of 1/2


def test_select_relaxes_the_mix_when_a_level_is_missing_and_logs(caplog):
    cands = [PoolItem("math", f"p{i}", None, "t", {}, "easy", 0.0) for i in range(40)]
    picked = select(cands, {"easy": 10, "medium": 10, "hard": 0}, CurriculumConfig(template_cap=1.0))
    assert len(picked) == 20 and "relaxing the difficulty mix" in caplog.text
    caplog.clear()  # a handful of items (a budget's last round) relaxes without a warning
    picked = select(cands, {"easy": 2, "medium": 3, "hard": 0}, CurriculumConfig(template_cap=1.0))
    assert len(picked) == 5 and "relaxing" not in caplog.text


def test_exhausted_pool_repeats_or_raises(tmp_path):
    row = {**MATH, "slots": {"a": {"type": "int", "min": 1, "max": 2}, "b": {"type": "int", "min": 1, "max": 2}}}
    d = write_pool(tmp_path, {"math": [row]})
    items = JsonlPool(d).sample("math", 10, rng_for(0, "x"), 0.0)
    assert len(items) == 10 and len({i.prompt for i in items}) == 4
    with pytest.raises(ReadError, match="only 4 distinct prompts"):
        JsonlPool(d, on_exhausted="error").sample("math", 10, rng_for(0, "x"), 0.0)


def test_unknown_capability_is_an_error(tmp_path):
    with pytest.raises(ReadError, match="no templates for this capability"):
        make_pool(tmp_path).sample("code", 3, rng_for(0), 0.0)


# --------------------------------------------------------------------------- embedded adapter


def fake_sampler(capability, split, n, seed):
    rng = np.random.default_rng(seed)
    return [Fake(capability, f"{split} {capability} {seed} {i}", {"len": float(rng.integers(100))},
                 template=f"{capability}/t{i % 4}") for i in range(n)]


def test_embedded_adapter_wraps_items_with_difficulty_and_keeps_item_fields():
    pool = EmbeddedPool(sampler=fake_sampler)
    items = pool.sample("code", 40, rng_for(0, "e"), 0.0)
    assert len(items) == 40 and all(it.capability == "code" and it.prompt.startswith("pool code") for it in items)
    assert Counter(it.difficulty for it in items) == level_counts(curriculum_mix(0.0), 40)
    assert items[0].rationale == "because" and items[0].response(cot=True) == " because => 1"
    assert [i.prompt for i in items] == [i.prompt for i in pool.sample("code", 40, rng_for(0, "e"), 0.0)]


def test_embedded_adapter_on_the_real_world():
    embedded = pytest.importorskip("read.embedded")
    if not hasattr(embedded, "sample_items"):
        pytest.skip("read.embedded.sample_items not available yet")
    pool = EmbeddedPool()
    for cap in CAPABILITIES:
        items = pool.sample(cap, 16, rng_for(0, "real", cap), 0.5)
        assert len(items) == 16 and all(it.capability == cap for it in items)
        assert all(it.difficulty in ("easy", "medium", "hard") for it in items)


# --------------------------------------------------------------------------- leakage


EVAL = ["What is the capital of Peru?",
        "The quick brown fox jumps over the lazy dog while the farmer watches from the old red barn door."]


def test_leakage_filter_drops_exact_normalised_and_13_gram_matches(tmp_path):
    index = LeakageIndex.build(EVAL)
    items = [Fake("general_knowledge", p, {}) for p in [
        "what is the CAPITAL of   peru",                       # same prompt after normalisation
        "Note: the quick brown fox jumps over the lazy dog while the farmer watches from the old barn.",  # 13-gram
        "What is the capital of Chile?",                       # clean
        "The quick brown fox jumps over the lazy dog.",        # shares < 13 words: clean
    ]]
    kept, removed = index.filter(items)
    assert removed == {"eval_prompt": 1, "eval_ngram": 1, "probe_prompt": 0}
    assert [k.prompt for k in kept] == [items[2].prompt, items[3].prompt]
    # a scaffold-generated pool matches exact prompts only: its fills share 13-grams by design
    kept, removed = index.filter(items, use_ngrams=False)
    assert removed == {"eval_prompt": 1, "eval_ngram": 0, "probe_prompt": 0} and len(kept) == 3
    index.save(tmp_path / "h.json")
    assert LeakageIndex.load(tmp_path / "h.json") == index


def test_pool_sample_then_filter_reports_the_count(tmp_path):
    pool = make_pool(tmp_path)
    items = pool.sample("math", 30, rng_for(0, "leak"), 0.0)
    index = LeakageIndex.build([items[3].prompt.upper(), items[7].prompt + "!!"], probe_prompts=[items[9].prompt])
    kept, removed = index.filter(items)
    assert removed == {"eval_prompt": 2, "eval_ngram": 0, "probe_prompt": 1} and len(kept) == 27


def test_normalisation_keeps_operators_apart():
    """Math prompts that differ only in an operator are different prompts, not one leak."""
    from read.templates import normalise_prompt

    assert normalise_prompt("What is 3 + 4?") == normalise_prompt("what is 3 +  4") != normalise_prompt("What is 3 - 4?")


def test_curriculum_config_from_yaml_style_dict():
    cfg = CurriculumConfig.from_dict({"schedule": [[0.5, 0.2, 0.6, 0.2], [1.0, 0.0, 0.5, 0.5]], "window": 64})
    assert cfg.schedule == ((0.5, 0.2, 0.6, 0.2), (1.0, 0.0, 0.5, 0.5)) and cfg.window == 64
    assert curriculum_mix(0.6, cfg.schedule) == {"easy": 0.0, "medium": 0.5, "hard": 0.5}
    with pytest.raises(ReadError, match="unknown key"):
        CurriculumConfig.from_dict({"cap": 0.3})


def test_make_pool_picks_the_source_and_loads_a_stored_scale(tmp_path):
    from read.templates import make_pool

    pool = make_pool(REPO / "config/templates")
    pool.scale.save(tmp_path / "scale.json")
    again = make_pool(REPO / "config/templates", scale=tmp_path / "scale.json")
    assert isinstance(again, JsonlPool) and again.scale == pool.scale
    assert [i.prompt for i in again.sample("code", 5, rng_for(0), 0.2)] == [i.prompt for i in pool.sample("code", 5, rng_for(0), 0.2)]
    assert isinstance(make_pool("embedded"), EmbeddedPool)
