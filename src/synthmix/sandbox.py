"""The only place model-written code runs: one Python program per call, isolated and limited.

How a program runs (``Isolation.NAMESPACES``, the default; needs root, as on the study machines):
a launcher (``/usr/bin/python3 -I -S``, its own session and process group) forks a child that
enters fresh user, mount, pid, network, IPC, UTS and cgroup namespaces; the user namespace maps
only uid/gid 65534 (nobody). Inside, pid 1 makes every mount private and read-only (recursively,
also nosuid), mounts a fresh ``/proc`` for the new pid namespace and private size-capped
tmpfs on ``/tmp`` (the working directory, holding ``main.py``) and ``/dev/shm``, then forks the
program, which drops to uid/gid 65534 with no supplementary groups and no capabilities, sets
``no_new_privs`` and rlimits (CPU seconds, address space, processes, file size, open files, no core
files), and execs ``/usr/bin/python3 -I -S harness.py`` with an empty environment and stdin from
``/dev/null``. The harness enforces a wall-clock timeout and an output cap by killing the launcher's
process group; when pid 1 dies the kernel kills everything left in the pid namespace, so a
program's children, even ones that called ``setsid``, cannot outlive it. The sandbox does not rely
on its caller for that: the launcher dies with the process that started it (``PR_SET_PDEATHSIG``,
checked against the caller's pid) and after its own wall-clock limit (an alarm two seconds past the
timeout), and every process between it and pid 1 dies with its parent, so a ``kill -9`` of the caller
leaves nothing running. Pid 1 sets the user-namespace count limit to 0, so the program cannot create
nested user namespaces.

"Passed" is decided from evidence the program cannot produce by ending early: ``harness.py`` reads a
random token from fd 3, runs ``main.py`` (the program), and only when its last statement returned writes
the token to fd 4, a pipe the caller reads. Exit status 0 without the token (``raise SystemExit(0)``,
``os._exit(0)``, ``sys.exit()``, a signal to itself) is a failure. A program that deliberately digs the
token out of the harness's memory (its frames, ``gc``) could still forge it, as could one whose return
values compare equal to anything; this is a guard against programs ending early, not a proof of intent.
A program that is not valid UTF-8 (a lone surrogate) fails without running.

Protects against (each covered by a test in ``tests/test_sandbox.py``): infinite loops and sleeps
(wall and CPU limits), fork bombs (process limit, counted per sandbox), huge allocations (address
space limit), writing, deleting or creating files outside its own tmpfs (read-only filesystem, and
uid 65534 owns nothing), network access including 127.0.0.1 (empty network namespace),
reading the caller's environment (empty environment), exiting 0 before the tests ran (completion token),
outliving a killed caller (PDEATHSIG chain and the launcher's own alarm), setuid helpers such as ``sudo`` or ``su``
(``no_new_privs``), signalling or tracing the harness or other sandboxes (separate pid namespace,
different uid), and flooding the harness with output (capped, then killed).

Does NOT protect against: reading world-readable files (the filesystem is visible read-only, e.g. the
repository and benchmark data; private files stay private through ordinary permissions); kernel
exploits (there is no seccomp filter); memory
exhaustion by many processes (the address-space limit is per process, so the worst case is
``max_processes * memory_mb``, plus ``tmpfs_mb`` twice); CPU contention with other work (no cgroup
quota); timing side channels. ``Isolation.RLIMITS_ONLY`` keeps only the rlimits, the process group,
the timeout, the output cap, the completion token, the empty environment and a temporary working
directory: the program runs as the calling user with full filesystem and network access, and only the
program itself (not its children) dies with a killed caller. It exists for machines without
namespaces and must be asked for explicitly.
"""

import enum
import math
import os
import secrets
import selectors
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass

from synthmix.errors import SandboxError

__all__ = ["Isolation", "SandboxResult", "run_program"]

PYTHON = "/usr/bin/python3"
"""A system interpreter uid 65534 can read; a virtual environment under a private home is not."""

SANDBOX_UID = 65534

_SCAN_BYTES = 1 << 16  # read size for the harness's output pipes


class Isolation(enum.Enum):
    """How strongly a program is isolated; the weaker mode must be chosen explicitly."""

    NAMESPACES = "namespaces"
    RLIMITS_ONLY = "rlimits-only"


@dataclass(frozen=True)
class SandboxResult:
    """The verdict on one program: passed means its last statement ran and it exited 0 within every limit."""

    passed: bool
    reason: str  # "passed", or why not: "timed out after 3 s", "exit status 1: AssertionError", ...
    returncode: int | None  # exit status, negative signal number, or None when the harness killed it
    stdout: str  # at most max_output_bytes, decoded with replacement
    stderr: str
    wall_s: float


