"""read.teachers: the hf backend, the vLLM import guard and mapping, the OpenAI client against a real local server."""

import json
import os
import socket
import subprocess
import sys
import threading
import time
import types
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

pytest.importorskip("torch")

from read import lm  # noqa: E402
from read.embedded.tokenizer import load_tokenizer  # noqa: E402
from read.errors import ReadError  # noqa: E402
from read.prompting import render_prompt  # noqa: E402
from read.teachers import (  # noqa: E402
    Teacher,
    TeacherConfig,
    make_teacher,
    vllm_engine,  # noqa: E402
)
from read.teachers.openai_api import OpenAITeacher  # noqa: E402

PAIRS = [(a, b) for a in range(12) for b in range(12)]
PROMPTS = [f"What is {a} plus {b}?" for a, b in PAIRS[::13]]


@pytest.fixture(scope="module", autouse=True)
def one_thread(one_torch_thread):
    """Every test here runs with one torch thread (see conftest)."""


@pytest.fixture(scope="module")
def ckpt(make_adder):
    """A 2-layer Llama (hidden 32) trained for 40 steps on additions, so it answers and emits EOS."""
    return make_adder(n=12, steps=40, extra_texts=("Explain. =>",))


@pytest.fixture(scope="module")
def hf(ckpt):
    return make_teacher(TeacherConfig(backend="hf", path=str(ckpt), batch_size=4))


# --------------------------------------------------------------------------- config and registry


def test_unknown_backend_lists_the_valid_ones():
    with pytest.raises(ReadError, match=r"unknown backend 'tgi'.*\['hf', 'openai', 'vllm'\]"):
        TeacherConfig(backend="tgi", path="m")


def test_missing_checkpoint_is_a_clear_error(tmp_path):
    with pytest.raises(ReadError, match="model checkpoint not found"):
        make_teacher(TeacherConfig(path=str(tmp_path / "nope")))


@pytest.mark.parametrize("kw, match", [({"signal": "soft"}, "unknown signal"), ({"signal": "logit"}, "top_k"),
                                       ({"max_new_tokens": 0}, "max_new_tokens")])
def test_bad_generate_arguments_are_rejected(hf, kw, match):
    with pytest.raises(ReadError, match=match):
        hf.generate(PROMPTS[:1], **kw)


# --------------------------------------------------------------------------- hf


def test_hf_greedy_answers_are_exact_and_repeatable(hf):
    gens = hf.generate(PROMPTS, max_new_tokens=8)
    assert [g.text for g in gens] == [g.text for g in hf.generate(PROMPTS, max_new_tokens=8)]
    for g in gens:
        assert g.n_tokens == len(g.token_ids) and g.topk is None
        if g.finished:  # EOS is generated, counted, and not in the text
            assert g.token_ids[-1] == hf.tokenizer.eos_token_id
    assert any(g.finished for g in gens)


def test_hf_renders_the_signal_prompt(hf):
    (g,) = hf.generate(PROMPTS[:1], signal="cot", max_new_tokens=6)
    (ref,) = lm.generate(hf.model, hf.tokenizer, [render_prompt(PROMPTS[0], cot=True)], max_new_tokens=6)
    assert g == ref


def test_hf_logit_signal_returns_descending_top_k_per_generated_token(hf):
    for g in hf.generate(PROMPTS, signal="logit", max_new_tokens=6, top_k=3):
        assert len(g.topk) == g.n_tokens and all(len(step) == 3 for step in g.topk)
        for step, chosen in zip(g.topk, g.token_ids):
            lps = [lp for _, lp in step]
            assert lps == sorted(lps, reverse=True) and step[0][0] == chosen  # greedy = top-1


def test_hf_sampling_is_fixed_by_the_seed(hf):
    a = hf.generate(PROMPTS, max_new_tokens=6, temperature=1.5, seed=1)
    assert a == hf.generate(PROMPTS, max_new_tokens=6, temperature=1.5, seed=1)
    assert a != hf.generate(PROMPTS, max_new_tokens=6, temperature=1.5, seed=2)


# --------------------------------------------------------------------------- vllm (CPU: guard and mapping only)


def test_vllm_missing_gives_an_actionable_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "vllm", None)  # import vllm -> ImportError
    with pytest.raises(ReadError, match=r"vllm package.*gpu extra"):
        make_teacher(TeacherConfig(backend="vllm", path="/models/llama"))


