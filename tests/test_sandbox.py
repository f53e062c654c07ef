"""The sandbox contains hostile programs: the verdict is "failed" with a reason, and nothing outside changes."""

import os
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

from synthmix.errors import SandboxError
from synthmix.sandbox import Isolation, run_program
from proc_tree import is_alive, process_tree


@pytest.fixture(scope="module", autouse=True)
def namespaces_available():
    try:
        run_program("pass", timeout_s=10)
    except SandboxError as error:
        pytest.skip(f"sandbox namespaces unavailable here: {error}")


def program(text: str) -> str:
    return textwrap.dedent(text).strip() + "\n"


def assert_harness_still_works():
    result = run_program("print('alive')")
    assert result.passed and result.stdout == "alive\n"


def sandbox_processes() -> list[int]:
    """Pids of processes running as the sandbox uid (65534) anywhere on the machine."""
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and entry.stat().st_uid == 65534:
                pids.append(int(entry.name))
        except FileNotFoundError:
            continue
    return pids


def test_run_program_passes_a_correct_program_and_runs_as_nobody():
    result = run_program(program("""
        import os
        assert os.getuid() == 65534 and os.getgid() == 65534 and os.getgroups() == []
        print(os.getcwd(), sorted(os.environ) in ([], ["LC_CTYPE"]))
    """))
    assert result.passed, result.stderr
    assert (result.reason, result.returncode, result.stdout) == ("passed", 0, "/tmp True\n")


def test_run_program_reports_the_failing_exception():
    result = run_program("assert 1 + 1 == 3, 'bad arithmetic'\n")
    assert not result.passed
    assert result.returncode == 1
    assert result.reason == "exit status 1: AssertionError: bad arithmetic"


def test_run_program_times_out_a_sleeping_program():
    result = run_program("import time\ntime.sleep(60)\n", timeout_s=1)
    assert not result.passed and result.reason == "timed out after 1 s"
    assert result.wall_s < 5
    assert_harness_still_works()


def test_run_program_has_no_network_even_to_localhost():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        server.settimeout(0.5)
        port = server.getsockname()[1]
        result = run_program(f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=2)\n")
        with pytest.raises(TimeoutError):
            server.accept()
    assert not result.passed and "OSError" in result.reason


def test_run_program_sees_an_empty_environment(monkeypatch):
    monkeypatch.setenv("SYNTHMIX_SECRET", "hunter2")
    result = run_program("import os\nprint(open('/proc/self/environ').read())\nprint(os.environ['SYNTHMIX_SECRET'])\n")
    assert not result.passed and "KeyError" in result.reason
    assert "hunter2" not in result.stdout + result.stderr


def test_run_program_rlimits_only_mode_runs_when_asked():
    result = run_program("print('weak')\n", isolation=Isolation.RLIMITS_ONLY)
    assert result.passed and result.stdout == "weak\n"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [({"timeout_s": 0}, "timeout_s = 0"), ({"memory_mb": 8}, "memory_mb = 8"), ({"source": b"x"}, "source")],
)
def test_run_program_rejects_limits_it_cannot_enforce(arguments, message):
    with pytest.raises(SandboxError, match=message):
        run_program(**{"source": "pass", **arguments})


@pytest.mark.slow
def test_run_program_contains_an_infinite_loop():
    result = run_program("while True:\n    pass\n", timeout_s=2)
    assert not result.passed and result.reason in ("timed out after 2 s", "killed by SIGXCPU (CPU time limit)")
    assert result.wall_s < 6
    assert_harness_still_works()


@pytest.mark.slow
def test_run_program_contains_a_fork_bomb():
    before = set(sandbox_processes())
    result = run_program(program("""
        import os
        while True:
            try:
                os.fork()
            except OSError:
                pass
    """), timeout_s=3)
    assert not result.passed and result.reason == "timed out after 3 s"
    assert result.wall_s < 8
    time.sleep(0.5)
    assert set(sandbox_processes()) - before == set()
    assert_harness_still_works()


@pytest.mark.slow
def test_run_program_children_that_setsid_die_with_the_program():
    before = set(sandbox_processes())
    result = run_program(program("""
        import os, time
        if os.fork() == 0:
            os.setsid()
            time.sleep(120)
        print('parent exits')
    """), timeout_s=5)
    assert result.passed
    time.sleep(0.5)
    assert set(sandbox_processes()) - before == set()


@pytest.mark.slow
def test_run_program_contains_a_12_gb_allocation():
    result = run_program("x = bytearray(12 * 2**30)\nprint(len(x))\n", memory_mb=512)
    assert not result.passed and "MemoryError" in result.reason
    assert result.wall_s < 5


