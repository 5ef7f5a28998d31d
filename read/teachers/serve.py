"""A small OpenAI-compatible completions server for a local transformers checkpoint (stdlib only).

    python -m read.teachers.serve --model DIR [--tokenizer DIR] [--host 127.0.0.1] [--port 8000]

Endpoints:

- ``POST /v1/completions``: ``prompt`` (string or list of strings, used verbatim: the
  client renders them), ``max_tokens`` (16), ``temperature`` (1.0, 0 = greedy), ``top_p``,
  ``seed`` (0), ``logprobs`` (null or 0..20), ``n`` (1 only), plus vLLM's
  ``return_token_ids``, ``return_tokens_as_token_ids`` and ``add_special_tokens`` (true:
  prepend BOS; false for prompts a chat template rendered). Returns the OpenAI completion
  object: ``choices[].text/finish_reason/logprobs{tokens, token_logprobs, top_logprobs,
  text_offset}`` and ``usage``. Unsupported fields (stream, echo, stop, best_of, n > 1, …)
  are a 400 error, never silently ignored.
- ``GET /v1/models``; ``GET /health``.

Generation is ``read.lm.generate`` under a lock (one model, one request at a time), so a
client talking to this server gets exactly what the ``hf`` teacher gives for the same
checkpoint: the same text, token ids (EOS counted) and top-k logprobs. With port 0 a free
port is chosen; the first stdout line is always ``serving <model> on http://HOST:PORT/v1``.
"""

from __future__ import annotations

import argparse
import json
import logging
import threading
import time
import uuid
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

log = logging.getLogger(__name__)

SUPPORTED = {"model", "prompt", "max_tokens", "temperature", "top_p", "seed", "logprobs", "n", "user",
             "return_token_ids", "return_tokens_as_token_ids", "add_special_tokens", "stream", "echo", "stop", "best_of",
             "presence_penalty", "frequency_penalty"}
NEUTRAL = {"n": 1, "stream": False, "echo": False, "stop": None, "best_of": 1, "presence_penalty": 0,
           "frequency_penalty": 0}  # accepted only at these values
MAX_LOGPROBS = 20


class RequestError(Exception):
    def __init__(self, status: HTTPStatus, message: str, param: str | None = None):
        super().__init__(message)
        self.status, self.param = status, param


def _int(body: dict, key: str, default, lo: int, hi: int | None = None):
    v = body.get(key, default)
    if v is None:
        return default
    if not isinstance(v, int) or isinstance(v, bool) or v < lo or (hi is not None and v > hi):
        raise RequestError(HTTPStatus.BAD_REQUEST, f"{key} must be an integer in [{lo}, {hi if hi is not None else 'inf'}]", key)
    return v


def _float(body: dict, key: str, default, lo: float, hi: float):
    v = body.get(key, default)
    if v is None:
        return default
    if not isinstance(v, (int, float)) or isinstance(v, bool) or not lo <= v <= hi:
        raise RequestError(HTTPStatus.BAD_REQUEST, f"{key} must be a number in [{lo}, {hi}]", key)
    return float(v)


