"""The ``openai`` teacher: any OpenAI-compatible ``/v1/completions`` server, over stdlib urllib.

Prompts are rendered here and sent verbatim as ``prompt`` lists of ``cfg.batch_size``, with
up to ``cfg.concurrency`` requests in flight; results come back in input order. With a
local tokenizer that has a chat template (``cfg.tokenizer_dir``), prompts go through that
template and the request says ``add_special_tokens: false`` (vLLM's completions field), so
the server does not prepend a second BOS to the special tokens the template wrote.

**Token ids and counts (the choice).** The budget needs the exact number of generated
tokens, and logit KD needs the exact ids. In ``token_ids: auto`` mode the request asks
for vLLM's ``return_token_ids`` (per-choice ``token_ids``) and ``return_tokens_as_token_ids``
(logprob tokens as ``"token_id:N"``), and the ids are taken from, in order:

1. ``choice["token_ids"]`` (vLLM >= 0.10.2, and ``read.teachers.serve``);
2. ``logprobs.tokens`` of the form ``"token_id:N"`` (older vLLM);
3. otherwise (SGLang, TGI, strict servers, or ``token_ids: retokenize``): the local
   tokenizer re-tokenises ``text`` and appends EOS when ``finish_reason == "stop"``.
   ``n_tokens`` is then ``len(logprobs.tokens)`` when the server sent logprobs (its own
   count), else the re-tokenised length, which can differ from what the server generated
   for non-canonical tokenisations. Logit KD is refused in this mode (ids unknown).

Ids are in the *teacher* tokenizer; logit KD additionally requires it to be the student's
(``read.students`` checks the fingerprints). Errors: connection problems, timeouts, HTTP
429 and 5xx are retried with exponential backoff; other 4xx fail at once with the server's
message.
"""

from __future__ import annotations

import json
import logging
import os
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from read.errors import bad_input
from read.teachers import Teacher, TeacherConfig

log = logging.getLogger(__name__)

RETRY_STATUS = {408, 409, 429, 500, 502, 503, 504}


def _healthy(url: str, timeout_s: float) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as resp:
            return resp.status == 200
    except (urllib.error.URLError, TimeoutError, ConnectionError, OSError):
        return False


def _parse_id(token: str) -> int | None:
    if isinstance(token, str) and token.startswith("token_id:"):
        try:
            return int(token[len("token_id:"):])
        except ValueError:
            return None
    return None


