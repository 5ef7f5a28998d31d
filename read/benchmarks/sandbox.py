"""Run generated code in a sandbox: its own process, a fresh directory, hard limits, no network.

Generated code never runs in the workflow's process. :func:`run_sandboxed` writes the
program into a new temporary directory and runs it in a child Python that

- starts from an empty environment (no parent variables) in isolated mode (``-I``);
- has a wall-clock timeout (the whole process group is killed) and an ``RLIMIT_CPU``;
- is limited by ``RLIMIT_AS`` (memory), ``RLIMIT_NPROC`` (processes: a fork bomb hits
  it; as root the child first drops to the ``nobody`` user, since root ignores it, and
  runs the system's Python, which ``nobody`` may execute; where no such drop is possible,
  new processes are refused in Python),
  ``RLIMIT_FSIZE`` (file size) and ``RLIMIT_NOFILE`` (open files);
- has no network: a new network namespace where the kernel allows one (only a loopback
  that is down), and in every case ``socket`` creation raises;
- cannot open files for writing outside its directory (a guard on ``open``/``os.open``
  before the program runs; with the privilege drop the OS refuses most paths anyway).

This contains accidents and runaway code from the models being scored (the threat model
of HumanEval's own harness). It is not a security boundary against code written to
escape; score untrusted models inside a container or VM.
"""

from __future__ import annotations

import ctypes
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

CLONE_NEWNET = 0x40000000
NOBODY = 65534

# Runs in the child before the program: no sockets, no writes outside the working directory.
_GUARD = r'''
import builtins, io, os, socket, sys
_root = os.path.realpath(os.getcwd())
def _refuse(*args, **kwargs):
    raise PermissionError("network access is disabled in the sandbox")
for _name in ("socket", "socketpair", "create_connection", "create_server", "fromfd"):
    if hasattr(socket, _name):
        setattr(socket, _name, _refuse)
_open, _os_open = builtins.open, os.open
def _inside(path):
    try:
        real = os.path.realpath(os.fspath(path))
    except TypeError:
        return True  # a file descriptor
    return real == _root or real.startswith(_root + os.sep)
def _guarded_open(file, mode="r", *args, **kwargs):
    if any(c in mode for c in "wax+") and not _inside(file):
        raise PermissionError(f"writing outside the sandbox is disabled: {file}")
    return _open(file, mode, *args, **kwargs)
_WRITE = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
def _guarded_os_open(path, flags, *args, **kwargs):
    if flags & _WRITE and not _inside(path):
        raise PermissionError(f"writing outside the sandbox is disabled: {path}")
    return _os_open(path, flags, *args, **kwargs)
builtins.open = io.open = _guarded_open
os.open = _guarded_os_open
if sys.argv[1:] == ["no-fork"]:  # no OS process limit could be set: refuse new processes here
    def _no_fork(*args, **kwargs):
        raise PermissionError("starting processes is disabled in the sandbox")
    for _name in ("fork", "forkpty", "posix_spawn", "posix_spawnp", "system", "execv", "execve"):
        if hasattr(os, _name):
            setattr(os, _name, _no_fork)
    import _posixsubprocess
    _posixsubprocess.fork_exec = _no_fork
sys.argv = ["program.py"]
_code = _open("program.py").read()
exec(compile(_code, "program.py", "exec"), {"__name__": "__main__"})
'''


@dataclass(frozen=True)
class SandboxLimits:
    """Per-program limits: wall and CPU seconds, address space (MiB), processes, file size (KiB), open files."""

    wall_s: float = 10.0
    cpu_s: int = 10
    memory_mb: int = 1024
    processes: int = 16
    file_kb: int = 1024
    open_files: int = 64


@dataclass(frozen=True)
class SandboxResult:
    """passed: exit status 0; status: "passed", "failed", "timeout"; network: how it was cut;
    pgid: the program's process group (empty of live processes when the call returns)."""

    passed: bool
    status: str
    returncode: int | None
    stderr: str
    network: str
    pgid: int


