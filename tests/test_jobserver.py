"""read.runtime.jobserver: a served job behaves like a job in its own process (status, output, cwd,
argv, fresh library code, death with its job process), and it is off where it must be."""

import os
import signal
import socket
import struct
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from read.runtime import jobserver

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the job server forks (Linux only)")

JOB = textwrap.dedent('''
    import os, sys, time
    preloaded = "torch" in sys.modules  # before this job imports anything heavy
    from read.runtime.jobserver import offload
    offload()
    import read.runtime.jobserver as served
    print("pid", os.getpid(), "ppid", os.getppid(), "served", os.environ.get("READ_JOBSERVER_CHILD", "0"),
          "cwd", os.getcwd(), "preloaded", preloaded, "marker", getattr(served, "MARKER", None),
          "args", " ".join(sys.argv[1:]), flush=True)
    if "fail" in sys.argv:
        raise RuntimeError("boom in the job")
    if "exit3" in sys.argv:
        sys.exit(3)
    if "sleep" in sys.argv:
        time.sleep(60)
''')


@pytest.fixture
def server_env(tmp_path, monkeypatch):
    """Jobs of this test talk to their own server (own runtime dir); it is stopped at the end."""
    env = {**os.environ, "XDG_RUNTIME_DIR": str(tmp_path / "run"), "READ_JOBSERVER_IDLE": "20",
           "READ_JOBSERVER": "1", "PYTHONPATH": str(Path(jobserver.__file__).parents[2])}
    env.pop("SLURM_JOB_ID", None)
    env.pop(jobserver.CHILD_ENV, None)
    (tmp_path / "run").mkdir()
    (tmp_path / "job.py").write_text(JOB)
    monkeypatch.setenv("XDG_RUNTIME_DIR", env["XDG_RUNTIME_DIR"])  # socket_path(): this test's server
    yield env
    pid = server_pid()
    if pid is not None:  # the server this test's first job started, and only that one
        assert f"read.runtime.jobserver serve {jobserver.socket_path()}" in _cmdline(pid)
        os.kill(pid, signal.SIGTERM)


def server_pid() -> int | None:
    """The process listening on this test's socket (the kernel's peer credentials), or None."""
    path = jobserver.socket_path()
    if not path.exists():
        return None
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        try:
            conn.connect(str(path))
        except OSError:
            return None
        pid, _uid, _gid = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))
    return pid


def _cmdline(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


def run_job(tmp_path, env, *args, **kw):
    return subprocess.run([sys.executable, str(tmp_path / "job.py"), *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=180, **kw)


def fields(out):
    words = out.split()
    keys = ("pid", "ppid", "served", "cwd", "preloaded", "marker")
    return {words[i]: words[i + 1] for i in range(0, len(words) - 1, 2) if words[i] in keys}


def test_served_jobs_run_in_forked_children_with_the_jobs_cwd_args_and_status(tmp_path, server_env):
    first = run_job(tmp_path, server_env, "one", "two")
    assert first.returncode == 0, first.stderr
    f1 = fields(first.stdout)
    assert f1["served"] == "1" and f1["cwd"] == str(tmp_path) and "args one two" in first.stdout
    second = run_job(tmp_path, server_env, "again")
    f2 = fields(second.stdout)
    assert second.returncode == 0 and f2["served"] == "1" and f2["pid"] != f1["pid"]
    # both forked from the one warm server, which had torch imported before the job began
    assert f1["ppid"] == f2["ppid"] == str(server_pid())
    assert f1["preloaded"] == f2["preloaded"] == "True"
    failed = run_job(tmp_path, server_env, "fail")
    assert failed.returncode == 1 and "RuntimeError: boom in the job" in failed.stderr
    assert run_job(tmp_path, server_env, "exit3").returncode == 3


def test_a_served_job_imports_the_library_as_it_is_on_disk_now(tmp_path, server_env):
    # The server holds its own copy of read/ (it runs read.runtime.jobserver). A job must not
    # get that copy: after an edit to read/, jobs run the edited code. Here the "edit" is a
    # copy of read/ whose jobserver module has a MARKER, put first on the job's path.
    first = run_job(tmp_path, server_env)
    assert first.returncode == 0 and fields(first.stdout)["marker"] == "None"
    lib = tmp_path / "lib" / "read"
    (lib / "runtime").mkdir(parents=True)
    src = Path(jobserver.__file__).parents[1]
    (lib / "__init__.py").write_text((src / "__init__.py").read_text())
    for module in (src / "runtime").glob("*.py"):
        marker = "\nMARKER = 'fresh'\n" if module.name == "jobserver.py" else ""
        (lib / "runtime" / module.name).write_text(module.read_text() + marker)
    out = run_job(tmp_path, {**server_env, "PYTHONPATH": str(lib.parent)})
    assert out.returncode == 0, out.stderr
    assert fields(out.stdout)["served"] == "1" and fields(out.stdout)["marker"] == "fresh"


def test_killing_the_job_process_kills_its_work(tmp_path, server_env):
    proc = subprocess.Popen([sys.executable, str(tmp_path / "job.py"), "sleep"], cwd=tmp_path, env=server_env,
                            stdout=subprocess.PIPE, text=True)
    child = int(fields(proc.stdout.readline())["pid"])
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    for _ in range(50):
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"child {child} outlived its killed job process")


def test_the_server_is_off_on_slurm_and_when_asked(monkeypatch):
    monkeypatch.delenv(jobserver.CHILD_ENV, raising=False)
    monkeypatch.setenv("READ_JOBSERVER", "1")
    monkeypatch.delenv("SLURM_JOB_ID", raising=False)
    assert jobserver.enabled()
    monkeypatch.setenv("SLURM_JOB_ID", "42")
    assert not jobserver.enabled()
    monkeypatch.delenv("SLURM_JOB_ID")
    monkeypatch.setenv("READ_JOBSERVER", "0")
    assert not jobserver.enabled()
    jobserver.offload()  # returns: the job runs in this process