@pytest.mark.slow
def test_run_program_cannot_write_or_delete_outside_its_folder():
    outside = Path(tempfile.mkdtemp(dir="/var/tmp", prefix="synthmix-sandbox-probe-"))
    try:
        outside.chmod(0o777)
        victim = outside / "victim.txt"
        victim.write_text("original")
        victim.chmod(0o666)
        for attack in (
            f"open({str(victim)!r}, 'w').write('pwned')",
            f"import os\nos.remove({str(victim)!r})",
            f"open({str(outside / 'new.txt')!r}, 'w').write('pwned')",
            "import os\nos.remove('/usr/bin/python3')",
            f"import shutil\nshutil.rmtree({str(outside)!r})",
        ):
            result = run_program(attack + "\n")
            assert not result.passed and "Read-only file system" in result.reason, (attack, result)
        assert victim.read_text() == "original"
        assert sorted(p.name for p in outside.iterdir()) == ["victim.txt"]
        inside = run_program("open('scratch.txt', 'w').write('fine')\nprint(open('/tmp/scratch.txt').read())\n")
        assert inside.passed and inside.stdout == "fine\n"
    finally:
        for child in outside.iterdir():
            child.unlink()
        outside.rmdir()


@pytest.mark.slow
def test_run_program_spawned_shell_is_contained_too():
    result = run_program(program("""
        import subprocess
        subprocess.run(['/bin/sh', '-c', 'echo shell && touch /var/tmp/synthmix-pwned && env'], check=True)
    """))
    assert not result.passed and "CalledProcessError" in result.reason
    assert "shell" in result.stdout
    assert not Path("/var/tmp/synthmix-pwned").exists()


@pytest.mark.slow
def test_run_program_cannot_kill_its_parent_or_the_harness():
    harness = os.getpid()
    result = run_program(f"import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\nos.kill({harness}, signal.SIGKILL)\n")
    assert not result.passed and ("PermissionError" in result.reason or "ProcessLookupError" in result.reason)
    everyone = run_program("import os, signal\nos.kill(-1, signal.SIGKILL)\n")  # every process it may signal
    assert not everyone.passed and "ProcessLookupError" in everyone.reason  # none: it is alone in its namespace
    assert_harness_still_works()


@pytest.mark.slow
def test_run_program_stops_a_program_printing_gigabytes():
    result = run_program("import sys\nwhile True:\n    sys.stdout.write('x' * 1_000_000)\n", timeout_s=30)
    assert not result.passed and result.reason == "output exceeded 65536 bytes"
    assert len(result.stdout) == 65536
    assert result.wall_s < 5
    assert_harness_still_works()


def test_run_program_refuses_nested_user_namespaces():
    result = run_program(program("""
        import ctypes, os
        libc = ctypes.CDLL(None, use_errno=True)
        assert libc.unshare(0x10000000) != 0, "a nested user namespace was created"
        print(os.strerror(ctypes.get_errno()))
    """))
    assert result.passed, result.stderr
    assert result.stdout == "No space left on device\n"  # the namespace count limit, set to 0 inside


def test_kill_9_of_the_caller_leaves_no_sandbox_process_after_the_limit():
    hostile = program("""
        import os, time
        if os.fork() == 0:
            os.setsid()
            time.sleep(120)
        time.sleep(120)
    """)
    caller = subprocess.Popen([sys.executable, "-c", f"from synthmix.sandbox import run_program\n"
                               f"run_program({hostile!r}, timeout_s=3)\n"])
    deadline = time.monotonic() + 20
    tree: set[tuple[int, str]] = set()
    while time.monotonic() < deadline and len(tree) < 5:  # launcher, its child, pid 1, the program, its child
        time.sleep(0.1)
        tree = process_tree(caller.pid)
    assert len(tree) >= 5, f"the sandbox did not start: {tree}"
    caller.kill()
    caller.wait()
    time.sleep(3 + 2)  # the limit, and the launcher's own margin
    assert [pid for pid, start in tree if is_alive(pid, start)] == []


@pytest.mark.parametrize("ending, printed", [("raise SystemExit(0)", "before\n"), ("import sys\nsys.exit()", "before\n"),
                                             ("import os\nos._exit(0)", "")])  # os._exit skips flushing stdout
def test_run_program_exiting_0_before_its_end_is_not_passed(ending, printed):
    result = run_program(f"print('before')\n{ending}\nprint('after')\n")
    assert (result.passed, result.returncode, result.stdout) == (False, 0, printed)
    assert result.reason == "exited with status 0 before its last statement ran (no completion token)"