# Runs as `python3 -I -S -c _LAUNCHER MODE STATUS_FD EVIDENCE_FD CALLER WALL_S CPU_S MEMORY_B NPROC FSIZE_B NOFILE
# TMPFS_MB UID`; reads a token line, then the program, from stdin. It dies with its caller (PDEATHSIG, checked
# against CALLER) and after WALL_S seconds (alarm), taking the whole sandbox with it. In "namespaces" mode it
# reports "exit N", "signal N" or "error WHY" on STATUS_FD; in "rlimits" mode it execs the program directly in
# its (temporary) working directory. The program runs under _HARNESS, which writes the token to EVIDENCE_FD
# only after the program's last statement returned.
_LAUNCHER = r"""
import ctypes, fcntl, os, resource, signal, sys
mode, status_fd, evidence_fd, caller, wall_s = sys.argv[1], *map(int, sys.argv[2:6])
cpu_s, memory_b, nproc, fsize_b, nofile, tmpfs_mb, uid = map(int, sys.argv[6:13])
libc = ctypes.CDLL(None, use_errno=True)

def fail(why):
    os.write(status_fd, ("error %s\n" % why).encode())
    os._exit(125)

def checked(result, what):
    if result != 0:
        fail("%s: %s" % (what, os.strerror(ctypes.get_errno())))

def guarded(step):
    try:
        step()
    except Exception as error:
        fail("%s: %r" % (step.__name__, error))

def die_with_parent():
    checked(libc.prctl(1, 9, 0, 0, 0), "prctl(PR_SET_PDEATHSIG)")

die_with_parent()
if os.getppid() != caller:
    os._exit(125)
signal.alarm(wall_s)

def exec_program(drop_to):
    if drop_to is not None:
        os.setgroups([])
        os.setresgid(drop_to, drop_to, drop_to)
        os.setresuid(drop_to, drop_to, drop_to)
    with open("main.py", "wb") as handle:
        handle.write(source)
    with open("harness.py", "wb") as handle:
        handle.write(harness)
    token_r, token_w = os.pipe()
    os.write(token_w, token)
    os.close(token_w)
    token_r, evidence = (fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in (token_r, evidence_fd))
    checked(libc.prctl(38, 1, 0, 0, 0), "prctl(PR_SET_NO_NEW_PRIVS)")
    for limit, value in ((resource.RLIMIT_CPU, cpu_s), (resource.RLIMIT_AS, memory_b),
                         (resource.RLIMIT_NPROC, nproc), (resource.RLIMIT_FSIZE, fsize_b),
                         (resource.RLIMIT_NOFILE, nofile), (resource.RLIMIT_CORE, 0)):
        resource.setrlimit(limit, (value, value))
    null = os.open("/dev/null", os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(token_r, 3)
    os.dup2(evidence, 4)
    os.closerange(5, 1 << 20)
    os.execve("/usr/bin/python3", ["python3", "-I", "-S", "harness.py"], {})

token = sys.stdin.buffer.readline().strip()
harness = sys.stdin.buffer.read(int(sys.stdin.buffer.readline()))
source = sys.stdin.buffer.read()
if mode == "rlimits":
    guarded(lambda: exec_program(None))

class MountAttr(ctypes.Structure):
    _fields_ = [("attr_set", ctypes.c_uint64), ("attr_clr", ctypes.c_uint64),
                ("propagation", ctypes.c_uint64), ("userns_fd", ctypes.c_uint64)]

def init_namespace():
    # pid 1 of the new pid namespace; full capabilities over the new user namespace only.
    die_with_parent()
    checked(libc.mount(b"proc", b"/proc", b"proc", 2 | 4 | 8, None), "mount /proc")
    with open("/proc/sys/user/max_user_namespaces", "w") as handle:  # no nested user namespaces
        handle.write("0")
    attr = MountAttr(1 | 2, 0, 1 << 18, 0)  # read-only, nosuid; private propagation (/dev/null stays usable)
    checked(libc.syscall(442, -100, b"/", 0x8000, ctypes.byref(attr), ctypes.sizeof(attr)),
            "mount_setattr / read-only")
    options = ("size=%dm,mode=1777" % tmpfs_mb).encode()
    for target in (b"/tmp", b"/dev/shm"):
        checked(libc.mount(b"tmpfs", target, b"tmpfs", 2 | 4, options), "mount tmpfs " + target.decode())
    os.chdir("/tmp")
    program = os.fork()
    if program == 0:
        guarded(lambda: exec_program(uid))
    while True:
        pid, status = os.wait()
        if pid == program:
            break
    if os.WIFSIGNALED(status):
        os.write(status_fd, b"signal %d\n" % os.WTERMSIG(status))
    else:
        os.write(status_fd, b"exit %d\n" % os.WEXITSTATUS(status))
    os._exit(0)

launcher = os.getpid()
ready_r, ready_w = os.pipe()
go_r, go_w = os.pipe()
child = os.fork()
if child == 0:
    die_with_parent()
    if os.getppid() != launcher:
        os._exit(125)
    checked(libc.unshare(0x10000000 | 0x00020000 | 0x20000000 | 0x40000000 | 0x08000000
                         | 0x04000000 | 0x02000000), "unshare namespaces")
    os.write(ready_w, b"1")
    if os.read(go_r, 1) != b"1":
        os._exit(125)
    init = os.fork()
    if init == 0:
        guarded(init_namespace)
    os._exit(os.waitstatus_to_exitcode(os.waitpid(init, 0)[1]) & 0xFF)
os.close(ready_w)
if os.read(ready_r, 1) == b"1":
    try:
        for name in ("uid_map", "gid_map"):
            with open("/proc/%d/%s" % (child, name), "w") as handle:
                handle.write("%d %d 1\n" % (uid, uid))
    except OSError as error:
        os.write(status_fd, ("error writing %s: %s\n" % (name, error.strerror)).encode())
        os.kill(child, 9)
        os._exit(125)
    os.write(go_w, b"1")
os._exit(os.waitstatus_to_exitcode(os.waitpid(child, 0)[1]) & 0xFF)
"""

