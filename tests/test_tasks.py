"""Task cards, scorers, capability data and the eval-leakage filter on the general path."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from read.capability_data import CapabilitySource, build_pools, eval_items, probe_items, resolve_sources
from read.errors import ReadError
from read.rng import rng_for
from read.scorers import SCORERS, make_scorer, parse_number, register
from read.tasks import TaskCard, load_task_cards, seeded_subset
from read.templates import LeakageIndex, read_prompt_file


def jsonl(path: Path, rows) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


# ---- scorers ---------------------------------------------------------------------------


def test_exact_match_compares_final_answers_case_and_space_folded():
    em = make_scorer("exact_match")
    assert em(" 12 => Paris.", "paris") == 1.0 and em("Lyon", "Paris") == 0.0


@pytest.mark.parametrize("prediction,reference,tolerance,expected", [
    ("The answer is 1,250.", "1250", 1e-6, 1.0),
    ("x => 3.1416", "3.14159", 1e-4, 1.0),      # within 1e-4 * max(1, |gold|)
    ("3.2", "3.14159", 1e-4, 0.0),
    ("-7", "7", 1e-6, 0.0),
    ("no number here", "4", 1e-6, 0.0),
    ("2e3", "2000", 0.0, 1.0),
])
def test_numeric_parses_the_last_number_and_applies_a_relative_tolerance(prediction, reference, tolerance, expected):
    assert make_scorer("numeric", tolerance=tolerance)(prediction, reference) == expected


def test_numeric_needs_a_numeric_gold_answer():
    with pytest.raises(ReadError, match="holds no number"):
        make_scorer("numeric")("4", "four")
    assert parse_number("between 3 and -4.5") == -4.5 and parse_number("none") is None


def test_contains_finds_the_gold_answer_inside_a_sentence():
    assert make_scorer("contains")("It is probably Paris, France", "paris") == 1.0
    assert make_scorer("contains")("Lyon", "Paris") == 0.0


def test_the_registry_is_extended_in_one_place_and_names_its_members():
    @register("starts_with_test")
    def starts_with():
        return lambda p, r: float(p.strip().startswith(r))

    try:
        assert make_scorer("starts_with_test")("abc", "ab") == 1.0
        with pytest.raises(ReadError, match=r"unknown scorer 'bleu'; choose from \[.*'exact_match'"):
            make_scorer("bleu")
        with pytest.raises(ReadError, match="does not take these options"):
            make_scorer("exact_match", tolerance=1)
    finally:
        del SCORERS["starts_with_test"]


# ---- task cards ------------------------------------------------------------------------


def card_file(tmp_path: Path, dev, test, **extra) -> Path:
    jsonl(tmp_path / "dev.jsonl", dev)
    jsonl(tmp_path / "test.jsonl", test)
    card = {"description": "d", "source": "jsonl", "requirement": {"math": 1},
            "splits": {"dev": str(tmp_path / "dev.jsonl"), "test": str(tmp_path / "test.jsonl")}, **extra}
    path = tmp_path / "cards.yaml"
    path.write_text(yaml.safe_dump({"tasks": {"t": card}}))
    return path


ITEMS = [{"prompt": f"What is {i} plus {i}?", "answer": str(2 * i)} for i in range(10)]


def test_a_jsonl_card_gives_seeded_test_items_and_its_scorer(tmp_path):
    card = load_task_cards(card_file(tmp_path, ITEMS[:4], ITEMS[4:], eval="numeric"), ["t"])["t"]
    assert isinstance(card, TaskCard) and card.files() == [str(tmp_path / "dev.jsonl"), str(tmp_path / "test.jsonl")]
    three = card.items("test", 3, seed=0)
    assert len(three) == 3 and three == card.items("test", 3, seed=0) and three != card.items("test", 3, seed=1)
    assert [it.prompt for it in card.items("test", 99, seed=0)] == [r["prompt"] for r in ITEMS[4:]]
    assert card.scorer()("it is 8.0", "8") == 1.0
    assert TaskCard.from_params({"name": "t", **card.to_dict()}) == card


@pytest.mark.parametrize("dev,test,extra,message", [
    ([], ITEMS, {}, "dev.jsonl holds no items"),
    (ITEMS[:2], [{"prompt": "q"}], {}, "test.jsonl:1: 'answer' must be a non-empty string"),
    (ITEMS[:3], ITEMS[2:], {}, "is in both"),
    (ITEMS[:3], ITEMS[3:], {"exemplars": [ITEMS[5]]}, "exemplars[0]: this exemplar is a test prompt"),
    (ITEMS[:3], ITEMS[3:], {"eval": "bleu"}, "unknown scorer 'bleu'"),
    (ITEMS[:3], ITEMS[3:], {"source": "lm_eval"}, "source"),
])
def test_bad_cards_are_one_clear_error(tmp_path, dev, test, extra, message):
    with pytest.raises(ReadError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_task_cards(card_file(tmp_path, dev, test, **extra), ["t"])


def test_a_truncated_line_is_named_by_file_and_line(tmp_path):
    path = card_file(tmp_path, ITEMS[:2], ITEMS[2:])
    with (tmp_path / "test.jsonl").open("a") as fh:
        fh.write('{"prompt": "What is')
    with pytest.raises(ReadError, match=r"test.jsonl:9: invalid JSON"):
        load_task_cards(path, ["t"])


def test_seeded_subset_keeps_file_order():
    assert seeded_subset(list(range(10)), 4, 0, "k") == sorted(seeded_subset(list(range(10)), 4, 0, "k"))


# ---- capability data -------------------------------------------------------------------

REPO = Path(__file__).resolve().parents[1]


def test_world_fills_unlisted_capabilities_and_the_general_path_lists_all_eight(tmp_path):
    srcs = resolve_sources({"math": {"pool": "templates", "path": str(REPO / "config/templates/math.jsonl")}}, world=True)
    assert srcs["math"].pool == "templates" and srcs["code"].pool == "embedded"
    with pytest.raises(ReadError, match="no data for"):
        resolve_sources({"math": {"pool": "embedded"}}, world=False)
    with pytest.raises(ReadError, match="needs a file"):
        CapabilitySource("math", "jsonl")


def test_a_prompt_files_probe_lines_are_held_out_of_its_pool(tmp_path):
    path = jsonl(tmp_path / "code.jsonl", [{"prompt": f"print({i})", "answer": str(i)} for i in range(20)])
    sources = {**resolve_sources({}, world=True), "code": CapabilitySource("code", "jsonl", str(path))}
    probes = probe_items(sources["code"], 5, seed=0)
    again = probe_items(sources["code"], 5, seed=0)  # (d is nan until scored, so compare prompts)
    assert len({p.prompt for p in probes}) == 5 and [p.prompt for p in probes] == [p.prompt for p in again]
    pools = build_pools(sources, n_probes=5, probe_seed=0)
    assert pools.ngram_leakage("code") and not pools.ngram_leakage("math")
    pool = {it.prompt for it in pools.pools["code"].items["code"]}
    assert len(pool) == 15 and pool.isdisjoint(p.prompt for p in probes)
    assert eval_items(sources["code"], 4, 0) is None and len(eval_items(sources["math"], 4, 0)) == 4


def test_template_probes_are_distinct_fills_and_generation_drops_them(tmp_path):
    src = CapabilitySource("math", "templates", str(REPO / "config/templates/math.jsonl"))
    probes = probe_items(src, 8, seed=3)
    index = LeakageIndex.build([], probe_prompts=[p.prompt for p in probes])
    kept, dropped = index.filter(probes, use_ngrams=False)
    assert kept == [] and dropped["probe_prompt"] == 8


LONG = "a farmer has {n} sheep and buys three more at the market on a rainy tuesday morning, how many now"


def test_planted_dev_and_test_prompts_are_removed_from_generation_and_counted(tmp_path, tiny_example):
    """A prompt pool seeded with the task's own dev/test prompts (verbatim, re-cased, and
    inside a longer prompt) generates none of them; the manifest-bound counts say why."""
    from read.batches import teacher_rows
    from read.config import EvaluationConfig, GenerationConfig
    from read.probes import build_probe_suite
    from read.steps.setup import eval_index
    from read.students.checkpoint import load_tokenizer
    from read.teachers import TeacherConfig, make_teacher
    from read.templates.leakage import normalise_prompt

    dev = [{"prompt": LONG.format(n=n), "answer": str(n + 3)} for n in (11, 12)]
    test = [{"prompt": LONG.format(n=n), "answer": str(n + 3)} for n in (21, 22, 23)]
    card = load_task_cards(card_file(tmp_path, dev, test), ["t"])["t"]
    planted = [test[0]["prompt"], test[1]["prompt"].upper(), dev[0]["prompt"],
               "Quick one: " + test[2]["prompt"] + " exactly?"]  # a 13-gram inside a longer prompt
    clean = [f"How many legs do {n} spiders have?" for n in range(2, 14)]
    pool_file = jsonl(tmp_path / "math.jsonl", [{"prompt": p} for p in planted + clean])
    sources = {**resolve_sources({}, world=True), "math": CapabilitySource("math", "jsonl", str(pool_file))}
    teacher = make_teacher(TeacherConfig(path=str(tiny_example / "teacher"), batch_size=8))
    items = {c: probe_items(sources[c], 1, 0) for c in sources}
    suite = tmp_path / "probes.json"
    suite.write_text(json.dumps(build_probe_suite(teacher, items, max_new_tokens=4)))
    ev = EvaluationConfig(n_test=3, n_per_capability=2, n_dev=2, batch_size=8, seed=0)
    index = LeakageIndex.from_json(eval_index(suite, tasks={"t": card}, sources=sources, evaluation=ev))

    leaks = [it for it in read_prompt_file(pool_file, "math") if it.prompt in planted]
    kept, dropped = index.filter(leaks, use_ngrams=True)
    assert kept == [] and dropped == {"eval_prompt": 3, "eval_ngram": 1, "probe_prompt": 0}

    tok = load_tokenizer(tiny_example / "student")
    gen = GenerationConfig(signal="resp", max_new_tokens=4, temperature=0.0, top_k=0, keep_unfinished=True)
    w = np.zeros(8)
    w[3] = 1.0  # all on math
    batch = teacher_rows(teacher, build_pools(sources, n_probes=1, probe_seed=0), tok, w, 400, gen, rng_for(0, "leak"), 0.5,
                         index=index)
    generated = {normalise_prompt(r["prompt"]) for r in batch.rows}
    assert generated and generated.isdisjoint(normalise_prompt(p) for p in planted)
    assert batch.dropped_leakage["eval_prompt"] + batch.dropped_leakage["eval_ngram"] > 0


def test_prompt_file_pools_get_difficulty_levels_the_curriculum_and_the_share_cap(tmp_path):
    """Difficulty (features + prompt length), the easy/medium/hard mix and the per-origin
    share cap work on prompt files as on templates."""
    from read.templates import CurriculumConfig, DifficultyScale, PromptFilePool

    rows = [{"prompt": f"item {i} " + " ".join(["word"] * (i % 30)), "template": "big" if i < 150 else f"small{i % 3}",
             "features": {"steps": i % 5}} for i in range(200)]
    path = jsonl(tmp_path / "reasoning.jsonl", rows)
    pool = PromptFilePool({"reasoning": path}, cfg=CurriculumConfig(template_cap=0.5, window=20))
    scale = DifficultyScale.fit(pool.reference(200, 0))
    pool = PromptFilePool({"reasoning": path}, scale=scale, cfg=CurriculumConfig(template_cap=0.5, window=20))
    late = pool.sample("reasoning", 20, rng_for(0, "cap"), progress=1.0)
    assert {it.difficulty for it in late} <= {"easy", "medium", "hard"}
    assert sum(it.difficulty == "hard" for it in late) > sum(it.difficulty == "easy" for it in late)
    assert sum(it.template == "big" for it in late) <= 10  # 75% of the lines, capped at half a window