def network_namespace_available() -> bool:
    """Whether this process may create a network namespace (root or user namespaces)."""
    pid = os.fork()
    if pid == 0:
        os._exit(0 if ctypes.CDLL(None, use_errno=True).unshare(CLONE_NEWNET) == 0 else 1)
    return os.waitpid(pid, 0)[1] == 0


def _world_executable(path: Path) -> bool:
    """Whether any user may run ``path``: o+x on the file and on every directory above it."""
    path = path.resolve()
    return all(p.stat().st_mode & 0o001 for p in (path, *path.parents))


def interpreter() -> tuple[str, bool]:
    """(python to run programs with, whether it can run as ``nobody``).

    As root the child drops to ``nobody`` so that RLIMIT_NPROC holds; that needs an
    interpreter ``nobody`` may execute (a venv under /root is not one, the system's is)."""
    if os.geteuid() != 0:
        return sys.executable, False
    for candidate in (sys.executable, "/usr/bin/python3"):
        if Path(candidate).exists() and _world_executable(Path(candidate)):
            return candidate, True
    return sys.executable, False


def _limit(limits: SandboxLimits, isolate_network: bool, drop_user: bool):
    """The child's preexec: its own session, no network, then the limits and the user drop."""

    def apply() -> None:
        os.setsid()
        if isolate_network:
            ctypes.CDLL(None, use_errno=True).unshare(CLONE_NEWNET)
        mb = limits.memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (mb, mb))
        resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_s, limits.cpu_s + 1))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_kb * 1024,) * 2)
        resource.setrlimit(resource.RLIMIT_NOFILE, (limits.open_files,) * 2)
        resource.setrlimit(resource.RLIMIT_NPROC, (limits.processes,) * 2)
        if drop_user:  # root ignores RLIMIT_NPROC and may write anywhere
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)

    return apply


def run_sandboxed(program: str, limits: SandboxLimits = SandboxLimits(), *, isolate_network: bool | None = None
                  ) -> SandboxResult:
    """Run ``program`` (Python source) in the sandbox; passed means it exited with status 0.

    ``isolate_network``: None = a network namespace where available; False = only the
    socket guard (for tests of that fallback).
    """
    if isolate_network is None:
        isolate_network = network_namespace_available()
    with tempfile.TemporaryDirectory(prefix="read-sandbox-") as tmp:
        work = Path(tmp)
        (work / "program.py").write_text(program, encoding="utf-8")
        python, drop_user = interpreter()
        if drop_user:
            os.chown(work, NOBODY, NOBODY)
            os.chown(work / "program.py", NOBODY, NOBODY)
        # as root without a way to drop the user, RLIMIT_NPROC does not hold: refuse forks in Python
        refuse_forks = os.geteuid() == 0 and not drop_user
        proc = subprocess.Popen([python, "-I", "-c", _GUARD, *(["no-fork"] if refuse_forks else [])], cwd=work,
                                env={}, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                preexec_fn=_limit(limits, isolate_network, drop_user))
        try:
            _, err = proc.communicate(timeout=limits.wall_s)
            status = "passed" if proc.returncode == 0 else "failed"
            if proc.returncode in (-signal.SIGXCPU, -signal.SIGKILL):
                status = "timeout"  # the CPU limit ended it
        except subprocess.TimeoutExpired:
            err, status = b"", "timeout"
        finally:
            _kill_group(proc)
    return SandboxResult(status == "passed", status, proc.returncode, err.decode("utf-8", "replace")[-2000:],
                         "namespace+guard" if isolate_network else "guard", proc.pid)


def group_members(pgid: int) -> list[int]:
    """Live (not zombie) processes of a process group, from /proc."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(entry.name))
    return members


def _kill_group(proc: subprocess.Popen, rounds: int = 50) -> None:
    """End the program and everything it started (its session's process group), and wait
    until none of it is left (a fork bomb may still be forking when the first signal lands)."""
    for _ in range(rounds):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            break
        if proc.poll() is not None and not group_members(proc.pid):
            break
        time.sleep(0.02)
    proc.wait()
