"""A warm process that forks local workflow jobs, so each skips torch and transformers start-up.

A model job of the embedded default does one to three seconds of work, but a fresh Python
process first spends six to seven seconds importing torch and transformers' Llama code
(measured on the 2-core machine; ``python -m read.runtime.jobserver --measure`` prints it).
A laptop run has over a hundred such jobs. So, on a local Linux run, a job starts with
:func:`offload` (``read.runtime.job`` calls it for model and warm jobs):

    offload(snakemake)   # returns at once inside the server's child, or runs nothing here
    ...                  # the script as usual

The first job starts one server per Python environment. The server imports the heavy
libraries once and, for every job, forks a child that re-runs the job's own script file
(Snakemake's script with its preamble) in the job's working directory, environment,
argv and stdin/stdout/stderr (passed over a Unix socket). The job process waits and exits
with the child's status, so Snakemake, ``log:``, ``benchmark:`` wall times and
``--rerun-incomplete`` see an ordinary job. What makes the child equivalent to a fresh
process:

- it drops every ``read`` module the server holds, so the job imports the library's code
  as it is on disk now (the server preloads third-party packages only);
- the server never runs a torch operation, so no OpenMP thread pool exists at fork time;
  the child sets its own thread count (``read.runtime.jobs.limit_threads``);
- it exits when the job process goes away (its socket closes), so killing a job, or the
  whole workflow, kills its work too.

The server exits after :data:`IDLE_S` seconds without jobs. It is not used on SLURM (a
job there owns its node, and nothing may outlive the allocation), on platforms without
``fork``, or when ``READ_JOBSERVER=0``; then :func:`offload` returns and the job runs in
its own process, as every job did before.
"""

from __future__ import annotations

import array
import contextlib
import hashlib
import importlib.util
import json
import os
import socket
import struct
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path

from read.runtime.clock import process_age

IDLE_S = float(os.environ.get("READ_JOBSERVER_IDLE", "120"))
"""Seconds the server waits for another job before it exits."""
START_TIMEOUT_S = 120.0
CHILD_ENV = "READ_JOBSERVER_CHILD"
JOB_START_ENV = "READ_JOB_STARTED_AT"
"""Epoch seconds at which the job process started (read.runtime.jobs reports start-up from it)."""
PRELOAD = ("numpy", "torch", "transformers", "tokenizers", "peft", "safetensors", "yaml", "pandas", "matplotlib",
           "seaborn", "scipy.stats", "tqdm", "snakemake.script")
"""Packages the server imports up front; a missing one is skipped."""


# ---- when to use it ---------------------------------------------------------------------------


def enabled() -> bool:
    """Local Linux runs only; ``READ_JOBSERVER=0`` turns it off, and it is never used on SLURM."""
    return (os.environ.get("READ_JOBSERVER", "1") != "0" and sys.platform == "linux" and hasattr(os, "fork")
            and "SLURM_JOB_ID" not in os.environ and CHILD_ENV not in os.environ)


def fingerprint() -> str:
    """Identifies the Python environment: the interpreter and where the preloaded packages live.

    A server is only used by jobs of the same environment, and a new server is started after
    a package is installed or upgraded there (the package directory's mtime changes).
    """
    parts = [sys.executable, sys.version, str(os.getuid())]
    for name in PRELOAD:
        spec = importlib.util.find_spec(name.split(".")[0])
        origin = getattr(spec, "origin", None) if spec else None
        parts.append(f"{name}:{origin}:{os.stat(origin).st_mtime_ns if origin else 0}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def socket_path() -> Path:
    """``$XDG_RUNTIME_DIR`` (or /tmp) / read-jobserver-<uid> / <fingerprint>.sock.

    A Unix socket path has at most 107 bytes; a longer runtime dir is replaced by a short
    one under /tmp named after it.
    """
    runtime = os.environ.get("XDG_RUNTIME_DIR") or "/tmp"
    base = Path(runtime) / f"read-jobserver-{os.getuid()}"
    name = f"{fingerprint()}.sock"
    if len(str(base / name)) > 100:
        base = Path("/tmp") / f"read-jobserver-{os.getuid()}-{hashlib.sha256(runtime.encode()).hexdigest()[:8]}"
    base.mkdir(mode=0o700, exist_ok=True)
    return base / name


# ---- the job side -----------------------------------------------------------------------------


def offload(_snakemake=None) -> None:
    """Run this job's script in a warm forked child and exit with its status; return at once
    inside that child, or when the server is not used (the script then runs here).

    ``_snakemake`` is accepted so scripts read ``offload(snakemake)``; the child rebuilds the
    object from the script's own preamble.
    """
    if os.environ.get(CHILD_ENV) == "1" or not enabled():
        return
    script = os.path.abspath(sys.argv[0])
    if not os.path.isfile(script):
        return
    try:
        conn = _connect()
    except OSError as err:
        print(f"read.runtime.jobserver: not used ({err}); running in this process", file=sys.stderr)
        return
    request = {"script": script, "argv": sys.argv, "cwd": os.getcwd(), "path": sys.path,
               "env": {**os.environ, JOB_START_ENV: repr(time.time() - process_age())}}
    payload = json.dumps(request).encode()
    fds = [sys.stdin.fileno(), sys.stdout.fileno(), sys.stderr.fileno()]
    conn.sendmsg([struct.pack("!I", len(payload)), payload],
                 [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))])
    status = _recv_exactly(conn, 4)
    conn.close()
    if len(status) < 4:
        print("read.runtime.jobserver: the job's process ended without a status (killed?)", file=sys.stderr)
        os._exit(1)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(struct.unpack("!i", status)[0])