def test_vllm_parameter_mapping():
    assert vllm_engine.sampling_kwargs(max_new_tokens=256, temperature=0.0, top_p=0.9, seed=3, top_k=0) == {
        "max_tokens": 256, "temperature": 0.0, "top_p": 1.0, "seed": 3, "skip_special_tokens": True}
    assert vllm_engine.sampling_kwargs(max_new_tokens=8, temperature=0.2, top_p=0.95, seed=0, top_k=5)["logprobs"] == 5
    kw = vllm_engine.engine_kwargs(TeacherConfig(backend="vllm", path="/m", tokenizer="/t", tensor_parallel_size=4,
                                                 dtype="bfloat16", max_model_len=4096))
    assert kw == {"model": "/m", "tokenizer": "/t", "tensor_parallel_size": 4, "dtype": "bfloat16",
                  "gpu_memory_utilization": 0.9, "seed": 0, "max_model_len": 4096}
    # vLLM may add the sampled token as a (k+1)-th entry; exactly the top k are kept
    lp = types.SimpleNamespace
    assert vllm_engine.to_topk({5: lp(logprob=-0.1), 9: lp(logprob=-3.0), 2: lp(logprob=-1.0)}, 2) == [(5, -0.1), (2, -1.0)]


def test_vllm_teacher_with_a_stand_in_engine(monkeypatch, ckpt):
    """The whole VLLMTeacher path on a fake ``vllm`` module: token-id prompts in, Generations out."""
    seen = {}

    class LLM:
        def __init__(self, **kw):
            seen["engine"] = kw

        def generate(self, prompts, params, use_tqdm):
            seen["prompts"], seen["params"] = prompts, params
            out = types.SimpleNamespace(text=" 7", token_ids=[30, 2], finish_reason="stop",
                                        logprobs=[{30: -0.5, 31: -1.5}, {2: -0.1, 7: -2.0}])
            return [types.SimpleNamespace(outputs=[out]) for _ in prompts]

    monkeypatch.setitem(sys.modules, "vllm", types.SimpleNamespace(LLM=LLM, SamplingParams=lambda **kw: kw))
    t = make_teacher(TeacherConfig(backend="vllm", path=str(ckpt)))
    (g,) = t.generate(["What is 3 plus 4?"], signal="logit", top_k=2, max_new_tokens=4)
    assert seen["prompts"] == [{"prompt_token_ids": lm.encode_prompts(t.tokenizer, [render_prompt("What is 3 plus 4?")])[0]}]
    assert seen["params"]["logprobs"] == 2 and seen["params"]["max_tokens"] == 4
    assert g == lm.Generation(" 7", (30, 2), 2, [[(30, -0.5), (31, -1.5)], [(2, -0.1), (7, -2.0)]], True)


# --------------------------------------------------------------------------- openai client against the real server