# Runs the program (main.py) in place of ``python3 main.py``; the token it reads on fd 3 goes to fd 4 only once
# the program's last statement returned, so a program that exits early (SystemExit, os._exit, exit()) lacks it.
_HARNESS = b"""import os, sys
def _run():
    token = os.read(3, 64)
    os.close(3)
    with open("main.py", "rb") as handle:
        code = compile(handle.read(), "main.py", "exec")
    sys.argv[:] = ["main.py"]
    exec(code, {"__name__": "__main__", "__file__": "main.py", "__builtins__": __builtins__})
    sys.stdout.flush()
    sys.stderr.flush()
    os.write(4, token)
_run()
"""


def _launcher_args(mode: str, status_fd: int, evidence_fd: int, timeout_s: float, memory_mb: int, max_processes: int,
                   max_file_mb: int, tmpfs_mb: int) -> list[str]:
    """The launcher's command line for one program's limits (its own wall-clock limit 2 s after the harness's)."""
    wall = math.ceil(timeout_s) + 2
    limits = (math.ceil(timeout_s) + 1, memory_mb << 20, max_processes, max_file_mb << 20, 64, tmpfs_mb, SANDBOX_UID)
    return [PYTHON, "-I", "-S", "-c", _LAUNCHER, mode, str(status_fd), str(evidence_fd), str(os.getpid()), str(wall),
            *map(str, limits)]


def _check_limits(timeout_s: float, memory_mb: int, max_output_bytes: int) -> None:
    """Raise SandboxError naming a limit that cannot be enforced."""
    if not (isinstance(timeout_s, (int, float)) and 0 < timeout_s < math.inf):
        raise SandboxError(f"timeout_s = {timeout_s!r} must be a positive number of seconds")
    if not isinstance(memory_mb, int) or memory_mb < 64:
        raise SandboxError(f"memory_mb = {memory_mb!r} must be an integer >= 64 (the interpreter needs ~30 MB)")
    if not isinstance(max_output_bytes, int) or max_output_bytes < 1:
        raise SandboxError(f"max_output_bytes = {max_output_bytes!r} must be a positive integer")
    if not os.access(PYTHON, os.X_OK):
        raise SandboxError(f"{PYTHON} is missing; the sandbox needs a system Python 3 that uid {SANDBOX_UID} can read")


def _collect(process: subprocess.Popen, status_r: int, evidence_r: int, deadline: float,
             cap: int) -> tuple[dict, str | None]:
    """Read stdout, stderr, the status and the evidence pipes until all close; stop early on the deadline or the cap."""
    buffers = {"stdout": bytearray(), "stderr": bytearray(), "status": bytearray(), "evidence": bytearray()}
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ, "stdout")
    selector.register(process.stderr, selectors.EVENT_READ, "stderr")
    selector.register(status_r, selectors.EVENT_READ, "status")
    selector.register(evidence_r, selectors.EVENT_READ, "evidence")
    stopped = None
    try:
        while selector.get_map():
            left = deadline - time.monotonic()
            if left <= 0:
                stopped = "timeout"
                break
            for key, _ in selector.select(left):
                chunk = os.read(key.fd, _SCAN_BYTES)
                if not chunk:
                    selector.unregister(key.fileobj)
                    continue
                buffers[key.data] += chunk
                if len(buffers[key.data]) > (cap if key.data in ("stdout", "stderr") else _SCAN_BYTES):
                    stopped = "output"
            if stopped:
                break
    finally:
        selector.close()
    return buffers, stopped


