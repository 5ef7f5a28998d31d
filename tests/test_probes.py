"""read.probes: the probe suite (teacher greedy answers + gold) and the profile {ll, acc, n}."""

import os
from dataclasses import dataclass

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

torch = pytest.importorskip("torch")

from read import lm  # noqa: E402
from read.embedded.models import ModelSpec, build_model  # noqa: E402
from read.embedded.tokenizer import load_tokenizer, train_tokenizer  # noqa: E402
from read.errors import ReadError  # noqa: E402
from read.io import write_json  # noqa: E402
from read.probes import build_probe_suite, check_suite, load_suite, probe_profile, profile_checkpoint  # noqa: E402
from read.prompting import exact_match, render_prompt  # noqa: E402
from read.teachers import TeacherConfig, make_teacher  # noqa: E402

PAIRS = [(a, b) for a in range(10) for b in range(10)]


@dataclass(frozen=True)
class Probe:
    prompt: str
    answer: str | None


@pytest.fixture(scope="module", autouse=True)
def one_thread(one_torch_thread):
    """Every test here runs with one torch thread (see conftest)."""


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A teacher trained briefly on additions and a random student, sharing one tokenizer."""
    root = tmp_path_factory.mktemp("probes")
    texts = [render_prompt(f"What is {a} plus {b}?") + f" {a + b}" for a, b in PAIRS] + ["Name the colour: red"]
    tok = load_tokenizer(train_tokenizer(texts, 300, root / "teacher"))
    spec = ModelSpec(layers=2, hidden=32, heads=2, max_position=128)
    teacher = build_model(spec, len(tok), seed=0)
    enc = lm.encode_pairs(tok, [render_prompt(f"What is {a} plus {b}?") for a, b in PAIRS],
                          [f" {a + b}" for a, b in PAIRS], 64)
    lm.train(teacher, enc, lm.TrainConfig(lr=1e-2, batch_size=32, max_steps=60, warmup_steps=5), seed=0,
             pad_id=tok.pad_token_id, progress=False)
    teacher.save_pretrained(root / "teacher")
    student = build_model(spec, len(tok), seed=1)
    student.save_pretrained(root / "student")
    tok.save_pretrained(root / "student")
    return root, tok, student


@pytest.fixture(scope="module")
def items():
    return {
        "math": [Probe(f"What is {a} plus {b}?", str(a + b)) for a, b in PAIRS[3::17]],
        "general_knowledge": [Probe("Name the colour: red", "red"), Probe("Name the colour: blue", None)],
        "steerability": [Probe("Write a haiku.", None), Probe("Say hi.", None)],
    }


@pytest.fixture(scope="module")
def suite(world, items):
    teacher = make_teacher(TeacherConfig(path=str(world[0] / "teacher"), batch_size=8))
    return build_probe_suite(teacher, items, max_new_tokens=6)


def test_suite_holds_teacher_greedy_responses_and_gold_answers(world, items, suite):
    teacher = make_teacher(TeacherConfig(path=str(world[0] / "teacher"), batch_size=8))
    caps = suite["capabilities"]
    assert list(caps) == ["general_knowledge", "steerability", "math"]  # CAPABILITIES order
    for cap, probes in items.items():
        gens = teacher.generate([p.prompt for p in probes], max_new_tokens=6)
        assert [(s["prompt"], s["response"], s["answer"]) for s in caps[cap]] == \
               [(p.prompt, g.text, p.answer) for p, g in zip(probes, gens)]
    check_suite(suite)


def test_profile_is_mean_per_token_loglik_and_exact_match(world, suite):
    _, tok, student = world
    prof = probe_profile(student, tok, suite, batch_size=4, max_new_tokens=6)
    assert set(prof) == {"ll", "acc", "n"} and prof["n"] == {"general_knowledge": 2, "steerability": 2, "math": 6}
    for cap, probes in suite["capabilities"].items():
        ll = lm.response_loglik(student, tok, [render_prompt(p["prompt"]) for p in probes], [p["response"] for p in probes])
        assert prof["ll"][cap] == pytest.approx(float(np.mean(ll)), abs=1e-6) and prof["ll"][cap] < 0
    gold = [p for p in suite["capabilities"]["math"]]
    gens = lm.generate(student, tok, [render_prompt(p["prompt"]) for p in gold], max_new_tokens=6)
    assert prof["acc"]["math"] == pytest.approx(np.mean([exact_match(g.text, p["answer"]) for g, p in zip(gens, gold)]))
    assert prof["acc"]["steerability"] is None  # nothing verifiable there
    assert prof["acc"]["general_knowledge"] in (0.0, 1.0)  # one gold item out of two


def test_teacher_scores_its_own_greedy_answers_higher_than_a_random_student(world, suite):
    root, tok, student = world
    teacher = make_teacher(TeacherConfig(path=str(root / "teacher"))).model
    t, s = probe_profile(teacher, tok, suite, accuracy=False), probe_profile(student, tok, suite, accuracy=False)
    assert all(t["ll"][c] > s["ll"][c] for c in t["ll"])
    assert all(v is None for v in t["acc"].values())


def test_profile_does_not_depend_on_the_batch_size(world, suite):
    _, tok, student = world
    a, b = probe_profile(student, tok, suite, batch_size=1), probe_profile(student, tok, suite, batch_size=64)
    assert a["acc"] == b["acc"] and a["ll"] == pytest.approx(b["ll"], abs=1e-5)


def test_profile_checkpoint_reads_the_suite_file_and_the_saved_student(world, suite, tmp_path):
    root, tok, student = world
    write_json(tmp_path / "suite.json", suite)
    assert load_suite(tmp_path / "suite.json") == suite
    prof = profile_checkpoint(root / "student", None, tmp_path / "suite.json", max_new_tokens=6)
    ref = probe_profile(student, tok, suite, max_new_tokens=6)
    assert prof["n"] == ref["n"] and prof["acc"] == ref["acc"] and prof["ll"] == pytest.approx(ref["ll"], abs=1e-6)


@pytest.mark.parametrize("bad, match", [
    ({}, "expected"),
    ({"capabilities": {"cooking": [{"prompt": "p", "response": "r", "answer": None}]}}, "unknown capability"),
    ({"capabilities": {"math": []}}, "non-empty"),
    ({"capabilities": {"math": [{"prompt": "p", "answer": "1"}]}}, r"math\[0\]"),
])
def test_malformed_suite_is_a_clear_error(tmp_path, bad, match):
    write_json(tmp_path / "s.json", bad)
    with pytest.raises(ReadError, match=match):
        load_suite(tmp_path / "s.json")


def test_suite_from_the_embedded_probe_split(world):
    embedded = pytest.importorskip("read.embedded")
    teacher = make_teacher(TeacherConfig(path=str(world[0] / "teacher"), batch_size=16))
    items = {c: embedded.sample_items(c, "probe", 2, seed=0) for c in ("math", "code", "tool_use")}
    suite = build_probe_suite(teacher, items, max_new_tokens=4)
    assert {c: len(v) for c, v in suite["capabilities"].items()} == {"math": 2, "code": 2, "tool_use": 2}
    assert all(s["answer"] == it.answer for c in items for s, it in zip(suite["capabilities"][c], items[c]))