class OpenAITeacher(Teacher):
    """HTTP client; ``cfg.served_model`` is the served model name, ``cfg.base_url`` the ``.../v1`` root."""

    def __init__(self, cfg: TeacherConfig, *, tokenizer=None):
        self.cfg = cfg
        self._tokenizer = tokenizer
        self._format = None
        self._root: str | None = None
        key = os.environ.get(cfg.api_key_env) if cfg.api_key_env else None
        self.headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {key}"} if key else {})}

    @property
    def tokenizer(self):
        """The local teacher tokenizer (loaded on first need: re-tokenising fallback only)."""
        if self._tokenizer is None:
            from read.students.checkpoint import load_tokenizer

            if self.cfg.tokenizer_dir is None:
                raise bad_input("teacher.tokenizer", "the server returned no token ids, and no local tokenizer is set",
                                "set models.teacher.tokenizer to the served model's tokenizer directory")
            self._tokenizer = load_tokenizer(self.cfg.tokenizer_dir)
        return self._tokenizer

    @property
    def prompt_format(self):
        """The local tokenizer's format when one is configured; else the raw format."""
        from read.prompting import RAW, PromptFormat

        if self._format is None:
            have = self._tokenizer is not None or self.cfg.tokenizer_dir is not None
            self._format = PromptFormat.for_tokenizer(self.tokenizer, self.cfg.chat_template) if have else RAW
        return self._format

    # ------------------------------------------------------------------ the server

    @property
    def url(self) -> str:
        """The completions endpoint; the first use waits for the server (:meth:`wait_for_server`)."""
        if self._root is None:
            self._root = self.wait_for_server()
        return self._root + "/completions"

    def wait_for_server(self) -> str:
        """The server's ``.../v1`` root, once it answers its health endpoint.

        ``cfg.base_url_file`` (written by a server job, see tools/serve_teacher.sh) names the
        root when set, else ``cfg.base_url``. With ``cfg.wait_s`` > 0 this polls the file and
        then ``GET <host>/health`` (vLLM's and read.teachers.serve's) until both are there,
        and fails with one line after ``wait_s`` seconds; with 0 it does not wait.
        """
        deadline = time.monotonic() + self.cfg.wait_s
        root = self.cfg.base_url
        if self.cfg.base_url_file:
            path = Path(self.cfg.base_url_file)
            while not (path.is_file() and path.read_text().strip()):
                if time.monotonic() >= deadline:
                    raise bad_input("models.teacher.base_url_file", f"{path} was not written within {self.cfg.wait_s:g} s",
                                    "start the server job (tools/serve_teacher.sh) or raise models.teacher.wait_s")
                time.sleep(1.0)
            root = path.read_text().strip()
        root = root.rstrip("/")
        if self.cfg.wait_s > 0:
            health = root.removesuffix("/v1") + "/health"
            while not _healthy(health, min(10.0, self.cfg.timeout_s)):
                if time.monotonic() >= deadline:
                    raise bad_input(health, f"the teacher server did not become healthy within {self.cfg.wait_s:g} s",
                                    "check its job log (tools/serve_teacher.sh) or raise models.teacher.wait_s")
                time.sleep(1.0)
            log.info("teacher server healthy at %s", root)
        return root

    # ------------------------------------------------------------------ HTTP

    def post(self, body: dict) -> dict:
        """POST JSON with retries (connection errors, timeouts, 408/409/429/5xx); ReadError on failure."""
        data = json.dumps(body).encode("utf-8")
        last = ""
        for attempt in range(self.cfg.max_retries + 1):
            if attempt:
                time.sleep(self.cfg.backoff_s * 2 ** (attempt - 1))
            req = urllib.request.Request(self.url, data=data, headers=self.headers, method="POST")
            try:
                with urllib.request.urlopen(req, timeout=self.cfg.timeout_s) as resp:
                    return json.loads(resp.read().decode("utf-8"))
            except urllib.error.HTTPError as err:
                detail = err.read().decode("utf-8", "replace")[:500]
                last = f"HTTP {err.code}: {detail}"
                if err.code not in RETRY_STATUS:
                    raise bad_input(self.url, f"server refused the request ({last})",
                                    "check models.teacher.served_model and the request fields the server supports") from None
            except (urllib.error.URLError, TimeoutError, ConnectionError, json.JSONDecodeError) as err:
                last = f"{type(err).__name__}: {getattr(err, 'reason', err)}"
            log.warning("teacher request failed (attempt %d/%d): %s", attempt + 1, self.cfg.max_retries + 1, last)
        raise bad_input(self.url, f"no answer after {self.cfg.max_retries + 1} attempts ({last})",
                        "start the server (e.g. vllm serve / python -m read.teachers.serve) or fix teacher.base_url")

    def request_body(self, texts: list[str], *, max_new_tokens: int, temperature: float, seed: int,
                     top_k: int) -> dict:
        """The completions request for one chunk of rendered prompts."""
        body = {"model": self.cfg.served_model, "prompt": texts, "max_tokens": max_new_tokens,
                "temperature": temperature, "seed": seed, "n": 1}
        if not self.prompt_format.add_bos:
            body["add_special_tokens"] = False
        if temperature > 0 and self.cfg.top_p < 1:
            body["top_p"] = self.cfg.top_p
        if top_k > 0:
            body["logprobs"] = top_k
        if self.cfg.token_ids == "auto":
            body["return_token_ids"] = True
            if top_k > 0:
                body["return_tokens_as_token_ids"] = True
        return body

    # ------------------------------------------------------------------ parsing

    def to_generation(self, choice: dict, top_k: int):
        """One response choice -> ``read.lm.Generation`` (see the module docstring for the id rules)."""
        from read.lm import Generation

        text = choice.get("text")
        if not isinstance(text, str):
            raise bad_input(self.url, f"choice without text: {str(choice)[:200]}", "check the server is OpenAI-compatible")
        finished = choice.get("finish_reason") == "stop"
        lp = choice.get("logprobs") or {}
        tokens = lp.get("tokens") or []
        ids = choice.get("token_ids")
        if ids is None and tokens and all(_parse_id(t) is not None for t in tokens):
            ids = [_parse_id(t) for t in tokens]
        exact = ids is not None
        if not exact:
            ids = list(self.tokenizer(text, add_special_tokens=False)["input_ids"])
            if finished:
                ids.append(self.tokenizer.eos_token_id)
        ids = tuple(int(t) for t in ids)
        n = len(tokens) if (not exact and tokens) else len(ids)
        topk = None
        if top_k > 0:
            if not exact:
                raise bad_input(self.url, "a top-k signal needs exact token ids, but the server returned none",
                                "use vLLM (return_token_ids) or read.teachers.serve, or signal resp or cot")
            top = lp.get("top_logprobs") or []
            if len(top) != len(ids):
                raise bad_input(self.url, f"{len(top)} top_logprobs for {len(ids)} tokens", "check the server's logprobs support")
            topk = []
            for step in top:
                pairs = [(_parse_id(t), float(v)) for t, v in (step or {}).items()]
                if any(t is None for t, _ in pairs):
                    raise bad_input(self.url, "top_logprobs keys are not 'token_id:N'",
                                    "the server must support return_tokens_as_token_ids for top-k signals")
                topk.append(sorted(pairs, key=lambda p: (-p[1], p[0]))[:top_k])
        return Generation(text, ids, n, topk, finished)

    def _generate(self, texts, *, max_new_tokens, temperature, seed, top_k):
        chunks = [texts[i : i + self.cfg.batch_size] for i in range(0, len(texts), self.cfg.batch_size)]

        def run(chunk: list[str]):
            body = self.request_body(chunk, max_new_tokens=max_new_tokens, temperature=temperature, seed=seed, top_k=top_k)
            choices = self.post(body).get("choices")
            if not isinstance(choices, list) or len(choices) != len(chunk):
                raise bad_input(self.url, f"expected {len(chunk)} choices, got {str(choices)[:200]}",
                                "check the server is OpenAI-compatible and supports prompt lists")
            return [self.to_generation(c, top_k) for c in sorted(choices, key=lambda c: c.get("index", 0))]

        if len(chunks) == 1 or self.cfg.concurrency == 1:
            results = [run(c) for c in chunks]
        else:
            with ThreadPoolExecutor(self.cfg.concurrency) as pool:
                results = list(pool.map(run, chunks))
        return [g for chunk in results for g in chunk]