def _connect() -> socket.socket:
    """A connection to a live server, starting one first if there is none (under a lock)."""
    path = socket_path()
    try:
        return _dial(path)
    except OSError:
        pass
    import fcntl

    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one job starts the server; the others wait here
        try:
            return _dial(path)
        except OSError:
            pass
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")}
        env["OMP_NUM_THREADS"] = "1"  # the server itself never computes; children set their own
        subprocess.Popen([sys.executable, "-m", "read.runtime.jobserver", "serve", str(path)], env=env, cwd="/",
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True, close_fds=True)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            try:
                return _dial(path)
            except OSError:
                time.sleep(0.05)
        raise OSError(f"no job server answered on {path} within {START_TIMEOUT_S:.0f} s")


def _dial(path: Path) -> socket.socket:
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        conn.connect(str(path))
    except OSError:
        conn.close()
        raise
    return conn


def _recv_exactly(conn: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            break
        data += chunk
    return data


# ---- the server side --------------------------------------------------------------------------


def serve(path: str | os.PathLike, idle_s: float = IDLE_S) -> None:
    """Preload, listen on ``path``, fork one child per job; exit after ``idle_s`` without jobs."""
    for name in PRELOAD:
        with contextlib.suppress(ImportError):
            __import__(name)
    with contextlib.suppress(ImportError):
        import matplotlib

        matplotlib.use("Agg")
        from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaForCausalLM  # noqa: F401
    path = Path(path)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    server.bind(str(tmp))
    os.replace(tmp, path)  # clients only ever see a socket that is listening
    server.listen(64)
    server.settimeout(1.0)
    children: set[int] = set()
    last = time.monotonic()
    while children or time.monotonic() - last < idle_s:
        children -= _reaped(children)
        try:
            conn, _ = server.accept()
        except TimeoutError:
            continue
        last = time.monotonic()
        try:
            request, fds = _receive(conn)
        except (OSError, ValueError):
            conn.close()
            continue
        pid = os.fork()
        if pid == 0:
            server.close()
            _run_child(conn, request, fds)  # never returns
        children.add(pid)
        conn.close()
        for fd in fds:
            os.close(fd)
        last = time.monotonic()
    with contextlib.suppress(FileNotFoundError):
        if path.exists() and os.stat(path).st_ino == os.fstat(server.fileno()).st_ino:
            path.unlink()
    server.close()


def _reaped(children: set[int]) -> set[int]:
    done = set()
    for pid in children:
        with contextlib.suppress(ChildProcessError):
            if os.waitpid(pid, os.WNOHANG)[0]:
                done.add(pid)
    return done


def _receive(conn: socket.socket) -> tuple[dict, list[int]]:
    conn.settimeout(10.0)
    msg, anc, _, _ = conn.recvmsg(4, socket.CMSG_SPACE(3 * array.array("i").itemsize))
    fds = array.array("i")
    for level, kind, data in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(data[: len(data) - len(data) % fds.itemsize])
    if len(msg) < 4 or len(fds) != 3:
        raise ValueError("bad request")
    payload = _recv_exactly(conn, struct.unpack("!I", msg)[0])
    conn.settimeout(None)
    return json.loads(payload), list(fds)


def _run_child(conn: socket.socket, request: dict, fds: list[int]) -> None:
    """In the forked child: become the job's process, run its script, report the status."""
    status = 1
    try:
        for target, fd in zip((0, 1, 2), fds):
            os.dup2(fd, target)
            os.close(fd)
        sys.stdin = open(0, closefd=False)  # noqa: SIM115
        sys.stdout = open(1, "w", closefd=False, buffering=1)  # noqa: SIM115
        sys.stderr = open(2, "w", closefd=False, buffering=1)  # noqa: SIM115
        os.setsid()  # not in the server's session: a job's signals stay the job's
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        os.environ[CHILD_ENV] = "1"
        sys.argv = list(request["argv"])
        sys.path[:] = list(request["path"])
        for name in [m for m in sys.modules if m == "read" or m.startswith("read.")]:
            del sys.modules[name]  # the job imports read/ as it is on disk now
        threading.Thread(target=_die_with_job, args=(conn,), daemon=True).start()
        import runpy

        try:
            runpy.run_path(request["script"], run_name="__main__")
            status = 0
        except SystemExit as stop:
            if isinstance(stop.code, str):
                print(stop.code, file=sys.stderr)  # as the interpreter does for sys.exit("message")
            status = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    except BaseException:
        traceback.print_exc()
        status = 1
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        with contextlib.suppress(OSError):
            conn.sendall(struct.pack("!i", status))
        os._exit(status)


def _die_with_job(conn: socket.socket) -> None:
    """The job process holds the other end; when it goes, this child goes too."""
    with contextlib.suppress(OSError):
        while conn.recv(1):
            pass
    os._exit(1)


# ---- command line -----------------------------------------------------------------------------


def _measure() -> None:
    """Print the start-up a fresh process pays for the model stack (what a served job skips)."""
    code = "import torch, transformers; from transformers import LlamaForCausalLM, AutoTokenizer"
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
    print(f"fresh process: import torch + transformers (Llama) in {time.perf_counter() - t0:.2f} s")


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["serve"] and len(args) == 2:
        serve(args[1])
    elif args == ["--measure"]:
        _measure()
    else:
        print("usage: python -m read.runtime.jobserver serve SOCKET | --measure", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
