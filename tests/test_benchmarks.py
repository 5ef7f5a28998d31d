"""Paper-scale scoring: the code sandbox, pass@k, function-call match and lm-evaluation-harness."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import pytest

from read.benchmarks.code import CodeProblem, pass_at_k, score_completions, truncate
from read.benchmarks.sandbox import SandboxLimits, group_members, network_namespace_available, run_sandboxed
from read.errors import ReadError
from read.scorers import make_scorer, parse_call

FAST = SandboxLimits(wall_s=5, cpu_s=2, memory_mb=512)


# ---- the sandbox ---------------------------------------------------------------------


def test_a_correct_and_a_wrong_solution_score_one_and_zero():
    problem = CodeProblem("add", "def add(a, b):\n", "def check(f):\n    assert f(2, 3) == 5\n", "add")
    r = score_completions([problem, problem], [["    return a + b\n"], ["    return a - b\n"]], limits=FAST)
    assert [it["passed"] for it in r["items"]] == [[True], [False]] and r["pass@1"] == 0.5


def test_an_infinite_loop_is_killed_at_the_timeout():
    r = run_sandboxed("while True:\n    pass\n", SandboxLimits(wall_s=3, cpu_s=1))
    assert r.status == "timeout" and not r.passed and group_members(r.pgid) == []


def test_a_sleeping_program_is_killed_at_the_wall_timeout():
    r = run_sandboxed("import time\ntime.sleep(60)\n", SandboxLimits(wall_s=1, cpu_s=5))
    assert r.status == "timeout" and group_members(r.pgid) == []


def test_a_fork_bomb_is_contained_and_nothing_of_it_survives():
    r = run_sandboxed("import os\nwhile True:\n    os.fork()\n", FAST)
    assert not r.passed and r.status != "timeout"  # it hit the process limit well before the timeout
    assert group_members(r.pgid) == []


def test_writing_outside_the_sandbox_directory_fails(tmp_path):
    target = tmp_path / "escaped.txt"
    r = run_sandboxed(f"open({str(target)!r}, 'w').write('x')\n", FAST)
    assert not r.passed and "PermissionError" in r.stderr and not target.exists()
    assert run_sandboxed("open('here.txt', 'w').write('x')\nassert open('here.txt').read() == 'x'\n", FAST).passed


@pytest.mark.parametrize("isolate", [None, False])
def test_opening_a_socket_fails(isolate):
    with socket.socket() as server:  # a real listener on localhost the program would reach
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        r = run_sandboxed(f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=1)\n", FAST,
                          isolate_network=isolate)
    assert not r.passed and ("PermissionError" in r.stderr or "unreachable" in r.stderr), r.stderr
    assert r.network == ("guard" if isolate is False or not network_namespace_available() else "namespace+guard")


def test_the_program_sees_none_of_the_parents_environment(monkeypatch):
    monkeypatch.setenv("READ_SECRET_TOKEN", "hunter2")
    r = run_sandboxed("import os\nassert 'READ_SECRET_TOKEN' not in os.environ and 'PATH' not in os.environ\n", FAST)
    assert r.passed, r.stderr


def test_completions_are_cut_at_the_next_top_level_block():
    assert truncate("    return 1\n\ndef other():\n    pass") == "    return 1\n"
    assert truncate("    return 1\n") == "    return 1\n"


@pytest.mark.parametrize("n,c,k,expected", [(1, 1, 1, 1.0), (1, 0, 1, 0.0), (5, 2, 1, 0.4), (5, 2, 2, 0.7),
                                            (5, 4, 2, 1.0), (10, 0, 5, 0.0)])
def test_pass_at_k_is_the_unbiased_estimator(n, c, k, expected):
    assert pass_at_k(n, c, k) == pytest.approx(expected)


# ---- function-call match ---------------------------------------------------------------

GOLD = 'get_weather(city="Oslo", days=3)'


@pytest.mark.parametrize("prediction,expected", [
    ('get_weather(days=3, city="Oslo")', 1.0),                                       # argument order
    ('get_weather(city="Oslo", days=3.0)', 1.0),                                     # int against float
    ('{"name": "get_weather", "arguments": {"days": 3, "city": "Oslo"}}', 1.0),       # JSON call
    ('tokyo => get_weather(city="Oslo", days=3)', 1.0),                              # after the working
    ('get_forecast(city="Oslo", days=3)', 0.0),                                      # wrong name
    ('get_weather(city="Oslo")', 0.0),                                               # missing argument
    ('get_weather(city="Oslo", days=3, unit="C")', 0.0),                             # extra argument
    ('get_weather(city="Bergen", days=3)', 0.0),                                     # wrong value
    ('get_weather(city="Oslo", days=True)', 0.0),                                    # bool is not a number
    ("the weather in Oslo", 0.0),                                                    # not a call
])
def test_function_calls_match_by_name_and_argument_values(prediction, expected):
    assert make_scorer("function_call")(prediction, GOLD) == expected


def test_a_gold_answer_that_is_not_a_call_is_an_error():
    assert parse_call("f(x=[1, 2], y={'a': 1})") == ("f", {"x": [1, 2], "y": {"a": 1}})
    with pytest.raises(ReadError, match="not a function call"):
        make_scorer("function_call")("f()", "sunny")


# ---- lm-evaluation-harness -------------------------------------------------------------

PAIRS = [(a, b) for a in range(10) for b in range(10)]


@pytest.fixture(scope="module")
def adder(make_adder, one_torch_thread):
    """A tiny Llama that has learnt one-digit additions in the raw format (answers right often)."""
    return make_adder(n=10, steps=80, max_position=64)


def task_dir(tmp_path: Path) -> Path:
    items = [{"prompt": f"What is {a} plus {b}?", "answer": str(a + b)} for a, b in PAIRS[::7]]
    (tmp_path / "tasks").mkdir()
    data = tmp_path / "tasks" / "adds.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in items))
    (tmp_path / "tasks" / "adds.yaml").write_text(f"""task: tiny_adds