def _kill_group(process: subprocess.Popen) -> None:
    """SIGKILL the launcher's whole process group (pid 1 of the sandbox dies with it, and so does the rest)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


def _verdict(status: str, returncode: int, stderr: str, namespaces: bool) -> tuple[int | None, str]:
    """Turn the launcher's status line (or exit code) into (returncode, reason)."""
    if namespaces:
        kind, _, value = status.strip().partition("\n")[0].partition(" ")
        if kind == "error":
            raise SandboxError(
                f"cannot isolate the program ({value}); run as root on Linux with namespaces enabled, "
                "or pass isolation=Isolation.RLIMITS_ONLY to accept the weaker mode"
            )
        if kind not in ("exit", "signal"):
            return None, f"sandbox launcher died without a verdict (exit code {returncode})"
        returncode = int(value) if kind == "exit" else -int(value)
    if returncode == 0:
        return 0, "passed"
    if returncode < 0:
        name = signal.Signals(-returncode).name
        hint = {"SIGXCPU": " (CPU time limit)", "SIGXFSZ": " (file size limit)"}.get(name, "")
        return returncode, f"killed by {name}{hint}"
    last = next((line for line in reversed(stderr.splitlines()) if line.strip()), "")
    return returncode, f"exit status {returncode}" + (f": {last.strip()[:200]}" if last else "")


def run_program(
    source: str,
    timeout_s: float = 5.0,
    memory_mb: int = 512,
    *,
    max_output_bytes: int = 1 << 16,
    max_processes: int = 8,
    max_file_mb: int = 16,
    tmpfs_mb: int = 64,
    isolation: Isolation = Isolation.NAMESPACES,
) -> SandboxResult:
    """Run one untrusted Python program in the sandbox and say whether it ran to its end and exited 0 within every limit.

    ``timeout_s`` is wall-clock (CPU time is capped one second above it); ``memory_mb`` caps each
    process's address space; output beyond ``max_output_bytes`` on either stream ends the program.
    Raises SandboxError when the requested isolation is unavailable.

    >>> run_program("print(6 * 7)").stdout
    '42\\n'
    """
    if not isinstance(source, str):
        raise SandboxError(f"source must be a string, got {type(source).__name__}")
    _check_limits(timeout_s, memory_mb, max_output_bytes)
    try:
        program = source.encode("utf-8")
    except UnicodeEncodeError as error:  # a lone surrogate: not a program Python can read, so it fails
        return SandboxResult(False, f"not valid UTF-8: {error.reason} at character {error.start}", None, "", "", 0.0)
    namespaces = Isolation(isolation) is Isolation.NAMESPACES
    workdir = None if namespaces else tempfile.mkdtemp(prefix="synthmix-sandbox-")
    status_r, status_w = os.pipe()
    evidence_r, evidence_w = os.pipe()
    token = secrets.token_hex(16).encode()
    args = _launcher_args("namespaces" if namespaces else "rlimits", status_w, evidence_w, timeout_s, memory_mb,
                          max_processes, max_file_mb, tmpfs_mb)
    start = time.monotonic()
    try:
        process = subprocess.Popen(
            args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            pass_fds=(status_w, evidence_w), start_new_session=True, env={}, cwd=workdir or "/",
        )
        os.close(status_w)
        os.close(evidence_w)
        try:
            process.stdin.write(b"%s\n%d\n%s%s" % (token, len(_HARNESS), _HARNESS, program))
            process.stdin.close()
        except BrokenPipeError:
            pass
        buffers, stopped = _collect(process, status_r, evidence_r, start + timeout_s, max_output_bytes)
        _kill_group(process)
    finally:
        os.close(status_r)
        os.close(evidence_r)
        if workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    wall_s = time.monotonic() - start
    stdout = bytes(buffers["stdout"][:max_output_bytes]).decode("utf-8", "replace")
    stderr = bytes(buffers["stderr"][:max_output_bytes]).decode("utf-8", "replace")
    if stopped == "timeout":
        return SandboxResult(False, f"timed out after {timeout_s:g} s", None, stdout, stderr, wall_s)
    if stopped == "output":
        return SandboxResult(False, f"output exceeded {max_output_bytes} bytes", None, stdout, stderr, wall_s)
    returncode, reason = _verdict(buffers["status"].decode(), process.returncode, stderr, namespaces)
    finished = bytes(buffers["evidence"]) == token
    if returncode == 0 and not finished:
        reason = "exited with status 0 before its last statement ran (no completion token)"
    return SandboxResult(returncode == 0 and finished, reason, returncode, stdout, stderr, wall_s)