@pytest.fixture(scope="module")
def server(ckpt):
    """``python -m read.teachers.serve`` on a free localhost port (the CLI, for real)."""
    proc = subprocess.Popen([sys.executable, "-m", "read.teachers.serve", "--model", str(ckpt), "--port", "0",
                             "--name", "tiny", "--batch-size", "64", "--threads", "1"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            cwd=Path(__file__).resolve().parents[1])
    try:
        line = proc.stdout.readline()
        assert line.startswith("serving tiny on http://127.0.0.1:"), line
        yield line.split(" on ", 1)[1].strip()
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def client(url, **kw):
    return make_teacher(TeacherConfig(backend="openai", served_model="tiny", base_url=url, batch_size=4, **kw))


def test_openai_client_matches_hf_exactly_when_greedy(server, hf):
    for signal, k in (("resp", 0), ("cot", 0), ("logit", 3)):
        via_http = client(server).generate(PROMPTS, signal=signal, max_new_tokens=8, top_k=k)
        local = hf.generate(PROMPTS, signal=signal, max_new_tokens=8, top_k=k)
        assert [(g.text, g.token_ids, g.n_tokens, g.finished) for g in via_http] == \
               [(g.text, g.token_ids, g.n_tokens, g.finished) for g in local]
        if k:
            for a, b in zip(via_http, local):
                assert [[t for t, _ in s] for s in a.topk] == [[t for t, _ in s] for s in b.topk]
                assert [lp for s in a.topk for _, lp in s] == pytest.approx([lp for s in b.topk for _, lp in s], abs=1e-6)


def test_openai_concurrent_chunks_keep_the_input_order(server, hf):
    gens = client(server, concurrency=3).generate(PROMPTS, max_new_tokens=6)
    assert [g.text for g in gens] == [g.text for g in hf.generate(PROMPTS, max_new_tokens=6)]


def test_server_speaks_the_openai_schema(server):
    def call(method, path, body=None):
        req = urllib.request.Request(server.rsplit("/v1", 1)[0] + path, method=method,
                                     data=None if body is None else json.dumps(body).encode())
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read())

    assert call("GET", "/v1/models")[1]["data"][0]["id"] == "tiny"
    status, resp = call("POST", "/v1/completions", {"model": "tiny", "prompt": ["Q: What is 1 plus 2?\nA:"] * 2,
                                                     "max_tokens": 4, "temperature": 0.7, "seed": 5, "logprobs": 2})
    assert status == 200 and resp["object"] == "text_completion" and len(resp["choices"]) == 2
    lp = resp["choices"][0]["logprobs"]
    assert len(lp["tokens"]) == len(lp["token_logprobs"]) == len(lp["top_logprobs"]) == len(lp["text_offset"])
    assert all(v <= 0 for v in lp["token_logprobs"]) and all(len(d) <= 2 for d in lp["top_logprobs"])
    assert resp["usage"]["completion_tokens"] == sum(len(c["logprobs"]["tokens"]) for c in resp["choices"])
    assert call("POST", "/v1/completions", {"model": "tiny", "prompt": "x", "stream": True})[0] == 400
    assert call("POST", "/v1/completions", {"model": "tiny", "prompt": "x", "guided_json": {}})[0] == 400
    assert call("POST", "/v1/completions", {"model": "other", "prompt": "x"})[0] == 404


def test_client_error_status_fails_at_once_with_the_server_message(server):
    t = make_teacher(TeacherConfig(backend="openai", served_model="not-served", base_url=server, max_retries=3, backoff_s=0))
    with pytest.raises(ReadError, match="HTTP 404.*does not exist"):
        t.generate(PROMPTS[:1], max_new_tokens=2)


# --------------------------------------------------------------------------- openai client: retries and fallbacks


class Scripted(BaseHTTPRequestHandler):
    """Replies from a script of (status, body) and records requests."""

    script: list
    seen: list

    def log_message(self, *a):
        pass

    def do_POST(self):
        self.seen.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        status, body = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def scripted():
    servers = []

    def start(script):
        handler = type("H", (Scripted,), {"script": list(script), "seen": []})
        srv = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        servers.append(srv)
        return f"http://127.0.0.1:{srv.server_address[1]}/v1", handler.seen

    yield start
    for srv in servers:
        srv.shutdown()
        srv.server_close()


OK = {"choices": [{"index": 0, "text": " 7", "finish_reason": "stop", "token_ids": [30, 2], "logprobs": None}]}


def test_client_retries_429_and_5xx_then_succeeds(scripted):
    url, seen = scripted([(503, {"error": "busy"}), (429, {"error": "slow down"}), (200, OK)])
    (g,) = client(url, max_retries=2, backoff_s=0).generate(["q"], max_new_tokens=2)
    assert len(seen) == 3 and g.token_ids == (30, 2) and g.n_tokens == 2 and g.finished
    assert seen[0]["prompt"] == [render_prompt("q")] and seen[0]["return_token_ids"] is True


def test_client_gives_up_after_max_retries(scripted):
    url, seen = scripted([(500, {"error": "boom"})])
    with pytest.raises(ReadError, match="no answer after 3 attempts.*HTTP 500"):
        client(url, max_retries=2, backoff_s=0).generate(["q"], max_new_tokens=2)
    assert len(seen) == 3


def test_client_reports_an_unreachable_server():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    with pytest.raises(ReadError, match="no answer after 1 attempts"):
        client(f"http://127.0.0.1:{port}/v1", max_retries=0).generate(["q"], max_new_tokens=2)