dataset_path: json
dataset_kwargs:
  data_files:
    test: {data}
test_split: test
output_type: generate_until
doc_to_text: "Q: {{{{prompt}}}}\\nA:"
doc_to_target: "{{{{answer}}}}"
generation_kwargs:
  until: ["\\n"]
  max_gen_toks: 8
  do_sample: false
metric_list:
  - metric: exact_match
    aggregation: mean
    higher_is_better: true
    ignore_case: true
    regexes_to_ignore: [" "]
""")
    return tmp_path / "tasks"


def test_lm_eval_scores_a_custom_task_like_our_exact_match_full_and_lora(tmp_path, adder):
    pytest.importorskip("lm_eval")
    from peft import LoraConfig, get_peft_model

    from read.benchmarks.lm_eval_adapter import LmEvalTask, evaluate
    from read.item_scores import score_items
    from read.students.checkpoint import load_causal_lm, load_student
    from read.tasks import read_items

    include = task_dir(tmp_path)
    full = evaluate(adder, None, adder, [LmEvalTask("tiny_adds", "exact_match,none")], include_path=str(include),
                    batch_size=8)["tiny_adds"]
    model, tok = load_student(adder)
    ours = score_items(model, tok, read_items(include / "adds.jsonl", "adds"), max_new_tokens=8)
    assert [it["score"] for it in full["items"]] == [float(c) for c in ours["items"]["correct"]]
    assert full["score"] == pytest.approx(ours["em"]) and 0 < full["score"]  # it answers some
    adapter = get_peft_model(load_causal_lm(adder), LoraConfig(r=2, target_modules=["q_proj", "v_proj"]))
    adapter.save_pretrained(tmp_path / "adapter")  # LoRA B starts at 0: the same answers as the base
    lora = evaluate(adder, tmp_path / "adapter", adder, [LmEvalTask("tiny_adds")], include_path=str(include),
                    batch_size=8)["tiny_adds"]
    assert lora["items"] == full["items"]


def test_lm_eval_fails_in_one_line_on_a_missing_dataset_or_task(tmp_path, adder):
    pytest.importorskip("lm_eval")
    from read.benchmarks.lm_eval_adapter import LmEvalTask, evaluate

    include = task_dir(tmp_path)
    (include / "adds.jsonl").unlink()
    with pytest.raises(ReadError, match=r"lm_eval task tiny_adds: its data could not be loaded offline"):
        evaluate(adder, None, adder, [LmEvalTask("tiny_adds")], include_path=str(include))
    with pytest.raises(ReadError, match="knows no such task"):
        evaluate(adder, None, adder, [LmEvalTask("no_such_task_here")], include_path=str(include))
    assert os.environ["HF_DATASETS_OFFLINE"] == "1"


def test_a_capability_with_benchmarks_scores_their_mean(tmp_path, adder):
    from read.benchmarks import Benchmark, capability_score, run_benchmarks
    from read.item_scores import LoadedModel
    from read.prompting import RAW
    from read.students.checkpoint import load_student

    items = [{"prompt": f"What is {a} plus {b}?", "answer": str(a + b)} for a, b in PAIRS[::9]]
    (tmp_path / "adds.jsonl").write_text("".join(json.dumps(r) + "\n" for r in items))
    code = {"task_id": "x", "prompt": "def f():\n", "test": "def check(g):\n    assert g() is None\n", "entry_point": "f"}
    (tmp_path / "code.jsonl").write_text(json.dumps(code) + "\n")
    model, tok = load_student(adder)
    results = run_benchmarks([Benchmark("jsonl", path=str(tmp_path / "adds.jsonl"), eval="numeric"),
                              Benchmark("code", path=str(tmp_path / "code.jsonl"))],
                             LoadedModel(model, tok, RAW), paths=(adder, None, adder), evaluation={}, max_new_tokens=8)
    assert set(results) == {"adds", "code"} and all(len(r["items"]) == r["n"] for r in results.values())
    assert capability_score(results) == pytest.approx((results["adds"]["score"] + results["code"]["score"]) / 2)