class CompletionService:
    """The model, its tokenizer and the request -> response logic (no HTTP here; easy to test)."""

    def __init__(self, model, tokenizer, name: str, batch_size: int = 64):
        self.model, self.tokenizer, self.name, self.batch_size = model, tokenizer, name, batch_size
        self.lock = threading.Lock()

    def models(self) -> dict:
        return {"object": "list", "data": [{"id": self.name, "object": "model", "created": 0, "owned_by": "read-distill"}]}

    def parse(self, body) -> dict:
        if not isinstance(body, dict):
            raise RequestError(HTTPStatus.BAD_REQUEST, "request body must be a JSON object")
        unknown = sorted(set(body) - SUPPORTED)
        if unknown:
            raise RequestError(HTTPStatus.BAD_REQUEST, f"unsupported field(s) {unknown}", unknown[0])
        for key, ok in NEUTRAL.items():
            if key in body and body[key] != ok:
                raise RequestError(HTTPStatus.BAD_REQUEST, f"{key}={body[key]!r} is not supported (only {ok!r})", key)
        if body.get("model") not in (None, self.name):
            raise RequestError(HTTPStatus.NOT_FOUND, f"model {body['model']!r} does not exist; this server has {self.name!r}", "model")
        prompt = body.get("prompt")
        prompts = [prompt] if isinstance(prompt, str) else prompt
        if not isinstance(prompts, list) or not prompts or not all(isinstance(p, str) for p in prompts):
            raise RequestError(HTTPStatus.BAD_REQUEST, "prompt must be a string or a non-empty list of strings", "prompt")
        lp = body.get("logprobs")
        return {
            "prompts": prompts,
            "max_tokens": _int(body, "max_tokens", 16, 1),
            "temperature": _float(body, "temperature", 1.0, 0.0, 2.0),
            "top_p": _float(body, "top_p", 1.0, 1e-9, 1.0),
            "seed": _int(body, "seed", 0, 0),
            "logprobs": None if lp is None else _int(body, "logprobs", None, 0, MAX_LOGPROBS),
            "ids_as_tokens": bool(body.get("return_tokens_as_token_ids")),
            "return_ids": bool(body.get("return_token_ids")),
            "add_bos": bool(body.get("add_special_tokens", True)),
        }

    def complete(self, body) -> dict:
        from read.lm import generate

        req = self.parse(body)
        k = req["logprobs"]
        with self.lock:
            gens = generate(self.model, self.tokenizer, req["prompts"], max_new_tokens=req["max_tokens"],
                            temperature=req["temperature"], top_p=req["top_p"], seed=req["seed"],
                            batch_size=self.batch_size, top_k_logprobs=max(k or 0, 1) if k is not None else 0,
                            add_bos=req["add_bos"])
            chosen = self._chosen_logprobs(req["prompts"], gens, req["add_bos"]) if k is not None else None
        choices, n_out = [], 0
        for i, g in enumerate(gens):
            choice = {"index": i, "text": g.text, "finish_reason": "stop" if g.finished else "length", "logprobs": None}
            if req["return_ids"]:
                choice["token_ids"] = list(g.token_ids)
            if k is not None:
                choice["logprobs"] = self._logprobs(g, chosen[i], k, req["ids_as_tokens"])
            choices.append(choice)
            n_out += g.n_tokens
        n_in = sum(len(ids) for ids in self._prompt_ids(req["prompts"], req["add_bos"]))
        return {"id": f"cmpl-{uuid.uuid4().hex}", "object": "text_completion", "created": int(time.time()),
                "model": self.name, "choices": choices,
                "usage": {"prompt_tokens": n_in, "completion_tokens": n_out, "total_tokens": n_in + n_out}}

    def _prompt_ids(self, prompts, add_bos: bool):
        from read.lm import encode_prompts

        return encode_prompts(self.tokenizer, prompts, add_bos=add_bos)

    def _chosen_logprobs(self, prompts, gens, add_bos: bool) -> list[list[float]]:
        """log p(chosen token) per generated token: from the top-k where present, else one forward pass."""
        import torch

        out = []
        for ids, g in zip(self._prompt_ids(prompts, add_bos), gens):
            lps = [dict(step).get(t) for t, step in zip(g.token_ids, g.topk or [])]
            if any(v is None for v in lps):  # sampled token outside the top-k: score it
                seq = torch.tensor([ids + list(g.token_ids)], device=next(self.model.parameters()).device)
                with torch.inference_mode():
                    logits = self.model(input_ids=seq).logits[0, len(ids) - 1 : -1].float().log_softmax(-1)
                scored = logits.gather(-1, seq[0, len(ids):].unsqueeze(-1)).squeeze(-1).tolist()
                lps = [v if v is not None else s for v, s in zip(lps, scored)]
            out.append(lps)
        return out

    def _logprobs(self, g, chosen: list[float], k: int, ids_as_tokens: bool) -> dict:
        """OpenAI ``logprobs`` object; token strings are ``token_id:N`` when asked (vLLM's format)."""
        def name(t: int) -> str:
            return f"token_id:{t}" if ids_as_tokens else self.tokenizer.decode([t])

        tokens, offsets, pos = [], [], 0
        for t in g.token_ids:
            tokens.append(name(t))
            offsets.append(pos)
            pos += len(self.tokenizer.decode([t], skip_special_tokens=True))
        top = [{name(t): lp for t, lp in step[:k]} for step in g.topk] if k > 0 else [None] * len(tokens)
        return {"tokens": tokens, "token_logprobs": chosen, "top_logprobs": top, "text_offset": offsets}