def test_token_ids_from_token_id_strings_and_by_retokenising(ckpt):
    tok = load_tokenizer(ckpt)
    t = OpenAITeacher(TeacherConfig(backend="openai", served_model="m", base_url="http://x/v1", tokenizer=str(ckpt)))
    g = t.to_generation({"text": " 7", "finish_reason": "stop", "logprobs": {
        "tokens": ["token_id:30", "token_id:2"], "top_logprobs": [{"token_id:30": -0.1}, {"token_id:2": -0.2}]}}, 1)
    assert g.token_ids == (30, 2) and g.topk == [[(30, -0.1)], [(2, -0.2)]]
    # a server without ids (SGLang/TGI style): local re-tokenisation + EOS; the count is the server's
    g = t.to_generation({"text": " 12", "finish_reason": "stop", "logprobs": {"tokens": [" ", "1", "2", ""]}}, 0)
    assert g.token_ids == (*tok(" 12", add_special_tokens=False)["input_ids"], tok.eos_token_id) and g.n_tokens == 4
    with pytest.raises(ReadError, match="exact token ids"):
        t.to_generation({"text": " 12", "finish_reason": "length", "logprobs": {"tokens": ["a"], "top_logprobs": [{"a": -1}]}}, 1)


def test_retokenize_mode_sends_no_vendor_fields(scripted):
    url, seen = scripted([(200, OK)])
    client(url, token_ids="retokenize").generate(["q"], max_new_tokens=2)
    assert "return_token_ids" not in seen[0] and "return_tokens_as_token_ids" not in seen[0]


def test_teacher_config_from_dict_rejects_unknown_keys():
    cfg = TeacherConfig.from_dict({"backend": "openai", "served_model": "llama", "path": "/m/llama"})
    assert cfg.tokenizer_dir == "/m/llama" and TeacherConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ReadError, match=r"unknown key\(s\) \['tp'\]"):
        TeacherConfig.from_dict({"path": "m", "tp": 4})
    with pytest.raises(ReadError, match="served_model"):
        TeacherConfig.from_dict({"backend": "openai"})


@pytest.mark.parametrize("cap", [5, 23, 200])
def test_every_backend_generates_within_a_budget(hf, cap):
    prompts = [f"What is {a} plus {b}?" for a, b in PAIRS[:12]]
    native = hf.generate_within(prompts, cap, max_new_tokens=8)  # hf: stops the batch at the budget
    texts = [render_prompt(p) for p in prompts]  # the safe chunks every backend has, on the same rendered text
    chunked = Teacher._generate_within(hf, texts, cap, max_new_tokens=8, temperature=0.0, seed=0, top_k=0)
    for gens in (native, chunked):
        assert sum(g.n_tokens for g in gens) <= cap and len(gens) <= len(prompts)
    for n, c in zip(native, chunked):  # same prompts in the same order, same greedy answers
        if n.finished and c.finished:
            assert n.token_ids == c.token_ids
    assert len(native) >= len(chunked)  # stopping mid-batch fills the budget at least as far


# --------------------------------------------------------------------------- waiting for a served teacher


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_client_waits_for_a_server_that_comes_up_later(tmp_path, ckpt, hf):
    """A generation job may start before the teacher's server job: it waits for the URL file
    and the health endpoint, then generates."""
    port = _free_port()
    url_file = tmp_path / "teacher.url"
    t = make_teacher(TeacherConfig(backend="openai", served_model="tiny", base_url_file=str(url_file), wait_s=120,
                                   batch_size=4))
    proc = None

    def start_late():
        nonlocal proc
        time.sleep(1.5)  # the server job starting after the client, as on a cluster
        proc = subprocess.Popen([sys.executable, "-m", "read.teachers.serve", "--model", str(ckpt), "--port",
                                 str(port), "--name", "tiny", "--threads", "1"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url_file.write_text(f"http://127.0.0.1:{port}/v1\n")

    thread = threading.Thread(target=start_late)
    thread.start()
    try:
        gens = t.generate(PROMPTS[:3], max_new_tokens=6)
    finally:
        thread.join()
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=30)
    assert [g.text for g in gens] == [g.text for g in hf.generate(PROMPTS[:3], max_new_tokens=6)]


def test_a_server_that_never_comes_up_is_one_clear_error(tmp_path):
    t = make_teacher(TeacherConfig(backend="openai", served_model="tiny", base_url=f"http://127.0.0.1:{_free_port()}/v1",
                                   wait_s=1))
    with pytest.raises(ReadError, match=r"/health: the teacher server did not become healthy within 1 s"):
        t.generate(["q"], max_new_tokens=2)
    missing = make_teacher(TeacherConfig(backend="openai", served_model="tiny", base_url_file=str(tmp_path / "none"),
                                         wait_s=1))
    with pytest.raises(ReadError, match="was not written within 1 s; start the server job"):
        missing.generate(["q"], max_new_tokens=2)