class Handler(BaseHTTPRequestHandler):
    service: CompletionService  # set on the server subclass
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # route http.server's access log to logging
        log.info("%s - %s", self.address_string(), fmt % args)

    def _send(self, status: HTTPStatus, obj: dict) -> None:
        data = json.dumps(obj).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: HTTPStatus, message: str, param: str | None = None) -> None:
        kind = "invalid_request_error" if status < 500 else "server_error"
        self._send(status, {"error": {"message": message, "type": kind, "param": param, "code": int(status)}})

    def do_GET(self):
        if self.path.rstrip("/") in ("/v1/models", "/models"):
            self._send(HTTPStatus.OK, self.service.models())
        elif self.path.rstrip("/") == "/health":
            self._send(HTTPStatus.OK, {"status": "ok"})
        else:
            self._error(HTTPStatus.NOT_FOUND, f"no route {self.path}")

    def do_POST(self):
        if self.path.rstrip("/") not in ("/v1/completions", "/completions"):
            self._error(HTTPStatus.NOT_FOUND, f"no route {self.path}")
            return
        try:
            n = int(self.headers.get("Content-Length", 0))
            body = json.loads(self.rfile.read(n) or b"null")
            self._send(HTTPStatus.OK, self.service.complete(body))
        except json.JSONDecodeError as err:
            self._error(HTTPStatus.BAD_REQUEST, f"invalid JSON body ({err.msg})")
        except RequestError as err:
            self._error(err.status, str(err), err.param)
        except Exception as err:  # noqa: BLE001 - report, keep serving
            log.exception("completion failed")
            self._error(HTTPStatus.INTERNAL_SERVER_ERROR, f"{type(err).__name__}: {err}")


def make_server(model_dir: str, *, tokenizer_dir: str | None = None, host: str = "127.0.0.1", port: int = 8000,
                name: str | None = None, batch_size: int = 64, device: str = "cpu",
                dtype: str = "float32") -> ThreadingHTTPServer:
    """A ready (not yet serving) server; ``server.server_address`` has the bound port."""
    from read.students.checkpoint import load_causal_lm, load_tokenizer

    service = CompletionService(load_causal_lm(model_dir, dtype=dtype, device=device),
                                load_tokenizer(tokenizer_dir or model_dir), name or Path(model_dir).name, batch_size)
    handler = type("BoundHandler", (Handler,), {"service": service})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m read.teachers.serve", description=__doc__.split("\n\n")[0])
    p.add_argument("--model", required=True, help="local checkpoint directory")
    p.add_argument("--tokenizer", default=None, help="tokenizer directory (default: --model)")
    p.add_argument("--name", default=None, help="served model name (default: the directory name)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000, help="0 = any free port")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--device", default="cpu")
    p.add_argument("--dtype", default="float32")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    a = p.parse_args(argv)
    logging.basicConfig(level="INFO", format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if a.threads:
        import torch

        torch.set_num_threads(a.threads)
    server = make_server(a.model, tokenizer_dir=a.tokenizer, host=a.host, port=a.port, name=a.name,
                         batch_size=a.batch_size, device=a.device, dtype=a.dtype)
    host, port = server.server_address[:2]
    print(f"serving {server.RequestHandlerClass.service.name} on http://{host}:{port}/v1", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
